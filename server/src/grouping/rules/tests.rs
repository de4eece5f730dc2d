use std::collections::BTreeMap;

use super::matching::Glob;
use super::*;
use crate::event::{Exception, Level};

// ---------------------------------------------------------------------------------------------
// Events from five languages, as their SDKs send them.

const VENV: &str = "/srv/app/.venv/lib/python3.12/site-packages";

fn py(module: &str, function: &str, abs_path: &str, filename: &str, in_app: bool) -> Frame {
    Frame {
        module: Some(module.into()),
        function: Some(function.into()),
        abs_path: Some(abs_path.into()),
        filename: Some(filename.into()),
        lineno: Some(42),
        in_app: Some(in_app),
        ..Default::default()
    }
}

fn exception(ty: &str, value: &str, frames: Vec<Frame>) -> Exception {
    Exception {
        ty: ty.into(),
        value: Some(value.into()),
        frames,
        ..Default::default()
    }
}

fn event(exceptions: Vec<Exception>) -> Event {
    Event {
        exceptions,
        ..Default::default()
    }
}

/// Django view → app.flags.lookup_flag raising KeyError, the way sentry-sdk reports it.
fn python_key_error() -> Event {
    let frames = vec![
        py(
            "django.core.handlers.base",
            "_get_response",
            &format!("{VENV}/django/core/handlers/base.py"),
            "django/core/handlers/base.py",
            false,
        ),
        py(
            "app.views",
            "checkout",
            "/srv/app/app/views.py",
            "app/views.py",
            true,
        ),
        py(
            "app.flags",
            "lookup_flag",
            "/srv/app/app/flags.py",
            "app/flags.py",
            true,
        ),
    ];
    Event {
        platform: Some("python".into()),
        environment: Some("production".into()),
        tags: BTreeMap::from([("region".into(), "eu-west-1".into())]),
        ..event(vec![exception("KeyError", "'new_checkout'", frames)])
    }
}

/// psycopg's OperationalError, re-raised by the app as DatabaseUnavailable.
fn python_database_down() -> Event {
    let cause = exception(
        "OperationalError",
        "connection to server at \"db.internal\" (10.0.0.5), port 5432 failed: Connection TIMED OUT",
        vec![py(
            "psycopg.connection",
            "connect",
            &format!("{VENV}/psycopg/connection.py"),
            "psycopg/connection.py",
            false,
        )],
    );
    let outer = exception(
        "DatabaseUnavailable",
        "the database is unavailable",
        vec![
            py(
                "app.db",
                "get_connection",
                "/srv/app/app/db.py",
                "app/db.py",
                true,
            ),
            py(
                "app.errors",
                "log_and_raise",
                "/srv/app/app/errors.py",
                "app/errors.py",
                true,
            ),
        ],
    );
    Event {
        platform: Some("python".into()),
        ..event(vec![outer, cause])
    }
}

fn node_frame(function: &str, abs_path: &str, filename: &str, in_app: bool) -> Frame {
    Frame {
        function: Some(function.into()),
        abs_path: Some(abs_path.into()),
        filename: Some(filename.into()),
        lineno: Some(17),
        colno: Some(9),
        in_app: Some(in_app),
        ..Default::default()
    }
}

/// An Express handler throwing a TypeError.
fn node_type_error() -> Event {
    let frames = vec![
        node_frame(
            "Layer.handle [as handle_request]",
            "/srv/web/node_modules/express/lib/router/layer.js",
            "node_modules/express/lib/router/layer.js",
            false,
        ),
        node_frame(
            "Object.<anonymous>",
            "/srv/web/src/server.js",
            "src/server.js",
            true,
        ),
        node_frame(
            "renderCart",
            "/srv/web/src/generated/cart.pb.js",
            "src/generated/cart.pb.js",
            true,
        ),
    ];
    Event {
        platform: Some("node".into()),
        language: Some("javascript".into()),
        level: Some(Level::Warning),
        ..event(vec![exception(
            "TypeError",
            "Cannot read properties of undefined (reading 'items')",
            frames,
        )])
    }
}

fn java_frame(module: &str, function: &str, filename: &str, in_app: Option<bool>) -> Frame {
    Frame {
        module: Some(module.into()),
        function: Some(function.into()),
        filename: Some(filename.into()),
        lineno: Some(88),
        in_app,
        ..Default::default()
    }
}

fn java_npe() -> Event {
    let frames = vec![
        java_frame("java.lang.Thread", "run", "Thread.java", None),
        java_frame(
            "org.springframework.web.servlet.FrameworkServlet",
            "service",
            "FrameworkServlet.java",
            None,
        ),
        java_frame("com.shop.Orders", "place", "Orders.java", None),
    ];
    Event {
        language: Some("java".into()),
        ..event(vec![exception(
            "java.lang.NullPointerException",
            "Cannot invoke \"com.shop.Cart.total()\" because \"cart\" is null",
            frames,
        )])
    }
}

fn go_frame(module: &str, function: &str, abs_path: &str, in_app: bool) -> Frame {
    Frame {
        module: Some(module.into()),
        function: Some(function.into()),
        abs_path: Some(abs_path.into()),
        in_app: Some(in_app),
        ..Default::default()
    }
}

fn go_error() -> Event {
    let frames = vec![
        go_frame("main", "main", "/home/build/api/main.go", true),
        go_frame(
            "github.com/shop/api/db",
            "(*Pool).Query",
            "/home/build/api/db/pool.go",
            true,
        ),
        go_frame(
            "github.com/lib/pq",
            "(*conn).query",
            "/home/build/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go",
            false,
        ),
    ];
    Event {
        language: Some("go".into()),
        ..event(vec![exception(
            "*pq.Error",
            "pq: too many connections",
            frames,
        )])
    }
}

fn rust_panic() -> Event {
    let frames = vec![
        Frame {
            function: Some("std::rt::lang_start_internal".into()),
            abs_path: Some("/rustc/90b35a62/library/std/src/rt.rs".into()),
            in_app: Some(false),
            ..Default::default()
        },
        Frame {
            function: Some("app::config::load".into()),
            module: Some("app::config".into()),
            abs_path: Some("/home/ada/shop/src/config.rs".into()),
            filename: Some("src/config.rs".into()),
            in_app: Some(true),
            ..Default::default()
        },
    ];
    Event {
        language: Some("rust".into()),
        level: Some(Level::Critical),
        ..event(vec![exception(
            "panic",
            "called `Result::unwrap()` on an `Err` value",
            frames,
        )])
    }
}

fn message_event(message: &str) -> Event {
    Event {
        message: Some(message.into()),
        ..Default::default()
    }
}

fn rules(text: &str) -> Rules {
    parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
}

/// The fingerprint values a rules text gives an event, or None.
fn fp(text: &str, event: &Event) -> Option<Vec<String>> {
    rules(text).fingerprint(event).map(|f| f.values)
}

fn strings(values: &[&str]) -> Option<Vec<String>> {
    Some(values.iter().map(|s| s.to_string()).collect())
}

fn frames(event: &Event) -> impl Iterator<Item = &Frame> {
    event.exceptions.iter().flat_map(|e| &e.frames)
}

/// The actions for every frame of an event, outermost exception first.
fn actions(text: &str, event: &Event) -> Vec<FrameAction> {
    let rules = rules(text);
    let prepared = rules.for_event(event);
    frames(event)
        .map(|frame| {
            let action = prepared.frame_action(frame);
            assert_eq!(action, rules.frame_action(event, frame));
            action
        })
        .collect()
}

const NONE: FrameAction = FrameAction {
    in_app: None,
    group: None,
};
const NOT_APP: FrameAction = FrameAction {
    in_app: Some(false),
    group: None,
};
const NO_GROUP: FrameAction = FrameAction {
    in_app: None,
    group: Some(false),
};

// ---------------------------------------------------------------------------------------------
// Fingerprint rules

#[test]
fn the_example_fingerprint_rules() {
    let text = "\
# Grouping for the shop
error.type:DatabaseUnavailable -> system-down
message:\"*timed out*\" -> timeouts
error.type:KeyError stack.function:lookup_flag -> feature-flags
";
    let r = rules(text);
    assert_eq!(
        r.fingerprint(&python_database_down()),
        Some(RuleFingerprint {
            values: vec!["system-down".into()],
            title: None,
            rule_line: 2,
        })
    );
    assert_eq!(
        r.fingerprint(&message_event("Upstream request timed out after 30s"))
            .map(|f| (f.values, f.rule_line)),
        Some((vec!["timeouts".into()], 3))
    );
    assert_eq!(
        r.fingerprint(&python_key_error())
            .map(|f| (f.values, f.rule_line)),
        Some((vec!["feature-flags".into()], 4))
    );
    assert_eq!(r.fingerprint(&node_type_error()), None);
    assert_eq!(r.fingerprint(&message_event("disk full")), None);
}

#[test]
fn several_values_variables_and_a_title() {
    let r = rules(
        "error.type:DatabaseUnavailable -> payments, {{ error.type }} title=\"Database down\"",
    );
    assert_eq!(
        r.fingerprint(&python_database_down()),
        Some(RuleFingerprint {
            values: vec!["payments".into(), "DatabaseUnavailable".into()],
            title: Some("Database down".into()),
            rule_line: 1,
        })
    );
    // A title may use variables too, and the values may be quoted.
    let r = rules(
        r#"error.type:KeyError -> "flags, checkout", {{default}} title="Flag missing: {{ error.value }}""#,
    );
    let got = r.fingerprint(&python_key_error()).unwrap();
    assert_eq!(got.values, ["flags, checkout", "{{ default }}"]);
    assert_eq!(got.title.as_deref(), Some("Flag missing: 'new_checkout'"));
}

#[test]
fn default_stays_the_marker_the_grouping_code_expands() {
    assert_eq!(
        fp(
            "error.type:KeyError -> {{ default }}, flags",
            &python_key_error()
        ),
        strings(&["{{ default }}", "flags"])
    );
    assert_eq!(
        fp(
            "error.type:KeyError -> \"{{default}}\"",
            &python_key_error()
        ),
        strings(&["{{ default }}"])
    );
}

#[test]
fn every_variable_expands_to_the_events_value_or_nothing() {
    let text = "platform:* -> {{ error.type }}, {{ error.value }}, {{ message }}, \
                {{ stack.function }}, {{ stack.module }}, {{ level }}, {{ tags.region }}, \
                {{ tag.region }}, x-{{ level }}-{{ stack.function }}";
    assert_eq!(
        fp(text, &python_key_error()),
        strings(&[
            "KeyError",
            "'new_checkout'",
            "'new_checkout'",
            "lookup_flag",
            "app.flags",
            "error",
            "eu-west-1",
            "eu-west-1",
            "x-error-lookup_flag",
        ])
    );
    // A chain: the outermost exception and its innermost frame.
    assert_eq!(
        fp(text, &python_database_down()),
        strings(&[
            "DatabaseUnavailable",
            "the database is unavailable",
            "the database is unavailable",
            "log_and_raise",
            "app.errors",
            "error",
            "",
            "",
            "x-error-log_and_raise",
        ])
    );
    // A message without exceptions: the rest is empty.
    let mut e = message_event("cron job skipped");
    e.platform = Some("python".into());
    e.level = Some(Level::Info);
    assert_eq!(
        fp(text, &e),
        strings(&[
            "",
            "",
            "cron job skipped",
            "",
            "",
            "info",
            "",
            "",
            "x-info-"
        ])
    );
}

#[test]
fn the_first_matching_fingerprint_rule_wins() {
    let text = "\
stack.module:app.* -> app-code

error.type:KeyError -> key-errors
error.type:KeyError stack.function:lookup_flag -> feature-flags
";
    let got = rules(text).fingerprint(&python_key_error()).unwrap();
    assert_eq!((got.values, got.rule_line), (vec!["app-code".into()], 1));
    let got = rules(&text.replacen("app.*", "nope.*", 1))
        .fingerprint(&python_key_error())
        .unwrap();
    assert_eq!((got.values, got.rule_line), (vec!["key-errors".into()], 3));
}

#[test]
fn frame_matchers_of_a_fingerprint_rule_must_match_one_same_frame() {
    let e = python_key_error();
    // checkout is in app.views, lookup_flag in app.flags.
    assert_eq!(
        fp("stack.module:app.views stack.function:lookup_flag -> x", &e),
        None
    );
    assert_eq!(
        fp("stack.module:app.flags stack.function:lookup_flag -> x", &e),
        strings(&["x"])
    );
    assert_eq!(
        fp("stack.module:app.views stack.function:checkout -> x", &e),
        strings(&["x"])
    );
    // Any exception of the chain: the cause's psycopg frame.
    assert_eq!(
        fp(
            "error.type:DatabaseUnavailable stack.module:psycopg.* -> db",
            &python_database_down()
        ),
        strings(&["db"])
    );
}

#[test]
fn error_type_and_value_match_any_exception_of_the_chain() {
    let e = python_database_down();
    assert_eq!(fp("error.type:OperationalError -> x", &e), strings(&["x"]));
    assert_eq!(
        fp("error.value:\"*port 5432 failed*\" -> x", &e),
        strings(&["x"])
    );
    // `!` : no exception of the chain is one.
    assert_eq!(fp("!error.type:OperationalError -> x", &e), None);
    assert_eq!(fp("!error.type:KeyError -> x", &e), strings(&["x"]));
}

#[test]
fn message_is_the_event_message_or_the_outermost_exception_value() {
    let e = python_database_down();
    // Only the outermost value, not the cause's "timed out".
    assert_eq!(fp("message:\"*timed out*\" -> x", &e), None);
    assert_eq!(fp("message:\"the database*\" -> x", &e), strings(&["x"]));
    let mut e = python_key_error();
    e.message = Some("Flag lookup failed".into());
    assert_eq!(fp("message:\"flag lookup*\" -> x", &e), strings(&["x"]));
    assert_eq!(fp("message:\"'new_checkout'\" -> x", &e), None);
}

#[test]
fn message_and_error_value_ignore_case_the_rest_does_not() {
    let e = python_database_down();
    assert_eq!(
        fp("error.value:\"*CONNECTION TIMED OUT\" -> x", &e),
        strings(&["x"])
    );
    assert_eq!(
        fp("error.value:\"*connection timed out\" -> x", &e),
        strings(&["x"])
    );
    assert_eq!(
        fp("message:\"THE DATABASE IS *\" -> x", &e),
        strings(&["x"])
    );
    assert_eq!(
        fp("message:\"ÜBER*\" -> x", &message_event("über alles")),
        strings(&["x"])
    );
    assert_eq!(fp("error.type:databaseunavailable -> x", &e), None);
    assert_eq!(fp("stack.function:Log_And_Raise -> x", &e), None);
    assert_eq!(fp("platform:Python -> x", &e), None);
}

#[test]
fn level_environment_platform_and_tags() {
    let node = node_type_error();
    let python = python_key_error();
    // Levels are read like the wire reads them.
    assert_eq!(fp("level:warning -> x", &node), strings(&["x"]));
    assert_eq!(fp("level:warn -> x", &node), strings(&["x"]));
    assert_eq!(fp("level:WARN -> x", &node), strings(&["x"]));
    assert_eq!(fp("level:fatal -> x", &rust_panic()), strings(&["x"]));
    assert_eq!(
        fp("level:error -> x", &python),
        strings(&["x"]),
        "the default level"
    );
    assert_eq!(fp("level:*r* -> x", &python), strings(&["x"]));
    assert_eq!(fp("level:info -> x", &python), None);

    assert_eq!(fp("environment:prod* -> x", &python), strings(&["x"]));
    assert_eq!(fp("environment:* -> x", &node), None, "no environment");
    assert_eq!(fp("!environment:* -> x", &node), strings(&["x"]));

    // platform and language are one matcher over both fields.
    assert_eq!(fp("platform:node -> x", &node), strings(&["x"]));
    assert_eq!(fp("platform:javascript -> x", &node), strings(&["x"]));
    assert_eq!(fp("language:node -> x", &node), strings(&["x"]));
    assert_eq!(fp("language:java -> x", &java_npe()), strings(&["x"]));
    assert_eq!(fp("language:java -> x", &node), None);

    assert_eq!(fp("tags.region:eu-* -> x", &python), strings(&["x"]));
    assert_eq!(fp("tag.region:eu-west-1 -> x", &python), strings(&["x"]));
    assert_eq!(fp("tags.region:us-* -> x", &python), None);
    assert_eq!(fp("tags.region:* -> x", &node), None, "no such tag");
    assert_eq!(fp("!tags.region:* -> x", &node), strings(&["x"]));
}

#[test]
fn negated_frame_matchers_are_per_frame() {
    let e = python_key_error();
    // Some frame in app code that is not lookup_flag: checkout.
    assert_eq!(
        fp("stack.module:app.* !stack.function:lookup_flag -> x", &e),
        strings(&["x"])
    );
    assert_eq!(
        fp(
            "stack.module:app.* !stack.function:lookup_flag !stack.function:checkout -> x",
            &e
        ),
        None
    );
    // A frame without a module is not `stack.module:*`, but is `!stack.module:*`.
    let r = rust_panic();
    assert_eq!(
        fp("!stack.module:* stack.function:std::rt::* -> x", &r),
        strings(&["x"])
    );
    assert_eq!(
        fp("stack.module:* stack.function:std::rt::* -> x", &r),
        None
    );
}

#[test]
fn fingerprints_for_each_language() {
    assert_eq!(
        fp(
            "stack.function:\"Object.<anonymous>\" -> node-entry",
            &node_type_error()
        ),
        strings(&["node-entry"])
    );
    assert_eq!(
        fp(
            "error.type:java.lang.NullPointerException stack.module:com.shop.* -> npe, {{ stack.function }}",
            &java_npe()
        ),
        strings(&["npe", "place"])
    );
    assert_eq!(
        fp(
            "stack.package:github.com/shop/api/* error.value:\"pq: too many*\" -> db-pool",
            &go_error()
        ),
        strings(&["db-pool"])
    );
    assert_eq!(
        fp(
            "error.type:panic stack.function:app::config::* -> config-panics, {{ stack.module }}",
            &rust_panic()
        ),
        strings(&["config-panics", "app::config"])
    );
}

#[test]
fn app_matcher_reads_in_app_and_counts_unknown_as_not_in_app() {
    let java = java_npe();
    assert_eq!(fp("app:yes -> x", &java), None, "java frames do not say");
    assert_eq!(
        fp("app:no stack.module:com.shop.* -> x", &java),
        strings(&["x"])
    );
    let python = python_key_error();
    assert_eq!(
        fp("app:yes stack.function:lookup_flag -> x", &python),
        strings(&["x"])
    );
    assert_eq!(fp("app:no stack.function:lookup_flag -> x", &python), None);
    assert_eq!(
        fp("app:true stack.function:checkout -> x", &python),
        strings(&["x"])
    );
    assert_eq!(
        fp("!app:yes stack.module:django.* -> x", &python),
        strings(&["x"])
    );
}

#[test]
fn a_fingerprint_rules_app_matcher_sees_in_app_after_the_stack_rules() {
    let text = "\
stack.module:com.shop.* +app
app:yes stack.function:place -> shop
";
    assert_eq!(fp(text, &java_npe()), strings(&["shop"]));
    let text = "\
stack.module:app.flags -app
app:yes stack.function:lookup_flag -> x
";
    assert_eq!(fp(text, &python_key_error()), None);
}

// ---------------------------------------------------------------------------------------------
// Quoting and globs

#[test]
fn quoted_values_hold_spaces_quotes_and_backslashes() {
    let mut e = message_event(r#"Job "nightly report" failed"#);
    e.tags.insert("path".into(), r"C:\jobs\nightly".into());
    assert_eq!(
        fp(r#"message:"job \"nightly report\" failed" -> x"#, &e),
        strings(&["x"])
    );
    // `\\` is one backslash; any other backslash is kept as it is.
    assert_eq!(fp(r#"tags.path:"C:\\jobs\\*" -> x"#, &e), strings(&["x"]));
    assert_eq!(fp(r#"tags.path:"C:\jobs\*" -> x"#, &e), strings(&["x"]));
    assert_eq!(fp(r"tags.path:C:\jobs\nightly -> x", &e), strings(&["x"]));
    // The fingerprint side too.
    assert_eq!(
        fp(r#"message:* -> "a \"quoted\" value", 'single'"#, &e),
        strings(&[r#"a "quoted" value"#, "'single'"])
    );
}

#[test]
fn star_matches_anything_outside_paths() {
    let e = java_npe();
    assert_eq!(fp("stack.module:java.* -> x", &e), strings(&["x"]));
    assert_eq!(fp("stack.module:*.Orders -> x", &e), strings(&["x"]));
    assert_eq!(
        fp("stack.module:*springframework* -> x", &e),
        strings(&["x"])
    );
    assert_eq!(
        fp("stack.module:org.*.FrameworkServlet -> x", &e),
        strings(&["x"])
    );
    assert_eq!(fp("stack.module:org.*.Servlet -> x", &e), None);
    assert_eq!(
        fp("stack.module:com.shop -> x", &e),
        None,
        "exact, not a prefix"
    );
    // In a Go module `*` crosses `/`: it is not a path key.
    assert_eq!(
        fp("stack.module:github.com/* -> x", &go_error()),
        strings(&["x"])
    );
    assert_eq!(fp("error.type:*Exception -> x", &e), strings(&["x"]));
    assert_eq!(fp("error.type:*.*.*Pointer* -> x", &e), strings(&["x"]));
    assert_eq!(fp("error.type:*.*.*Pointer -> x", &e), None);
}

#[test]
fn question_mark_is_one_character() {
    let e = go_error();
    assert_eq!(fp("error.type:?pq.Error -> x", &e), strings(&["x"]));
    assert_eq!(fp("error.type:pq.Error -> x", &e), None);
    assert_eq!(fp("error.type:??pq.Error -> x", &e), None);
    // A literal `*` or `?` is matched by `?`.
    assert_eq!(fp("stack.function:(?Pool).Query -> x", &e), strings(&["x"]));
    // `?` does not cross `/` in a path.
    assert_eq!(fp("stack.abs_path:/home/build/api?main.go -> x", &e), None);
    assert_eq!(
        fp("stack.abs_path:/home/build/api/main.g? -> x", &e),
        strings(&["x"])
    );
    // One character, not one byte.
    assert_eq!(
        fp("message:caf? -> x", &message_event("café")),
        strings(&["x"])
    );
}

#[test]
fn path_globs_star_stops_at_slashes_double_star_crosses_them() {
    let e = node_type_error();
    let m = |text: &str| fp(&format!("{text} -> x"), &e).is_some();
    assert!(m("stack.abs_path:/srv/web/src/*.js"));
    assert!(!m("stack.abs_path:/srv/web/*.js"), "* does not cross /");
    assert!(m("stack.abs_path:/srv/web/**.js"));
    assert!(m("stack.abs_path:/srv/**/layer.js"));
    assert!(m("stack.abs_path:**/node_modules/**"));
    assert!(m("stack.abs_path:/srv/*/src/server.js"));
    assert!(!m("stack.abs_path:/*/src/server.js"));
    assert!(m("stack.abs_path:/srv/web/src/*"));
    assert!(m("stack.abs_path:**"));
    assert!(!m("stack.abs_path:*"), "one star is one path component");
    assert!(m("stack.filename:src/*.js"));
    assert!(!m("stack.filename:*.js"));
    assert!(m("stack.filename:**.pb.js"));
    // `**/` may match no directory: filenames are relative.
    assert!(m("stack.filename:**/node_modules/**"));
    assert!(m("stack.filename:**/src/generated/*.js"));
    assert!(m("stack.filename:src/**/cart.pb.js"));
    assert!(m("stack.abs_path:/srv/web/src/**/server.js"));
    assert!(!m("stack.filename:**/lib/layer.js"));
    // stack.path: abs_path or filename.
    assert!(m("stack.path:node_modules/**"));
    assert!(m("stack.path:/srv/web/node_modules/**"));
    assert!(!m("stack.path:web/node_modules/**"));
    // Regex metacharacters are literal.
    assert!(m("stack.path:src/generated/cart.pb.js"));
    assert!(!m("stack.path:src/generated/cart-pb.js"));
    assert!(!m("stack.path:src/generated/cart.pb.j[s]"));
}

#[test]
fn globs_agree_with_a_reference_matcher() {
    /// The semantics, by plain recursion. `at_dir`: at the pattern's start or after its `/`.
    fn reference(p: &[char], s: &[char], path: bool, at_dir: bool) -> bool {
        let stars = p.iter().take_while(|c| **c == '*').count();
        match p.first() {
            None => s.is_empty(),
            Some('*') if path && stars >= 2 => {
                let rest = &p[stars..];
                // `**/` where a directory starts: also no directory at all.
                (at_dir && rest.first() == Some(&'/') && reference(&rest[1..], s, path, true))
                    || (0..=s.len()).any(|i| reference(rest, &s[i..], path, false))
            }
            Some('*') => {
                let rest = &p[1..];
                (0..=s.len())
                    .take_while(|&i| i == 0 || !path || s[i - 1] != '/')
                    .any(|i| reference(rest, &s[i..], path, false))
            }
            Some('?') => {
                s.first().is_some_and(|c| !path || *c != '/')
                    && reference(&p[1..], &s[1..], path, false)
            }
            Some(c) => s.first() == Some(c) && reference(&p[1..], &s[1..], path, *c == '/'),
        }
    }
    fn all(alphabet: &[char], max: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..max {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            out.extend(last.iter().cloned());
        }
        out
    }
    // Every small pattern against every small text; patterns up to 6 reach the shapes with
    // their own code (`**/a/**`, `**/a`, `a**`, `*a*`...).
    let texts = all(&['a', 'b', '/'], 5);
    for pattern in all(&['a', '/', '*', '?'], 6) {
        let p: Vec<char> = pattern.chars().collect();
        // Shorter patterns suffice for one kind of star.
        let text_glob = (p.len() <= 5).then(|| Glob::text(&pattern, false));
        let path_glob = Glob::path(&pattern).unwrap();
        for text in &texts {
            let s: Vec<char> = text.chars().collect();
            if let Some(glob) = &text_glob {
                assert_eq!(
                    glob.matches(text),
                    reference(&p, &s, false, true),
                    "{pattern:?} on {text:?}"
                );
            }
            assert_eq!(
                path_glob.matches(text),
                reference(&p, &s, true, true),
                "path {pattern:?} on {text:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Stack rules

#[test]
fn the_example_stack_rules() {
    let mut vendored = python_key_error();
    vendored.exceptions[0].frames[0].module = Some("vendor.requests.api".into());
    assert_eq!(
        actions("stack.module:vendor.* -app", &vendored),
        [NOT_APP, NONE, NONE]
    );
    assert_eq!(
        actions(
            "stack.function:log_and_raise -group",
            &python_database_down()
        ),
        [NONE, NO_GROUP, NONE]
    );
    let both = FrameAction {
        in_app: Some(false),
        group: Some(false),
    };
    assert_eq!(
        actions(
            "stack.abs_path:**/generated/** -group -app",
            &node_type_error()
        ),
        [NONE, NONE, both]
    );
}

#[test]
fn stack_rules_for_each_language() {
    assert_eq!(
        actions("stack.path:**/node_modules/** -group", &node_type_error()),
        [NO_GROUP, NONE, NONE]
    );
    let app = FrameAction {
        in_app: Some(true),
        group: None,
    };
    assert_eq!(
        actions(
            "stack.module:java.* -app\nstack.module:com.shop.* +app",
            &java_npe()
        ),
        [NOT_APP, NONE, app]
    );
    assert_eq!(
        actions("stack.abs_path:**/pkg/mod/** -app -group", &go_error()),
        [
            NONE,
            NONE,
            FrameAction {
                in_app: Some(false),
                group: Some(false)
            }
        ]
    );
    assert_eq!(
        actions("stack.function:std::* -group", &rust_panic()),
        [NO_GROUP, NONE]
    );
    assert_eq!(
        actions("stack.path:**/site-packages/** -app", &python_key_error()),
        [NOT_APP, NONE, NONE]
    );
}

#[test]
fn the_last_matching_stack_rule_wins_for_each_kind_of_action() {
    let text = "\
stack.module:app.* -group -app
stack.function:lookup_flag +group
# a later rule undoes part of an earlier one
stack.module:app.views +app
";
    assert_eq!(
        actions(text, &python_key_error()),
        [
            NONE,
            FrameAction {
                in_app: Some(true),
                group: Some(false)
            },
            FrameAction {
                in_app: Some(false),
                group: Some(true)
            },
        ]
    );
}

#[test]
fn event_level_matchers_restrict_a_stack_rule_to_matching_events() {
    let text = "error.type:DatabaseUnavailable stack.module:app.* -group";
    assert_eq!(
        actions(text, &python_database_down()),
        [NO_GROUP, NO_GROUP, NONE]
    );
    assert_eq!(actions(text, &python_key_error()), [NONE, NONE, NONE]);
    // Event-level matchers alone apply to every frame of matching events.
    assert_eq!(
        actions(
            "platform:node !error.type:RangeError -group",
            &node_type_error()
        ),
        [NO_GROUP, NO_GROUP, NO_GROUP]
    );
    assert_eq!(
        actions("platform:node -group", &python_key_error()),
        [NONE, NONE, NONE]
    );
}

#[test]
fn a_stack_rules_app_matcher_sees_the_rules_above_it() {
    let text = "\
stack.module:django.* +app
stack.module:app.flags -app
app:no -group
";
    assert_eq!(
        actions(text, &python_key_error()),
        [
            FrameAction {
                in_app: Some(true),
                group: None
            },
            NONE,
            FrameAction {
                in_app: Some(false),
                group: Some(false)
            },
        ]
    );
    // Frames that do not say are not in-app.
    assert_eq!(actions("app:no -group", &java_npe()), [NO_GROUP; 3]);
}

#[test]
fn kinds_of_rules_are_kept_apart() {
    let r = rules("stack.module:vendor.* -app\n");
    assert!(r.has_stack_rules() && !r.has_fingerprint_rules() && !r.is_empty());
    assert_eq!(r.fingerprint(&python_key_error()), None);
    let r = rules("error.type:KeyError -> x\n");
    assert!(!r.has_stack_rules() && r.has_fingerprint_rules());
    let e = python_key_error();
    assert_eq!(r.frame_action(&e, &e.exceptions[0].frames[2]), NONE);
}

// ---------------------------------------------------------------------------------------------
// The text

#[test]
fn comments_blank_lines_and_line_endings() {
    let text = "# Project rules\r\n\r\n   \t\r\n  # indented comment\r\nerror.type:KeyError -> flags   # why: LAUNCH-12\r\n\
                stack.function:OrdersController#create -group # a Ruby method\n";
    let r = rules(text);
    assert_eq!(r.source(), text);
    let got = r.fingerprint(&python_key_error()).unwrap();
    assert_eq!((got.values, got.rule_line), (vec!["flags".into()], 5));
    let frame = Frame {
        function: Some("OrdersController#create".into()),
        ..Default::default()
    };
    assert_eq!(r.frame_action(&Event::default(), &frame), NO_GROUP);
}

#[test]
fn empty_texts_have_no_rules() {
    assert_eq!(parse(""), Ok(Rules::default()));
    let r = rules("# nothing yet\n\n");
    assert!(r.is_empty() && !r.has_stack_rules() && !r.has_fingerprint_rules());
    assert_eq!(r.source(), "# nothing yet\n\n");
    assert_eq!(r.fingerprint(&python_key_error()), None);
    assert_ne!(r, Rules::default());
    assert_eq!(r, rules("# nothing yet\n\n"));
    assert!(Rules::default().is_empty());
}

#[test]
fn errors_display_line_column_and_message() {
    let err = parse("error.type:X -> a\nerror.typ:Y -> b").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2, column 1: unknown matcher key \"error.typ\" (expected error.type, error.value, \
         message, level, environment, platform, language, tags.NAME, stack.function, \
         stack.module, stack.package, stack.abs_path, stack.filename, stack.path, app)"
    );
}

#[test]
fn bad_rules_give_the_line_column_and_reason() {
    let variables = "(expected default, error.type, error.value, message, stack.function, \
                     stack.module, level, tags.NAME)";
    let cases: &[(&str, usize, usize, &str)] = &[
        (
            "# ok\nerror.type:KeyError stak.function:lookup -> x",
            2,
            21,
            "unknown matcher key \"stak.function\" (expected error.type, error.value, message, \
             level, environment, platform, language, tags.NAME, stack.function, stack.module, \
             stack.package, stack.abs_path, stack.filename, stack.path, app)",
        ),
        ("-> x", 1, 1, "a rule needs at least one matcher"),
        ("\n  -group", 2, 3, "a rule needs at least one matcher"),
        ("system-down", 1, 1, "expected a matcher such as error.type:ValueError, found \"system-down\""),
        (
            "error.type:X system-down",
            1,
            14,
            "expected \"->\" and a fingerprint, or an action (+app, -app, +group, -group)",
        ),
        (
            "error.type:DatabaseUnavailable",
            1,
            31,
            "expected \"->\" and a fingerprint, or an action (+app, -app, +group, -group)",
        ),
        (
            "error.type:X->x",
            1,
            16,
            "expected \"->\" and a fingerprint, or an action (+app, -app, +group, -group) \
             (put spaces around \"->\")",
        ),
        ("a:\"b\nmessage:\"*timed out -> x", 1, 3, "unterminated quote"),
        ("error.type:X\nmessage:\"*timed out -> x", 1, 13, "expected \"->\" and a fingerprint, or an action (+app, -app, +group, -group)"),
        ("message:\"*timed out -> x", 1, 9, "unterminated quote"),
        ("message:\"a\"b -> x", 1, 12, "expected a space after the closing quote"),
        ("error.type: -> x", 1, 12, "missing value after \"error.type:\""),
        ("error.type:", 1, 12, "missing value after \"error.type:\""),
        ("!:X -> x", 1, 2, "expected a matcher key before \":\""),
        ("tags.:eu -> x", 1, 6, "expected a tag name after \"tags.\""),
        ("level:loud -> x", 1, 7, "unknown level \"loud\" (expected critical, error, warning, info or debug)"),
        ("app:maybe -group", 1, 5, "expected app:yes or app:no, found \"maybe\""),
        ("error.type:X ->", 1, 16, "expected a fingerprint after \"->\""),
        ("error.type:X ->   # later", 1, 19, "expected a fingerprint after \"->\""),
        ("error.type:X -> a,", 1, 19, "expected a fingerprint value after \",\""),
        ("error.type:X -> a, ,b", 1, 20, "expected a fingerprint value"),
        ("error.type:X -> a b", 1, 19, "expected \",\" and another fingerprint value, or title=\"...\""),
        ("error.type:X -> title=\"T\"", 1, 17, "expected a fingerprint before the title"),
        ("error.type:X -> a titel=\"T\"", 1, 19, "unknown attribute \"titel\" (expected title)"),
        ("error.type:X -> a title=T title=U", 1, 27, "the title is given twice"),
        ("error.type:X -> a title=", 1, 25, "missing value after \"title=\""),
        ("error.type:X -> a title=\"\"", 1, 25, "the title cannot be empty"),
        (
            "error.type:X -> a title=Database down",
            1,
            34,
            "expected the end of the rule after the title (quote a title with spaces: \
             title=\"...\")",
        ),
        ("error.type:X -> \"\"", 1, 17, "a fingerprint value cannot be empty"),
        ("error.type:X -> \"abc", 1, 17, "unterminated quote"),
        ("error.type:X -> a title=\"abc", 1, 25, "unterminated quote"),
        (
            "stack.function:load -> {{ stack.fn }}",
            1,
            24,
            &format!("unknown variable {{{{ stack.fn }}}} {variables}"),
        ),
        (
            "stack.function:load -> x-{{stack.fn}}",
            1,
            26,
            &format!("unknown variable {{{{ stack.fn }}}} {variables}"),
        ),
        ("stack.function:load -> {{ tags. }}", 1, 24, &format!("unknown variable {{{{ tags. }}}} {variables}")),
        ("stack.function:load -> {{ }}", 1, 24, "expected a variable name after \"{{\""),
        ("stack.function:load -> {{ level", 1, 32, "expected \"}}\" to close the variable"),
        ("stack.function:load -> {{ error type }}", 1, 33, "expected \"}}\" to close the variable"),
        (
            "stack.function:load -> x-{{ default }}",
            1,
            26,
            "{{ default }} must be a fingerprint value of its own",
        ),
        (
            "stack.function:load -> x title=\"{{ default }}\"",
            1,
            33,
            "{{ default }} cannot be used in a title",
        ),
        ("stack.module:x -ap", 1, 16, "unknown action \"-ap\" (expected +app, -app, +group or -group)"),
        ("stack.module:x -group +ap", 1, 23, "unknown action \"+ap\" (expected +app, -app, +group or -group)"),
        ("stack.module:x +app -app", 1, 21, "conflicting actions +app and -app"),
        ("stack.module:x -group app:no", 1, 23, "matchers come before the actions"),
        (
            "stack.module:x -group -> x",
            1,
            23,
            "a rule is either a fingerprint rule (->) or a stack rule (+app, -app, +group, \
             -group), not both",
        ),
        (
            "stack.module:x -stack.function:y -group",
            1,
            16,
            "unknown action \"-stack.function:y\" (to negate a matcher, write !stack.function:y)",
        ),
        (
            "-stack.function:y -group",
            1,
            1,
            "unknown action \"-stack.function:y\" (to negate a matcher, write !stack.function:y)",
        ),
        // Columns count characters, not bytes.
        ("message:\"é…ü\" stäck.function:x -> y", 1, 15, "unknown matcher key \"stäck.function\" (expected error.type, error.value, message, level, environment, platform, language, tags.NAME, stack.function, stack.module, stack.package, stack.abs_path, stack.filename, stack.path, app)"),
        ("\t\terror.type:X -> x\r\nerror.type:Y ->\r\n", 2, 16, "expected a fingerprint after \"->\""),
    ];
    for (text, line, column, message) in cases {
        let err = parse(text).expect_err(text);
        assert_eq!(
            (err.line, err.column, err.message.as_str()),
            (*line, *column, *message),
            "{text:?}"
        );
    }
}

#[test]
fn at_most_200_rules_and_64_kb() {
    let line = "stack.module:vendor.* -app\n";
    assert_eq!(rules(&line.repeat(200)).stack_rules.len(), 200);
    // Comments and blank lines do not count.
    rules(&format!("# a\n\n{}", line.repeat(200)));
    let err = parse(&format!("# header\n{}", line.repeat(201))).unwrap_err();
    assert_eq!(
        (err.line, err.column, err.message.as_str()),
        (202, 1, "too many rules: at most 200")
    );

    let comment = format!("# {}\n", "x".repeat(97)); // 100 bytes
    let text = comment.repeat(655) + "# " + &"y".repeat(34);
    assert_eq!(text.len(), 64 * 1024);
    rules(&text);
    let text = text + "é";
    let err = parse(&text).unwrap_err();
    assert_eq!(
        (err.line, err.column, err.message.as_str()),
        (656, 37, "the rules are too long: at most 64 KB")
    );
}

#[test]
fn garbage_never_panics_and_errors_point_inside_the_text() {
    const PIECES: &[&str] = &[
        "error.type:",
        "stack.function:",
        "stack.abs_path:",
        "message:",
        "tags.",
        "app:",
        "!",
        "level:",
        "-> ",
        "->",
        "+app",
        "-group",
        "title=",
        "{{",
        "}}",
        " default ",
        "error.value",
        "\"",
        "\\",
        ",",
        " ",
        "  ",
        "\t",
        "\n",
        "\r\n",
        "#",
        "*",
        "**",
        "?",
        "/",
        "x",
        "KeyError",
        "é",
        "💥",
        "\u{0}",
        "=",
        ":",
        "}",
        "{",
        "yes",
    ];
    let event = python_database_down();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut parsed = 0;
    for _ in 0..20_000 {
        let len = (next() % 24) as usize;
        let text: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        match parse(&text) {
            Ok(rules) => {
                parsed += 1;
                rules.fingerprint(&event);
                for frame in frames(&event) {
                    rules.frame_action(&event, frame);
                }
            }
            Err(err) => {
                let lines: Vec<&str> = text.split('\n').collect();
                assert!(err.line >= 1 && err.line <= lines.len(), "{text:?}: {err}");
                let chars = lines[err.line - 1].trim_end_matches('\r').chars().count();
                assert!(
                    err.column >= 1 && err.column <= chars + 1,
                    "{text:?}: {err}"
                );
                assert!(!err.message.is_empty());
            }
        }
    }
    assert!(
        parsed > 100,
        "the generator should make some valid texts ({parsed})"
    );
}
