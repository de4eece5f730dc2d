//! Java and the other JVM languages: what `Throwable.printStackTrace` prints (the OpenTelemetry
//! agent's `exception.stacktrace`), also as the JVM's uncaught-exception handler and logback
//! print it.
//!
//! ```text
//! Exception in thread "main" com.acme.ConfigException: could not load settings
//!     at com.acme.Settings.load(Settings.java:28)
//!     at java.base/java.lang.Thread.run(Thread.java:840)
//! Caused by: java.lang.NumberFormatException: For input string: "80a0"
//!     at java.base/java.lang.Integer.parseInt(Integer.java:668)
//!     at com.acme.Settings.readPort(Settings.java:18)
//!     ... 2 more
//! ```
//!
//! The chain is printed outermost first, as Bugle orders it; frames innermost first, so they
//! are reversed. `... N more` stands for the enclosing exception's last N frames, which are
//! put back, so every exception has its whole stack. `Suppressed:` exceptions (indented, with
//! their own causes) are not causes and are skipped. A frame's `java.base/` module or
//! `app//` class-loader prefix is dropped, as is the per-run address of a hidden class
//! (`$$Lambda$14/0x0000000800c03000`) and logback's `~[spring-web-6.1.jar:6.1]` suffix.

use super::in_app::is_in_app;
use super::{indent, join_message, number, Frames, Language, RawException, MAX_CHAIN};
use crate::event::Frame;

/// Exceptions read from one trace: deeper `Caused by:` levels are not read, since each
/// `... N more` copies up to [`MAX_FRAMES`](super::MAX_FRAMES) frames.
const MAX_PRINTED: usize = 4 * MAX_CHAIN;

struct Printed<'a> {
    header: Vec<&'a str>,
    /// Whether the header's first line reads as `pkg.Type: message`.
    typed: bool,
    frames: Frames,
    more: usize,
}

impl<'a> Printed<'a> {
    fn new(header: Vec<&'a str>) -> Self {
        Printed {
            typed: header.first().is_some_and(|h| self::header(h).0.is_some()),
            header,
            frames: Frames::innermost_first(),
            more: 0,
        }
    }
}

pub(super) fn parse(text: &str) -> Vec<RawException> {
    let mut chain: Vec<Printed> = Vec::new();
    // Inside a `Suppressed:` block printed at this indentation.
    let mut suppressed_at: Option<usize> = None;

    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let depth = indent(line);
        let first_only = chain.len() == 1;
        if let Some(at) = suppressed_at {
            if depth > at || (depth == at && t.starts_with("Caused by: ")) {
                continue;
            }
            suppressed_at = None;
        }
        if let Some(frame) = t.strip_prefix("at ").and_then(parse_frame) {
            if chain.is_empty() {
                chain.push(Printed::new(Vec::new()));
            }
            if let Some(current) = chain.last_mut() {
                current.frames.push(frame);
            }
        } else if let Some(n) = more_line(t) {
            if let Some(current) = chain.last_mut() {
                current.more = n;
            }
        } else if t.starts_with("Suppressed: ") {
            suppressed_at = Some(depth);
        } else if let Some(cause) = t.strip_prefix("Caused by: ") {
            if chain.len() == MAX_PRINTED {
                break;
            }
            chain.push(Printed::new(vec![cause]));
        } else if chain.is_empty() {
            chain.push(Printed::new(vec![strip_thread(t)]));
        } else if let Some(current) = chain.last_mut().filter(|c| c.frames.is_empty()) {
            if first_only && !current.typed && header(strip_thread(t)).0.is_some() {
                // What came before the exception was a log line, not its header.
                current.header = vec![strip_thread(t)];
                current.typed = true;
            } else {
                // A message over several lines, before the exception's first frame.
                current.header.push(line);
            }
        }
    }

    // `... N more`: the last N frames of the enclosing exception, which are also this one's.
    for i in 1..chain.len() {
        let more = chain[i].more;
        if more > 0 {
            let shared: Vec<Frame> = chain[i - 1].frames.printed_last(more).cloned().collect();
            for frame in shared {
                chain[i].frames.push(frame);
            }
        }
    }

    chain
        .into_iter()
        .map(|printed| {
            let (ty, module, first) = match printed.header.first() {
                Some(first) => header(first),
                None => (None, None, None),
            };
            let mut lines: Vec<&str> = first.into_iter().collect();
            lines.extend(printed.header.iter().skip(1));
            RawException {
                ty,
                module,
                value: join_message(&lines),
                frames: printed.frames.into_outermost_first(),
                ..Default::default()
            }
        })
        .collect()
}

/// `Exception in thread "main" java.lang.X: m` → `java.lang.X: m`.
fn strip_thread(t: &str) -> &str {
    t.strip_prefix("Exception in thread \"")
        .and_then(|rest| rest.split_once("\" "))
        .map_or(t, |(_, rest)| rest)
}

/// `... 3 more`, or logback's `... 3 common frames omitted`.
pub(super) fn more_line(t: &str) -> Option<usize> {
    let rest = t.strip_prefix("... ")?;
    let (n, tail) = rest.split_once(' ')?;
    matches!(tail, "more" | "common frames omitted")
        .then(|| number(n))
        .flatten()
        .map(|n| n as usize)
}

/// `com.acme.Capture$ConfigException: message` → (`Capture$ConfigException`, `com.acme`,
/// `message`).
fn header(line: &str) -> (Option<String>, Option<String>, Option<&str>) {
    let line = line.trim();
    let (name, message) = match line.split_once(": ") {
        Some((name, message)) => (name, Some(message)),
        None => (line.trim_end_matches(':'), None),
    };
    if !is_class_name(name) {
        return (None, None, Some(line));
    }
    match name.rsplit_once('.') {
        Some((module, ty)) => (Some(ty.to_owned()), Some(module.to_owned()), message),
        None => (Some(name.to_owned()), None, message),
    }
}

fn is_class_name(s: &str) -> bool {
    // A qualified name (`java.lang.Error`): a bare word is more likely text than a class.
    s.contains('.')
        && !s.is_empty()
        && !s.starts_with('.')
        && !s.ends_with('.')
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '$' | '.'))
}

/// Whether the text after `at ` reads as a JVM frame: `pkg.Class.method(File.java:12)`.
pub(super) fn looks_like_frame(at: &str) -> bool {
    let at = strip_packaging(at);
    let Some(open) = at.rfind('(') else {
        return false;
    };
    let (symbol, location) = (&at[..open], &at[open + 1..]);
    let Some(location) = location.strip_suffix(')') else {
        return false;
    };
    if symbol.contains(' ') || !symbol.contains('.') {
        return false;
    }
    matches!(location, "Native Method" | "Unknown Source")
        || location.split(':').next().is_some_and(|file| {
            [".java", ".kt", ".kts", ".scala", ".groovy", ".clj"]
                .iter()
                .any(|ext| file.ends_with(ext))
        })
        || location == "SourceFile"
        || location.starts_with("SourceFile:")
}

/// logback's packaging data after a frame: ` ~[spring-web-6.1.jar:6.1]`, ` [app.jar:na]`.
fn strip_packaging(at: &str) -> &str {
    if at.ends_with(']') {
        if let Some(i) = at.rfind(" ~[").or_else(|| at.rfind(" [")) {
            return &at[..i];
        }
    }
    at
}

/// `java.base/java.lang.Thread.run(Thread.java:840)` → module `java.lang.Thread`, function
/// `run`, filename `Thread.java`, line 840.
fn parse_frame(at: &str) -> Option<Frame> {
    let at = strip_packaging(at.trim());
    let open = at.rfind('(')?;
    let location = at[open + 1..].strip_suffix(')')?;
    let symbol = &at[..open];
    if symbol.is_empty() || symbol.contains(' ') {
        return None;
    }
    let (class, method) = symbol.rsplit_once('.')?;
    // A hidden class's per-run address: `Capture$$Lambda$14/0x0000000800c03000`.
    let class = match class.rsplit_once('/') {
        Some((named, address)) if address.starts_with("0x") => named,
        _ => class,
    };
    // `java.base/`, `java.base@17.0.2/`, `app//`: module and class-loader names.
    let class = class.rsplit('/').next().unwrap_or(class);
    if class.is_empty() || method.is_empty() {
        return None;
    }
    let (file, line) = match location.rsplit_once(':') {
        Some((file, line)) => (file, number(line)),
        None => (location, None),
    };
    // A file name has no spaces; `(String s)` is a .NET parameter list, not a location.
    if file.contains(' ') && !matches!(file, "Native Method" | "Unknown Source") {
        return None;
    }
    let file = (!matches!(file, "Native Method" | "Unknown Source" | "")).then_some(file);
    let in_app = is_in_app(Language::Java, None, Some(class), Some(method));
    Some(Frame {
        filename: file.map(str::to_owned),
        module: Some(class.to_owned()),
        function: Some(method.to_owned()),
        lineno: line,
        in_app: Some(in_app),
        ..Default::default()
    })
}
