//! JavaScript: V8's `err.stack` (Node, Chrome, Deno, Edge), which is what the OpenTelemetry
//! JS SDKs record, and the `function@file:line:col` lines of Firefox and Safari.
//!
//! ```text
//! QueryError: syntax error at or near "SELEC"
//!     at validate (/app/node_modules/tiny-db/lib/index.js:12:11)
//!     at Object.query (/app/node_modules/tiny-db/lib/index.js:18:3)
//!     at async OrderService.findOrder (/app/src/orders.js:6:18)
//!     at /app/src/orders.js:17:41
//!     at Array.map (<anonymous>)
//! ```
//!
//! The first lines, up to the first frame, are `Name: message` (the message may span lines);
//! Node's internal errors add a code, `TypeError [ERR_INVALID_ARG_TYPE]: ...`, which is
//! dropped from the type (it is not part of `err.name`, the `exception.type` attribute).
//! Firefox and Safari print no header: the type and message come from the attributes. Frames
//! are innermost first and reversed. `err.stack` never includes `err.cause`, and V8 keeps only
//! `Error.stackTraceLimit` (10) frames, so the outermost calls are often missing.

use super::in_app::is_in_app;
use super::{after_last, join_message, slashes, split_location, Frames, Language, RawException};
use crate::event::Frame;

pub(super) fn parse(text: &str) -> Vec<RawException> {
    let mut header: Vec<&str> = Vec::new();
    let mut frames = Frames::innermost_first();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            if frames.is_empty() && !header.is_empty() {
                header.push("");
            }
            continue;
        }
        let frame = match t.strip_prefix("at ") {
            Some(at) => parse_frame(at),
            None => parse_firefox_frame(t),
        };
        match frame {
            Some(frame) => frames.push(frame),
            None if frames.is_empty() => header.push(line),
            // After the frames: nothing of `err.stack` (a logger's extras).
            None => {}
        }
    }
    let (ty, value) = match header.split_first() {
        Some((first, rest)) => {
            let (ty, message) = header_line(first.trim());
            let mut lines: Vec<&str> = message.into_iter().collect();
            lines.extend(rest);
            (ty, join_message(&lines))
        }
        None => (None, None),
    };
    vec![RawException {
        ty,
        value,
        frames: frames.into_outermost_first(),
        ..Default::default()
    }]
}

/// `TypeError [ERR_X]: message` → (`TypeError`, `message`).
fn header_line(line: &str) -> (Option<String>, Option<&str>) {
    let line = line.strip_prefix("Uncaught ").unwrap_or(line);
    let (name, message) = match line.split_once(": ") {
        Some((name, message)) => (name, Some(message)),
        None => (line.trim_end_matches(':'), None),
    };
    // Node's internal errors: `TypeError [ERR_INVALID_ARG_TYPE]`.
    let name = match name.split_once(" [") {
        Some((name, code)) if code.ends_with(']') => name,
        _ => name,
    };
    let is_name = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '.'));
    if is_name {
        (Some(name.to_owned()), message)
    } else {
        (None, Some(line))
    }
}

/// Whether the text after `at ` reads as a V8 frame: `fn (file:1:2)` or `file:1:2`.
pub(super) fn looks_like_frame(at: &str) -> bool {
    let location = match at.strip_suffix(')').and_then(|a| a.split_once(" (")) {
        Some((_, location)) => location,
        None => at.strip_prefix("async ").unwrap_or(at),
    };
    matches!(split_location(location), (_, Some(_), Some(_)))
        || matches!(location, "<anonymous>" | "native")
}

/// A V8 frame, the text after `at `.
fn parse_frame(at: &str) -> Option<Frame> {
    let at = at.trim();
    let (function, location) = match at.strip_suffix(')').and_then(|a| a.split_once(" (")) {
        Some((function, location)) => (Some(function), location),
        None => {
            let location = at.strip_prefix("async ").unwrap_or(at);
            match split_location(location) {
                (_, Some(_), _) => (None, location),
                // `at <anonymous>`, or a bare function name.
                _ if location == "<anonymous>" || location == "native" => (None, location),
                _ if !location.contains([' ', '/', '\\', '(', ')']) => (Some(location), ""),
                _ => return None,
            }
        }
    };
    // `eval at handler (file:///app/x.js:3:9), <anonymous>:1:1`: where eval was called.
    let location = match location.strip_prefix("eval at ") {
        Some(eval) => eval
            .rfind('(')
            .and_then(|open| {
                let inner = &eval[open + 1..];
                inner.find(')').map(|close| &inner[..close])
            })
            .unwrap_or(location),
        None => location,
    };
    Some(frame(function, location))
}

/// Firefox `fn@file:1:2`, `@file:1:2`, `async*fn@...`; Safari `global code@file:1:2`,
/// `fn@[native code]`, `[native code]`.
fn parse_firefox_frame(t: &str) -> Option<Frame> {
    if t == "[native code]" {
        return Some(frame(None, ""));
    }
    let (function, location) = firefox_parts(t)?;
    Some(frame(Some(function), location))
}

/// (function, location) of a Firefox or Safari frame; the location is empty for native code.
fn firefox_parts(t: &str) -> Option<(&str, &str)> {
    let (function, location) = t.split_once('@')?;
    if function.contains(": ") {
        return None;
    }
    if location == "[native code]" {
        return Some((function, ""));
    }
    if location.contains(' ') {
        return None;
    }
    match split_location(location) {
        (_, Some(_), _) => Some((function, location)),
        _ => None,
    }
}

/// Whether a line reads as a Firefox or Safari frame with a location.
pub(super) fn looks_like_firefox_frame(t: &str) -> bool {
    firefox_parts(t).is_some_and(|(_, location)| !location.is_empty())
}

fn frame(function: Option<&str>, location: &str) -> Frame {
    let (path, line, col) = split_location(location);
    let path = (line.is_some() && !path.is_empty()).then_some(path);
    let function = function.map(str::trim).filter(|f| !f.is_empty());
    let in_app = is_in_app(Language::JavaScript, path, None, function);
    Frame {
        filename: path.map(short_filename),
        abs_path: path.map(str::to_owned),
        function: function.map(str::to_owned),
        lineno: line,
        colno: col,
        in_app: Some(in_app),
        ..Default::default()
    }
}

/// `file:///app/x.mjs` → `/app/x.mjs`; `https://host/static/app.js?v=3` → `/static/app.js`;
/// `/app/node_modules/pkg/x.js` → `node_modules/pkg/x.js`.
fn short_filename(path: &str) -> String {
    let path = match path.strip_prefix("file://") {
        Some(local) => local,
        None => match path.split_once("://") {
            Some((_, rest)) => {
                let rest = rest.split(['?', '#']).next().unwrap_or(rest);
                rest.find('/').map_or(rest, |slash| &rest[slash..])
            }
            None => path,
        },
    };
    let normalized = slashes(path);
    match after_last(&normalized, "node_modules/") {
        Some(rest) => format!("node_modules/{rest}"),
        None => path.to_owned(),
    }
}
