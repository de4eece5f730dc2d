//! Rust: the Display of `std::backtrace::Backtrace`, the default panic hook's output around
//! it, and anyhow's `{:?}` (message, `Caused by:`, `Stack backtrace:`).
//!
//! ```text
//! thread 'main' (28560) panicked at src/main.rs:35:15:
//! order has a total
//! stack backtrace:
//!    0: __rustc::rust_begin_unwind
//!              at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/panicking.rs:689:5
//!    1: shop::handler::{{closure}}
//!              at ./src/main.rs:35:15
//!    2: main
//! note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.
//! ```
//!
//! Frames are innermost first and reversed. A frame may lack its `at` line (no debug info,
//! libc's `main`); with `RUST_BACKTRACE=full` each has its address (`0x5564... - `), dropped,
//! and symbols carry crate disambiguators (`std[e28293b1aa0f68bd]::`), removed because they
//! change with every toolchain. Older toolchains printed inlined callers without a number,
//! indented: each becomes a frame. The panic line comes as `panicked at src/main.rs:5:5:`
//! followed by the message (1.73+; the thread's id in parentheses since 1.88) or as `panicked
//! at 'message', src/main.rs:5:5`; without a backtrace its location is the only frame.
//! anyhow's causes, which have only a message, follow the error in the chain typed `Error`.

use super::in_app::is_in_app;
use super::{
    after_last, indent, join_message, number, slashes, split_location, Frames, Language,
    RawException,
};
use crate::event::Frame;

#[derive(PartialEq)]
enum State {
    Head,
    Causes,
    Frames,
}

pub(super) fn parse(text: &str) -> Vec<RawException> {
    let mut state = State::Head;
    let mut message: Vec<&str> = Vec::new();
    let mut panic_location: Option<Frame> = None;
    let mut panicked = false;
    let mut causes: Vec<String> = Vec::new();
    let mut frames = Frames::innermost_first();

    for line in text.lines() {
        let t = line.trim();
        if state == State::Head {
            if let Some((location, inline_message)) = panic_line(t) {
                panicked = true;
                panic_location = location_frame(location);
                message.clear();
                message.extend(inline_message);
                continue;
            }
            if t.starts_with("note: ") {
                continue;
            }
        }
        if t == "stack backtrace:" || t == "Stack backtrace:" {
            state = State::Frames;
            continue;
        }
        if state == State::Head && t == "Caused by:" {
            state = State::Causes;
            continue;
        }
        if state == State::Head && numbered_symbol(t).is_some() {
            state = State::Frames;
        }
        match state {
            State::Head => message.push(line),
            State::Causes => {
                if t.is_empty() {
                    continue;
                }
                match t.split_once(": ").filter(|(n, _)| number(n).is_some()) {
                    Some((_, cause)) => causes.push(cause.to_owned()),
                    None => match causes.last_mut() {
                        // A cause's further lines are indented under it.
                        Some(last) if indent(line) > 4 => {
                            last.push('\n');
                            last.push_str(t);
                        }
                        _ => causes.push(t.to_owned()),
                    },
                }
            }
            State::Frames => {
                if t.is_empty() || t.starts_with("note: ") {
                    continue;
                }
                if let Some(symbol) = numbered_symbol(t) {
                    frames.push(symbol_frame(symbol));
                } else if let Some(location) = t.strip_prefix("at ") {
                    if let Some(last) = frames.last_mut().filter(|f| f.lineno.is_none()) {
                        set_location(last, location);
                    }
                } else if line.starts_with([' ', '\t']) && !frames.is_empty() {
                    // An inlined caller, printed without a number by older toolchains.
                    frames.push(symbol_frame(t));
                }
            }
        }
    }

    let mut frames = frames.into_outermost_first();
    // `57:                0x0 - <unknown>`: an address and nothing else says nothing.
    frames.retain(|f| f.function.is_some() || f.abs_path.is_some());
    for frame in &mut frames {
        let in_app = is_in_app(
            Language::Rust,
            frame.abs_path.as_deref(),
            None,
            frame.function.as_deref(),
        );
        frame.in_app = Some(in_app);
    }
    if frames.is_empty() {
        frames.extend(panic_location);
    }
    let mut chain = vec![RawException {
        value: join_message(&message),
        frames,
        fallback_ty: panicked.then_some("panic"),
        ..Default::default()
    }];
    chain.extend(causes.into_iter().map(|cause| RawException {
        value: Some(cause),
        ..Default::default()
    }));
    chain
}

/// `thread 'main' (28560) panicked at src/main.rs:35:15:` → (`src/main.rs:35:15`, None);
/// `thread 'main' panicked at 'boom', src/main.rs:5:5` → (`src/main.rs:5:5`, `boom`).
fn panic_line(t: &str) -> Option<(&str, Option<&str>)> {
    let rest = t.strip_prefix("thread '")?;
    let at = rest
        .find("' panicked at ")
        .map(|i| (i, "' panicked at ".len()));
    let at = at.or_else(|| {
        // `thread 'main' (28560) panicked at`
        let i = rest.find("' (")?;
        let j = rest[i..].find(") panicked at ")?;
        Some((i, j + ") panicked at ".len()))
    });
    let (i, len) = at?;
    let after = &rest[i + len..];
    if let Some(quoted) = after.strip_prefix('\'') {
        // Before 1.73: `'message', location`.
        let (message, location) = quoted.rsplit_once("', ")?;
        return Some((location, Some(message)));
    }
    Some((after.strip_suffix(':').unwrap_or(after), None))
}

/// `src/main.rs:35:15` as a frame: where a panic without a backtrace happened.
fn location_frame(location: &str) -> Option<Frame> {
    let mut frame = Frame::default();
    set_location(&mut frame, location);
    frame.lineno?;
    let in_app = is_in_app(Language::Rust, frame.abs_path.as_deref(), None, None);
    frame.in_app = Some(in_app);
    Some(frame)
}

/// `12: shop::main` or `12:     0x5564a0e6b0d8 - shop::main` → `shop::main`.
pub(super) fn numbered_symbol(t: &str) -> Option<&str> {
    let (n, rest) = t.split_once(':')?;
    number(n)?;
    let rest = rest.trim();
    if rest.is_empty() {
        return None;
    }
    if rest.starts_with("0x") {
        return Some(
            rest.split_once(" - ")
                .map_or("", |(_, symbol)| symbol.trim()),
        );
    }
    Some(rest)
}

/// Whether the text after `at ` reads as a Rust location: `./src/main.rs:23:53`.
pub(super) fn is_location(at: &str) -> bool {
    !at.contains('(') && matches!(split_location(at), (path, Some(_), _) if !path.is_empty())
}

fn symbol_frame(symbol: &str) -> Frame {
    let symbol = strip_disambiguators(symbol.trim());
    Frame {
        function: (!symbol.is_empty() && symbol != "<unknown>").then_some(symbol),
        ..Default::default()
    }
}

fn set_location(frame: &mut Frame, location: &str) {
    let (path, line, col) = split_location(location.trim());
    if path.is_empty() || line.is_none() {
        return;
    }
    frame.filename = Some(short_filename(path));
    frame.abs_path = Some(path.to_owned());
    frame.lineno = line;
    frame.colno = col;
}

/// A crate's file without registry and version (`tokio/src/task/coop/mod.rs`), the standard
/// library's without the toolchain's commit (`core/src/option.rs`); others as printed.
fn short_filename(path: &str) -> String {
    let normalized = slashes(path);
    if let Some(rel) = after_last(&normalized, "/registry/src/") {
        // `index.crates.io-1949cf8c6b5b557f/tokio-1.54.1/src/...`
        if let Some((_, rel)) = rel.split_once('/') {
            let (krate, inside) = rel.split_once('/').unwrap_or((rel, ""));
            let name = match krate.rsplit_once('-') {
                Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => name,
                _ => krate,
            };
            return format!("{name}/{inside}");
        }
    }
    if normalized.starts_with("/rustc/") {
        if let Some(rel) = after_last(&normalized, "/library/") {
            return rel.to_owned();
        }
    }
    path.to_owned()
}

/// `std[e28293b1aa0f68bd]::rt::lang_start` → `std::rt::lang_start`.
fn strip_disambiguators(symbol: &str) -> String {
    let mut out = String::with_capacity(symbol.len());
    let mut rest = symbol;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
        let preceded_by_name = rest[..open]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if preceded_by_name && (1..=16).contains(&hex) && after[hex..].starts_with(']') {
            out.push_str(&rest[..open]);
            rest = &after[hex + 1..];
        } else {
            out.push_str(&rest[..=open]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}
