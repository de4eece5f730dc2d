//! Python: what `traceback.format_exception` prints (the OpenTelemetry SDK's
//! `exception.stacktrace`).
//!
//! ```text
//! Traceback (most recent call last):
//!   File "/srv/app/shop/config.py", line 10, in load_settings
//!     return yaml.safe_load(text)
//!            ^^^^^^^^^^^^^^^^^^^^
//! yaml.parser.ParserError: while parsing a flow sequence
//!   in "<unicode string>", line 2, column 7:
//!
//! The above exception was the direct cause of the following exception:
//!
//! Traceback (most recent call last):
//!   ...
//! shop.config.ConfigError: invalid settings file
//! ```
//!
//! A chain is printed cause first, the reported exception last, so it is reversed; frames are
//! already outermost first. After a frame come its source line (kept as `context_line`), in
//! 3.11+ caret lines (`^^^`, `~~~`), in 3.13 further lines of a statement spanning several;
//! `[Previous line repeated N more times]` is dropped, the repeated frames shown before it are
//! kept. An exception's message runs from its `Type: message` line to the next chain
//! separator, so multi-line messages (YAML's, notes, an embedded remote traceback) stay whole.
//!
//! Exception groups (3.11+) are drawn in boxes (`  | `, `+-+---- 1 ----`); the box is removed
//! and the group comes first, followed by each sub-exception (with its own causes), flattened.

use super::in_app::is_in_app;
use super::{after_last, join_message, number, slashes, Frames, Language, RawException};
use crate::event::Frame;

const CAUSE: &str = "The above exception was the direct cause of the following exception:";
const CONTEXT: &str = "During handling of the above exception, another exception occurred:";

struct Segment<'a> {
    frames: Frames,
    header: Option<&'a str>,
    /// Whether the header reads as `Type: message` (else it may be a log line).
    header_is_type: bool,
    message: Vec<&'a str>,
}

impl Segment<'_> {
    fn new() -> Self {
        Segment {
            frames: Frames::outermost_first(),
            header: None,
            header_is_type: false,
            message: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.frames.is_empty() && self.header.is_none()
    }
}

pub(super) fn parse(text: &str) -> Vec<RawException> {
    let grouped = text.contains("Exception Group Traceback (most recent call last):");
    // Sections are split by exception-group boxes; each is printed cause first.
    let mut sections: Vec<Vec<RawException>> = vec![Vec::new()];
    let mut segment = Segment::new();
    let mut in_message = false;

    for raw_line in text.lines() {
        let line = if grouped {
            match unbox(raw_line) {
                Some(line) => line,
                None => {
                    push_segment(
                        &mut sections,
                        std::mem::replace(&mut segment, Segment::new()),
                    );
                    sections.push(Vec::new());
                    in_message = false;
                    continue;
                }
            }
        } else {
            raw_line
        };
        let t = line.trim();
        if t == CAUSE || t == CONTEXT {
            push_segment(
                &mut sections,
                std::mem::replace(&mut segment, Segment::new()),
            );
            in_message = false;
            continue;
        }
        if in_message {
            let junk_header = segment.frames.is_empty() && !segment.header_is_type;
            if junk_header && t.starts_with("Traceback (most recent call last):") {
                // What came before the traceback was a log line, not an exception.
                segment = Segment::new();
                in_message = false;
            } else {
                segment.message.push(line);
            }
            continue;
        }
        if t.starts_with("Traceback (most recent call last):")
            || t.starts_with("Exception Group Traceback (most recent call last):")
        {
            if !segment.is_empty() {
                push_segment(
                    &mut sections,
                    std::mem::replace(&mut segment, Segment::new()),
                );
            }
            continue;
        }
        if t.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(frame) = parse_frame(t) {
                segment.frames.push(frame);
            } else if t.starts_with("[Previous line repeated ") {
                // The count depends on the recursion limit and where the recursion started.
            } else if let Some(last) = segment.frames.last_mut() {
                if last.context_line.is_none() && !is_caret_line(t) {
                    last.context_line = Some(t.to_owned());
                }
            }
            continue;
        }
        segment.header = Some(line);
        segment.header_is_type = exception_line(line).0.is_some();
        in_message = true;
    }
    push_segment(&mut sections, segment);

    sections
        .into_iter()
        .flat_map(|mut section| {
            section.reverse();
            section
        })
        .collect()
}

fn push_segment(sections: &mut [Vec<RawException>], segment: Segment) {
    if segment.is_empty() {
        return;
    }
    let (ty, module, first) = match segment.header {
        Some(header) => exception_line(header),
        None => (None, None, None),
    };
    let mut lines: Vec<&str> = first.into_iter().collect();
    lines.extend(segment.message);
    if let Some(section) = sections.last_mut() {
        section.push(RawException {
            ty,
            module,
            value: join_message(&lines),
            frames: segment.frames.into_outermost_first(),
            ..Default::default()
        });
    }
}

/// A line without its exception-group box; `None` for a box's separator line.
fn unbox(line: &str) -> Option<&str> {
    let mut s = line;
    loop {
        let t = s.trim_start();
        if let Some(rest) = t.strip_prefix("| ") {
            s = rest;
        } else if t == "|" {
            return Some("");
        } else if let Some(rest) = t.strip_prefix("+ ") {
            return Some(rest);
        } else if t.starts_with("+-") {
            return None;
        } else {
            return Some(s);
        }
    }
}

/// `shop.config.ConfigError: message` → (`ConfigError`, `shop.config`, `message`).
fn exception_line(line: &str) -> (Option<String>, Option<String>, Option<&str>) {
    let (name, message) = match line.split_once(": ") {
        Some((name, message)) => (name, Some(message)),
        None => (line.trim_end().trim_end_matches(':'), None),
    };
    let is_name = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    if !is_name {
        return (None, None, Some(line));
    }
    match name.rsplit_once('.') {
        Some((module, ty)) => (Some(ty.to_owned()), Some(module.to_owned()), message),
        None => (Some(name.to_owned()), None, message),
    }
}

/// `File "/srv/app/x.py", line 12, in handler`; SyntaxError's frame has no function.
fn parse_frame(t: &str) -> Option<Frame> {
    let rest = t.strip_prefix("File \"")?;
    let at = rest.rfind("\", line ")?;
    let path = &rest[..at];
    let after = &rest[at + "\", line ".len()..];
    let (line, function) = match after.split_once(", in ") {
        Some((line, function)) => (line, Some(function.trim())),
        None => (after, None),
    };
    let (filename, module) = library_location(path);
    let in_app = is_in_app(Language::Python, Some(path), None, function);
    Some(Frame {
        filename: Some(filename.unwrap_or(path).to_owned()),
        abs_path: Some(path.to_owned()),
        module,
        function: function.filter(|f| !f.is_empty()).map(str::to_owned),
        lineno: number(line.trim()),
        in_app: Some(in_app),
        ..Default::default()
    })
}

/// For an installed package, the standard library or a frozen module: the path inside it
/// (`yaml/composer.py`) and the module it is (`yaml.composer`). The application's own
/// modules depend on `sys.path`, which the text does not show, so they get neither.
fn library_location(path: &str) -> (Option<&str>, Option<String>) {
    if let Some(name) = path
        .strip_prefix("<frozen ")
        .and_then(|p| p.strip_suffix('>'))
    {
        return (None, is_dotted_name(name).then(|| name.to_owned()));
    }
    let normalized = slashes(path);
    let rel_start = ["/site-packages/", "/dist-packages/"]
        .iter()
        .find_map(|marker| after_last(&normalized, marker))
        .or_else(|| stdlib_relative(&normalized))
        .map(|rel| normalized.len() - rel.len());
    let Some(start) = rel_start else {
        return (None, None);
    };
    // The same offset in the original path: `\` and `/` are both one byte.
    let rel = &path[start..];
    let module = rel
        .strip_suffix(".py")
        .map(|m| m.strip_suffix("/__init__").unwrap_or(m))
        .map(|m| m.replace(['/', '\\'], "."))
        .filter(|m| is_dotted_name(m));
    (Some(rel), module)
}

/// What follows `/lib/python3.12/` (or `/lib/python3/`, `/lib64/python2.7/`).
fn stdlib_relative(path: &str) -> Option<&str> {
    for marker in ["/lib/python", "/lib64/python"] {
        for (at, _) in path.match_indices(marker) {
            let rest = &path[at + marker.len()..];
            let version_len = rest
                .bytes()
                .take_while(|b| b.is_ascii_digit() || *b == b'.')
                .count();
            if version_len > 0 {
                if let Some(rel) = rest[version_len..].strip_prefix('/') {
                    if !rel.is_empty() && !rel.contains("-packages/") {
                        return Some(rel);
                    }
                }
            }
        }
    }
    None
}

fn is_dotted_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with(|c: char| c.is_ascii_digit())
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// 3.11+'s markers under the failing expression: `^^^^`, `~~~~^^^^`.
fn is_caret_line(t: &str) -> bool {
    t.chars().all(|c| matches!(c, '^' | '~' | ' ' | '-'))
}
