//! Golden tests on stack traces captured from the real runtimes
//! (`server/tests/fixtures/stacktraces/`, see its README), format details on inline
//! samples, the bounds, and robustness on garbage.

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/stacktraces/", $name))
    };
}

/// Every fixture, with the language its text should be sniffed as.
const FIXTURES: &[(&str, &str, Language)] = &[
    (
        "python_chained",
        fixture!("python_chained.txt"),
        Language::Python,
    ),
    (
        "python313_chained",
        fixture!("python313_chained.txt"),
        Language::Python,
    ),
    (
        "python_context",
        fixture!("python_context.txt"),
        Language::Python,
    ),
    (
        "python_recursion",
        fixture!("python_recursion.txt"),
        Language::Python,
    ),
    (
        "python_group",
        fixture!("python_group.txt"),
        Language::Python,
    ),
    (
        "java_caused_by",
        fixture!("java_caused_by.txt"),
        Language::Java,
    ),
    ("java_thread", fixture!("java_thread.txt"), Language::Java),
    (
        "java_suppressed",
        fixture!("java_suppressed.txt"),
        Language::Java,
    ),
    (
        "java_hidden_frames",
        fixture!("java_hidden_frames.txt"),
        Language::Java,
    ),
    ("node_v8", fixture!("node_v8.txt"), Language::JavaScript),
    (
        "node_builtins",
        fixture!("node_builtins.txt"),
        Language::JavaScript,
    ),
    (
        "node_internal_error",
        fixture!("node_internal_error.txt"),
        Language::JavaScript,
    ),
    ("node_esm", fixture!("node_esm.txt"), Language::JavaScript),
    ("go_panic", fixture!("go_panic.txt"), Language::Go),
    (
        "go_panic_recovered",
        fixture!("go_panic_recovered.txt"),
        Language::Go,
    ),
    ("go_stack", fixture!("go_stack.txt"), Language::Go),
    (
        "go_stack_truncated",
        fixture!("go_stack_truncated.txt"),
        Language::Go,
    ),
    (
        "go_http_trimpath",
        fixture!("go_http_trimpath.txt"),
        Language::Go,
    ),
    (
        "go_all_goroutines",
        fixture!("go_all_goroutines.txt"),
        Language::Go,
    ),
    ("ruby", fixture!("ruby.txt"), Language::Ruby),
    (
        "ruby_nomethod",
        fixture!("ruby_nomethod.txt"),
        Language::Ruby,
    ),
    ("ruby_bottom", fixture!("ruby_bottom.txt"), Language::Ruby),
    (
        "ruby_backtrace",
        fixture!("ruby_backtrace.txt"),
        Language::Ruby,
    ),
    (
        "ruby_stack_level",
        fixture!("ruby_stack_level.txt"),
        Language::Ruby,
    ),
    (
        "rust_backtrace",
        fixture!("rust_backtrace.txt"),
        Language::Rust,
    ),
    ("rust_panic", fixture!("rust_panic.txt"), Language::Rust),
    (
        "rust_panic_full",
        fixture!("rust_panic_full.txt"),
        Language::Rust,
    ),
    ("rust_anyhow", fixture!("rust_anyhow.txt"), Language::Rust),
    ("dotnet", fixture!("dotnet.txt"), Language::DotNet),
    ("dotnet_mono", fixture!("dotnet_mono.txt"), Language::DotNet),
    (
        "dotnet_mono_aggregate",
        fixture!("dotnet_mono_aggregate.txt"),
        Language::DotNet,
    ),
    (
        "dotnet_framework",
        fixture!("dotnet_framework.txt"),
        Language::DotNet,
    ),
];

fn read(text: &str, lang: Language) -> Vec<Exception> {
    read_with(text, lang, None, None)
}

fn read_with(
    text: &str,
    lang: Language,
    ty: Option<&str>,
    message: Option<&str>,
) -> Vec<Exception> {
    match parse(text, lang, ty, message) {
        Parsed::Chain { exceptions, .. } => exceptions,
        Parsed::Unparsed => panic!("unparsed: {text:?}"),
    }
}

fn types(chain: &[Exception]) -> Vec<&str> {
    chain.iter().map(|e| e.ty.as_str()).collect()
}

fn values(chain: &[Exception]) -> Vec<Option<&str>> {
    chain.iter().map(|e| e.value.as_deref()).collect()
}

fn frame_counts(chain: &[Exception]) -> Vec<usize> {
    chain.iter().map(|e| e.frames.len()).collect()
}

fn in_app(exc: &Exception) -> Vec<bool> {
    exc.frames.iter().map(|f| f.in_app.unwrap()).collect()
}

fn first(exc: &Exception) -> &Frame {
    exc.frames.first().expect("a frame")
}

fn last(exc: &Exception) -> &Frame {
    exc.frames.last().expect("a frame")
}

/// function, filename, line, in-app.
#[track_caller]
fn assert_frame(
    frame: &Frame,
    function: Option<&str>,
    filename: Option<&str>,
    lineno: Option<u32>,
    in_app: bool,
) {
    assert_eq!(
        (
            frame.function.as_deref(),
            frame.filename.as_deref(),
            frame.lineno,
            frame.in_app
        ),
        (function, filename, lineno, Some(in_app)),
        "{frame:?}"
    );
}

// --- sniffing and hints ------------------------------------------------------------------------

#[test]
fn every_fixture_is_sniffed_as_its_language() {
    for (name, text, lang) in FIXTURES {
        assert_eq!(detect(text), *lang, "{name}");
        match parse(text, Language::Unknown, None, None) {
            Parsed::Chain { language, .. } => assert_eq!(language, *lang, "{name}"),
            Parsed::Unparsed => panic!("{name} unparsed"),
        }
    }
}

#[test]
fn a_wrong_hint_falls_back_to_sniffing() {
    let text = fixture!("java_caused_by.txt");
    for hint in [Language::Python, Language::Go, Language::Ruby] {
        match parse(text, hint, None, None) {
            Parsed::Chain { language, .. } => assert_eq!(language, Language::Java),
            Parsed::Unparsed => panic!("unparsed with hint {hint:?}"),
        }
    }
}

#[test]
fn a_hint_does_not_read_another_format_s_frames_as_its_own() {
    // `at X.Y(String s)` is .NET's, not a Java frame in a file named `String s`...
    let dotnet = "System.Exception: boom\n   at Shop.Program.Main(String[] args)\n";
    match parse(dotnet, Language::Java, None, None) {
        Parsed::Chain {
            language,
            exceptions,
        } => {
            assert_eq!(language, Language::DotNet);
            assert_eq!(
                exceptions[0].frames[0].module.as_deref(),
                Some("Shop.Program")
            );
        }
        Parsed::Unparsed => panic!("unparsed"),
    }
    // ... and V8's `at fn (file:1:2)` is not a .NET frame.
    match parse(fixture!("node_v8.txt"), Language::DotNet, None, None) {
        Parsed::Chain { language, .. } => assert_eq!(language, Language::JavaScript),
        Parsed::Unparsed => panic!("unparsed"),
    }
}

#[test]
fn text_in_no_known_format_is_unparsed() {
    for text in [
        "",
        "   \n\n",
        "something went wrong",
        "ValueError: bad value",
        "Error: connect ECONNREFUSED 127.0.0.1:5432",
        "panic: boom",
        "at the end of the day",
    ] {
        assert!(
            parse(text, Language::Unknown, Some("E"), Some("m")).is_unparsed(),
            "{text:?}"
        );
        assert_eq!(detect(text), Language::Unknown, "{text:?}");
    }
}

#[test]
fn language_from_resource_attributes() {
    use Language::*;
    for (sdk, runtime, expected) in [
        (Some("python"), None, Python),
        (Some("java"), Some("OpenJDK Runtime Environment"), Java),
        (Some("nodejs"), Some("nodejs"), JavaScript),
        (Some("webjs"), Some("browser"), JavaScript),
        (Some("go"), Some("go"), Go),
        (Some("dotnet"), Some(".NET"), DotNet),
        (Some("ruby"), None, Ruby),
        (Some("rust"), None, Rust),
        (Some(" Python "), None, Python),
        (None, Some("cpython"), Python),
        (None, Some("pypy"), Python),
        (None, Some("OpenJDK Runtime Environment"), Java),
        (None, Some("Java(TM) SE Runtime Environment"), Java),
        (None, Some("nodejs"), JavaScript),
        (None, Some("go"), Go),
        (None, Some(".NET Framework"), DotNet),
        (None, Some("ruby"), Ruby),
        (Some("php"), None, Unknown),
        (Some("cpp"), Some("whatever"), Unknown),
        (None, None, Unknown),
    ] {
        assert_eq!(
            Language::from_hint(sdk, runtime),
            expected,
            "{sdk:?} {runtime:?}"
        );
    }
    assert_eq!(DotNet.as_str(), Some("csharp"));
    assert_eq!(JavaScript.as_str(), Some("javascript"));
    assert_eq!(Unknown.as_str(), None);
}

#[test]
fn the_in_app_table() {
    use in_app::is_in_app;
    use Language::*;
    let path = |lang, p| is_in_app(lang, Some(p), None, None);
    assert!(!path(Python, "/usr/lib/python3.12/json/decoder.py"));
    assert!(!path(
        Python,
        "C:\\Users\\me\\AppData\\Local\\Programs\\Python\\Python312\\Lib\\json\\decoder.py"
    ));
    assert!(!path(
        Python,
        "C:\\app\\.venv\\Lib\\site-packages\\flask\\app.py"
    ));
    assert!(path(Python, "/srv/python3-app/shop/views.py"));
    assert!(path(Python, "/home/me/Python3Projects/app.py"));
    assert!(!path(JavaScript, "node:internal/process/task_queues"));
    assert!(!path(
        JavaScript,
        "/app/node_modules/.pnpm/express@4.19.2/node_modules/express/lib/router/layer.js"
    ));
    assert!(path(JavaScript, "webpack://shop/./src/cart.ts"));
    assert!(!path(Go, "/usr/local/go/src/net/http/server.go"));
    assert!(!path(Go, "/usr/lib/go-1.22/src/runtime/panic.go"));
    assert!(!path(
        Go,
        "/home/me/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go"
    ));
    assert!(!path(Go, "github.com/lib/pq@v1.10.9/conn.go"));
    assert!(!path(Go, "runtime/panic.go"));
    assert!(path(Go, "/go/src/app/main.go"));
    assert!(path(Go, "example.com/shop/internal/orders.go"));
    assert!(!is_in_app(Go, None, Some("internal/poll"), None));
    assert!(is_in_app(Go, None, Some("myapp/internal/poll"), None));
    assert!(is_in_app(Go, None, Some("main"), None));
    assert!(!path(Ruby, "/usr/local/bundle/gems/rack-3.1.8/lib/rack.rb"));
    assert!(!path(
        Ruby,
        "/home/me/.rbenv/versions/3.3.0/lib/ruby/3.3.0/json/common.rb"
    ));
    assert!(path(Ruby, "/app/lib/ruby_helpers.rb"));
    assert!(!path(Rust, "/usr/local/cargo/registry/src/index.crates.io-6f17d22bba15001f/tokio-1.40.0/src/runtime/park.rs"));
    assert!(!path(
        Rust,
        "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/option.rs"
    ));
    let function = |lang, f| is_in_app(lang, None, None, Some(f));
    assert!(!function(
        Rust,
        "<alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once"
    ));
    assert!(!function(
        Rust,
        "<&mut dyn core::fmt::Write as core::fmt::Write>::write_fmt"
    ));
    assert!(function(Rust, "<shop::Order as core::fmt::Display>::fmt"));
    assert!(function(Rust, "shop::main"));
    assert!(!function(Rust, "main"));
    let module = |lang, m| is_in_app(lang, None, Some(m), None);
    assert!(!module(
        Java,
        "org.springframework.web.servlet.DispatcherServlet"
    ));
    assert!(!module(Java, "kotlinx.coroutines.DispatchedTask"));
    assert!(module(Java, "com.acme.shop.Checkout"));
    assert!(
        module(Java, "javalin.App"),
        "a prefix is a package, not a word start"
    );
    assert!(!module(
        DotNet,
        "Microsoft.AspNetCore.Routing.EndpointMiddleware"
    ));
    assert!(module(DotNet, "Shop.Orders.OrderService"));
}

// --- Python ------------------------------------------------------------------------------------

#[test]
fn python_chain_raised_from_a_library_error() {
    let chain = read(fixture!("python_chained.txt"), Language::Python);
    assert_eq!(types(&chain), ["ConfigError", "ParserError"]);
    assert_eq!(chain[0].module.as_deref(), Some("shop.config"));
    assert_eq!(chain[1].module.as_deref(), Some("yaml.parser"));
    assert_eq!(
        chain[0].value.as_deref(),
        Some("invalid settings file: expected ',' or ']', but got '<stream end>'")
    );
    // YAML's message spans six lines; all of it is the message.
    let cause = chain[1].value.as_deref().unwrap();
    assert!(cause.starts_with("while parsing a flow sequence\n  in \"<unicode string>\", line 2"));
    assert!(
        cause.ends_with("line 3, column 1:\n    \n    ^"),
        "{cause:?}"
    );
    assert_eq!(frame_counts(&chain), [3, 12]);

    let outer = &chain[0];
    assert_frame(
        first(outer),
        Some("<module>"),
        Some("/tmp/cap/py/capture.py"),
        Some(7),
        true,
    );
    assert_frame(
        last(outer),
        Some("load_settings"),
        Some("/tmp/cap/py/shop/config.py"),
        Some(12),
        true,
    );
    assert_eq!(
        last(outer).context_line.as_deref(),
        Some("raise ConfigError(f\"invalid settings file: {e.problem}\") from e")
    );
    assert_eq!(last(outer).module, None);

    let inner = &chain[1];
    assert_frame(
        first(inner),
        Some("load_settings"),
        Some("/tmp/cap/py/shop/config.py"),
        Some(10),
        true,
    );
    assert_frame(
        last(inner),
        Some("parse_flow_sequence_entry"),
        Some("yaml/parser.py"),
        Some(483),
        false,
    );
    assert_eq!(last(inner).module.as_deref(), Some("yaml.parser"));
    assert_eq!(
        last(inner).abs_path.as_deref(),
        Some("/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/yaml/parser.py")
    );
    assert_eq!(inner.frames[1].module.as_deref(), Some("yaml"));
    assert_eq!(
        inner.frames[1].filename.as_deref(),
        Some("yaml/__init__.py")
    );
    let mut expected = vec![false; 12];
    expected[0] = true;
    assert_eq!(in_app(inner), expected);
}

#[test]
fn python_313_reads_like_311() {
    let old = read(fixture!("python_chained.txt"), Language::Python);
    let new = read(fixture!("python313_chained.txt"), Language::Python);
    assert_eq!(types(&new), types(&old));
    assert_eq!(values(&new), values(&old));
    assert_eq!(frame_counts(&new), frame_counts(&old));
    let functions = |c: &[Exception]| -> Vec<Vec<Option<String>>> {
        c.iter()
            .map(|e| e.frames.iter().map(|f| f.function.clone()).collect())
            .collect()
    };
    assert_eq!(functions(&new), functions(&old));
    // A statement over two lines: the first is the context line, the second is not a frame.
    assert_eq!(
        last(&new[1]).context_line.as_deref(),
        Some("raise ParserError(\"while parsing a flow sequence\", self.marks[-1],")
    );
    assert_eq!(
        last(&new[1]).abs_path.as_deref(),
        Some("/tmp/cap/venv313/lib/python3.13/site-packages/yaml/parser.py")
    );
    assert_eq!(
        first(&new[0]).context_line.as_deref(),
        Some("worker.start(\"name: shop\\nport: [8080\\n\")")
    );
}

#[test]
fn python_implicit_context_chain() {
    let chain = read(fixture!("python_context.txt"), Language::Python);
    assert_eq!(types(&chain), ["ConfigError", "KeyError"]);
    assert_eq!(
        values(&chain),
        [Some("settings have no 'port'"), Some("'port'")]
    );
    assert_eq!(chain[1].module, None);
    assert_eq!(frame_counts(&chain), [3, 1]);
    assert_frame(
        last(&chain[0]),
        Some("load_port"),
        Some("/tmp/cap/py/shop/config.py"),
        Some(19),
        true,
    );
    assert_eq!(
        last(&chain[1]).context_line.as_deref(),
        Some("return int(settings[\"port\"])")
    );
}

#[test]
fn python_recursion_keeps_the_frames_shown_and_drops_the_repeat_count() {
    let chain = read(fixture!("python_recursion.txt"), Language::Python);
    assert_eq!(types(&chain), ["RecursionError"]);
    assert_eq!(values(&chain), [Some("maximum recursion depth exceeded")]);
    // `<module>` and the three `depth` frames printed before `[Previous line repeated ...]`.
    assert_eq!(frame_counts(&chain), [4]);
    assert_frame(
        first(&chain[0]),
        Some("<module>"),
        Some("/tmp/cap/py/capture.py"),
        Some(11),
        true,
    );
    for frame in &chain[0].frames[1..] {
        assert_frame(
            frame,
            Some("depth"),
            Some("/tmp/cap/py/shop/worker.py"),
            Some(14),
            true,
        );
    }
}

#[test]
fn python_exception_group_comes_first_then_its_members() {
    let chain = read(fixture!("python_group.txt"), Language::Python);
    assert_eq!(
        types(&chain),
        ["ExceptionGroup", "ValueError", "ValueError"]
    );
    assert_eq!(
        values(&chain),
        [
            Some("batch failed (2 sub-exceptions)"),
            Some("bad item 0"),
            Some("bad item 1")
        ]
    );
    assert_eq!(frame_counts(&chain), [1, 2, 2]);
    assert_frame(
        first(&chain[0]),
        Some("<module>"),
        Some("/tmp/cap/py/capture.py"),
        Some(21),
        true,
    );
    assert_frame(
        last(&chain[2]),
        Some("fail"),
        Some("/tmp/cap/py/capture.py"),
        Some(14),
        true,
    );
}

#[test]
fn python_stdlib_frozen_and_dist_packages_frames() {
    let text = "Traceback (most recent call last):
  File \"/srv/app/main.py\", line 3, in <module>
    import shop.settings
  File \"<frozen importlib._bootstrap>\", line 1176, in _find_and_load
  File \"/usr/lib/python3/dist-packages/requests/api.py\", line 73, in get
    return request(\"get\", url, params=params, **kwargs)
  File \"/usr/lib/python3.12/json/decoder.py\", line 355, in raw_decode
    raise JSONDecodeError(\"Expecting value\", s, err.value) from None
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)
";
    let chain = read(text, Language::Unknown);
    assert_eq!(types(&chain), ["JSONDecodeError"]);
    assert_eq!(chain[0].module.as_deref(), Some("json.decoder"));
    let frames = &chain[0].frames;
    assert_eq!(in_app(&chain[0]), [true, false, false, false]);
    assert_eq!(frames[1].module.as_deref(), Some("importlib._bootstrap"));
    assert_eq!(
        frames[1].filename.as_deref(),
        Some("<frozen importlib._bootstrap>")
    );
    assert_eq!(frames[1].context_line, None);
    assert_eq!(frames[2].module.as_deref(), Some("requests.api"));
    assert_eq!(frames[2].filename.as_deref(), Some("requests/api.py"));
    assert_eq!(frames[3].module.as_deref(), Some("json.decoder"));
    assert_eq!(frames[3].filename.as_deref(), Some("json/decoder.py"));
    assert_eq!(frames[3].lineno, Some(355));
}

#[test]
fn python_log_line_before_the_traceback_is_not_an_exception() {
    let text = "ERROR:root:request failed
Traceback (most recent call last):
  File \"/srv/app/main.py\", line 3, in <module>
    main()
ValueError: bad
";
    let chain = read(text, Language::Python);
    assert_eq!(types(&chain), ["ValueError"]);
    assert_eq!(values(&chain), [Some("bad")]);
    assert_eq!(frame_counts(&chain), [1]);
}

#[test]
fn python_syntax_error_and_exceptions_without_traceback() {
    let text = "  File \"/srv/app/shop/views.py\", line 12
    def checkout(:
                 ^
SyntaxError: invalid syntax
";
    let chain = read(text, Language::Python);
    assert_eq!(types(&chain), ["SyntaxError"]);
    assert_frame(
        first(&chain[0]),
        None,
        Some("/srv/app/shop/views.py"),
        Some(12),
        true,
    );
    assert_eq!(
        first(&chain[0]).context_line.as_deref(),
        Some("def checkout(:")
    );

    // `raise ConfigError(...) from ValueError(...)`: a cause that was never raised.
    let text = "ValueError: not a port

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File \"/srv/app/main.py\", line 9, in <module>
    raise ConfigError(\"bad\") from ValueError(\"not a port\")
__main__.ConfigError: bad
";
    let chain = read(text, Language::Unknown);
    assert_eq!(types(&chain), ["ConfigError", "ValueError"]);
    assert_eq!(chain[0].module.as_deref(), Some("__main__"));
    assert_eq!(frame_counts(&chain), [1, 0]);

    // Only the exception line: readable when the SDK says it is Python.
    let chain = read_with("KeyboardInterrupt\n", Language::Python, None, None);
    assert_eq!(types(&chain), ["KeyboardInterrupt"]);
    assert_eq!(values(&chain), [None]);
}

// --- Java --------------------------------------------------------------------------------------

#[test]
fn java_caused_by_chain_with_shared_frames_put_back() {
    let chain = read(fixture!("java_caused_by.txt"), Language::Java);
    assert_eq!(
        types(&chain),
        [
            "Capture$ConfigException",
            "IllegalArgumentException",
            "NumberFormatException"
        ]
    );
    let modules: Vec<_> = chain.iter().map(|e| e.module.as_deref()).collect();
    assert_eq!(
        modules,
        [Some("com.acme.shop"), Some("java.lang"), Some("java.lang")]
    );
    assert_eq!(
        values(&chain),
        [
            Some("could not load settings"),
            Some("bad port: 80a0"),
            Some("For input string: \"80a0\"")
        ]
    );
    // 4 printed; 2 printed + `... 3 more`; 5 printed + `... 4 more`.
    assert_eq!(frame_counts(&chain), [4, 5, 9]);
    for exc in &chain {
        assert_frame(
            first(exc),
            Some("main"),
            Some("Capture.java"),
            Some(73),
            true,
        );
        assert_eq!(first(exc).module.as_deref(), Some("com.acme.shop.Capture"));
    }
    assert_frame(
        last(&chain[0]),
        Some("loadSettings"),
        Some("Capture.java"),
        Some(28),
        true,
    );
    assert_frame(
        last(&chain[1]),
        Some("readPort"),
        Some("Capture.java"),
        Some(20),
        true,
    );
    assert_frame(
        last(&chain[2]),
        Some("forInputString"),
        Some("NumberFormatException.java"),
        Some(67),
        false,
    );
    assert_eq!(
        last(&chain[2]).module.as_deref(),
        Some("java.lang.NumberFormatException")
    );
    assert_eq!(
        in_app(&chain[2]),
        [true, true, true, true, true, false, false, false, false]
    );
    // `org.apache.commons.fake.Parser` stands for a third-party library.
    assert_eq!(
        chain[2].frames[5].module.as_deref(),
        Some("org.apache.commons.fake.Parser")
    );
}

#[test]
fn java_uncaught_in_a_thread() {
    let chain = read(fixture!("java_thread.txt"), Language::Java);
    assert_eq!(
        types(&chain),
        [
            "IllegalStateException",
            "IllegalArgumentException",
            "NumberFormatException"
        ]
    );
    assert_eq!(chain[0].value.as_deref(), Some("worker failed"));
    // The message's own double space is kept.
    assert_eq!(chain[1].value.as_deref(), Some("bad port:  80a0"));
    assert_eq!(frame_counts(&chain), [2, 3, 7]);
    for exc in &chain {
        assert_frame(
            first(exc),
            Some("run"),
            Some("Thread.java"),
            Some(840),
            false,
        );
        assert_eq!(first(exc).module.as_deref(), Some("java.lang.Thread"));
    }
    assert_frame(
        last(&chain[0]),
        Some("lambda$main$3"),
        Some("Capture.java"),
        Some(63),
        true,
    );
}

#[test]
fn java_suppressed_exceptions_are_not_causes() {
    let chain = read(fixture!("java_suppressed.txt"), Language::Java);
    assert_eq!(types(&chain), ["IllegalStateException"]);
    assert_eq!(values(&chain), [Some("write failed")]);
    assert_eq!(frame_counts(&chain), [2]);
    assert_frame(
        first(&chain[0]),
        Some("main"),
        Some("Capture.java"),
        Some(75),
        true,
    );
    assert_frame(
        last(&chain[0]),
        Some("closeAll"),
        Some("Capture.java"),
        Some(46),
        true,
    );
}

#[test]
fn java_hidden_lambda_frames_lose_their_address() {
    let chain = read(fixture!("java_hidden_frames.txt"), Language::Java);
    assert_eq!(frame_counts(&chain), [8, 9, 13]);
    let lambda = &chain[0].frames[5];
    assert_eq!(
        lambda.module.as_deref(),
        Some("com.acme.shop.Capture$$Lambda$1")
    );
    assert_eq!(lambda.function.as_deref(), Some("get"));
    assert_eq!((lambda.filename.as_deref(), lambda.lineno), (None, None));
    assert_frame(
        &chain[0].frames[2],
        Some("forEach"),
        Some("Iterable.java"),
        Some(75),
        false,
    );
}

#[test]
fn java_formats_from_kotlin_logback_and_reflection() {
    let text = "2026-12-01 21:30:00.123 ERROR [main] c.a.Checkout - request failed
org.springframework.web.util.NestedServletException: Request processing failed; nested exception is java.lang.IllegalStateException: cart is empty
\tat org.springframework.web.servlet.FrameworkServlet.processRequest(FrameworkServlet.java:1014) ~[spring-webmvc-5.3.9.jar:5.3.9]
\tat com.acme.CheckoutKt.checkout(Checkout.kt:42) ~[app.jar:na]
\tat jdk.internal.reflect.GeneratedMethodAccessor12.invoke(Unknown Source) ~[na:na]
\tat java.base/java.lang.Thread.sleep(Native Method) ~[na:17]
Caused by: java.lang.IllegalStateException: cart is empty
second line of the message
\tat com.acme.Cart.total(Cart.kt:7) ~[app.jar:na]
\tat app//com.acme.CheckoutKt.checkout(Checkout.kt:40) ~[app.jar:na]
\t... 3 common frames omitted
";
    let chain = read(text, Language::Unknown);
    assert_eq!(
        types(&chain),
        ["NestedServletException", "IllegalStateException"]
    );
    assert_eq!(
        chain[1].value.as_deref(),
        Some("cart is empty\nsecond line of the message")
    );
    // The log line before the exception (logback prints the message first) is not its header.
    assert_eq!(
        chain[0].value.as_deref(),
        Some("Request processing failed; nested exception is java.lang.IllegalStateException: cart is empty")
    );
    assert_eq!(frame_counts(&chain), [4, 5]);
    let outer = &chain[0].frames;
    assert_frame(&outer[0], Some("sleep"), None, None, false);
    assert_frame(&outer[1], Some("invoke"), None, None, false);
    assert_frame(
        &outer[2],
        Some("checkout"),
        Some("Checkout.kt"),
        Some(42),
        true,
    );
    assert_eq!(outer[2].module.as_deref(), Some("com.acme.CheckoutKt"));
    assert_frame(
        &outer[3],
        Some("processRequest"),
        Some("FrameworkServlet.java"),
        Some(1014),
        false,
    );
    assert_frame(
        last(&chain[1]),
        Some("total"),
        Some("Cart.kt"),
        Some(7),
        true,
    );
    assert_eq!(
        chain[1].frames[3].module.as_deref(),
        Some("com.acme.CheckoutKt")
    );
}

#[test]
fn java_header_without_message_and_attribute_types() {
    let text = "java.lang.NullPointerException\n\tat com.acme.A.b(A.java:1)\n";
    let chain = read_with(text, Language::Java, None, Some("from the attribute"));
    assert_eq!(types(&chain), ["NullPointerException"]);
    assert_eq!(values(&chain), [Some("from the attribute")]);

    // Frames only: the attribute's type, split like the text's would be.
    let text = "\tat com.acme.A.b(A.java:1)\n\tat com.acme.A.main(A.java:9)\n";
    let chain = read_with(
        text,
        Language::Java,
        Some("com.acme.OrderException"),
        Some("no order"),
    );
    assert_eq!(types(&chain), ["OrderException"]);
    assert_eq!(chain[0].module.as_deref(), Some("com.acme"));
    assert_eq!(values(&chain), [Some("no order")]);
    assert_eq!(first(&chain[0]).function.as_deref(), Some("main"));
}

// --- JavaScript --------------------------------------------------------------------------------

#[test]
fn node_error_from_node_modules_through_async_frames() {
    let chain = read(fixture!("node_v8.txt"), Language::JavaScript);
    assert_eq!(types(&chain), ["QueryError"]);
    assert_eq!(values(&chain), [Some("syntax error at or near \"SELEC\"")]);
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 5);
    assert_frame(
        first(exc),
        Some("async main"),
        Some("/tmp/cap/node/src/capture.js"),
        Some(9),
        true,
    );
    assert_eq!(first(exc).colno, Some(7));
    assert_frame(
        &exc.frames[2],
        Some("async OrderService.findOrder"),
        Some("/tmp/cap/node/src/orders.js"),
        Some(6),
        true,
    );
    assert_frame(
        last(exc),
        Some("validate"),
        Some("node_modules/tiny-db/lib/index.js"),
        Some(12),
        false,
    );
    assert_eq!(
        last(exc).abs_path.as_deref(),
        Some("/tmp/cap/node/node_modules/tiny-db/lib/index.js")
    );
    assert_eq!(last(exc).colno, Some(11));
    assert_eq!(in_app(exc), [true, true, true, false, false]);
}

#[test]
fn node_builtin_and_internal_frames() {
    let chain = read(fixture!("node_builtins.txt"), Language::JavaScript);
    assert_eq!(types(&chain), ["TypeError"]);
    assert_eq!(
        values(&chain),
        [Some(
            "Cannot read properties of undefined (reading 'amount')"
        )]
    );
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 10);
    assert_frame(
        first(exc),
        Some("Function.executeUserEntryPoint [as runMain]"),
        Some("node:internal/modules/run_main"),
        Some(164),
        false,
    );
    // `at /tmp/cap/node/src/orders.js:17:41`: an anonymous arrow function.
    assert_frame(
        last(exc),
        None,
        Some("/tmp/cap/node/src/orders.js"),
        Some(17),
        true,
    );
    assert_eq!(last(exc).colno, Some(41));
    // `at Array.map (<anonymous>)`
    assert_frame(&exc.frames[8], Some("Array.map"), None, None, false);
    assert_eq!(
        in_app(exc),
        [false, false, false, false, false, true, true, true, false, true]
    );
}

#[test]
fn node_internal_error_code_is_not_part_of_the_type() {
    let chain = read(fixture!("node_internal_error.txt"), Language::JavaScript);
    assert_eq!(types(&chain), ["TypeError"]);
    assert_eq!(
        values(&chain),
        [Some(
            "The \"path\" argument must be of type string. Received null"
        )]
    );
    assert_eq!(chain[0].frames.len(), 9);
    assert_frame(
        first(&chain[0]),
        None,
        Some("node:internal/main/run_main_module"),
        Some(28),
        false,
    );
    assert_frame(
        last(&chain[0]),
        Some("Object.join"),
        Some("node:path"),
        Some(1305),
        false,
    );
}

#[test]
fn node_es_module_file_urls() {
    let chain = read(fixture!("node_esm.txt"), Language::JavaScript);
    assert_eq!(types(&chain), ["SyntaxError"]);
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 4);
    // `at async file:///tmp/cap/node/src/esm.mjs:9:7`: top-level await.
    assert_frame(
        first(exc),
        None,
        Some("/tmp/cap/node/src/esm.mjs"),
        Some(9),
        true,
    );
    assert_eq!(
        first(exc).abs_path.as_deref(),
        Some("file:///tmp/cap/node/src/esm.mjs")
    );
    assert_frame(last(exc), Some("JSON.parse"), None, None, false);
}

#[test]
fn javascript_browser_formats() {
    // Chrome: the V8 format with URLs, and a multi-line message.
    let text = "Error: first line
second line
    at handleClick (https://shop.example.com/static/js/main.3f2a9c1b.js:2:13457)
    at HTMLButtonElement.<anonymous> (https://shop.example.com/static/js/main.3f2a9c1b.js?v=3:1:99)
    at eval (eval at compile (https://shop.example.com/app.js:5:10), <anonymous>:1:1)
    at chrome-extension://abcdef/content.js:10:5";
    let chain = read(text, Language::Unknown);
    assert_eq!(values(&chain), [Some("first line\nsecond line")]);
    let frames = &chain[0].frames;
    assert_eq!(frames.len(), 4);
    assert_frame(&frames[0], None, Some("/content.js"), Some(10), false);
    assert_frame(&frames[1], Some("eval"), Some("/app.js"), Some(5), true);
    assert_eq!(frames[1].colno, Some(10));
    assert_frame(
        &frames[2],
        Some("HTMLButtonElement.<anonymous>"),
        Some("/static/js/main.3f2a9c1b.js"),
        Some(1),
        true,
    );
    assert_eq!(
        last(&chain[0]).abs_path.as_deref(),
        Some("https://shop.example.com/static/js/main.3f2a9c1b.js")
    );

    // Firefox: no header line; the type and message come from the attributes.
    let text = "handleClick@https://shop.example.com/static/app.js:2:13457
dispatch/<@https://shop.example.com/static/vendor.js:10:4
async*load@https://shop.example.com/static/app.js:7:3
@https://shop.example.com/static/app.js:20:1
";
    let chain = read_with(
        text,
        Language::JavaScript,
        Some("TypeError"),
        Some("x is undefined"),
    );
    assert_eq!(types(&chain), ["TypeError"]);
    assert_eq!(values(&chain), [Some("x is undefined")]);
    let frames = &chain[0].frames;
    assert_eq!(frames.len(), 4);
    assert_frame(&frames[0], None, Some("/static/app.js"), Some(20), true);
    assert_frame(
        &frames[1],
        Some("async*load"),
        Some("/static/app.js"),
        Some(7),
        true,
    );
    assert_frame(
        &frames[2],
        Some("dispatch/<"),
        Some("/static/vendor.js"),
        Some(10),
        true,
    );
    assert_eq!(frames[3].colno, Some(13457));
    assert_eq!(detect(text), Language::JavaScript);

    // Safari.
    let text = "map@[native code]
render@https://shop.example.com/app.js:3:21
global code@https://shop.example.com/app.js:9:1";
    let chain = read_with(text, Language::JavaScript, Some("TypeError"), None);
    let frames = &chain[0].frames;
    assert_eq!(frames.len(), 3);
    assert_frame(
        &frames[0],
        Some("global code"),
        Some("/app.js"),
        Some(9),
        true,
    );
    assert_frame(&frames[2], Some("map"), None, None, false);
}

#[test]
fn javascript_windows_paths_keep_their_drive() {
    let text = "Error: boom
    at run (C:\\app\\node_modules\\pkg\\index.js:3:9)
    at main (C:\\app\\src\\main.js:12:5)";
    let chain = read(text, Language::Unknown);
    let frames = &chain[0].frames;
    assert_frame(
        &frames[0],
        Some("main"),
        Some("C:\\app\\src\\main.js"),
        Some(12),
        true,
    );
    assert_frame(
        &frames[1],
        Some("run"),
        Some("node_modules/pkg/index.js"),
        Some(3),
        false,
    );
    assert_eq!(
        frames[1].abs_path.as_deref(),
        Some("C:\\app\\node_modules\\pkg\\index.js")
    );
}

// --- Go ----------------------------------------------------------------------------------------

#[test]
fn go_panic_dump() {
    let chain = read(fixture!("go_panic.txt"), Language::Go);
    assert_eq!(types(&chain), ["panic"]);
    assert_eq!(
        values(&chain),
        [Some("runtime error: index out of range [3] with length 2")]
    );
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 2);
    assert_frame(
        first(exc),
        Some("main"),
        Some("/tmp/cap/go/main.go"),
        Some(27),
        true,
    );
    assert_eq!(first(exc).module.as_deref(), Some("main"));
    assert_frame(
        last(exc),
        Some("(*Handler).Lookup"),
        Some("/tmp/cap/go/shop/orders.go"),
        Some(15),
        true,
    );
    assert_eq!(last(exc).module.as_deref(), Some("example.com/shop/shop"));

    // The attribute's type wins over the fallback: Go prints none.
    let chain = read_with(
        fixture!("go_panic.txt"),
        Language::Go,
        Some("runtime.boundsError"),
        Some("ignored: the text has the message"),
    );
    assert_eq!(types(&chain), ["runtime.boundsError"]);
    assert_eq!(
        values(&chain),
        [Some("runtime error: index out of range [3] with length 2")]
    );
}

#[test]
fn go_nested_panic_is_a_chain() {
    let chain = read(fixture!("go_panic_recovered.txt"), Language::Go);
    assert_eq!(types(&chain), ["panic", "panic"]);
    assert_eq!(
        values(&chain),
        [
            Some("handler failed: runtime error: index out of range [3] with length 2"),
            Some("runtime error: index out of range [3] with length 2"),
        ]
    );
    assert_eq!(frame_counts(&chain), [4, 0]);
    let exc = &chain[0];
    assert_frame(
        first(exc),
        Some("main"),
        Some("/tmp/cap/go/main.go"),
        Some(41),
        true,
    );
    assert_frame(
        &exc.frames[2],
        Some("panic"),
        Some("runtime/panic.go"),
        Some(884),
        false,
    );
    assert_eq!(
        exc.frames[2].abs_path.as_deref(),
        Some("/usr/lib/go-1.19/src/runtime/panic.go")
    );
    assert_eq!(exc.frames[2].module, None);
    assert_frame(
        last(exc),
        Some("main.func1"),
        Some("/tmp/cap/go/main.go"),
        Some(39),
        true,
    );
    assert_eq!(in_app(exc), [true, true, false, true]);
}

#[test]
fn go_runtime_stack_from_a_goroutine() {
    let chain = read_with(
        fixture!("go_stack.txt"),
        Language::Go,
        Some("*shop.OrderError"),
        Some("order 7: order not found"),
    );
    assert_eq!(types(&chain), ["*shop.OrderError"]);
    assert_eq!(values(&chain), [Some("order 7: order not found")]);
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 4);
    // `created by` is the outermost frame.
    assert_frame(
        first(exc),
        Some("(*Handler).Serve"),
        Some("/tmp/cap/go/shop/record.go"),
        Some(28),
        true,
    );
    assert_frame(
        last(exc),
        Some("recordStackTrace"),
        Some("github.com/acme/tracing/span.go"),
        Some(11),
        false,
    );
    assert_eq!(last(exc).module.as_deref(), Some("github.com/acme/tracing"));
    assert_eq!(
        last(exc).abs_path.as_deref(),
        Some("/tmp/cap/gopath/pkg/mod/github.com/acme/tracing@v1.4.0/span.go")
    );
    assert_eq!(in_app(exc), [true, true, false, false]);

    // Without attributes: typed `Error`, no message.
    let chain = read(fixture!("go_stack.txt"), Language::Go);
    assert_eq!(types(&chain), ["Error"]);
    assert_eq!(values(&chain), [None]);
}

#[test]
fn go_stack_cut_at_2_kib() {
    let text = fixture!("go_stack_truncated.txt");
    assert_eq!(text.len(), 2048);
    assert!(text.ends_with("\t/tmp/cap/go/"));
    let chain = read(text, Language::Go);
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 40);
    // The outermost frame shown lost its file to the cut; `main.main` was never printed.
    assert_frame(first(exc), Some("deep"), None, None, true);
    assert_eq!(first(exc).module.as_deref(), Some("main"));
    assert_frame(
        &exc.frames[1],
        Some("deep"),
        Some("/tmp/cap/go/main.go"),
        Some(19),
        true,
    );
    assert_frame(
        last(exc),
        Some("deep"),
        Some("/tmp/cap/go/main.go"),
        Some(17),
        true,
    );

    // Cut inside a function line: that frame is dropped.
    let cut = &text[..text.rfind("main.deep(").unwrap() + 7];
    let chain = read_with(cut, Language::Go, None, None);
    assert_eq!(chain[0].frames.len(), 39);
    assert!(chain[0].frames[0].filename.is_some());
}

#[test]
fn go_trimpath_and_net_http_recovery() {
    let chain = read_with(
        fixture!("go_http_trimpath.txt"),
        Language::Go,
        Some("runtime.plainError"),
        Some("assignment to entry in nil map"),
    );
    // The log line before the dump is not a panic line: the attribute's message.
    assert_eq!(values(&chain), [Some("assignment to entry in nil map")]);
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 7);
    assert_frame(
        first(exc),
        Some("(*Server).Serve"),
        Some("net/http/server.go"),
        Some(3102),
        false,
    );
    assert_eq!(first(exc).module.as_deref(), Some("net/http"));
    assert_frame(
        &exc.frames[4],
        Some("main.func3"),
        Some("example.com/shop/main.go"),
        Some(55),
        true,
    );
    assert_frame(
        &exc.frames[5],
        Some("panic"),
        Some("runtime/panic.go"),
        Some(890),
        false,
    );
    assert_frame(
        last(exc),
        Some("(*conn).serve.func1"),
        Some("net/http/server.go"),
        Some(1850),
        false,
    );
    assert_eq!(
        in_app(exc),
        [false, false, false, false, true, false, false]
    );
}

#[test]
fn go_reads_only_the_first_goroutine() {
    let chain = read(fixture!("go_all_goroutines.txt"), Language::Go);
    assert_eq!(values(&chain), [Some("all hands")]);
    assert_eq!(frame_counts(&chain), [1]);
    assert_frame(
        first(&chain[0]),
        Some("main"),
        Some("/tmp/cap/go/main.go"),
        Some(48),
        true,
    );
}

#[test]
fn go_newer_formats() {
    let text = "fatal error: concurrent map writes

goroutine 7 gp=0xc000007a40 m=3 mp=0xc000100008 [running]:
github.com/acme/cache.Put[go.shape.string](...)
\t/home/dev/go/pkg/mod/github.com/acme/cache@v0.3.1/cache.go:40 +0x45 fp=0xc00004ff50 sp=0xc00004ff28 pc=0x4b2f65
...additional frames elided...
created by main.start in goroutine 1
\t/src/app/main.go:20 +0x3f
";
    let chain = read(text, Language::Unknown);
    assert_eq!(types(&chain), ["fatal error"]);
    assert_eq!(values(&chain), [Some("concurrent map writes")]);
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 2);
    assert_frame(
        first(exc),
        Some("start"),
        Some("/src/app/main.go"),
        Some(20),
        true,
    );
    assert_frame(
        last(exc),
        Some("Put[go.shape.string]"),
        Some("github.com/acme/cache/cache.go"),
        Some(40),
        false,
    );
    assert_eq!(last(exc).module.as_deref(), Some("github.com/acme/cache"));
}

// --- .NET --------------------------------------------------------------------------------------

#[test]
fn dotnet_inner_exceptions_get_their_own_stacks() {
    let chain = read(fixture!("dotnet.txt"), Language::DotNet);
    assert_eq!(
        types(&chain),
        [
            "System.InvalidOperationException",
            "System.Text.Json.JsonException",
            "System.Text.Json.JsonReaderException"
        ]
    );
    assert_eq!(chain[0].value.as_deref(), Some("Could not load order 42"));
    assert_eq!(frame_counts(&chain), [8, 6, 6]);
    let outer = &chain[0];
    assert_frame(first(outer), Some("Invoke"), None, None, false);
    assert_eq!(
        first(outer).module.as_deref(),
        Some("Microsoft.AspNetCore.Diagnostics.DeveloperExceptionPageMiddlewareImpl")
    );
    assert_frame(
        last(outer),
        Some("LoadAsync"),
        Some("/src/Shop/Orders/OrderRepository.cs"),
        Some(33),
        true,
    );
    assert_eq!(
        last(outer).module.as_deref(),
        Some("Shop.Orders.OrderRepository")
    );
    assert_eq!(
        in_app(outer),
        [false, false, false, false, false, true, true, true]
    );
    assert_frame(
        first(&chain[1]),
        Some("LoadAsync"),
        Some("/src/Shop/Orders/OrderRepository.cs"),
        Some(28),
        true,
    );
    assert_frame(last(&chain[1]), Some("ReThrowWithPath"), None, None, false);
    assert_eq!(
        chain[1].frames[2].function.as_deref(),
        Some("Deserialize[TValue]")
    );
    assert_frame(
        last(&chain[2]),
        Some("ThrowJsonReaderException"),
        None,
        None,
        false,
    );
}

#[test]
fn dotnet_framework_format_with_crlf() {
    let chain = read(fixture!("dotnet_framework.txt"), Language::DotNet);
    assert_eq!(
        types(&chain),
        [
            "System.InvalidOperationException",
            "System.IO.FileNotFoundException"
        ]
    );
    assert_eq!(
        values(&chain),
        [
            Some("Could not load order 42"),
            Some("Could not find file 'C:\\data\\orders\\42.json'.\nFile name: 'C:\\data\\orders\\42.json'")
        ]
    );
    assert_eq!(frame_counts(&chain), [3, 6]);
    assert_frame(
        first(&chain[0]),
        Some("Main"),
        Some("C:\\src\\Shop\\Program.cs"),
        Some(12),
        true,
    );
    assert_frame(
        &chain[0].frames[1],
        Some("<Main>b__0"),
        Some("C:\\src\\Shop\\Program.cs"),
        Some(14),
        true,
    );
    assert_eq!(
        chain[0].frames[1].module.as_deref(),
        Some("Shop.Program.<>c__DisplayClass0_0")
    );
    let ctor = &chain[1].frames[3];
    assert_eq!(ctor.module.as_deref(), Some("System.IO.StreamReader"));
    assert_eq!(ctor.function.as_deref(), Some(".ctor"));
    assert_frame(last(&chain[1]), Some("WinIOError"), None, None, false);
    assert_eq!(last(&chain[1]).module.as_deref(), Some("System.IO.__Error"));
}

#[test]
fn mono_inner_exception_and_wrapper_frames() {
    let chain = read(fixture!("dotnet_mono.txt"), Language::DotNet);
    assert_eq!(
        types(&chain),
        [
            "System.InvalidOperationException",
            "System.IO.DirectoryNotFoundException"
        ]
    );
    assert_eq!(
        values(&chain),
        [
            Some("Could not load order 42"),
            Some("Could not find a part of the path \"/data/orders/42.json\".")
        ]
    );
    // `(wrapper remoting-invoke-with-check)` lines are the runtime's, not frames of the app.
    assert_eq!(frame_counts(&chain), [3, 8]);
    let outer = &chain[0];
    assert_frame(
        first(outer),
        Some("Main"),
        Some("/tmp/cap/dotnet/Capture.cs"),
        Some(49),
        true,
    );
    assert_eq!(
        outer.frames[1].module.as_deref(),
        Some("Shop.Program+<Main>c__AnonStorey0")
    );
    assert_eq!(outer.frames[1].function.as_deref(), Some("<>m__0"));
    assert_frame(
        last(outer),
        Some("Load"),
        Some("/tmp/cap/dotnet/Capture.cs"),
        Some(28),
        true,
    );
    let inner = &chain[1];
    assert_eq!(
        in_app(inner),
        [true, true, false, false, false, false, false, false]
    );
    // No pdb for the framework's own assemblies: `in <mvid>:0` is no file.
    assert_frame(last(inner), Some(".ctor"), None, None, false);
    assert_eq!(last(inner).module.as_deref(), Some("System.IO.FileStream"));
}

#[test]
fn mono_aggregate_with_a_message_of_two_lines() {
    let chain = read(fixture!("dotnet_mono_aggregate.txt"), Language::DotNet);
    assert_eq!(
        types(&chain),
        ["System.AggregateException", "System.ArgumentException"]
    );
    assert_eq!(
        values(&chain),
        [
            Some("One or more errors occurred. (card declined for order 7\nParameter name: card)"),
            Some("card declined for order 7\nParameter name: card")
        ]
    );
    // The trailing `(Inner Exception #0)` listing repeats the inner one and is not read.
    assert_eq!(frame_counts(&chain), [4, 4]);
    assert_frame(
        first(&chain[0]),
        Some("Main"),
        Some("/tmp/cap/dotnet/Capture.cs"),
        Some(57),
        true,
    );
    assert_frame(
        last(&chain[0]),
        Some("ThrowIfExceptional"),
        None,
        None,
        false,
    );
    assert_frame(first(&chain[1]), Some("Execute"), None, None, false);
    assert_frame(
        last(&chain[1]),
        Some("Charge"),
        Some("/tmp/cap/dotnet/Capture.cs"),
        Some(40),
        true,
    );
}

#[test]
fn dotnet_mono_aggregate_and_no_pdb() {
    let text = "System.AggregateException: One or more errors occurred. (boom)
 ---> System.Exception: boom
   at Shop.Worker.Run () [0x0001c] in /src/Shop/Worker.cs:18
   at Shop.Worker.Start (System.String name) [0x00000] in <7a1b2c3d4e5f>:0
   --- End of inner exception stack trace ---
   at System.Threading.Tasks.Task.Wait()
   at Shop.Program.Main(String[] args)
 ---> (Inner Exception #0) System.Exception: boom
   at Shop.Worker.Run () [0x0001c] in /src/Shop/Worker.cs:18<---
";
    let chain = read(text, Language::Unknown);
    assert_eq!(
        types(&chain),
        ["System.AggregateException", "System.Exception"]
    );
    assert_eq!(frame_counts(&chain), [2, 2]);
    assert_frame(first(&chain[0]), Some("Main"), None, None, true);
    assert_eq!(first(&chain[0]).module.as_deref(), Some("Shop.Program"));
    assert_frame(first(&chain[1]), Some("Start"), None, None, true);
    assert_frame(
        last(&chain[1]),
        Some("Run"),
        Some("/src/Shop/Worker.cs"),
        Some(18),
        true,
    );
}

// --- Ruby --------------------------------------------------------------------------------------

#[test]
fn ruby_full_message_with_cause() {
    let chain = read(fixture!("ruby.txt"), Language::Ruby);
    assert_eq!(types(&chain), ["Shop::OrderError", "JSON::ParserError"]);
    assert_eq!(
        values(&chain),
        [
            Some("could not fetch order 42"),
            Some("859: unexpected token at '{\"id\": 42'")
        ]
    );
    assert_eq!(frame_counts(&chain), [3, 7]);
    assert_frame(
        first(&chain[0]),
        Some("<main>"),
        Some("capture.rb"),
        Some(13),
        true,
    );
    assert_frame(
        last(&chain[0]),
        Some("rescue in fetch"),
        Some("/tmp/cap/ruby/app/orders.rb"),
        Some(14),
        true,
    );
    let cause = &chain[1];
    assert_frame(
        &cause.frames[2],
        Some("get_json"),
        Some("tiny_http/lib/tiny_http.rb"),
        Some(8),
        false,
    );
    assert_eq!(
        cause.frames[2].abs_path.as_deref(),
        Some("/tmp/cap/ruby/vendor/bundle/ruby/3.1.0/gems/tiny_http-0.4.2/lib/tiny_http.rb")
    );
    assert_frame(
        last(cause),
        Some("parse"),
        Some("json/common.rb"),
        Some(216),
        false,
    );
    assert_eq!(
        in_app(cause),
        [true, true, false, false, false, false, false]
    );
}

#[test]
fn ruby_bottom_order_reads_the_same_as_top_order() {
    let top = read(fixture!("ruby.txt"), Language::Ruby);
    let bottom = read(fixture!("ruby_bottom.txt"), Language::Unknown);
    assert_eq!(bottom, top);
}

#[test]
fn ruby_bare_backtrace() {
    let chain = read_with(
        fixture!("ruby_backtrace.txt"),
        Language::Ruby,
        Some("Shop::OrderError"),
        Some("could not fetch order 42"),
    );
    let full = read(fixture!("ruby.txt"), Language::Ruby);
    assert_eq!(types(&chain), ["Shop::OrderError"]);
    assert_eq!(values(&chain), [Some("could not fetch order 42")]);
    assert_eq!(chain[0].frames, full[0].frames);
}

#[test]
fn ruby_multiline_message_from_error_highlight() {
    let chain = read(fixture!("ruby_nomethod.txt"), Language::Ruby);
    assert_eq!(types(&chain), ["NoMethodError"]);
    assert_eq!(
        chain[0].value.as_deref(),
        Some(
            "undefined method `totl' for #<struct Order total=3>\n\n      orders.map { |o| o.totl }\n                        ^^^^^\nDid you mean?  total"
        )
    );
    assert_eq!(chain[0].frames.len(), 4);
    assert_frame(
        first(&chain[0]),
        Some("<main>"),
        Some("nomethod.rb"),
        Some(5),
        true,
    );
    assert_frame(
        last(&chain[0]),
        Some("block in totals"),
        Some("/tmp/cap/ruby/app/report.rb"),
        Some(4),
        true,
    );
}

#[test]
fn ruby_stack_level_too_deep_drops_the_elision() {
    let chain = read(fixture!("ruby_stack_level.txt"), Language::Ruby);
    assert_eq!(types(&chain), ["SystemStackError"]);
    assert_eq!(chain[0].frames.len(), 13);
    assert_frame(
        first(&chain[0]),
        Some("<main>"),
        Some("deep.rb"),
        Some(3),
        true,
    );
    assert_frame(
        last(&chain[0]),
        Some("descend"),
        Some("deep.rb"),
        Some(1),
        true,
    );
}

#[test]
fn ruby_34_labels_and_internal_frames() {
    let text = "/app/lib/shop/orders.rb:14:in 'Shop::OrderService#fetch': could not fetch order 42 (Shop::OrderError)
\tfrom <internal:kernel>:90:in 'Kernel#tap'
\tfrom /usr/local/bundle/gems/rack-3.1.8/lib/rack/builder.rb:12:in 'block in Rack::Builder#call'
\tfrom /app/bin/server:3:in '<main>'
";
    let chain = read(text, Language::Unknown);
    assert_eq!(types(&chain), ["Shop::OrderError"]);
    let frames = &chain[0].frames;
    assert_eq!(frames.len(), 4);
    assert_frame(
        &frames[0],
        Some("<main>"),
        Some("/app/bin/server"),
        Some(3),
        true,
    );
    assert_frame(
        &frames[1],
        Some("block in Rack::Builder#call"),
        Some("rack/lib/rack/builder.rb"),
        Some(12),
        false,
    );
    assert_frame(
        &frames[2],
        Some("Kernel#tap"),
        Some("<internal:kernel>"),
        Some(90),
        false,
    );
    assert_frame(
        &frames[3],
        Some("Shop::OrderService#fetch"),
        Some("/app/lib/shop/orders.rb"),
        Some(14),
        true,
    );

    // A RuntimeError without a message prints no class.
    let chain = read_with(
        "app.rb:1:in '<main>': unhandled exception\n",
        Language::Ruby,
        Some("RuntimeError"),
        None,
    );
    assert_eq!(types(&chain), ["RuntimeError"]);
    assert_eq!(values(&chain), [None]);
}

// --- Rust --------------------------------------------------------------------------------------

#[test]
fn rust_captured_backtrace_display() {
    let chain = read_with(
        fixture!("rust_backtrace.txt"),
        Language::Rust,
        Some("shop::OrderError"),
        Some("no such order"),
    );
    assert_eq!(types(&chain), ["shop::OrderError"]);
    assert_eq!(values(&chain), [Some("no such order")]);
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 50);
    assert_frame(first(exc), Some("_start"), None, None, false);
    assert_frame(
        last(exc),
        Some("shop::orders::capture::{{closure}}"),
        Some("./src/main.rs"),
        Some(23),
        true,
    );
    assert_eq!(last(exc).colno, Some(53));
    let tokio = exc
        .frames
        .iter()
        .find(|f| f.function.as_deref() == Some("tokio::task::coop::budget"))
        .unwrap();
    assert_frame(
        tokio,
        Some("tokio::task::coop::budget"),
        Some("tokio/src/task/coop/mod.rs"),
        Some(133),
        false,
    );
    let collect = exc
        .frames
        .iter()
        .find(|f| {
            f.function
                .as_deref()
                .unwrap()
                .ends_with("Iterator::collect")
        })
        .unwrap();
    assert_frame(
        collect,
        Some("core::iter::traits::iterator::Iterator::collect"),
        Some("core/src/iter/traits/iterator.rs"),
        Some(2064),
        false,
    );
    let app: Vec<&str> = exc
        .frames
        .iter()
        .filter(|f| f.in_app == Some(true))
        .filter_map(|f| f.function.as_deref())
        .collect();
    assert_eq!(
        app,
        [
            "shop::main",
            "shop::handler::{{closure}}",
            "shop::orders::capture",
            "shop::orders::capture::{{closure}}"
        ]
    );
}

#[test]
fn rust_panic_hook_output() {
    let chain = read(fixture!("rust_panic.txt"), Language::Rust);
    assert_eq!(types(&chain), ["panic"]);
    assert_eq!(values(&chain), [Some("order has a total")]);
    let exc = &chain[0];
    assert_eq!(exc.frames.len(), 27);
    assert_frame(
        first(exc),
        Some("core::ops::function::FnOnce::call_once"),
        Some("core/src/ops/function.rs"),
        Some(250),
        false,
    );
    assert_frame(
        &exc.frames[exc.frames.len() - 6],
        Some("shop::handler::{{closure}}"),
        Some("./src/main.rs"),
        Some(35),
        true,
    );
    assert_frame(
        last(exc),
        Some("__rustc::rust_begin_unwind"),
        Some("std/src/panicking.rs"),
        Some(689),
        false,
    );
}

#[test]
fn rust_full_backtrace_drops_addresses_and_crate_hashes() {
    let chain = read(fixture!("rust_panic_full.txt"), Language::Rust);
    assert_eq!(types(&chain), ["panic"]);
    assert_eq!(values(&chain), [Some("order has a total")]);
    let exc = &chain[0];
    // 58 printed; `57: 0x0 - <unknown>` says nothing.
    assert_eq!(exc.frames.len(), 57);
    assert_frame(first(exc), Some("_start"), None, None, false);
    assert!(exc
        .frames
        .iter()
        .filter_map(|f| f.function.as_deref())
        .all(|f| !f.contains("std[") && !f.contains("core[") && !f.contains("0x")));
    let app = exc.frames.iter().find(|f| f.in_app == Some(true)).unwrap();
    assert_frame(
        app,
        Some("shop::main::h9bd3e6f1dde7bb78"),
        Some("/tmp/cap/rust/src/main.rs"),
        Some(44),
        true,
    );
    assert_frame(
        last(exc),
        Some("std::backtrace_rs::backtrace::libunwind::trace"),
        Some("std/src/../../backtrace/src/backtrace/libunwind.rs"),
        Some(117),
        false,
    );
}

#[test]
fn rust_anyhow_debug_chain() {
    let chain = read_with(
        fixture!("rust_anyhow.txt"),
        Language::Rust,
        Some("anyhow::Error"),
        None,
    );
    assert_eq!(types(&chain), ["anyhow::Error", "Error", "Error"]);
    assert_eq!(
        values(&chain),
        [
            Some("could not load order \"12x\""),
            Some("total is not a number"),
            Some("invalid digit found in string")
        ]
    );
    assert_eq!(frame_counts(&chain), [42, 0, 0]);
    assert_frame(
        last(&chain[0]),
        Some("<E as anyhow::context::ext::StdError>::ext_context"),
        Some("anyhow/src/backtrace.rs"),
        Some(10),
        false,
    );
    assert_frame(
        &chain[0].frames[chain[0].frames.len() - 3],
        Some("shop::orders::parse_total"),
        Some("./src/main.rs"),
        Some(12),
        true,
    );
}

#[test]
fn rust_old_panic_format_and_inlined_frames() {
    let text =
        "thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/main.rs:5:13
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
";
    let chain = read(text, Language::Unknown);
    assert_eq!(types(&chain), ["panic"]);
    assert_eq!(
        values(&chain),
        [Some("called `Option::unwrap()` on a `None` value")]
    );
    // Without a backtrace, the panic's location is the frame.
    assert_eq!(chain[0].frames.len(), 1);
    assert_frame(first(&chain[0]), None, Some("src/main.rs"), Some(5), true);
    assert_eq!(first(&chain[0]).colno, Some(13));

    let text = "thread '<unnamed>' panicked at src/worker.rs:9:5:
queue closed
stack backtrace:
   0: std::panicking::begin_panic
             at /rustc/abc/library/std/src/panicking.rs:616:12
   1: app::worker::run
             at ./src/worker.rs:9:5
      app::worker::spawn::{{closure}}
             at ./src/worker.rs:20:9
   2: std::sys_common::backtrace::__rust_begin_short_backtrace
";
    let chain = read(text, Language::Unknown);
    assert_eq!(values(&chain), [Some("queue closed")]);
    let functions: Vec<_> = chain[0]
        .frames
        .iter()
        .map(|f| f.function.as_deref().unwrap())
        .collect();
    assert_eq!(
        functions,
        [
            "std::sys_common::backtrace::__rust_begin_short_backtrace",
            "app::worker::spawn::{{closure}}",
            "app::worker::run",
            "std::panicking::begin_panic"
        ]
    );
    assert_eq!(in_app(&chain[0]), [false, true, true, false]);
}

// --- types and messages from the attributes ----------------------------------------------------

#[test]
fn the_attributes_fill_in_only_what_the_text_lacks() {
    // The text's type and message win.
    let chain = read_with(
        fixture!("python_context.txt"),
        Language::Python,
        Some("Other"),
        Some("other"),
    );
    assert_eq!(types(&chain), ["ConfigError", "KeyError"]);
    assert_eq!(chain[0].value.as_deref(), Some("settings have no 'port'"));

    // Python's attribute type is the bare class name; a dotted one is split like the text's.
    let text = "Traceback (most recent call last):\n  File \"/a.py\", line 1, in <module>\n";
    let chain = read_with(
        text,
        Language::Python,
        Some("shop.errors.Boom"),
        Some("boom"),
    );
    assert_eq!(types(&chain), ["Boom"]);
    assert_eq!(chain[0].module.as_deref(), Some("shop.errors"));
    assert_eq!(values(&chain), [Some("boom")]);

    // .NET keeps the attribute whole; blank attributes count as absent.
    let text = "   at Shop.Program.Main(String[] args) in /src/Program.cs:line 3\n";
    let chain = read_with(text, Language::DotNet, Some("System.Exception"), Some("  "));
    assert_eq!(types(&chain), ["System.Exception"]);
    assert_eq!(values(&chain), [None]);
    let chain = read_with(text, Language::DotNet, Some(" "), None);
    assert_eq!(types(&chain), ["Error"]);
}

// --- bounds ------------------------------------------------------------------------------------

#[test]
fn frames_are_capped_keeping_the_innermost_and_a_few_outermost() {
    let mut text = String::from("java.lang.StackOverflowError\n");
    for i in (0..1000).rev() {
        text.push_str(&format!("\tat com.acme.Deep.f{i}(Deep.java:{i})\n"));
    }
    let chain = read(&text, Language::Java);
    let frames = &chain[0].frames;
    assert_eq!(frames.len(), MAX_FRAMES);
    let lines: Vec<u32> = frames.iter().map(|f| f.lineno.unwrap()).collect();
    assert_eq!(lines[..KEPT_OUTERMOST], (0..10).collect::<Vec<_>>()[..]);
    assert_eq!(
        lines[KEPT_OUTERMOST],
        1000 - (MAX_FRAMES - KEPT_OUTERMOST) as u32
    );
    assert_eq!(*lines.last().unwrap(), 999);
}

#[test]
fn chains_are_capped_keeping_the_root_cause() {
    let mut text = String::new();
    for i in 0..50 {
        if i > 0 {
            text.push_str(
                "\nThe above exception was the direct cause of the following exception:\n\n",
            );
        }
        text.push_str(&format!(
            "Traceback (most recent call last):\n  File \"/a.py\", line {i}, in f\nE{i}: level {i}\n"
        ));
    }
    let chain = read(&text, Language::Python);
    assert_eq!(chain.len(), MAX_CHAIN);
    assert_eq!(chain[0].ty, "E49");
    assert_eq!(chain[MAX_CHAIN - 2].ty, "E31");
    assert_eq!(chain[MAX_CHAIN - 1].ty, "E0");
}

#[test]
fn long_strings_and_inputs_are_cut_on_character_boundaries() {
    let message = "é".repeat(MAX_MESSAGE_BYTES);
    let function = "ü".repeat(MAX_FIELD_BYTES);
    let text = format!(
        "Traceback (most recent call last):\n  File \"/a.py\", line 1, in {function}\nValueError: {message}\n"
    );
    let chain = read(&text, Language::Python);
    let value = chain[0].value.as_deref().unwrap();
    assert!(value.len() <= MAX_MESSAGE_BYTES && value.len() > MAX_MESSAGE_BYTES - 4);
    let f = first(&chain[0]).function.as_deref().unwrap();
    assert!(f.len() <= MAX_FIELD_BYTES && f.chars().all(|c| c == 'ü'));

    // Past MAX_INPUT_BYTES nothing is read: the frames there are not in the output.
    let mut text = String::from("Error: big\n");
    let line = "    at f (/app/x.js:1:1)\n";
    while text.len() < MAX_INPUT_BYTES - line.len() {
        text.push_str(line);
    }
    let lines_read = (text.len() - "Error: big\n".len()) / line.len();
    text.push_str(&"    at g (/app/y.js:2:2)\n".repeat(100));
    let chain = read(&text, Language::JavaScript);
    assert!(chain[0]
        .frames
        .iter()
        .all(|f| f.function.as_deref() == Some("f")));
    assert!(lines_read > MAX_FRAMES);
}

#[test]
fn copied_and_repeated_frames_stay_bounded() {
    // Each `... N more` copies frames; a crafted chain must not multiply them.
    let mut text = String::from("java.lang.Error: top\n");
    for i in 0..300 {
        text.push_str(&format!("\tat com.acme.A.f{i}(A.java:{i})\n"));
    }
    for _ in 0..5000 {
        text.push_str("Caused by: java.lang.Error: again\n\t... 300 more\n");
    }
    text.push_str("Caused by: java.lang.Error: root\n\tat com.acme.A.root(A.java:1)\n");
    let chain = read(&text, Language::Java);
    assert_eq!(chain.len(), MAX_CHAIN);
    assert!(chain.iter().all(|e| e.frames.len() == MAX_FRAMES));
    // Deeper than 4 × MAX_CHAIN is not read: the last kept is the 80th exception.
    assert_eq!(chain.last().unwrap().value.as_deref(), Some("again"));
    assert_eq!(
        last(&chain[0]).function.as_deref(),
        Some("f0"),
        "the innermost frame is kept"
    );
    assert_eq!(first(&chain[0]).function.as_deref(), Some("f299"));

    // Many `--- End of inner exception stack trace ---` markers: linear, and bounded.
    let mut text = String::from("System.Exception: x\n");
    for _ in 0..20_000 {
        text.push_str(
            "   at A.B.C() in /a.cs:line 1\n   --- End of inner exception stack trace ---\n",
        );
    }
    let chain = read(&text, Language::DotNet);
    assert_eq!(chain.len(), 1);
    assert_eq!(chain[0].frames.len(), MAX_FRAMES);
}

// --- robustness --------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const ALL: [Language; 8] = [
    Language::Python,
    Language::Java,
    Language::JavaScript,
    Language::Go,
    Language::DotNet,
    Language::Ruby,
    Language::Rust,
    Language::Unknown,
];

fn parse_everyhow(text: &str) {
    for lang in ALL {
        let parsed = parse(text, lang, Some("T"), Some("m"));
        for exc in parsed.exceptions() {
            assert!(exc.frames.len() <= MAX_FRAMES);
            assert!(!exc.ty.is_empty());
        }
        assert!(parsed.exceptions().len() <= MAX_CHAIN);
    }
}

#[test]
fn every_fixture_read_as_every_language_and_cut_anywhere_does_not_panic() {
    for (_, text, _) in FIXTURES {
        parse_everyhow(text);
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        let step = (boundaries.len() / 150).max(1);
        for &cut in boundaries.iter().step_by(step) {
            parse_everyhow(&text[..cut]);
            parse_everyhow(&text[cut..]);
        }
    }
}

#[test]
fn random_garbage_does_not_panic() {
    // Pieces of every format, multi-byte characters and separators, shuffled together.
    const PIECES: &[&str] = &[
        "Traceback (most recent call last):",
        "  File \"",
        "\", line ",
        ", in ",
        "    at ",
        "\tat ",
        "(",
        ")",
        ":",
        "::",
        "Caused by: ",
        "... 3 more",
        "goroutine 1 [running]:",
        "panic: ",
        "\t",
        " +0x1d",
        "created by ",
        " ---> ",
        "--- End of inner exception stack trace ---",
        "in ",
        ":line ",
        "from ",
        ":in `",
        "'",
        "`",
        "   0: ",
        "             at ",
        "thread '",
        "' panicked at ",
        "stack backtrace:",
        "Caused by:",
        "@",
        "[native code]",
        "  | ",
        "+-+---- 1 ----",
        "+ Exception Group Traceback (most recent call last):",
        "The above exception was the direct cause of the following exception:",
        "\n",
        "\n",
        "\n",
        "\r\n",
        " ",
        "12",
        "4294967296",
        "0",
        "é",
        "漢字",
        "🦀",
        "\u{0}",
        "\u{200b}",
        "[",
        "]",
        "<",
        ">",
        "0x7f",
        "Error",
        "java.lang.X",
        "/usr/lib/go-1.19/src/",
        "site-packages/",
        "node_modules/",
        ".rb",
        ".go",
        ".java",
        ".js",
        "[0x1c]",
        "std[e28293b1aa0f68bd]",
        "[recovered]",
        "Traceback",
        "  [Previous line repeated 3 more times]",
        "... 10 levels...",
        "file://",
        "https://x/",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let n = rng.below(60);
        let text: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
        parse_everyhow(&text);
    }
    // Raw random characters, including control and astral ones.
    for _ in 0..500 {
        let n = rng.below(300);
        let text: String = (0..n)
            .filter_map(|_| char::from_u32((rng.next() % 0x2_0000) as u32))
            .collect();
        parse_everyhow(&text);
    }
}

#[test]
fn pathological_lines_do_not_panic() {
    let long = "a".repeat(100_000);
    for text in [
        format!("    at {long}"),
        format!("    at {long}:1:2"),
        ":".repeat(10_000),
        "(".repeat(10_000) + &")".repeat(10_000),
        "[".repeat(10_000),
        format!("goroutine 1 [running]:\n{}", "f(\n".repeat(10_000)),
        format!("Caused by: X\n{}", "\t... 4294967295 more\n".repeat(100)),
        "\tat a.B.c(D.java:99999999999999999999)\n".to_owned(),
        "   0: x\n             at :1:2\n   1:\n   2: 0x0 -\n".to_owned(),
        " ---> \n ---> \n   --- End of inner exception stack trace ---\n".repeat(50),
        "x.rb:1:in `".to_owned(),
        "x.rb:1:in '': (".to_owned(),
        "thread '' panicked at ".to_owned(),
        "thread 'main' (1) panicked at".to_owned(),
        "  File \"\", line , in \n".to_owned(),
    ] {
        parse_everyhow(&text);
    }
    // A long first line, then many short ones: per-line work must not rescan the first line
    // (quadratic work here would take minutes).
    let text = "x".repeat(MAX_INPUT_BYTES / 2) + &"\ny".repeat(MAX_INPUT_BYTES / 4);
    parse_everyhow(&text);
}
