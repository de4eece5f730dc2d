//! Go: `runtime.Stack` / `debug.Stack` output (what OpenTelemetry Go records with
//! `trace.WithStackTrace(true)`, into a 2 KiB buffer) and the runtime's panic dumps.
//!
//! ```text
//! panic: runtime error: index out of range [3] with length 2 [recovered]
//!     panic: handler failed: runtime error: index out of range [3] with length 2
//!
//! goroutine 1 [running]:
//! main.main.func1()
//!     /src/shop/main.go:39 +0x65
//! panic({0x6c3640, 0xc0000ca078})
//!     /usr/local/go/src/runtime/panic.go:884 +0x212
//! example.com/shop/shop.(*Handler).Lookup(...)
//!     /src/shop/shop/orders.go:15
//! created by main.start in goroutine 1
//!     /src/shop/main.go:20 +0x3f
//! ```
//!
//! Only the first goroutine is read: the one that panicked, or that called `runtime.Stack`.
//! Frames are innermost first and reversed; `created by` is the outermost. Arguments (pointer
//! values, different every run) and `+0x` offsets (different every build) are dropped. A
//! buffer cut off mid-line loses its last frame's file, or the frame, when its function line
//! was cut. Nested panics (`[recovered]`) make a chain: the last panic is the reported one.
//! Go prints no type: it comes from the attribute, else `panic` / `fatal error`.

use super::in_app::is_in_app;
use super::{after_last, number, slashes, trailing_parens, Frames, Language, RawException};
use crate::event::Frame;

/// `goroutine 1 [running]:`, also Go 1.23's `goroutine 1 gp=0x... m=0 [running]:`.
pub(super) fn goroutine_header(t: &str) -> bool {
    t.starts_with("goroutine ") && t.ends_with("]:") && t.contains(" [")
}

pub(super) fn parse(text: &str) -> Vec<RawException> {
    let mut panics: Vec<String> = Vec::new();
    let mut fatal = false;
    let mut frames = Frames::innermost_first();
    let mut pending: Option<Frame> = None;
    let mut in_goroutine = false;
    let mut block_done = false;

    let pieces: Vec<&str> = text.split('\n').collect();
    let last = pieces.len().saturating_sub(1);
    for (i, piece) in pieces.iter().enumerate() {
        let line = piece.strip_suffix('\r').unwrap_or(piece);
        // Only the last piece can lack its newline: a buffer that filled up.
        let complete = i < last;
        let t = line.trim();
        if goroutine_header(t) {
            if in_goroutine || block_done {
                break;
            }
            in_goroutine = true;
            continue;
        }
        if block_done {
            continue;
        }
        if !in_goroutine {
            if let Some(message) = t.strip_prefix("panic: ") {
                panics.push(strip_recovered(message).to_owned());
            } else if let Some(message) = t.strip_prefix("fatal error: ") {
                fatal = true;
                panics.push(message.to_owned());
            } else if !t.is_empty() && !t.starts_with("[signal ") {
                // A panic value over several lines; lines before any panic are a logger's.
                if let Some(message) = panics.last_mut() {
                    message.push('\n');
                    message.push_str(line);
                }
            }
            continue;
        }
        if t.is_empty() {
            block_done = true;
            continue;
        }
        if line.starts_with('\t') || line.starts_with("    ") {
            if let Some(mut frame) = pending.take() {
                if complete {
                    set_location(&mut frame, t);
                }
                frames.push(frame);
            }
        } else if t.starts_with("...") {
            // `...additional frames elided...`
        } else {
            if let Some(frame) = pending.take() {
                frames.push(frame);
            }
            if complete {
                pending = function_frame(t);
            }
        }
    }
    if let Some(frame) = pending {
        frames.push(frame);
    }
    for frame in frames.iter_mut() {
        let in_app = is_in_app(
            Language::Go,
            frame.abs_path.as_deref(),
            frame.module.as_deref(),
            frame.function.as_deref(),
        );
        frame.in_app = Some(in_app);
    }
    let frames = frames.into_outermost_first();

    let fallback_ty = Some(if fatal { "fatal error" } else { "panic" });
    let mut chain: Vec<RawException> = Vec::new();
    let mut frames = Some(frames);
    for message in panics.into_iter().rev() {
        chain.push(RawException {
            value: Some(message.trim_end().to_owned()).filter(|m| !m.is_empty()),
            frames: frames.take().unwrap_or_default(),
            fallback_ty,
            ..Default::default()
        });
    }
    if let Some(frames) = frames {
        chain.push(RawException {
            frames,
            ..Default::default()
        });
    }
    chain
}

/// `boom [recovered]` (Go 1.23: `[recovered, repanicked]`) → `boom`.
fn strip_recovered(message: &str) -> &str {
    match message.rfind(" [recovered") {
        Some(at) if message.ends_with(']') => &message[..at],
        _ => message,
    }
}

/// `example.com/shop.(*Handler).Serve.func1(0x7)` → package `example.com/shop`, function
/// `(*Handler).Serve.func1`; `created by net/http.(*Server).Serve in goroutine 1` likewise.
fn function_frame(t: &str) -> Option<Frame> {
    let symbol = match t.strip_prefix("created by ") {
        Some(creator) => creator
            .rfind(" in goroutine ")
            .map_or(creator, |at| &creator[..at]),
        None => trailing_parens(t).map_or(t, |open| &t[..open]),
    };
    let symbol = symbol.trim();
    if symbol.is_empty() {
        return None;
    }
    // The package ends at the first `.` after its last `/` (type parameters `[...]` aside).
    let plain_end = symbol.find('[').unwrap_or(symbol.len());
    let last_slash = symbol[..plain_end].rfind('/').map_or(0, |s| s + 1);
    let (module, function) = match symbol[last_slash..plain_end].find('.') {
        Some(dot) => (
            Some(&symbol[..last_slash + dot]),
            &symbol[last_slash + dot + 1..],
        ),
        None => (None, symbol),
    };
    Some(Frame {
        module: module.map(str::to_owned),
        function: Some(function.to_owned()),
        ..Default::default()
    })
}

/// `\t/usr/local/go/src/net/http/server.go:1850 +0xbf` (perhaps ` fp=0x... sp=0x...`).
fn set_location(frame: &mut Frame, t: &str) {
    let location = [" +0x", " fp=", " sp=", " pc="]
        .iter()
        .filter_map(|marker| t.find(marker))
        .min()
        .map_or(t, |at| &t[..at]);
    let Some((path, line)) = location.rsplit_once(':') else {
        return;
    };
    let Some(line) = number(line) else {
        return;
    };
    frame.filename = Some(short_filename(path));
    frame.abs_path = Some(path.to_owned());
    frame.lineno = Some(line);
}

/// The path inside GOROOT (`net/http/server.go`) or the module cache without the version
/// (`github.com/acme/tracing/span.go`); the application's paths as printed.
fn short_filename(path: &str) -> String {
    let normalized = slashes(path);
    let rel = after_last(&normalized, "/pkg/mod/")
        .or_else(|| {
            after_last(&normalized, "/src/").filter(|rel| {
                super::in_app::GO_STD_PACKAGES.contains(&rel.split('/').next().unwrap_or_default())
            })
        })
        .unwrap_or(&normalized);
    strip_module_version(rel)
}

/// `github.com/acme/tracing@v1.4.0/span.go` → `github.com/acme/tracing/span.go`.
fn strip_module_version(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.split_once("@v") {
            Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => name,
            _ => segment,
        })
        .collect::<Vec<_>>()
        .join("/")
}
