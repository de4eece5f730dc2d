//! Stack trace strings (`exception.stacktrace`) parsed into frames, per language.
//!
//! OpenTelemetry sends a stack trace as one string, "the natural representation for the
//! language runtime". [`parse`] reads it into Bugle's model: the exception chain outermost
//! (the reported error) first, then its causes, and each exception's frames outermost call
//! first, the failing line last. Runtimes that print the other way round (Java, V8, Go, .NET,
//! Ruby's default order, Rust) are reversed here.
//!
//! One file per format:
//!
//! | language | file | what it reads |
//! |---|---|---|
//! | Python | `python.rs` | `traceback.format_exception`: chains, exception groups |
//! | Java, Kotlin | `java.rs` | `printStackTrace`: `Caused by:`, `... N more`, `Suppressed:` |
//! | JavaScript | `v8.rs` | V8's `err.stack` (Node, Chrome); Firefox/Safari `fn@file:l:c` |
//! | Go | `go.rs` | `runtime.Stack` / `debug.Stack`, panic dumps, cut-off buffers |
//! | .NET | `dotnet.rs` | `Exception.ToString()`: ` ---> ` inner exceptions |
//! | Ruby | `ruby.rs` | `full_message` (both orders), bare `backtrace` lines |
//! | Rust | `rust.rs` | `std::backtrace::Backtrace` Display, the panic hook's output, anyhow's `{:?}` |
//!
//! Whether a frame is the application's own code is decided by one table, in `in_app.rs`.
//!
//! # Types
//!
//! The outermost exception's type and message come from the text when it has them, else from
//! the `exception.type` / `exception.message` attributes passed in; any other exception
//! without a type in the text is typed `Error`. Python and Java types are split the way their
//! Sentry SDKs split them, `shop.config.ConfigError` into type `ConfigError` and module
//! `shop.config` (the attribute is split the same way, so text and attribute agree); .NET, Ruby,
//! JavaScript, Go and Rust types are kept whole.
//!
//! # Bounds
//!
//! Parsing never panics and its output is bounded whatever the input:
//!
//! - only the first [`MAX_INPUT_BYTES`] of the text are read;
//! - a chain keeps at most [`MAX_CHAIN`] exceptions: the outermost ones and the root cause
//!   (Java's are read up to `4 × MAX_CHAIN` deep, as each `... N more` copies frames);
//! - an exception keeps at most [`MAX_FRAMES`] frames: the [`KEPT_OUTERMOST`] outermost calls
//!   and the innermost rest, where the error happened (applied while reading, so memory is
//!   bounded too);
//! - a message keeps [`MAX_MESSAGE_BYTES`], every other string [`MAX_FIELD_BYTES`] (cut on a
//!   character boundary).

mod dotnet;
mod go;
mod in_app;
mod java;
mod python;
mod ruby;
mod rust;
mod v8;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use crate::event::{Exception, Frame};

pub use in_app::{guess_in_app, LibraryTest, GO_STD_PACKAGES, LIBRARY_FRAMES};

/// Bytes of a stack trace read; the rest is ignored.
pub const MAX_INPUT_BYTES: usize = 512 * 1024;
/// Exceptions kept per chain: the first `MAX_CHAIN - 1` and the last (the root cause).
pub const MAX_CHAIN: usize = 20;
/// Frames kept per exception.
pub const MAX_FRAMES: usize = 250;
/// Of the frames kept, how many are the outermost calls (the rest are the innermost).
pub const KEPT_OUTERMOST: usize = 10;
/// Bytes kept of an exception's message.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Bytes kept of a type, module, function, path or source line.
pub const MAX_FIELD_BYTES: usize = 1024;

/// The runtime that printed a stack trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Python,
    /// Java and the other JVM languages (Kotlin, Scala, Groovy) print the same format.
    Java,
    /// V8 (Node, Chrome, Deno) and, read by the same parser, Firefox and Safari.
    JavaScript,
    Go,
    DotNet,
    Ruby,
    Rust,
    Unknown,
}

impl Language {
    /// The name Bugle's events use in `language` (as the Sentry mapper fills it): `python`,
    /// `java`, `javascript`, `go`, `csharp`, `ruby`, `rust`; `None` when unknown.
    pub fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Language::Python => "python",
            Language::Java => "java",
            Language::JavaScript => "javascript",
            Language::Go => "go",
            Language::DotNet => "csharp",
            Language::Ruby => "ruby",
            Language::Rust => "rust",
            Language::Unknown => return None,
        })
    }

    /// The language from OpenTelemetry resource attributes: `telemetry.sdk.language` (`python`,
    /// `java`, `nodejs`, `webjs`, `go`, `dotnet`, `ruby`, `rust`), else `process.runtime.name`
    /// (`cpython`, `OpenJDK Runtime Environment`, `nodejs`, `.NET`...). Unknown values give
    /// [`Language::Unknown`], for which [`parse`] sniffs the format from the text.
    pub fn from_hint(sdk_language: Option<&str>, runtime_name: Option<&str>) -> Language {
        let sdk = sdk_language.map(|s| s.trim().to_ascii_lowercase());
        let by_sdk = match sdk.as_deref() {
            Some("python") => Language::Python,
            Some("java" | "kotlin" | "scala") => Language::Java,
            Some("nodejs" | "node" | "webjs" | "js" | "javascript" | "typescript" | "deno") => {
                Language::JavaScript
            }
            Some("go" | "golang") => Language::Go,
            Some("dotnet" | ".net" | "csharp") => Language::DotNet,
            Some("ruby") => Language::Ruby,
            Some("rust") => Language::Rust,
            _ => Language::Unknown,
        };
        if by_sdk != Language::Unknown {
            return by_sdk;
        }
        let runtime = runtime_name
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let runtime = runtime.as_str();
        if matches!(
            runtime,
            "cpython" | "pypy" | "python" | "ironpython" | "jython"
        ) {
            Language::Python
        } else if runtime.contains("java")
            || runtime.contains("openjdk")
            || runtime.contains("jdk")
            || runtime.contains("jre")
            || runtime.contains("graalvm")
        {
            Language::Java
        } else if matches!(runtime, "nodejs" | "node" | "node.js" | "deno" | "browser") {
            Language::JavaScript
        } else if matches!(runtime, "go" | "gc" | "golang") {
            Language::Go
        } else if runtime.contains(".net") || runtime == "dotnet" || runtime == "mono" {
            Language::DotNet
        } else if matches!(runtime, "ruby" | "cruby" | "mri" | "jruby" | "truffleruby") {
            Language::Ruby
        } else if matches!(runtime, "rust" | "rustc") {
            Language::Rust
        } else {
            Language::Unknown
        }
    }
}

/// What [`parse`] read from a stack trace.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// The exception chain, outermost (the reported error) first; never empty.
    Chain {
        /// The format the text was read as (the hint, or what the text looked like).
        language: Language,
        exceptions: Vec<Exception>,
    },
    /// Nothing could be read: the caller keeps the text as it is and groups on the
    /// exception's type and message.
    Unparsed,
}

impl Parsed {
    /// The chain, outermost first; empty when unparsed.
    pub fn exceptions(&self) -> &[Exception] {
        match self {
            Parsed::Chain { exceptions, .. } => exceptions,
            Parsed::Unparsed => &[],
        }
    }

    pub fn into_exceptions(self) -> Vec<Exception> {
        match self {
            Parsed::Chain { exceptions, .. } => exceptions,
            Parsed::Unparsed => Vec::new(),
        }
    }

    pub fn is_unparsed(&self) -> bool {
        matches!(self, Parsed::Unparsed)
    }
}

/// Reads a stack trace string into an exception chain.
///
/// `lang` is the hint from [`Language::from_hint`]; with [`Language::Unknown`], or when the
/// text does not read as the hinted language (nothing, or a type line but no frame where
/// another format finds frames), the format is sniffed from the text ([`detect`]). `ty` and `message` are the `exception.type` and `exception.message`
/// attributes, used for the outermost exception when the text does not say.
pub fn parse(stacktrace: &str, lang: Language, ty: Option<&str>, message: Option<&str>) -> Parsed {
    let text = clip_str(stacktrace, MAX_INPUT_BYTES);
    let hinted = (lang != Language::Unknown)
        .then(|| parse_as(lang, text))
        .flatten();
    // A hinted read with frames is taken as it is; one with only a type line (`Name: msg`
    // reads as a header in most formats) gives way to a sniffed format that finds frames.
    let hinted = match hinted {
        Some(chain) if has_frames(&chain) => return finish(lang, chain, ty, message),
        other => other,
    };
    for sniffed in candidates(text) {
        if sniffed == lang {
            continue;
        }
        if let Some(chain) = parse_as(sniffed, text) {
            if hinted.is_none() || has_frames(&chain) {
                return finish(sniffed, chain, ty, message);
            }
        }
    }
    match hinted {
        Some(chain) => finish(lang, chain, ty, message),
        None => Parsed::Unparsed,
    }
}

/// One exception's frames as they are read, bounded as they come: of a long list, only what
/// [`MAX_FRAMES`] keeps (the innermost calls and [`KEPT_OUTERMOST`] outermost ones) is kept,
/// so no input makes a parser hold more than that per exception.
#[derive(Debug)]
struct Frames {
    /// Whether the runtime prints the innermost call first (all but Python and Ruby's
    /// bottom order do).
    innermost_first: bool,
    /// The first frames printed.
    head: Vec<Frame>,
    /// The last frames printed, the oldest dropped when full.
    tail: VecDeque<Frame>,
}

impl Frames {
    fn innermost_first() -> Frames {
        Frames {
            innermost_first: true,
            head: Vec::new(),
            tail: VecDeque::new(),
        }
    }

    fn outermost_first() -> Frames {
        Frames {
            innermost_first: false,
            ..Frames::innermost_first()
        }
    }

    fn head_cap(&self) -> usize {
        if self.innermost_first {
            MAX_FRAMES - KEPT_OUTERMOST
        } else {
            KEPT_OUTERMOST
        }
    }

    fn push(&mut self, frame: Frame) {
        if self.head.len() < self.head_cap() {
            self.head.push(frame);
        } else {
            if self.tail.len() == MAX_FRAMES - self.head_cap() {
                self.tail.pop_front();
            }
            self.tail.push_back(frame);
        }
    }

    /// The frame printed last.
    fn last_mut(&mut self) -> Option<&mut Frame> {
        match self.tail.back_mut() {
            Some(frame) => Some(frame),
            None => self.head.last_mut(),
        }
    }

    fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// The last `n` frames kept, in printed order.
    fn printed_last(&self, n: usize) -> impl Iterator<Item = &Frame> {
        let kept = self.head.len() + self.tail.len();
        self.head
            .iter()
            .chain(self.tail.iter())
            .skip(kept.saturating_sub(n))
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut Frame> {
        self.head.iter_mut().chain(self.tail.iter_mut())
    }

    /// Outermost call first, as Bugle orders frames.
    fn into_outermost_first(self) -> Vec<Frame> {
        let mut frames = self.head;
        frames.extend(self.tail);
        if self.innermost_first {
            frames.reverse();
        }
        frames
    }
}

fn has_frames(chain: &[RawException]) -> bool {
    chain.iter().any(|e| !e.frames.is_empty())
}

/// An exception as a format parser reads it; `None` where the text does not say.
#[derive(Debug, Default)]
struct RawException {
    ty: Option<String>,
    module: Option<String>,
    value: Option<String>,
    /// Outermost call first.
    frames: Vec<Frame>,
    /// The type when neither the text nor the attribute names one (Go's and Rust's `panic`).
    fallback_ty: Option<&'static str>,
}

/// The chain in the given format, outermost first; `None` when the text has neither a frame
/// nor a type in that format.
fn parse_as(lang: Language, text: &str) -> Option<Vec<RawException>> {
    let chain = match lang {
        Language::Python => python::parse(text),
        Language::Java => java::parse(text),
        Language::JavaScript => v8::parse(text),
        Language::Go => go::parse(text),
        Language::DotNet => dotnet::parse(text),
        Language::Ruby => ruby::parse(text),
        Language::Rust => rust::parse(text),
        Language::Unknown => return None,
    };
    let read_something = chain
        .iter()
        .any(|e| !e.frames.is_empty() || e.ty.is_some() || e.fallback_ty.is_some());
    read_something.then_some(chain)
}

/// Applies the bounds, fills the outermost exception from the attributes and builds the model.
fn finish(
    lang: Language,
    mut chain: Vec<RawException>,
    ty: Option<&str>,
    message: Option<&str>,
) -> Parsed {
    if chain.len() > MAX_CHAIN {
        let root = chain.pop();
        chain.truncate(MAX_CHAIN - 1);
        chain.extend(root);
    }
    let ty_attr = ty.map(str::trim).filter(|t| !t.is_empty());
    let message_attr = message.filter(|m| !m.trim().is_empty());
    let exceptions = chain
        .into_iter()
        .enumerate()
        .map(|(i, raw)| {
            let (ty, module) = match raw.ty {
                Some(ty) => (ty, raw.module),
                None => match ty_attr.filter(|_| i == 0) {
                    Some(attr) => split_type(lang, attr),
                    None => (raw.fallback_ty.unwrap_or("Error").to_owned(), None),
                },
            };
            let value = raw
                .value
                .or_else(|| message_attr.filter(|_| i == 0).map(str::to_owned));
            let mut frames = raw.frames;
            cap_frames(&mut frames);
            for frame in &mut frames {
                clip_frame(frame);
            }
            Exception {
                ty: clip(ty, MAX_FIELD_BYTES),
                value: value.map(|v| clip(v, MAX_MESSAGE_BYTES)),
                module: module.map(|m| clip(m, MAX_FIELD_BYTES)),
                frames,
                ..Default::default()
            }
        })
        .collect();
    Parsed::Chain {
        language: lang,
        exceptions,
    }
}

/// `shop.config.ConfigError` → (`ConfigError`, `shop.config`) for the languages whose SDKs
/// report a module apart from the type; other languages keep the type whole.
fn split_type(lang: Language, ty: &str) -> (String, Option<String>) {
    match lang {
        Language::Python | Language::Java => match ty.rsplit_once('.') {
            Some((module, name)) if !module.is_empty() && !name.is_empty() => {
                (name.to_owned(), Some(module.to_owned()))
            }
            _ => (ty.to_owned(), None),
        },
        _ => (ty.to_owned(), None),
    }
}

/// Keeps the [`KEPT_OUTERMOST`] outermost frames and the innermost rest up to [`MAX_FRAMES`].
fn cap_frames(frames: &mut Vec<Frame>) {
    if frames.len() > MAX_FRAMES {
        let innermost = MAX_FRAMES - KEPT_OUTERMOST;
        frames.drain(KEPT_OUTERMOST..frames.len() - innermost);
    }
}

fn clip_frame(frame: &mut Frame) {
    for field in [
        &mut frame.filename,
        &mut frame.abs_path,
        &mut frame.module,
        &mut frame.function,
        &mut frame.context_line,
    ] {
        if let Some(s) = field.as_mut() {
            clip_in_place(s, MAX_FIELD_BYTES);
        }
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn clip_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn clip(mut s: String, max: usize) -> String {
    clip_in_place(&mut s, max);
    s
}

fn clip_in_place(s: &mut String, max: usize) {
    let len = clip_str(s, max).len();
    s.truncate(len);
}

// --- helpers shared by the format parsers ------------------------------------------------------

/// A line or column number: ASCII digits that fit a `u32`.
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `path:12:5` → (`path`, 12, 5); `path:12` → (`path`, 12, None); numbers are read from the
/// right, so `C:\app\x.js:3:9` keeps its drive letter.
fn split_location(loc: &str) -> (&str, Option<u32>, Option<u32>) {
    let Some((rest, last)) = loc.rsplit_once(':') else {
        return (loc, None, None);
    };
    let Some(last) = number(last) else {
        return (loc, None, None);
    };
    match rest.rsplit_once(':') {
        Some((path, line)) => match number(line) {
            Some(line) => (path, Some(line), Some(last)),
            None => (rest, Some(last), None),
        },
        None => (rest, Some(last), None),
    }
}

/// `s` without its trailing `(...)` argument list, if it ends with one whose parentheses
/// balance; the position of the opening parenthesis.
fn trailing_parens(s: &str) -> Option<usize> {
    if !s.ends_with(')') {
        return None;
    }
    let mut depth = 0usize;
    for (i, c) in s.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The text after the last occurrence of `marker` in `path`, e.g. what follows
/// `/site-packages/`; `None` when absent or nothing follows.
fn after_last<'a>(path: &'a str, marker: &str) -> Option<&'a str> {
    path.rfind(marker)
        .map(|at| &path[at + marker.len()..])
        .filter(|rest| !rest.is_empty())
}

/// `path` with `\` read as `/`, allocating only for a Windows path.
fn slashes(path: &str) -> std::borrow::Cow<'_, str> {
    if path.contains('\\') {
        std::borrow::Cow::Owned(path.replace('\\', "/"))
    } else {
        std::borrow::Cow::Borrowed(path)
    }
}

/// Joins message lines, without trailing blank lines; `None` when nothing is left.
fn join_message(lines: &[&str]) -> Option<String> {
    let message = lines.join("\n");
    let message = message.trim_end();
    (!message.is_empty()).then(|| message.to_owned())
}

/// Leading whitespace, tabs counted as one.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

// --- sniffing ----------------------------------------------------------------------------------

/// Lines looked at when sniffing the format.
const SNIFF_LINES: usize = 200;
/// Score a language needs before the text is read as it.
const SNIFF_MIN_SCORE: u32 = 3;

/// The format the text looks like, from telltale lines; [`Language::Unknown`] when nothing
/// looks familiar.
pub fn detect(text: &str) -> Language {
    candidates(text)
        .into_iter()
        .next()
        .unwrap_or(Language::Unknown)
}

/// The formats the text could be, likeliest first (a Ruby `Traceback (most recent call
/// last):` also scores as Python, so the runner-up is worth a try).
fn candidates(text: &str) -> Vec<Language> {
    const LANGS: [Language; 7] = [
        Language::Python,
        Language::Java,
        Language::JavaScript,
        Language::Go,
        Language::DotNet,
        Language::Ruby,
        Language::Rust,
    ];
    let mut scores = [0u32; 7];
    let mut add = |lang: Language, points: u32| {
        if let Some(i) = LANGS.iter().position(|&l| l == lang) {
            scores[i] += points;
        }
    };
    let mut after_rust_symbol = false;
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(SNIFF_LINES)
    {
        let t = line.trim();
        let numbered_symbol = rust::numbered_symbol(t).is_some();
        if t.starts_with("Traceback (most recent call last):")
            || t.contains("Exception Group Traceback (most recent call last):")
        {
            add(Language::Python, 10);
        } else if t.starts_with("File \"") && t.contains("\", line ") {
            add(Language::Python, 3);
        } else if go::goroutine_header(t) {
            add(Language::Go, 10);
        } else if (line.starts_with('\t') && t.contains(".go:")) || t.starts_with("created by ") {
            add(Language::Go, 2);
        } else if t == "--- End of inner exception stack trace ---"
            || t.starts_with("--- End of stack trace from previous location")
        {
            add(Language::DotNet, 10);
        } else if line.starts_with(" ---> ") {
            add(Language::DotNet, 5);
        } else if t == "stack backtrace:" || t.contains("' panicked at ") {
            add(Language::Rust, 5);
        } else if let Some(at) = t.strip_prefix("at ") {
            if after_rust_symbol && rust::is_location(at) {
                add(Language::Rust, 3);
            } else if java::looks_like_frame(at) {
                add(Language::Java, 4);
            } else if dotnet::looks_like_frame(at) {
                add(Language::DotNet, 4);
            } else if v8::looks_like_frame(at) {
                add(Language::JavaScript, 3);
            }
        } else if t.starts_with("Caused by: ")
            || t.starts_with("Exception in thread \"")
            || java::more_line(t).is_some()
        {
            add(Language::Java, 3);
        } else if ruby::looks_like_frame(t.strip_prefix("from ").unwrap_or(t)) {
            add(Language::Ruby, 4);
        } else if v8::looks_like_firefox_frame(t) {
            add(Language::JavaScript, 2);
        } else if numbered_symbol {
            add(Language::Rust, 1);
        }
        after_rust_symbol = numbered_symbol || (after_rust_symbol && t.starts_with("at "));
    }
    let mut ranked: Vec<(u32, usize)> = scores
        .iter()
        .enumerate()
        .filter(|&(_, &score)| score >= SNIFF_MIN_SCORE)
        .map(|(i, &score)| (score, i))
        .collect();
    // Highest score first; on a tie, the earlier language in LANGS.
    ranked.sort_by_key(|&(score, i)| (std::cmp::Reverse(score), i));
    ranked.into_iter().take(2).map(|(_, i)| LANGS[i]).collect()
}
