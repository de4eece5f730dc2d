//! Stack frames: captured with the `backtrace` crate, symbol hashes stripped, marked in-app or not,
//! with source context when the file is readable.
//!
//! Frames come from the unwinder innermost first; the wire wants the outermost call first and the
//! failing line last, so the list is reversed at the end.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::Frame;

/// More frames than this (deep recursion) keep the innermost ones: that is where it failed.
const MAX_FRAMES: usize = 100;
/// Lines of source context on each side of the failing line.
const CONTEXT_LINES: usize = 5;
/// Larger files are not read for context.
const MAX_SOURCE_BYTES: u64 = 2 * 1024 * 1024;
/// Longer source lines are cut.
const MAX_LINE_CHARS: usize = 500;

/// Crates that are never the app's own code. Dependencies from crates.io are also recognised by path.
const NOT_IN_APP: &[&str] = &[
    "std",
    "core",
    "alloc",
    "backtrace",
    "bugle",
    "panic_unwind",
    "panic_abort",
    "test",
    "rustc_demangle",
    "addr2line",
    "gimli",
    "miniz_oxide",
    "anyhow",
    "eyre",
    "log",
    "tracing",
    "tracing_core",
    "tracing_subscriber",
    "tokio",
    "tokio_util",
    "futures",
    "futures_core",
    "futures_util",
    "futures_executor",
    "async_std",
    "actix_rt",
    "actix_web",
    "actix_server",
    "actix_http",
    "hyper",
    "hyper_util",
    "axum",
    "tower",
    "rayon",
    "rayon_core",
    "crossbeam_channel",
    "crossbeam_utils",
    "ureq",
    "ureq_proto",
    "serde",
    "serde_json",
];

/// Crates of this SDK: frames above the capture point that belong to it are removed.
const SDK_CRATES: &[&str] = &["bugle", "backtrace"];

/// Which frames at the top (innermost end) are the capture machinery rather than the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Trim {
    /// Drop the SDK's own frames (capture_error and friends).
    Sdk,
    /// Drop the SDK's frames and std's panic machinery, down to where the app panicked.
    Panic,
    /// Drop every non-app frame at the top (anyhow's backtrace starts inside anyhow and std).
    #[cfg_attr(not(feature = "anyhow"), allow(dead_code))]
    NotInApp,
}

/// What marking needs from the options.
#[derive(Clone, Debug, Default)]
pub(crate) struct FrameConfig {
    pub root: Option<PathBuf>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// A frame before it becomes a wire frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RawFrame {
    pub function: Option<String>,
    pub file: Option<PathBuf>,
    pub line: Option<u32>,
    pub col: Option<u32>,
}

/// The stack of the calling thread, outermost call first.
pub(crate) fn capture(cfg: &FrameConfig, trim: Trim) -> Vec<Frame> {
    let bt = backtrace::Backtrace::new();
    let mut raw = Vec::new();
    for frame in bt.frames() {
        if frame.symbols().is_empty() {
            raw.push(RawFrame::default());
        }
        // Inlined functions come as several symbols of one frame, innermost first.
        for sym in frame.symbols() {
            raw.push(RawFrame {
                function: sym.name().map(|n| strip_hash(&format!("{n:#}"))),
                file: sym.filename().map(Path::to_path_buf),
                line: sym.lineno(),
                col: sym.colno(),
            });
        }
    }
    frames_from_raw(raw, cfg, trim)
}

/// Raw frames (innermost first) to wire frames (outermost first), trimmed, marked, with context.
pub(crate) fn frames_from_raw(raw: Vec<RawFrame>, cfg: &FrameConfig, trim: Trim) -> Vec<Frame> {
    let raw = trim_top(raw, cfg, trim);
    let mut sources = SourceCache::default();
    let mut frames: Vec<Frame> = raw
        .into_iter()
        .filter(|r| r.function.is_some() || r.file.is_some()) // a bare address tells nobody anything
        .take(MAX_FRAMES)
        .map(|r| to_frame(r, cfg, &mut sources))
        .collect();
    frames.reverse();
    frames
}

fn trim_top(raw: Vec<RawFrame>, cfg: &FrameConfig, trim: Trim) -> Vec<RawFrame> {
    // Only the leading run of non-app frames is machinery; the same functions further down
    // (std::panicking::try at the thread's start) stay.
    let mut cut = 0;
    for (i, f) in raw.iter().enumerate() {
        let fun = f.function.as_deref();
        let app = fun.is_some_and(|name| is_in_app(name, f.file.as_deref(), cfg));
        if app {
            break;
        }
        let machinery = match trim {
            Trim::Sdk => fun.map_or(true, is_sdk),
            Trim::Panic => fun.map_or(true, |n| is_sdk(n) || is_panic_machinery(n)),
            Trim::NotInApp => true,
        };
        if !machinery {
            break;
        }
        cut = i + 1;
    }
    if cut >= raw.len() {
        return raw; // nothing of the app was found: better everything than nothing
    }
    raw.into_iter().skip(cut).collect()
}

fn is_sdk(function: &str) -> bool {
    let path = leading_path(function);
    SDK_CRATES.iter().any(|c| in_crate(path, c))
}

fn is_panic_machinery(function: &str) -> bool {
    function.contains("panicking")
        || function.contains("rust_begin_unwind")
        || function.contains("__rust_end_short_backtrace")
        || function.contains("begin_panic")
        || function.contains("core::ops::function::Fn") // std calling the hook: Box<dyn Fn>::call
}

fn to_frame(r: RawFrame, cfg: &FrameConfig, sources: &mut SourceCache) -> Frame {
    let mut frame = Frame::default();
    let (filename, abs) = match &r.file {
        Some(p) => file_names(p, cfg.root.as_deref()),
        None => (None, None),
    };
    frame.in_app = Some(
        r.function
            .as_deref()
            .is_some_and(|f| is_in_app(f, abs.as_deref().map(Path::new), cfg)),
    );
    frame.module = r.function.as_deref().and_then(module_of);
    frame.function = r.function;
    frame.lineno = r.line;
    frame.colno = r.col;
    if let (Some(path), Some(line)) = (&abs, r.line) {
        if let Some(lines) = sources.get(path) {
            add_context(&mut frame, lines, line as usize);
        }
    }
    frame.filename = filename;
    frame.abs_path = abs;
    frame
}

/// (filename for display and grouping, absolute path).
fn file_names(path: &Path, root: Option<&Path>) -> (Option<String>, Option<String>) {
    let abs: Option<PathBuf> = if path.is_absolute() {
        Some(path.to_path_buf())
    } else {
        root.map(|r| r.join(path)).filter(|p| p.exists())
    };
    let display = match (&abs, root) {
        (Some(a), Some(r)) if a.starts_with(r) && r != Path::new("/") => a
            .strip_prefix(r)
            .ok()
            .map(|p| p.to_string_lossy().into_owned()),
        (Some(a), _) => Some(shorten(&a.to_string_lossy())),
        (None, _) => Some(path.to_string_lossy().trim_start_matches("./").to_owned()),
    };
    (display, abs.map(|a| a.to_string_lossy().into_owned()))
}

/// Host-specific prefixes would split one issue per machine: keep the crate-relative part.
fn shorten(path: &str) -> String {
    for marker in ["/.cargo/registry/src/", "/.cargo/git/checkouts/"] {
        if let Some(i) = path.find(marker) {
            let rest = &path[i + marker.len()..];
            // Skip the index directory (`index.crates.io-1949cf8c6b5b557f/`).
            return rest.split_once('/').map_or(rest, |(_, r)| r).to_owned();
        }
    }
    if let Some(rest) = path.strip_prefix("/rustc/") {
        return rest.split_once('/').map_or(rest, |(_, r)| r).to_owned();
    }
    path.to_owned()
}

/// The type or module path a function name starts with: `<app::Foo as Display>::fmt` → `app::Foo …`.
fn leading_path(function: &str) -> &str {
    let mut s = function.trim_start();
    loop {
        let before = s;
        s = s.trim_start_matches(['<', '&', '*', '(', '[', ' ']);
        for p in ["mut ", "dyn ", "const ", "impl "] {
            s = s.strip_prefix(p).unwrap_or(s);
        }
        if s == before {
            return s;
        }
    }
}

fn in_crate(path: &str, krate: &str) -> bool {
    path.strip_prefix(krate)
        .is_some_and(|rest| rest.starts_with("::") || rest.starts_with('<'))
}

/// The app's own code? Options first, then well-known crates, then where the file lives.
pub(crate) fn is_in_app(function: &str, abs_path: Option<&Path>, cfg: &FrameConfig) -> bool {
    let path = leading_path(function);
    if cfg.include.iter().any(|p| in_crate(path, p) || path == p) {
        return true;
    }
    if cfg.exclude.iter().any(|p| in_crate(path, p) || path == p) {
        return false;
    }
    // `main`, `_start`, `__libc_start_main`, `start_thread`, `clone3`: the C runtime and libc.
    if !path.contains("::") {
        return false;
    }
    if NOT_IN_APP.iter().any(|c| in_crate(path, c)) {
        return false;
    }
    match abs_path {
        Some(p) => {
            let p = p.to_string_lossy();
            !(p.contains("/.cargo/registry/")
                || p.contains("/.cargo/git/")
                || p.starts_with("/rustc/")
                || p.contains("/rustlib/src/"))
        }
        None => true,
    }
}

/// `app::config::load` → `app::config`; closures and generic arguments are not part of the module.
fn module_of(function: &str) -> Option<String> {
    let path = leading_path(function);
    let path = path.split(" as ").next().unwrap_or(path);
    let path = path
        .split('<')
        .next()
        .unwrap_or(path)
        .trim_end_matches(['>', ':']);
    let segments: Vec<&str> = path
        .split("::")
        .filter(|s| !s.is_empty() && !s.starts_with("{{"))
        .collect();
    match segments.len() {
        0 | 1 => None, // `main`, `_start`: C symbols have no module
        n => Some(segments[..n - 1].join("::")),
    }
}

/// Removes the `::h0123456789abcdef` symbol hashes rustc appends (legacy mangling).
pub(crate) fn strip_hash(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < bytes.len() {
        if name[i..].starts_with("::h") && i + 19 <= bytes.len() {
            let hash = &bytes[i + 3..i + 19];
            let ends = bytes
                .get(i + 19)
                .map_or(true, |c| !c.is_ascii_alphanumeric() && *c != b'_');
            if ends && hash.iter().all(u8::is_ascii_hexdigit) {
                i += 19;
                continue;
            }
        }
        let ch = name[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Parses `std::backtrace::Backtrace`'s `{:#}` output (what anyhow keeps) into raw frames:
/// `   3:     0x55d5c1 - app::main::h0123…` then `             at /app/src/main.rs:12:5`.
#[cfg_attr(not(feature = "anyhow"), allow(dead_code))]
pub(crate) fn parse_std_backtrace(text: &str) -> Vec<RawFrame> {
    let mut frames: Vec<RawFrame> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(loc) = t.strip_prefix("at ") {
            if let Some(last) = frames.last_mut() {
                let mut parts = loc.rsplitn(3, ':');
                let (c, l, f) = (parts.next(), parts.next(), parts.next());
                match (
                    f,
                    l.and_then(|l| l.parse().ok()),
                    c.and_then(|c| c.parse().ok()),
                ) {
                    (Some(f), Some(l), Some(c)) => {
                        last.file = Some(PathBuf::from(f));
                        last.line = Some(l);
                        last.col = Some(c);
                    }
                    _ => {
                        let mut parts = loc.rsplitn(2, ':');
                        let (l, f) = (parts.next(), parts.next());
                        match (f, l.and_then(|l| l.parse().ok())) {
                            (Some(f), Some(l)) => {
                                last.file = Some(PathBuf::from(f));
                                last.line = Some(l);
                            }
                            _ => last.file = Some(PathBuf::from(loc)),
                        }
                    }
                }
            }
            continue;
        }
        let Some((idx, rest)) = t.split_once(':') else {
            continue;
        };
        if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let rest = rest.trim();
        let name = if rest.starts_with("0x") {
            rest.split_once(" - ").map_or("", |(_, n)| n)
        } else {
            rest
        };
        let function = match name.trim() {
            "" | "<unknown>" => None,
            n => Some(strip_hash(n)),
        };
        frames.push(RawFrame {
            function,
            ..RawFrame::default()
        });
    }
    frames
}

fn add_context(frame: &mut Frame, lines: &[String], line: usize) {
    if line == 0 || line > lines.len() {
        return;
    }
    let idx = line - 1;
    frame.context_line = Some(lines[idx].clone());
    frame.pre_context = lines[idx.saturating_sub(CONTEXT_LINES)..idx].to_vec();
    frame.post_context = lines[idx + 1..(idx + 1 + CONTEXT_LINES).min(lines.len())].to_vec();
}

/// Each file is read once per event.
#[derive(Default)]
struct SourceCache(HashMap<String, Option<Vec<String>>>);

impl SourceCache {
    fn get(&mut self, path: &str) -> Option<&[String]> {
        self.0
            .entry(path.to_owned())
            .or_insert_with(|| read_lines(Path::new(path)))
            .as_deref()
    }
}

fn read_lines(path: &Path) -> Option<Vec<String>> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_SOURCE_BYTES {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    Some(
        text.lines()
            .map(|l| {
                let l = l.trim_end_matches('\r');
                if l.chars().count() > MAX_LINE_CHARS {
                    l.chars().take(MAX_LINE_CHARS).collect()
                } else {
                    l.to_owned()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> FrameConfig {
        FrameConfig {
            root: Some(PathBuf::from("/app")),
            ..FrameConfig::default()
        }
    }

    fn raw(function: &str, file: &str, line: u32) -> RawFrame {
        RawFrame {
            function: Some(function.into()),
            file: Some(file.into()),
            line: Some(line),
            col: Some(5),
        }
    }

    #[test]
    fn symbol_hashes_are_stripped() {
        assert_eq!(strip_hash("app::main::h0123456789abcdef"), "app::main");
        assert_eq!(
            strip_hash("<app::Foo as core::fmt::Display>::fmt::h00112233445566aa"),
            "<app::Foo as core::fmt::Display>::fmt"
        );
        assert_eq!(strip_hash("app::h0123::hello"), "app::h0123::hello");
        assert_eq!(
            strip_hash("app::hash_map_h0123456789abcdefx"),
            "app::hash_map_h0123456789abcdefx"
        );
        assert_eq!(strip_hash("app::ÿ::h0123456789abcdef"), "app::ÿ");
    }

    #[test]
    fn app_frames_are_in_app_and_std_deps_and_sdk_are_not() {
        let c = cfg();
        let yes = |f: &str, p: Option<&str>| is_in_app(f, p.map(Path::new), &c);
        assert!(yes("app::config::load", Some("/app/src/config.rs")));
        assert!(yes(
            "<app::Foo as core::fmt::Display>::fmt",
            Some("/app/src/lib.rs")
        ));
        assert!(yes("app::main::{{closure}}", None));
        assert!(!yes("std::panicking::begin_panic_handler", None));
        assert!(!yes("core::panicking::panic_fmt", None));
        assert!(!yes(
            "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
            None
        ));
        assert!(!yes("bugle::panic::install::{{closure}}", None));
        assert!(!yes("backtrace::backtrace::trace", None));
        assert!(!yes("tokio::runtime::park", None));
        assert!(!yes("main", None));
        assert!(!yes("__libc_start_main", None));
        assert!(!yes(
            "regex::compile",
            Some("/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/regex-1.0.0/src/lib.rs")
        ));
        // Crates whose names only start like std's are the app's.
        assert!(yes("stdx::run", Some("/app/src/lib.rs")));
        assert!(yes("core_logic::run", Some("/app/src/lib.rs")));
    }

    #[test]
    fn options_override_in_app() {
        let c = FrameConfig {
            include: vec!["tokio".into()],
            exclude: vec!["app::vendored".into()],
            ..cfg()
        };
        assert!(is_in_app("tokio::spawn", None, &c));
        assert!(!is_in_app("app::vendored::x", None, &c));
        assert!(is_in_app("app::mine::x", None, &c));
    }

    #[test]
    fn panic_trimming_drops_the_hook_and_std_machinery_and_reverses() {
        let frames = vec![
            raw("backtrace::backtrace::trace", "/r/backtrace.rs", 1),
            raw("bugle::panic::hook", "/work/client/src/panic.rs", 2),
            raw(
                "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
                "/rustc/abc/library/alloc/src/boxed.rs",
                3,
            ),
            raw(
                "std::panicking::rust_panic_with_hook",
                "/rustc/abc/library/std/src/panicking.rs",
                4,
            ),
            raw(
                "core::panicking::panic_fmt",
                "/rustc/abc/library/core/src/panicking.rs",
                5,
            ),
            raw(
                "core::result::unwrap_failed",
                "/rustc/abc/library/core/src/result.rs",
                6,
            ),
            raw("app::inner", "/app/src/main.rs", 7),
            raw("app::main", "/app/src/main.rs", 8),
            raw(
                "std::panicking::try",
                "/rustc/abc/library/std/src/panicking.rs",
                9,
            ),
            raw("main", "", 0),
        ];
        let out = frames_from_raw(frames, &cfg(), Trim::Panic);
        let names: Vec<_> = out.iter().map(|f| f.function.clone().unwrap()).collect();
        assert_eq!(
            names,
            [
                "main",
                "std::panicking::try",
                "app::main",
                "app::inner",
                "core::result::unwrap_failed"
            ]
        );
        let in_app: Vec<_> = out.iter().map(|f| f.in_app == Some(true)).collect();
        assert_eq!(in_app, [false, false, true, true, false]);
        assert_eq!(out[3].filename.as_deref(), Some("src/main.rs"));
        assert_eq!(out[3].module.as_deref(), Some("app"));
        assert_eq!(
            out[4].filename.as_deref(),
            Some("library/core/src/result.rs")
        );
    }

    #[test]
    fn sdk_trimming_keeps_dependency_frames_at_the_top() {
        let frames = vec![
            raw("backtrace::capture", "/r/b.rs", 1),
            raw("bugle::capture_error", "/r/c.rs", 2),
            raw("tracing::event", "/r/t.rs", 3),
            raw("app::main", "/app/src/main.rs", 4),
        ];
        let out = frames_from_raw(frames, &cfg(), Trim::Sdk);
        let names: Vec<_> = out.iter().map(|f| f.function.clone().unwrap()).collect();
        assert_eq!(names, ["app::main", "tracing::event"]);
    }

    #[test]
    fn modules_come_from_function_paths() {
        assert_eq!(
            module_of("app::config::load").as_deref(),
            Some("app::config")
        );
        assert_eq!(module_of("app::main::{{closure}}").as_deref(), Some("app"));
        assert_eq!(
            module_of("<app::Foo as core::fmt::Display>::fmt").as_deref(),
            Some("app")
        );
        assert_eq!(module_of("main"), None);
    }

    #[test]
    fn registry_paths_are_shortened() {
        assert_eq!(
            shorten("/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/regex-1.0.0/src/lib.rs"),
            "regex-1.0.0/src/lib.rs"
        );
        assert_eq!(
            shorten("/rustc/abcdef/library/std/src/rt.rs"),
            "library/std/src/rt.rs"
        );
    }

    #[test]
    fn source_context_has_five_lines_each_side() {
        let dir = std::env::temp_dir().join(format!("bugle-ctx-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("main.rs");
        let text: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&file, text).unwrap();
        let c = FrameConfig {
            root: Some(dir.clone()),
            ..FrameConfig::default()
        };
        let out = frames_from_raw(
            vec![raw("app::main", file.to_str().unwrap(), 3)],
            &c,
            Trim::Sdk,
        );
        assert_eq!(out[0].filename.as_deref(), Some("main.rs"));
        assert_eq!(out[0].context_line.as_deref(), Some("line 3"));
        assert_eq!(out[0].pre_context, ["line 1", "line 2"]);
        assert_eq!(
            out[0].post_context,
            ["line 4", "line 5", "line 6", "line 7", "line 8"]
        );
        let out = frames_from_raw(
            vec![raw("app::main", file.to_str().unwrap(), 20)],
            &c,
            Trim::Sdk,
        );
        assert_eq!(out[0].pre_context.len(), 5);
        assert!(out[0].post_context.is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn std_backtrace_text_parses() {
        let text = "   0:     0x55d5c1 - std::backtrace::Backtrace::create::h0123456789abcdef\n\
                    \x20            at /rustc/abc/library/std/src/backtrace.rs:331:13\n\
                    \x20  1:     0x55d5c2 - app::load::h0123456789abcdef\n\
                    \x20            at /app/src/main.rs:12:5\n\
                    \x20  2:     0x55d5c3 - <unknown>\n";
        let frames = parse_std_backtrace(text);
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[1].function.as_deref(), Some("app::load"));
        assert_eq!(
            frames[1].file.as_deref(),
            Some(Path::new("/app/src/main.rs"))
        );
        assert_eq!((frames[1].line, frames[1].col), (Some(12), Some(5)));
        assert_eq!(frames[2].function, None);
        let out = frames_from_raw(frames, &cfg(), Trim::NotInApp);
        assert_eq!(out.last().unwrap().function.as_deref(), Some("app::load"));
    }

    #[test]
    fn a_live_capture_is_outermost_first_and_has_no_sdk_frames_on_top() {
        let frames = capture(&FrameConfig::default(), Trim::Sdk);
        assert!(!frames.is_empty());
        let top = frames.last().unwrap().function.clone().unwrap_or_default();
        assert!(!top.starts_with("backtrace::"), "{top}");
        assert!(
            frames
                .iter()
                .all(|f| !f.function.as_deref().unwrap_or("").contains("::h0")),
            "{frames:?}"
        );
    }
}
