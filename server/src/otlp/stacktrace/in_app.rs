//! Whether a frame is the application's own code: the one table of library and runtime
//! locations, per language.
//!
//! A frame is *not* in-app when any test of its language matches; otherwise it is. Paths are
//! matched with `\` read as `/`, so Windows paths match the same entries. The list is a guess
//! that errs towards "in-app": a library missing here only costs grouping precision, while
//! application code wrongly marked as a library would vanish from the in-app grouping hash.

use super::{slashes, Language};

/// One way a frame shows it belongs to a library or the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibraryTest {
    /// The path contains this.
    PathContains(&'static str),
    /// The path contains this followed by a digit: a versioned directory such as
    /// `/lib/python3.12/` or `/ruby/3.3.0/`.
    PathContainsVersion(&'static str),
    /// The path starts with this.
    PathStartsWith(&'static str),
    /// The module (Java class, .NET type, Go package) starts with this.
    ModuleStartsWith(&'static str),
    /// The function starts with this, once a trait impl's `<`, `&` and `dyn ` are skipped
    /// (`<alloc::vec::Vec<T> as Iterator>::next` is `alloc::`'s).
    FunctionStartsWith(&'static str),
    /// The function is exactly this.
    FunctionIs(&'static str),
    /// Go's standard library: the package path, or a `-trimpath` file path, starts with one of
    /// [`GO_STD_PACKAGES`] (whose first element has no dot, unlike a module path).
    GoStdlib,
    /// The frame has no file at all: an engine builtin (V8's `Array.map (<anonymous>)`,
    /// `native`, `Promise.all (index 0)`).
    NoPath,
}

use LibraryTest::*;

/// Library and runtime frames, per language.
pub static LIBRARY_FRAMES: &[(Language, &[LibraryTest])] = &[
    (
        Language::Python,
        &[
            PathContains("/site-packages/"),
            PathContains("/dist-packages/"),
            // The standard library: /usr/lib/python3.12/, ~/.pyenv/versions/3.12.1/lib/python3.12/
            PathContainsVersion("/lib/python"),
            PathContainsVersion("/lib64/python"),
            // Windows installs: C:\Users\me\AppData\Local\Programs\Python\Python312\Lib\
            PathContainsVersion("/Python3"),
            PathStartsWith("<frozen "),
        ],
    ),
    (
        Language::Java,
        &[
            ModuleStartsWith("java."),
            ModuleStartsWith("javax."),
            ModuleStartsWith("jakarta."),
            ModuleStartsWith("jdk."),
            ModuleStartsWith("sun."),
            ModuleStartsWith("com.sun."),
            ModuleStartsWith("kotlin."),
            ModuleStartsWith("kotlinx."),
            ModuleStartsWith("_COROUTINE."),
            ModuleStartsWith("scala."),
            ModuleStartsWith("groovy."),
            ModuleStartsWith("org.codehaus.groovy."),
            ModuleStartsWith("android."),
            ModuleStartsWith("androidx."),
            ModuleStartsWith("dalvik."),
            ModuleStartsWith("com.android."),
            ModuleStartsWith("org.springframework."),
            ModuleStartsWith("org.apache."),
            ModuleStartsWith("org.hibernate."),
            ModuleStartsWith("org.eclipse.jetty."),
            ModuleStartsWith("org.glassfish."),
            ModuleStartsWith("org.jboss."),
            ModuleStartsWith("io.netty."),
            ModuleStartsWith("io.grpc."),
            ModuleStartsWith("io.micronaut."),
            ModuleStartsWith("io.quarkus."),
            ModuleStartsWith("io.vertx."),
            ModuleStartsWith("io.opentelemetry."),
            ModuleStartsWith("io.micrometer."),
            ModuleStartsWith("reactor."),
            ModuleStartsWith("rx."),
            ModuleStartsWith("io.reactivex."),
            ModuleStartsWith("com.fasterxml."),
            ModuleStartsWith("com.google."),
            ModuleStartsWith("com.zaxxer."),
            ModuleStartsWith("okhttp3."),
            ModuleStartsWith("okio."),
            ModuleStartsWith("retrofit2."),
            ModuleStartsWith("org.slf4j."),
            ModuleStartsWith("ch.qos.logback."),
            ModuleStartsWith("org.junit."),
            ModuleStartsWith("org.gradle."),
            ModuleStartsWith("worker.org.gradle."),
        ],
    ),
    (
        Language::JavaScript,
        &[
            PathContains("/node_modules/"),
            PathStartsWith("node_modules/"),
            PathStartsWith("node:"),
            // Node before 16 printed its own modules without the `node:` scheme.
            PathStartsWith("internal/"),
            PathContains("webpack/bootstrap"),
            PathContains("webpack/runtime/"),
            PathStartsWith("chrome-extension://"),
            PathStartsWith("moz-extension://"),
            PathStartsWith("safari-extension://"),
            PathStartsWith("safari-web-extension://"),
            NoPath,
        ],
    ),
    (
        Language::Go,
        &[
            // The module cache ($GOPATH/pkg/mod/, also toolchains fetched by `go`) and vendoring.
            PathContains("/pkg/mod/"),
            PathContains("/vendor/"),
            PathStartsWith("vendor/"),
            // A module path with its version, as -trimpath prints dependencies.
            PathContainsVersion("@v"),
            // GOROOT, as installed by the official tarball, Debian, Fedora, Homebrew, snap, golang.org/dl.
            PathContains("/usr/local/go/src/"),
            PathContains("/usr/lib/go/src/"),
            PathContainsVersion("/usr/lib/go-"),
            PathContains("/usr/lib/golang/src/"),
            PathContains("/Cellar/go/"),
            PathContains("/snap/go/"),
            PathContainsVersion("/sdk/go"),
            PathContains("/Program Files/Go/src/"),
            GoStdlib,
        ],
    ),
    (
        Language::DotNet,
        &[
            ModuleStartsWith("System."),
            ModuleStartsWith("Microsoft."),
            ModuleStartsWith("Newtonsoft."),
            ModuleStartsWith("Npgsql."),
            ModuleStartsWith("MySqlConnector."),
            ModuleStartsWith("Grpc."),
            ModuleStartsWith("Polly."),
            ModuleStartsWith("Serilog."),
            ModuleStartsWith("MediatR."),
            ModuleStartsWith("Dapper."),
            ModuleStartsWith("StackExchange."),
            ModuleStartsWith("Xunit."),
            ModuleStartsWith("NUnit."),
            ModuleStartsWith("OpenTelemetry."),
        ],
    ),
    (
        Language::Ruby,
        &[
            PathContains("/gems/"),
            // The standard library: /usr/lib/ruby/3.3.0/, ~/.rbenv/versions/3.3.0/lib/ruby/3.3.0/
            PathContainsVersion("/ruby/"),
            PathContains("/lib/ruby/"),
            PathContains("/rubygems/"),
            PathContains("/bundler/"),
            PathStartsWith("<internal:"),
        ],
    ),
    (
        Language::Rust,
        &[
            PathStartsWith("/rustc/"),
            // $CARGO_HOME: ~/.cargo, or /usr/local/cargo in the official Docker images.
            PathContains("/cargo/registry/"),
            PathContains("/.cargo/registry/"),
            PathContains("/cargo/git/checkouts/"),
            PathContains("/.cargo/git/checkouts/"),
            PathContains("/rustlib/src/rust/library/"),
            // glibc's start-up code, e.g. ./csu/../sysdeps/nptl/libc_start_call_main.h
            PathContains("/csu/"),
            PathContains("/sysdeps/"),
            FunctionStartsWith("std::"),
            FunctionStartsWith("core::"),
            FunctionStartsWith("alloc::"),
            FunctionStartsWith("__rustc::"),
            FunctionStartsWith("__rust_"),
            FunctionStartsWith("rust_begin_unwind"),
            FunctionStartsWith("panic_unwind::"),
            FunctionStartsWith("backtrace::"),
            FunctionStartsWith("tokio::"),
            FunctionStartsWith("futures::"),
            FunctionStartsWith("futures_util::"),
            FunctionStartsWith("futures_core::"),
            FunctionStartsWith("hyper::"),
            FunctionStartsWith("tower::"),
            FunctionStartsWith("axum::"),
            FunctionStartsWith("actix_web::"),
            FunctionStartsWith("actix_rt::"),
            FunctionStartsWith("actix_http::"),
            FunctionStartsWith("tracing::"),
            FunctionStartsWith("anyhow::"),
            FunctionStartsWith("eyre::"),
            FunctionStartsWith("__libc_"),
            FunctionIs("main"),
            FunctionIs("_start"),
            FunctionIs("start_thread"),
            FunctionIs("clone"),
            FunctionIs("clone3"),
        ],
    ),
];

/// Go's standard-library top-level packages (`net/http` is `net`'s). A module path's first
/// element has a dot (`github.com/...`) or is the module's own name, so these are runtime.
pub const GO_STD_PACKAGES: &[&str] = &[
    "archive",
    "bufio",
    "builtin",
    "bytes",
    "cmp",
    "compress",
    "container",
    "context",
    "crypto",
    "database",
    "debug",
    "embed",
    "encoding",
    "errors",
    "expvar",
    "flag",
    "fmt",
    "go",
    "hash",
    "html",
    "image",
    "index",
    "internal",
    "io",
    "iter",
    "log",
    "maps",
    "math",
    "mime",
    "net",
    "os",
    "path",
    "plugin",
    "reflect",
    "regexp",
    "runtime",
    "slices",
    "sort",
    "strconv",
    "strings",
    "structs",
    "sync",
    "syscall",
    "testing",
    "text",
    "time",
    "unicode",
    "unique",
    "unsafe",
    "weak",
];

/// Whether a frame with these parts is the application's own code.
pub(super) fn is_in_app(
    lang: Language,
    path: Option<&str>,
    module: Option<&str>,
    function: Option<&str>,
) -> bool {
    let Some((_, tests)) = LIBRARY_FRAMES.iter().find(|(l, _)| *l == lang) else {
        return true;
    };
    let path = path.filter(|p| !p.is_empty()).map(slashes);
    let path = path.as_deref();
    let function_core = function.map(trait_self_type);
    !tests.iter().any(|test| match *test {
        PathContains(needle) => path.is_some_and(|p| p.contains(needle)),
        PathContainsVersion(needle) => path.is_some_and(|p| contains_versioned(p, needle)),
        PathStartsWith(prefix) => path.is_some_and(|p| p.starts_with(prefix)),
        ModuleStartsWith(prefix) => module.is_some_and(|m| m.starts_with(prefix)),
        FunctionStartsWith(prefix) => function_core.is_some_and(|f| f.starts_with(prefix)),
        FunctionIs(name) => function == Some(name),
        GoStdlib => {
            module.is_some_and(is_go_std)
                || path.is_some_and(|p| p.contains('/') && !has_drive(p) && is_go_std(p))
        }
        NoPath => path.is_none(),
    })
}

/// `needle` followed by an ASCII digit somewhere in `path`.
fn contains_versioned(path: &str, needle: &str) -> bool {
    path.match_indices(needle).any(|(at, _)| {
        path.as_bytes()
            .get(at + needle.len())
            .is_some_and(u8::is_ascii_digit)
    })
}

/// A Go package path (`net/http`, `runtime`) or `-trimpath` file path (`net/http/server.go`)
/// in the standard library: its first element is a standard top-level package.
fn is_go_std(path: &str) -> bool {
    let first = path.split('/').next().unwrap_or_default();
    GO_STD_PACKAGES.contains(&first)
}

fn has_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// The type a trait impl is for (`<alloc::vec::Vec<T> as Trait>::f` → `alloc::vec::...`),
/// or the function itself.
fn trait_self_type(function: &str) -> &str {
    let mut f = function;
    loop {
        let before = f;
        f = f.trim_start_matches(['<', '&', '*', '(']);
        f = f.strip_prefix("mut ").unwrap_or(f);
        f = f.strip_prefix("const ").unwrap_or(f);
        f = f.strip_prefix("dyn ").unwrap_or(f);
        if f == before {
            return f;
        }
    }
}

/// Whether a frame its SDK left unmarked is the application's own code, guessed from the
/// event's language (`python`, `javascript`, `java`…); `None` for a language without a table.
pub fn guess_in_app(language: Option<&str>, frame: &crate::event::Frame) -> Option<bool> {
    let lang = Language::from_hint(language, None);
    if lang == Language::Unknown {
        return None;
    }
    let path = frame.abs_path.as_deref().or(frame.filename.as_deref());
    Some(is_in_app(
        lang,
        path,
        frame.module.as_deref(),
        frame.function.as_deref(),
    ))
}
