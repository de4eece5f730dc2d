//! Frames: each reduced to a stable label, the app's own frames picked out, recursion counted
//! once, and the failing site found.
//!
//! A label is `module in function` (or `file in function`) with everything that varies between
//! builds, hosts and deploys removed: line and column numbers, addresses, symbol hashes,
//! closure numbering, generic arguments, install locations, release and content-hash
//! directories (see [`normalize_function`] and [`normalize_filename`]).
//!
//! # The failing site
//! Version 2 hashes, per exception, only where it failed: the **innermost in-app frame**. One
//! frame, because the same statement failing the same way is one bug however it was reached: a
//! caller more or less at the outer end (another request path, a framework frame above the
//! app, a first request taking a synchronous path) must not split it, and the outer path stays
//! visible as the issue's "call paths" breakdown. Two different functions failing alike still
//! differ, because their labels do. Without any in-app frame we cannot tell the app's code from
//! the runtime's throw helpers, so the innermost [`SITE_WITHOUT_APP`] frames are the site.
//!
//! A recursion at the innermost end (the failing frame appears again further out within
//! [`MAX_CYCLE`] frames) makes the whole cycle the site, rotated to a canonical start: a
//! runtime that keeps only the innermost frames of a stack overflow (V8 keeps 10) can cut the
//! cycle anywhere, and its depth varies from one occurrence to the next. Repeats of a frame or
//! of a cycle of frames further out are counted once, so a call path does not change with depth.

use std::sync::LazyLock;

use regex::Regex;

use super::Version;
use crate::event::Frame;

/// Frames the site takes from the innermost end when no frame is in-app.
pub const SITE_WITHOUT_APP: usize = 3;
/// Longest cycle of frames recognized as one recursion.
pub const MAX_CYCLE: usize = 16;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("grouping regexes are valid")
}

/// A frame as grouping sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    pub label: String,
    pub in_app: bool,
}

// Labels already computed on this thread. Real traffic repeats the same frames endlessly and
// normalizing one runs a dozen regexes, so the label is remembered (it is a pure function of
// the frame's strings and the root). Both versions' labels are kept in one entry; they differ
// only for frames without a function. Cleared when it grows past LABEL_CACHE_MAX.
type Labels = (Option<String>, Option<String>);
thread_local! {
    static LABELS: std::cell::RefCell<std::collections::HashMap<String, Labels>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}
const LABEL_CACHE_MAX: usize = 50_000;

/// `module in function` (or `file in function`); None for a frame that says nothing stable
/// about where it is (a bare address).
pub fn label(frame: &Frame, root: Option<&str>, version: Version) -> Option<String> {
    thread_local! {
        // The lookup key is built in one buffer per thread: a hit allocates nothing.
        static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    let pick = |labels: &Labels| match version {
        Version::V1 => labels.0.clone(),
        Version::V2 => labels.1.clone(),
    };
    KEY.with(|key| {
        let mut key = key.borrow_mut();
        key.clear();
        let parts = [
            frame.module.as_deref(),
            frame.filename.as_deref(),
            frame.abs_path.as_deref(),
            frame.function.as_deref(),
            frame.symbol.as_deref(),
            frame.package.as_deref(),
            root,
        ];
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                key.push('\0');
            }
            key.push_str(part.unwrap_or("\u{1}"));
        }
        if let Some(hit) = LABELS.with(|cache| cache.borrow().get(key.as_str()).map(pick)) {
            return hit;
        }
        let labels = (
            compute(frame, root, Version::V1),
            compute(frame, root, Version::V2),
        );
        let out = pick(&labels);
        LABELS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= LABEL_CACHE_MAX {
                cache.clear();
            }
            cache.insert(key.clone(), labels);
        });
        out
    })
}

fn compute(frame: &Frame, root: Option<&str>, version: Version) -> Option<String> {
    let mut location = non_empty(frame.module.as_deref())
        .map(str::to_owned)
        .or_else(|| {
            non_empty(frame.filename.as_deref().or(frame.abs_path.as_deref()))
                .map(|file| normalize_filename(file, root))
        });
    let mut function =
        non_empty(frame.function.as_deref()).map(|f| normalize_function_as(f, version));
    if version == Version::V2 {
        // Native frames: the symbol when there is no readable name, and the binary's name
        // (never its install path, never an address) when there is no module or file.
        function = function.or_else(|| {
            non_empty(frame.symbol.as_deref()).map(|f| normalize_function_as(f, version))
        });
        location = location.or_else(|| {
            non_empty(frame.package.as_deref()).map(|p| {
                let p = p.replace('\\', "/");
                p.rsplit('/').next().unwrap_or(&p).to_owned()
            })
        });
    }
    match (location, function) {
        (Some(location), Some(function)) => Some(format!("{location} in {function}")),
        (Some(location), None) if version == Version::V1 => Some(format!("{location} in ?")),
        (Some(location), None) => Some(location),
        (None, function) => function,
    }
}

#[cfg(test)]
fn normalize_function(raw: &str) -> String {
    normalize_function_as(raw, Version::V1)
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

// --- recursion and the failing site ------------------------------------------------------------

/// Repeats of a frame or of a cycle of up to [`MAX_CYCLE`] frames counted once, whatever the
/// depth: `a b c b c b c d` becomes `a b c d`; an innermost partial repeat stays (`a b c b`).
pub fn collapse_recursion<'a>(labels: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for label in labels {
        out.push(label);
        'shrink: loop {
            let n = out.len();
            for k in 1..=MAX_CYCLE.min(n / 2) {
                if out[n - 2 * k..n - k] == out[n - k..] {
                    out.truncate(n - k);
                    continue 'shrink;
                }
            }
            break;
        }
    }
    out
}

/// Where one exception failed, and the path that led there.
#[derive(Debug, Clone, PartialEq)]
pub struct Site<'a> {
    /// The site's labels: one frame, a cycle (canonical rotation) or the innermost frames.
    pub frames: Vec<&'a str>,
    /// A recursion at the innermost end.
    pub recursion: bool,
    /// The frames before it, outermost first, recursion collapsed.
    pub callers: Vec<&'a str>,
}

/// The failing site of one exception's frames (outermost first); None without frames.
pub fn failing_site(frames: &[Labelled]) -> Option<Site<'_>> {
    let any_in_app = frames.iter().any(|f| f.in_app);
    let chosen = frames
        .iter()
        .filter(|f| f.in_app || !any_in_app)
        .map(|f| f.label.as_str());
    let seq = collapse_recursion(chosen);
    let (&innermost, outer) = seq.split_last()?;
    if let Some(p) = outer.iter().rposition(|&l| l == innermost) {
        if seq.len() - 1 - p <= MAX_CYCLE {
            return Some(Site {
                frames: canonical_rotation(&seq[p + 1..]),
                recursion: true,
                callers: seq[..p].to_vec(),
            });
        }
    }
    let take = if any_in_app {
        1
    } else {
        SITE_WITHOUT_APP.min(seq.len())
    };
    let (callers, site) = seq.split_at(seq.len() - take);
    Some(Site {
        frames: site.to_vec(),
        recursion: false,
        callers: callers.to_vec(),
    })
}

/// The rotation of a cycle that starts with its smallest label (then smallest continuation),
/// so the same cycle entered at any frame reads the same.
fn canonical_rotation<'a>(cycle: &[&'a str]) -> Vec<&'a str> {
    let n = cycle.len();
    let rotation = |start: usize| (0..n).map(move |i| cycle[(start + i) % n]);
    let best = (0..n)
        .min_by(|&a, &b| rotation(a).cmp(rotation(b)))
        .unwrap_or(0);
    rotation(best).collect()
}

// --- function names --------------------------------------------------------------------------

/// `::h0123456789abcdef`, the hash rustc appends to legacy symbols.
static RUST_HASH: LazyLock<Regex> = LazyLock::new(|| regex(r"::h[0-9a-f]{16}\b"));
/// `17h0123456789abcdefE`, the same hash left in a half-demangled legacy symbol.
static RUST_LEGACY_HASH: LazyLock<Regex> = LazyLock::new(|| regex(r"17h[0-9a-f]{16}E"));
/// How a function was reached, not what it is: V8's `async ` and `new `, Firefox's
/// `async*`, `promise callback*` and `setTimeout handler*`.
static ASYNC_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:(?:async|await|new) +|(?:async|promise callback|[A-Za-z]+ handler)\*)+")
});
/// Node's ` [as handle_request]`: the property a function was called through, not the function.
static JS_ALIAS: LazyLock<Regex> = LazyLock::new(|| regex(r" *\[as [^\]]*\]"));
/// Rust closures and async bodies in every mangling: `{{closure}}`, `{closure#0}`, `{async_block#1}`.
static RUST_CLOSURE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\{\{?(?:closure|coroutine|async[a-z_ ]*)(?:#[0-9]+)?\}\}?"));
static RUST_CLOSURE_RUN: LazyLock<Regex> = LazyLock::new(|| regex(r"(?:::\{closure\})+"));
/// Other compiler-made names: `{{vtable.shim}}`, `{shim:vtable#0}`, `{{constant}}`.
static RUST_BRACED: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\{\{?([a-z_.: ]+?)(?:#[0-9]+)?\}\}?"));
static RUST_IMPL_FOR: LazyLock<Regex> = LazyLock::new(|| regex(r"<impl ([^<>]+?) for ([^<>]+)>"));
static RUST_IMPL: LazyLock<Regex> = LazyLock::new(|| regex(r"<impl ([^<>]+)>"));
/// v0 demangling writes an inherent impl as `<app::Foo>::new`, legacy as `app::Foo::new`.
static RUST_INHERENT: LazyLock<Regex> = LazyLock::new(|| regex(r"^<([^<> ]+)>::"));
static JS_ANONYMOUS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^(?:(?:[\w$]+\.)?<anonymous>|anonymous|\?|<unknown>)$"));

/// The function as a stable, readable name: what the code is, not how it was compiled or called.
/// Version 1 folded nested closures into one; version 2 keeps the nesting, so a closure
/// inside a closure of the same function is not mistaken for a recursion.
fn normalize_function_as(raw: &str, version: Version) -> String {
    let f = RUST_HASH.replace_all(raw.trim(), "");
    let f = RUST_LEGACY_HASH.replace_all(&f, "");
    let f = ASYNC_PREFIX.replace(&f, "");
    let f = JS_ALIAS.replace_all(&f, "");
    let f = f.strip_suffix(" (async)").unwrap_or(&f).replace("/<", "");
    let f = RUST_CLOSURE.replace_all(&f, "{closure}");
    let f = match version {
        Version::V1 => RUST_CLOSURE_RUN.replace_all(&f, "::{closure}"),
        Version::V2 => f,
    };
    let f = RUST_BRACED.replace_all(&f, "{$1}");
    let f = strip_generic_args(&f);
    let f = RUST_IMPL_FOR.replace_all(&f, "<$2 as $1>");
    let f = RUST_IMPL.replace_all(&f, "<$1>");
    let f = RUST_INHERENT.replace(&f, "${1}::");
    let f = f.trim();
    if f.is_empty() || JS_ANONYMOUS.is_match(f) {
        "<anonymous>".to_owned()
    } else {
        f.to_owned()
    }
}

/// Drops generic arguments (`Vec<T>`, `parse::<u32>`, `Foo<'a, dyn Fn() -> T>`) and keeps groups
/// that name something: `<Foo as Trait>`, `<impl Trait for Foo>`, `<lambda>`, `Object.<anonymous>`.
fn strip_generic_args(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '<' {
            let turbofish = out.ends_with("::");
            let after_name = out
                .chars()
                .next_back()
                .is_some_and(|p| p.is_alphanumeric() || p == '_');
            if turbofish || after_name {
                if let Some(close) = matching_angle(&chars, i) {
                    if turbofish {
                        out.truncate(out.len() - 2);
                    }
                    i = close + 1;
                    continue;
                }
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

fn matching_angle(chars: &[char], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &c) in chars.iter().enumerate().skip(open) {
        match c {
            '<' => depth += 1,
            // `->` in `dyn Fn() -> T` closes nothing.
            '>' if i > 0 && chars[i - 1] == '-' => {}
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

// --- filenames -------------------------------------------------------------------------------

static URL_PREFIX: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/]*)"));
/// `~/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.40.0/` → `tokio/`.
static CARGO_REGISTRY: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^.*/registry/src/[^/]+/([^/]+?)-[0-9]+\.[0-9]+\.[0-9]+[^/]*/"));
/// `~/.cargo/git/checkouts/serde-1ecc6299db9ec823/3f2a9c1/` → `serde/`.
static CARGO_GIT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^.*/git/checkouts/([^/]+?)-[0-9a-f]{16}/[^/]+/"));
static PYTHON_PACKAGES: LazyLock<Regex> = LazyLock::new(|| regex(r"^.*/(?:site|dist)-packages/"));
static PYTHON_STDLIB: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^.*/lib/python[0-9]+(?:\.[0-9]+)?/"));
/// Go modules (`bar@v1.2.3/`) and pnpm stores (`foo@1.2.3/`) put the version in a directory.
static PATH_VERSION: LazyLock<Regex> = LazyLock::new(|| regex(r"@v?[0-9][^/]*/"));

/// The filename as the code knows it: no host, root, install location, release or build hash.
fn normalize_filename(raw: &str, root: Option<&str>) -> String {
    let mut path = raw.trim().replace('\\', "/");
    if let Some(caps) = URL_PREFIX.captures(&path) {
        let scheme_and_host = caps[0].len();
        let is_file = caps[1].eq_ignore_ascii_case("file");
        let rest = &path[scheme_and_host..];
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        // A URL's path says nothing about the server's disk; file:// keeps its leading /.
        path = if is_file {
            rest
        } else {
            rest.trim_start_matches('/')
        }
        .to_owned();
    }
    if let Some(root) = root
        .map(|r| r.trim().replace('\\', "/"))
        .map(|r| r.trim_end_matches('/').to_owned())
        .filter(|r| !r.is_empty())
    {
        if let Some(rest) = path.strip_prefix(&root).and_then(|r| r.strip_prefix('/')) {
            path = rest.to_owned();
        }
    }
    if let Some(at) = path.rfind("node_modules/") {
        if at == 0 || path[..at].ends_with('/') {
            path = path[at..].to_owned();
        }
    }
    for (pattern, replacement) in [
        (&CARGO_REGISTRY, "${1}/"),
        (&CARGO_GIT, "${1}/"),
        (&PYTHON_PACKAGES, ""),
        (&PYTHON_STDLIB, ""),
        (&PATH_VERSION, "/"),
    ] {
        path = pattern.replace_all(&path, replacement).into_owned();
    }
    let path = strip_hash_dirs(&path);
    let path = hash_file_tokens(&path);
    path.trim_start_matches("./").to_owned()
}

/// Everything up to a release or build directory (`releases/20261101123456/`,
/// `/rustc/<sha>/`) is where the code was deployed, not what it is.
fn strip_hash_dirs(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let dirs = &segments[..segments.len() - 1];
    match dirs.iter().rposition(|s| is_hash_like(s)) {
        Some(last) => segments[last + 1..].join("/"),
        None => path.to_owned(),
    }
}

/// `main.3f2a9c1b.js` → `main.<hash>.js`, `index-3f2a9c1b.js` → `index-<hash>.js`.
fn hash_file_tokens(path: &str) -> String {
    let (dir, file) = match path.rsplit_once('/') {
        Some((dir, file)) => (Some(dir), file),
        None => (None, path),
    };
    let file = file
        .split('.')
        .map(|part| {
            part.split('-')
                .map(|t| if is_hash_like(t) { "<hash>" } else { t })
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect::<Vec<_>>()
        .join(".");
    match dir {
        Some(dir) => format!("{dir}/{file}"),
        None => file,
    }
}

static UUID_EXACT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
});

/// A build id, content hash, timestamp or uuid: ≥ 8 hex digits with at least one digit.
fn is_hash_like(s: &str) -> bool {
    let hex_id = s.len() >= 8
        && s.bytes().all(|b| b.is_ascii_hexdigit())
        && s.bytes().any(|b| b.is_ascii_digit());
    hex_id || UUID_EXACT.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUSTC: &str = "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library";
    const CRATES: &str = "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
    const VENV: &str = "/srv/shop/.venv/lib/python3.12/site-packages";

    #[test]
    fn function_names_are_normalized() {
        let cases = [
            // Rust: symbol hashes, legacy remnants, closures, generics, impls.
            ("app::config::load::h3e4f5a6b7c8d9e0f", "app::config::load"),
            (
                "_ZN3app6config4load17h3e4f5a6b7c8d9e0fE",
                "_ZN3app6config4load",
            ),
            (
                "app::main::{{closure}}::{{closure}}",
                "app::main::{closure}",
            ),
            (
                "app::main::{closure#0}::{closure#1}",
                "app::main::{closure}",
            ),
            ("app::handler::{async_fn#0}", "app::handler::{closure}"),
            ("app::handler::{{async_block}}", "app::handler::{closure}"),
            (
                "core::ops::function::FnOnce::call_once{{vtable.shim}}",
                "core::ops::function::FnOnce::call_once{vtable.shim}",
            ),
            (
                "core::ptr::drop_in_place<app::cart::Cart>",
                "core::ptr::drop_in_place",
            ),
            ("app::parse::<u32>", "app::parse"),
            (
                "hyper::proto::h1::dispatch::Dispatcher<D,Bs,I,T>::poll_catch",
                "hyper::proto::h1::dispatch::Dispatcher::poll_catch",
            ),
            (
                "<alloc::boxed::Box<F,A> as core::ops::function::FnOnce<Args>>::call_once",
                "<alloc::boxed::Box as core::ops::function::FnOnce>::call_once",
            ),
            (
                "<F as axum::handler::Handler<(M,T1),S>>::call::{{closure}}",
                "<F as axum::handler::Handler>::call::{closure}",
            ),
            (
                "<impl core::fmt::Display for app::Error>::fmt",
                "<app::Error as core::fmt::Display>::fmt",
            ),
            ("<app::cart::Cart>::total", "app::cart::Cart::total"),
            ("app::run<Box<dyn Fn() -> Result<(), E>>>", "app::run"),
            // Python.
            ("checkout", "checkout"),
            ("<lambda>", "<lambda>"),
            ("<module>", "<module>"),
            (
                "Checkout.post.<locals>.inner",
                "Checkout.post.<locals>.inner",
            ),
            // JavaScript.
            ("Layer.handle [as handle_request]", "Layer.handle"),
            ("Object.<anonymous>", "<anonymous>"),
            ("<anonymous>", "<anonymous>"),
            ("?", "<anonymous>"),
            ("async CartController.checkout", "CartController.checkout"),
            ("async*loadCart", "loadCart"),
            ("promise callback*loadCart", "loadCart"),
            ("new CartService", "CartService"),
            ("loadCart/<", "loadCart"),
            // C++ operators are not generics.
            ("std::ostream::operator<<", "std::ostream::operator<<"),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize_function(raw), expected, "{raw}");
        }
    }

    #[test]
    fn filenames_are_normalized() {
        let cases = [
            ("src/config.rs", None, "src/config.rs"),
            ("/srv/app/src/config.rs", Some("/srv/app"), "src/config.rs"),
            ("/srv/app/src/config.rs", Some("/srv/app/"), "src/config.rs"),
            ("/srv/application/src/x.rs", Some("/srv/app"), "/srv/application/src/x.rs"),
            (r"C:\build\app\src\main.rs", Some(r"C:\build\app"), "src/main.rs"),
            ("/var/www/shop/releases/20261101123456/app/models/user.rb", None, "app/models/user.rb"),
            (&format!("{RUSTC}/core/src/result.rs"), None, "library/core/src/result.rs"),
            (&format!("{CRATES}/tokio-1.40.0/src/runtime/task/harness.rs"), None, "tokio/src/runtime/task/harness.rs"),
            ("/home/ci/.cargo/git/checkouts/sqlx-1ecc6299db9ec823/3f2a9c1/sqlx-core/src/pool.rs", None, "sqlx/sqlx-core/src/pool.rs"),
            (&format!("{VENV}/django/core/handlers/base.py"), None, "django/core/handlers/base.py"),
            ("/usr/lib/python3.11/dist-packages/requests/api.py", None, "requests/api.py"),
            ("/usr/lib/python3.12/asyncio/events.py", None, "asyncio/events.py"),
            ("/srv/shop/node_modules/express/lib/router/layer.js", None, "node_modules/express/lib/router/layer.js"),
            ("/srv/shop/node_modules/.pnpm/express@4.19.2/node_modules/express/lib/router/layer.js", None, "node_modules/express/lib/router/layer.js"),
            ("/root/go/pkg/mod/github.com/lib/pq@v1.10.9/conn.go", None, "/root/go/pkg/mod/github.com/lib/pq/conn.go"),
            ("https://shop.example.com/static/js/main.3f2a9c1b.js?v=2#L1", None, "static/js/main.<hash>.js"),
            ("https://shop.example.com/assets/index-3f2a9c1b.js", None, "assets/index-<hash>.js"),
            ("webpack:///./src/routes/cart.js", None, "src/routes/cart.js"),
            ("app:///src/routes/cart.js", None, "src/routes/cart.js"),
            ("file:///srv/app/src/routes/cart.js", Some("/srv/app"), "src/routes/cart.js"),
            ("node:internal/process/task_queues", None, "node:internal/process/task_queues"),
            ("./src/logo@2x.png", None, "src/logo@2x.png"),
        ];
        for (raw, root, expected) in cases {
            assert_eq!(
                normalize_filename(raw, root),
                expected,
                "{raw} with root {root:?}"
            );
        }
    }

    #[test]
    fn a_run_or_a_repeated_cycle_counts_once_whatever_the_depth() {
        let c = |s: &str| collapse_recursion(s.split(' ')).join(" ");
        assert_eq!(c("a b b b c"), "a b c");
        assert_eq!(c("a b c b c b c d"), "a b c d");
        assert_eq!(c("main pv pl pv pl pv pl pv"), "main pv pl pv");
        assert_eq!(c("main pv pl pv"), "main pv pl pv");
        assert_eq!(c("b c a b c a b c a b"), "b c a b");
        assert_eq!(c("a b c d"), "a b c d");
    }

    fn labelled(s: &str, in_app: bool) -> Vec<Labelled> {
        s.split(' ')
            .map(|l| Labelled {
                label: l.into(),
                in_app,
            })
            .collect()
    }

    #[test]
    fn the_site_is_the_innermost_in_app_frame_and_callers_do_not_count() {
        let mut frames = labelled("main view total", true);
        frames.push(Labelled {
            label: "lib.raise".into(),
            in_app: false,
        });
        let site = failing_site(&frames).unwrap();
        assert_eq!(site.frames, ["total"]);
        assert_eq!(site.callers, ["main", "view"]);
        assert!(!site.recursion);
        let other_frames = labelled("main other_view total", true);
        let other = failing_site(&other_frames).unwrap();
        assert_eq!(other.frames, site.frames);
    }

    #[test]
    fn without_in_app_frames_the_innermost_three_are_the_site() {
        let frames = labelled("a b c d e", false);
        let site = failing_site(&frames).unwrap();
        assert_eq!(site.frames, ["c", "d", "e"]);
        assert_eq!(site.callers, ["a", "b"]);
        assert_eq!(failing_site(&labelled("x", false)).unwrap().frames, ["x"]);
        assert_eq!(failing_site(&[]), None);
    }

    #[test]
    fn a_recursion_cut_anywhere_or_at_any_depth_is_one_site() {
        let sites: Vec<_> = [
            "main pv pl pv",
            "main pv pl pv pl pv pl pv pl pv",
            "b c a b c a b c a b",
            "c a b c a b c a b c",
            "a b c a b c a",
        ]
        .iter()
        .map(|s| {
            let frames = labelled(s, true);
            let site = failing_site(&frames).unwrap();
            assert!(site.recursion, "{s}");
            site.frames.join(" ")
        })
        .collect();
        assert_eq!(sites[0], "pl pv");
        assert_eq!(sites[1], "pl pv");
        assert_eq!(sites[2], "a b c");
        assert_eq!(sites[3], "a b c");
        assert_eq!(sites[4], "a b c");
    }

    #[test]
    fn nested_closures_keep_their_depth_from_version_2() {
        let frame = Frame {
            function: Some("app::run::{{closure}}::{{closure}}".into()),
            ..Frame::default()
        };
        assert_eq!(
            label(&frame, None, Version::V1).as_deref(),
            Some("app::run::{closure}")
        );
        assert_eq!(
            label(&frame, None, Version::V2).as_deref(),
            Some("app::run::{closure}::{closure}")
        );
    }

    #[test]
    fn native_frames_without_a_name_use_their_binary_never_an_address() {
        let frame = Frame {
            package: Some("/usr/lib/x86_64-linux-gnu/libc.so.6".into()),
            instruction_addr: Some("0x7f3a1b2c".into()),
            ..Frame::default()
        };
        assert_eq!(
            label(&frame, None, Version::V2).as_deref(),
            Some("libc.so.6")
        );
        assert_eq!(label(&frame, None, Version::V1), None);
        let bare = Frame {
            instruction_addr: Some("0x1".into()),
            ..Frame::default()
        };
        assert_eq!(label(&bare, None, Version::V2), None);
        let symbol = Frame {
            symbol: Some("_ZN3app4main17h0123456789abcdefE".into()),
            package: Some("app".into()),
            ..Frame::default()
        };
        assert!(label(&symbol, None, Version::V2)
            .unwrap()
            .starts_with("app in "));
    }
}
