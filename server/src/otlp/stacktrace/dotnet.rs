//! .NET: what `Exception.ToString()` prints (OpenTelemetry .NET records it with the invariant
//! culture, so the words `at`, `in` and `line` are English whatever the machine's language).
//!
//! ```text
//! System.InvalidOperationException: Could not load order 42
//!  ---> System.IO.FileNotFoundException: Could not find file '/data/42.json'.
//! File name: '/data/42.json'
//!    at System.IO.FileStream.ValidateFileHandle(SafeFileHandle fileHandle)
//!    at Shop.Orders.Repository.Read(String path) in /src/Shop/Orders/Repository.cs:line 27
//!    --- End of inner exception stack trace ---
//!    at Shop.Orders.Repository.Load(Int32 id) in /src/Shop/Orders/Repository.cs:line 35
//! ```
//!
//! All the headers come first, outermost first (each inner one after ` ---> `; .NET Framework
//! put them on one line), then the stacks innermost exception first, each closed by
//! `--- End of inner exception stack trace ---`, so the last stack is the outermost
//! exception's. Frames are innermost first and reversed. `--- End of stack trace from
//! previous location ---` (async and rethrow boundaries) is skipped. AggregateException's
//! extra listing of its inner exceptions (` ---> (Inner Exception #1) ...<---`) repeats what
//! was printed and is not read. Mono's `Method (Type arg) [0x0001c] in /path/File.cs:42` is
//! read too. The type is kept whole (`System.IO.FileNotFoundException`), as .NET reports it.

use super::in_app::is_in_app;
use super::{join_message, number, Frames, Language, RawException};
use crate::event::Frame;

const END_OF_INNER: &str = "--- End of inner exception stack trace ---";

pub(super) fn parse(text: &str) -> Vec<RawException> {
    // Each header's lines: `Type: message` and the message's further lines.
    let mut headers: Vec<Vec<&str>> = Vec::new();
    // Stacks in printed order (innermost exception first).
    let mut stacks: Vec<Frames> = vec![Frames::innermost_first()];
    let mut seen_frame = false;

    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(inner) = t.strip_prefix("---> ") {
            if inner.starts_with("(Inner Exception #") {
                break;
            }
            headers.push(vec![inner]);
        } else if t == END_OF_INNER {
            stacks.push(Frames::innermost_first());
        } else if t.starts_with("--- End of stack trace from previous location") {
        } else if let Some(frame) = t.strip_prefix("at ").and_then(parse_frame) {
            if let Some(stack) = stacks.last_mut() {
                stack.push(frame);
                seen_frame = true;
            }
        } else if headers.is_empty() {
            // .NET Framework: `Outer: m ---> Inner: m2 ---> Innermost: m3` on one line.
            headers.extend(t.split(" ---> ").map(|h| vec![h]));
        } else if !seen_frame {
            // A message's further lines, before the first frame. Mono and .NET Framework go
            // on with the inner header on the same line, also after a message of several lines
            // (`ArgumentException`'s `Parameter name: card) ---> System.ArgumentException: ...`).
            let mut parts = line.split(" ---> ");
            if let (Some(rest), Some(header)) = (parts.next(), headers.last_mut()) {
                header.push(rest);
            }
            headers.extend(parts.map(|h| vec![h]));
        }
    }
    if headers.is_empty() && !seen_frame {
        return Vec::new();
    }
    if headers.is_empty() {
        headers.push(Vec::new());
    }

    let mut chain: Vec<RawException> = headers
        .iter()
        .map(|lines| {
            let (ty, first) = match lines.first() {
                Some(first) => header_line(first),
                None => (None, None),
            };
            let mut message: Vec<&str> = first.into_iter().collect();
            message.extend(lines.iter().skip(1));
            RawException {
                ty,
                value: join_message(&message),
                ..Default::default()
            }
        })
        .collect();
    // The last stack is the outermost exception's, the one before it the next inner one's...
    // More stacks than headers (a header not recognized) stay with the innermost exception,
    // after its own: they were printed before it, so were deeper.
    let innermost = chain.len() - 1;
    for (i, stack) in stacks.into_iter().rev().enumerate() {
        chain[i.min(innermost)]
            .frames
            .extend(stack.into_outermost_first());
    }
    chain
}

/// `System.IO.IOException: message` → (`System.IO.IOException`, `message`).
fn header_line(line: &str) -> (Option<String>, Option<&str>) {
    let line = line.trim();
    let (name, message) = match line.split_once(": ") {
        Some((name, message)) => (name, Some(message)),
        None => (line.trim_end_matches(':'), None),
    };
    let is_name = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '`' | '+'));
    if is_name {
        (Some(name.to_owned()), message)
    } else {
        (None, Some(line))
    }
}

/// Whether the text after `at ` reads as a .NET frame: `Ns.Type.Method(Args)` with ` in
/// path:line N`, or a parameter list only .NET prints (`(String path, Int32 id)`).
pub(super) fn looks_like_frame(at: &str) -> bool {
    let Some(open) = at.find('(') else {
        return false;
    };
    let Some(close) = at[open..].find(')').map(|c| open + c) else {
        return false;
    };
    let params = &at[open + 1..close];
    let rest = at[close + 1..].trim();
    let spaced = at[..open].ends_with(' ');
    let symbol = at[..open].trim_end();
    if symbol.contains(' ') || !symbol.contains('.') {
        return false;
    }
    if rest.starts_with("in ") && rest.contains(":line ") {
        return true;
    }
    // Mono: `Method (System.String path) [0x0001c] in <filename unknown>:0`.
    if rest.starts_with('[') {
        return true;
    }
    // No location: `Method()` or `Method(String path)`, never V8's `fn (file:1:2)`.
    rest.is_empty() && !spaced && (params.is_empty() || params.contains(' '))
}

/// `Ns.Type.Method(String path) in /src/File.cs:line 27` → module `Ns.Type`, function
/// `Method`, file and line.
fn parse_frame(at: &str) -> Option<Frame> {
    let open = at.find('(')?;
    let close = open + at[open..].find(')')?;
    let symbol = at[..open].trim_end();
    if symbol.is_empty() || symbol.contains(' ') {
        return None;
    }
    let mut rest = at[close + 1..].trim();
    // Only Mono puts a space before the parameters, and follows them with an IL offset;
    // `fn (file.js:1:2)` is V8's.
    if at[..open].ends_with(' ') && !rest.starts_with('[') {
        return None;
    }
    // Mono's IL offset: `[0x0001c]`.
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r.trim());
    }
    let (path, line) = match rest.strip_prefix("in ") {
        Some(location) => location_parts(location.trim()),
        None => (None, None),
    };
    let (module, function) = split_method(symbol);
    let in_app = is_in_app(Language::DotNet, path, module, Some(function));
    Some(Frame {
        filename: path.map(str::to_owned),
        abs_path: path.map(str::to_owned),
        module: module.map(str::to_owned),
        function: Some(function.to_owned()),
        lineno: line,
        in_app: Some(in_app),
        ..Default::default()
    })
}

/// `/src/File.cs:line 27` (any language's word for "line"), Mono's `/src/File.cs:27`;
/// Mono's `<filename unknown>:0` is no location.
fn location_parts(location: &str) -> (Option<&str>, Option<u32>) {
    let (path, line) = match location.rsplit_once(':') {
        Some((path, tail)) => {
            let digits = tail.rsplit(' ').next().unwrap_or(tail);
            match number(digits) {
                Some(line) => (path, Some(line)),
                None => (location, None),
            }
        }
        None => (location, None),
    };
    if path.starts_with('<') || path.is_empty() {
        return (None, None);
    }
    (Some(path), line.filter(|&l| l > 0))
}

/// `Ns.Type.Method` → (`Ns.Type`, `Method`); `Ns.Type..ctor` → (`Ns.Type`, `.ctor`);
/// `Ns.Type.Get[T]` → (`Ns.Type`, `Get[T]`).
fn split_method(symbol: &str) -> (Option<&str>, &str) {
    let plain_end = symbol.find('[').unwrap_or(symbol.len());
    match symbol[..plain_end].rfind('.') {
        Some(dot) if dot > 0 && symbol.as_bytes()[dot - 1] == b'.' => {
            (Some(&symbol[..dot - 1]), &symbol[dot..])
        }
        Some(dot) if dot > 0 => (Some(&symbol[..dot]), &symbol[dot + 1..]),
        _ => (None, symbol),
    }
}
