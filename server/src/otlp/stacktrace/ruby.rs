//! Ruby: `Exception#full_message(highlight: false, order: :top)` (what OpenTelemetry Ruby
//! records), the `order: :bottom` form Ruby 2.5–2.7 printed by default, and bare `backtrace`
//! lines.
//!
//! ```text
//! /app/orders.rb:14:in `rescue in fetch': could not fetch order 42 (Shop::OrderError)
//!     from /app/orders.rb:11:in `fetch'
//!     from app.rb:13:in `<main>'
//! /usr/lib/ruby/3.1.0/json/common.rb:216:in `parse': unexpected token (JSON::ParserError)
//!     from /app/vendor/bundle/ruby/3.1.0/gems/tiny_http-0.4.2/lib/tiny_http.rb:8:in `get_json'
//! ```
//!
//! Each exception starts with its innermost frame, then `: message (Class)`; the message's
//! further lines (error_highlight's snippet, did_you_mean's suggestions) follow before the
//! `from` lines. Causes come after the exception, as Bugle orders them; frames are innermost
//! first and reversed. `... 10068 levels...` (a cut-short deep stack) is dropped. Ruby 3.4
//! quotes labels as `'Shop::OrderService#fetch'` where older versions print `` `fetch' ``;
//! both are read, and kept as printed.

use super::in_app::is_in_app;
use super::{after_last, join_message, number, Frames, Language, RawException};
use crate::event::Frame;

struct Printed<'a> {
    class: Option<String>,
    message: Vec<&'a str>,
    /// Innermost first (top order) or outermost first (bottom order).
    frames: Frames,
    has_from: bool,
}

impl Printed<'_> {
    fn new(frames: Frames) -> Self {
        Printed {
            class: None,
            message: Vec::new(),
            frames,
            has_from: false,
        }
    }
}

pub(super) fn parse(text: &str) -> Vec<RawException> {
    let mut chain: Vec<Printed> = Vec::new();
    let mut bottom = false;
    // Bottom order: the numbered frames printed before their exception, outermost first.
    let mut numbered = Frames::outermost_first();

    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            // error_highlight puts a blank line between the message and its snippet.
            if let Some(current) = chain.last_mut().filter(|c| !c.has_from) {
                current.message.push("");
            }
            continue;
        }
        if t == "Traceback (most recent call last):" {
            bottom = true;
            continue;
        }
        if let Some(rest) = numbered_from(t) {
            if let Some((frame, "")) = frame_prefix(rest) {
                numbered.push(frame);
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix("from ") {
            if let Some((frame, "")) = frame_prefix(rest) {
                let current = current(&mut chain);
                current.frames.push(frame);
                current.has_from = true;
            }
            continue;
        }
        if t.starts_with("... ") && t.ends_with(" levels...") {
            continue;
        }
        let starts_line = !line.starts_with([' ', '\t']);
        match frame_prefix(t) {
            Some((frame, after)) if starts_line && after.starts_with(": ") => {
                let (message, class) = message_and_class(&after[2..]);
                let mut frames = if bottom {
                    std::mem::replace(&mut numbered, Frames::outermost_first())
                } else {
                    Frames::innermost_first()
                };
                frames.push(frame);
                chain.push(Printed {
                    class,
                    message: message.into_iter().collect(),
                    ..Printed::new(frames)
                });
            }
            // A bare backtrace line.
            Some((frame, "")) => {
                let current = current(&mut chain);
                current.frames.push(frame);
                current.has_from = true;
            }
            _ => {
                if let Some(current) = chain.last_mut().filter(|c| !c.has_from) {
                    current.message.push(line);
                }
            }
        }
    }

    if bottom {
        // Causes were printed first.
        chain.reverse();
    }
    chain
        .into_iter()
        .map(|printed| RawException {
            ty: printed.class,
            value: join_message(&printed.message),
            frames: printed.frames.into_outermost_first(),
            ..Default::default()
        })
        .collect()
}

fn current<'a, 'b>(chain: &'b mut Vec<Printed<'a>>) -> &'b mut Printed<'a> {
    if chain.is_empty() {
        chain.push(Printed::new(Frames::innermost_first()));
    }
    let last = chain.len() - 1;
    &mut chain[last]
}

/// `6: from x.rb:9:in ...` (bottom order) → `x.rb:9:in ...`.
fn numbered_from(t: &str) -> Option<&str> {
    let (n, rest) = t.split_once(": from ")?;
    number(n).map(|_| rest)
}

/// Whether a line reads as a Ruby backtrace line, bare or after `from ` / `N: from `.
pub(super) fn looks_like_frame(t: &str) -> bool {
    let t = numbered_from(t).unwrap_or(t);
    let t = t.strip_prefix("from ").unwrap_or(t);
    location_prefix(t).is_some_and(|(_, _, label, after)| {
        label.is_some() && (after.is_empty() || after.starts_with(": "))
    })
}

/// The frame a line starts with, `path:12:in 'label'` or `path.rb:12`, and what follows it.
fn frame_prefix(t: &str) -> Option<(Frame, &str)> {
    let (path, line, label, after) = location_prefix(t)?;
    let in_app = is_in_app(Language::Ruby, Some(path), None, label);
    let frame = Frame {
        filename: Some(short_filename(path)),
        abs_path: Some(path.to_owned()),
        function: label.map(str::to_owned),
        lineno: Some(line),
        in_app: Some(in_app),
        ..Default::default()
    };
    Some((frame, after))
}

/// (path, line, label, rest) of `path:12:in 'label'rest` or `path.rb:12rest`.
fn location_prefix(t: &str) -> Option<(&str, u32, Option<&str>, &str)> {
    let (location, label, after) = match t.find(":in `").or_else(|| t.find(":in '")) {
        Some(at) => {
            let label_and_rest = &t[at + 5..];
            let close = label_and_rest.find('\'')?;
            (
                &t[..at],
                Some(&label_and_rest[..close]),
                &label_and_rest[close + 1..],
            )
        }
        None => {
            // No label: `path.rb:12` or `path.rb:12: message`.
            let end = t.find(": ").unwrap_or(t.len());
            (&t[..end], None, &t[end..])
        }
    };
    let (path, line) = location.rsplit_once(':')?;
    let line = number(line)?;
    if path.is_empty() || (label.is_none() && !path.ends_with(".rb")) {
        return None;
    }
    Some((path, line, label.filter(|l| !l.is_empty()), after))
}

/// `could not fetch order 42 (Shop::OrderError)` → (message, class). Ruby prints
/// `unhandled exception` for a RuntimeError without a message, and no class.
fn message_and_class(rest: &str) -> (Option<&str>, Option<String>) {
    if rest == "unhandled exception" {
        return (None, None);
    }
    if let Some(open) = rest.strip_suffix(')').and_then(|r| r.rfind(" (")) {
        let class = &rest[open + 2..rest.len() - 1];
        if is_constant_path(class) {
            return (Some(&rest[..open]), Some(class.to_owned()));
        }
    }
    // The class alone, for an exception whose message is empty.
    if let Some(class) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        if is_constant_path(class) {
            return (None, Some(class.to_owned()));
        }
    }
    (Some(rest), None)
}

fn is_constant_path(s: &str) -> bool {
    !s.is_empty()
        && s.split("::").all(|part| {
            part.starts_with(|c: char| c.is_uppercase())
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// A gem's file without the gem's version (`tiny_http/lib/tiny_http.rb`), the standard
/// library's without Ruby's (`json/common.rb`); the application's as printed.
fn short_filename(path: &str) -> String {
    if let Some(rel) = after_last(path, "/gems/") {
        let (gem, inside) = rel.split_once('/').unwrap_or((rel, ""));
        let name = match gem.rsplit_once('-') {
            Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => name,
            _ => gem,
        };
        return if inside.is_empty() {
            name.to_owned()
        } else {
            format!("{name}/{inside}")
        };
    }
    for (at, _) in path.match_indices("/ruby/") {
        let rest = &path[at + "/ruby/".len()..];
        if let Some((version, inside)) = rest.split_once('/') {
            if version.starts_with(|c: char| c.is_ascii_digit())
                && version.chars().all(|c| c.is_ascii_digit() || c == '.')
                && !inside.is_empty()
            {
                return inside.to_owned();
            }
        }
    }
    path.to_owned()
}
