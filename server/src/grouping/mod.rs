//! Which issue an event belongs to, and how that issue is titled.
//!
//! [`group`] is pure and versioned: the same event always gives the same [`Grouping`], and every
//! hash input starts with [`GROUPING_VERSION`], so a better algorithm later adds new hashes
//! instead of silently splitting or merging the issues that old hashes point to.
//!
//! What is hashed, in order of precedence:
//! 1. a client fingerprint (`{{ default }}` in it expands to the default components);
//! 2. the exception chain: per exception its type and its frames, each frame reduced to
//!    `module-or-filename in function` with everything that varies between builds, hosts and
//!    lines removed. Two variants are hashed: in-app frames only, then all frames, so an event
//!    joins an issue that either one points to and a change in what counts as in-app never
//!    splits an issue. An exception without frames contributes its parameterized message;
//! 3. otherwise the parameterized message.
//!
//! The hashed components are kept in [`Grouping::components`], so the issue page can show why
//! two errors are together.

pub mod rules;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::{Captures, Regex};
use sha2::{Digest, Sha256};

use crate::event::{Event, Exception, Frame};

/// Bumped when the algorithm changes; stored with each hash so old issues never silently split.
pub const GROUPING_VERSION: u32 = 1;

/// Longest title, in chars; it is indexed and shown in lists and mail subjects.
const MAX_TITLE_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    /// Hex sha256 hashes this event may join an issue by, best first, deduplicated, never empty:
    /// the hash over in-app frames (when the event has any in-app frame), then the hash over all frames.
    /// A client fingerprint gives exactly one hash. The version is part of each hash's input.
    pub hashes: Vec<String>,
    /// Human-readable components that were hashed for hashes[0], shown on the issue page to explain
    /// "why these are together", e.g. ["type: std::io::Error", "frame: app::config in load", "message: ..."].
    pub components: Vec<String>,
    /// `Type: first line of message` (or event.title when the client set one; or the message's first line); ≤ 255 chars.
    pub title: String,
    /// The innermost in-app frame as `module in function` (or `file in function`); None without frames.
    pub culprit: Option<String>,
}

/// The one grouping function.
pub fn group(event: &Event) -> Grouping {
    group_version(event, GROUPING_VERSION)
}

/// Grouping as version `version` of the algorithm did it.
pub fn group_version(event: &Event, version: u32) -> Grouping {
    let root = event.server.as_ref().and_then(|s| s.root.as_deref());
    let variants = default_variants(event, root);
    let (hashes, components) = match client_fingerprint(event) {
        Some(fingerprint) => {
            let components = expand_fingerprint(fingerprint, &variants[0]);
            (vec![hash_components(version, &components)], components)
        }
        None => {
            let mut hashes: Vec<String> = variants
                .iter()
                .map(|components| hash_components(version, components))
                .collect();
            // All frames in-app: both variants are the same list.
            hashes.dedup();
            (hashes, variants[0].clone())
        }
    };
    Grouping {
        hashes,
        components,
        title: title(event),
        culprit: culprit(event, root),
    }
}

/// Length-prefixed, so no two component lists share an input.
fn hash_components(version: u32, components: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("bugle-grouping v{version}").as_bytes());
    for component in components {
        hasher.update((component.len() as u64).to_le_bytes());
        hasher.update(component.as_bytes());
    }
    hex::encode(hasher.finalize())
}

fn client_fingerprint(event: &Event) -> Option<&[String]> {
    event.fingerprint.as_deref().filter(|fp| !fp.is_empty())
}

fn expand_fingerprint(fingerprint: &[String], defaults: &[String]) -> Vec<String> {
    let mut components = Vec::new();
    for part in fingerprint {
        if is_default_marker(part) {
            components.extend_from_slice(defaults);
        } else {
            components.push(format!("fingerprint: {part}"));
        }
    }
    components
}

/// `{{ default }}` and `{{default}}`, as Sentry SDKs send it.
fn is_default_marker(part: &str) -> bool {
    part.trim()
        .strip_prefix("{{")
        .and_then(|p| p.strip_suffix("}}"))
        .is_some_and(|inner| inner.trim() == "default")
}

/// The component lists to hash, best first; never empty.
fn default_variants(event: &Event, root: Option<&str>) -> Vec<Vec<String>> {
    if event.exceptions.is_empty() {
        let message = event.message.as_deref().unwrap_or_default();
        return vec![vec![format!("message: {}", parameterize(message))]];
    }
    let chain: Vec<(&Exception, Vec<LabelledFrame>)> = event
        .exceptions
        .iter()
        .map(|exc| (exc, labelled_frames(exc, root)))
        .collect();
    let all = chain_components(&chain, false);
    let any_in_app = chain.iter().flat_map(|(_, f)| f).any(|f| f.in_app);
    if any_in_app {
        vec![chain_components(&chain, true), all]
    } else {
        vec![all]
    }
}

fn chain_components(chain: &[(&Exception, Vec<LabelledFrame>)], in_app_only: bool) -> Vec<String> {
    let mut components = Vec::new();
    for (exc, frames) in chain {
        components.push(format!("type: {}", exc.ty.trim()));
        if frames.is_empty() {
            // Without frames the message is all that tells two errors of one type apart.
            if let Some(value) = exc.value.as_deref().filter(|v| !v.trim().is_empty()) {
                components.push(format!("message: {}", parameterize(value.trim())));
            }
            continue;
        }
        let mut previous: Option<&str> = None;
        for frame in frames.iter().filter(|f| f.in_app || !in_app_only) {
            // Recursion depth varies from one occurrence to the next; a run counts once.
            if previous != Some(frame.label.as_str()) {
                components.push(format!("frame: {}", frame.label));
            }
            previous = Some(&frame.label);
        }
    }
    components
}

struct LabelledFrame {
    label: String,
    in_app: bool,
}

/// The frames that say where they are, outermost first.
fn labelled_frames(exc: &Exception, root: Option<&str>) -> Vec<LabelledFrame> {
    exc.frames
        .iter()
        .filter_map(|frame| {
            Some(LabelledFrame {
                label: frame_label(frame, root)?,
                in_app: frame.in_app == Some(true),
            })
        })
        .collect()
}

// Labels already computed on this thread. Real traffic repeats the same frames endlessly and
// normalizing one runs a dozen regexes, so the label is remembered (it is a pure function of
// the frame's strings and the root). Cleared when it grows past LABEL_CACHE_MAX.
thread_local! {
    static LABELS: std::cell::RefCell<std::collections::HashMap<String, Option<String>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}
const LABEL_CACHE_MAX: usize = 50_000;

/// `module in function` (or `file in function`); None for a frame with only an address.
fn frame_label(frame: &Frame, root: Option<&str>) -> Option<String> {
    let key = [
        frame.module.as_deref(),
        frame.filename.as_deref(),
        frame.abs_path.as_deref(),
        frame.function.as_deref(),
        root,
    ]
    .map(|part| part.unwrap_or("\u{1}"))
    .join("\0");
    if let Some(label) = LABELS.with(|cache| cache.borrow().get(&key).cloned()) {
        return label;
    }
    let label = compute_frame_label(frame, root);
    LABELS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= LABEL_CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, label.clone());
    });
    label
}

fn compute_frame_label(frame: &Frame, root: Option<&str>) -> Option<String> {
    let location = non_empty(frame.module.as_deref())
        .map(str::to_owned)
        .or_else(|| {
            non_empty(frame.filename.as_deref().or(frame.abs_path.as_deref()))
                .map(|file| normalize_filename(file, root))
        });
    let function = non_empty(frame.function.as_deref()).map(normalize_function);
    match (location, function) {
        (Some(location), Some(function)) => Some(format!("{location} in {function}")),
        (Some(location), None) => Some(format!("{location} in ?")),
        (None, function) => function,
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn title(event: &Event) -> String {
    let title = if let Some(title) = event.title.as_deref().and_then(first_line) {
        title.to_owned()
    } else if let Some(exc) = event.exceptions.first() {
        match exc.value.as_deref().and_then(first_line) {
            Some(value) => format!("{}: {value}", exc.ty.trim()),
            None => exc.ty.trim().to_owned(),
        }
    } else {
        event
            .message
            .as_deref()
            .and_then(first_line)
            .unwrap_or("(no message)")
            .to_owned()
    };
    truncate_chars(&title, MAX_TITLE_CHARS)
}

fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|line| !line.is_empty())
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max - 1) {
        Some((cut, _)) if s[cut..].chars().nth(1).is_some() => format!("{}…", &s[..cut]),
        _ => s.to_owned(),
    }
}

/// The innermost in-app frame of the outermost exception that has frames, else its last frame.
fn culprit(event: &Event, root: Option<&str>) -> Option<String> {
    let frames = event
        .exceptions
        .iter()
        .map(|exc| labelled_frames(exc, root))
        .find(|frames| !frames.is_empty())?;
    let index = frames
        .iter()
        .rposition(|f| f.in_app)
        .unwrap_or(frames.len() - 1);
    frames.into_iter().nth(index).map(|f| f.label)
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("grouping regexes are valid")
}

// --- functions -------------------------------------------------------------------------------

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
fn normalize_function(raw: &str) -> String {
    let f = RUST_HASH.replace_all(raw.trim(), "");
    let f = RUST_LEGACY_HASH.replace_all(&f, "");
    let f = ASYNC_PREFIX.replace(&f, "");
    let f = JS_ALIAS.replace_all(&f, "");
    let f = f.strip_suffix(" (async)").unwrap_or(&f).replace("/<", "");
    let f = RUST_CLOSURE.replace_all(&f, "{closure}");
    let f = RUST_CLOSURE_RUN.replace_all(&f, "::{closure}");
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

/// A build id, content hash, timestamp or uuid: ≥ 8 hex digits with at least one digit.
fn is_hash_like(s: &str) -> bool {
    let hex_id = s.len() >= 8
        && s.bytes().all(|b| b.is_ascii_hexdigit())
        && s.bytes().any(|b| b.is_ascii_digit());
    hex_id || UUID_EXACT.is_match(s)
}

// --- messages --------------------------------------------------------------------------------

static URL: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}]"#));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
});
static UUID_EXACT: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
});
static DATETIME: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?",
    )
});
static DATE: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b"));
static TIME: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?\b"));
/// Candidates only; [`replace_ip`] keeps what does not parse (`std::io`, `a::b`).
static IPV6: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*"));
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b"));
static HEX_PREFIXED: LazyLock<Regex> = LazyLock::new(|| regex(r"\b0[xX][0-9a-fA-F]+\b"));
static LONG_HEX: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[0-9a-fA-F]{8,}\b"));
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        // Compact forms (`150ms`, `1h30m`) as Go and Rust print them; no bare `d`, which is a hex byte.
        r"\b(?:(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+",
        r"|[0-9]+(?:\.[0-9]+)? ?(?:nanoseconds?|microseconds?|milliseconds?|millis|msecs?|ns|us|µs|ms",
        r"|s|secs?|seconds?|mins?|minutes?|hrs?|hours?|days?|weeks?))\b",
    ))
});
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[0-9]+(?:\.[0-9]+)*(?:[eE][+-]?[0-9]+)?"));

/// Replaces the variable parts of a message with placeholders.
pub fn parameterize(message: &str) -> String {
    let mut s = replace_quoted(message);
    for (pattern, placeholder) in [
        (&URL, "<url>"),
        (&EMAIL, "<email>"),
        (&UUID, "<uuid>"),
        (&DATETIME, "<datetime>"),
        (&DATE, "<date>"),
        (&TIME, "<time>"),
    ] {
        s = pattern.replace_all(&s, placeholder).into_owned();
    }
    s = replace_ip(&s, &IPV6, |c| {
        c.contains(|ch: char| ch.is_ascii_digit()) && c.parse::<Ipv6Addr>().is_ok()
    });
    s = replace_ip(&s, &IPV4, |c| c.parse::<Ipv4Addr>().is_ok());
    s = HEX_PREFIXED.replace_all(&s, "<hex>").into_owned();
    s = LONG_HEX
        .replace_all(&s, |caps: &Captures| {
            let m = &caps[0];
            let mixed =
                m.bytes().any(|b| b.is_ascii_digit()) && m.bytes().any(|b| b.is_ascii_alphabetic());
            if mixed {
                "<hex>".to_owned()
            } else {
                m.to_owned()
            }
        })
        .into_owned();
    s = DURATION.replace_all(&s, "<duration>").into_owned();
    replace_numbers(&s)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `'…'`, `"…"` and `` `…` `` on one line, opened and closed at word boundaries, so the
/// apostrophes in `can't` and `users'` are not quotes.
fn replace_quoted(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let quote = chars[i];
        let opens = matches!(quote, '\'' | '"' | '`') && (i == 0 || !is_word(chars[i - 1]));
        let close = opens
            .then(|| {
                (i + 1..chars.len())
                    .take_while(|&j| chars[j] != '\n')
                    .find(|&j| {
                        chars[j] == quote
                            && chars[j - 1] != '\\'
                            && chars.get(j + 1).is_none_or(|&next| !is_word(next))
                    })
            })
            .flatten();
        match close {
            Some(close) => {
                out.push(quote);
                out.push_str("<quoted>");
                out.push(quote);
                i = close + 1;
            }
            None => {
                out.push(quote);
                i += 1;
            }
        }
    }
    out
}

/// Replaces candidates that stand alone (not inside a word or a longer address) and pass `valid`.
fn replace_ip(s: &str, candidates: &Regex, valid: impl Fn(&str) -> bool) -> String {
    candidates
        .replace_all(s, |caps: &Captures| {
            let m = caps.get(0).expect("group 0 always matches");
            let joined = |c: char| is_word(c) || c == ':' || c == '.';
            let alone = !s[..m.start()].chars().next_back().is_some_and(joined)
                && !s[m.end()..].chars().next().is_some_and(is_word);
            // `fe80::1:` at the end of a clause: the colon belongs to the sentence.
            let address = m.as_str().trim_end_matches([':', '.']);
            if alone && valid(m.as_str()) {
                "<ip>".to_owned()
            } else if alone && valid(address) {
                format!("<ip>{}", &m.as_str()[address.len()..])
            } else {
                m.as_str().to_owned()
            }
        })
        .into_owned()
}

/// Standalone numbers only: digits inside identifiers (`utf8`, `x86_64`, `python3.12`, `3rd`) stay.
fn replace_numbers(s: &str) -> String {
    NUMBER
        .replace_all(s, |caps: &Captures| {
            let m = caps.get(0).expect("group 0 always matches");
            let number = m.as_str();
            let before = s[..m.start()].chars().next_back();
            let after = s[m.end()..].chars().next();
            if before.is_some_and(is_word) || after.is_some_and(is_word) {
                return number.to_owned();
            }
            let dots = number.matches('.').count();
            if number.contains(['e', 'E']) || dots == 1 {
                "<float>".to_owned()
            } else if dots == 0 {
                "<int>".to_owned()
            } else {
                vec!["<int>"; dots + 1].join(".")
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Server;

    const RUSTC: &str = "/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library";
    const CRATES: &str = "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f";
    const VENV: &str = "/srv/shop/.venv/lib/python3.12/site-packages";

    fn frame(file: &str, function: &str, line: u32, in_app: bool) -> Frame {
        Frame {
            filename: Some(file.into()),
            function: Some(function.into()),
            lineno: Some(line),
            colno: Some(line % 40 + 1),
            in_app: Some(in_app),
            ..Frame::default()
        }
    }

    fn py_frame(module: &str, file: &str, function: &str, line: u32, in_app: bool) -> Frame {
        Frame {
            module: Some(module.into()),
            abs_path: Some(file.into()),
            ..frame(file, function, line, in_app)
        }
    }

    fn exception(ty: &str, value: &str, frames: Vec<Frame>) -> Exception {
        Exception {
            ty: ty.into(),
            value: Some(value.into()),
            frames,
            ..Exception::default()
        }
    }

    fn with_exceptions(exceptions: Vec<Exception>) -> Event {
        Event {
            exceptions,
            ..Event::default()
        }
    }

    fn message_event(message: &str) -> Event {
        Event {
            message: Some(message.into()),
            ..Event::default()
        }
    }

    /// A tokio worker panicking on `unwrap()` in `app::config::load`, as the Rust client reports it.
    fn rust_panic_frames(load_line: u32) -> Vec<Frame> {
        vec![
            frame(
                &format!("{RUSTC}/std/src/rt.rs"),
                "std::rt::lang_start_internal::h5f0a8b1c2d3e4f60",
                174,
                false,
            ),
            frame(
                &format!("{CRATES}/tokio-1.40.0/src/runtime/scheduler/multi_thread/worker.rs"),
                "tokio::runtime::scheduler::multi_thread::worker::Context::run::h0b1c2d3e4f5a6b7c",
                576,
                false,
            ),
            frame(
                &format!("{CRATES}/tokio-1.40.0/src/runtime/task/harness.rs"),
                "tokio::runtime::task::harness::Harness<T,S>::poll::h1c2d3e4f5a6b7c8d",
                163,
                false,
            ),
            frame(
                "src/main.rs",
                "app::main::{{closure}}::h2d3e4f5a6b7c8d9e",
                21,
                true,
            ),
            frame(
                "src/config.rs",
                "app::config::load::h3e4f5a6b7c8d9e0f",
                load_line,
                true,
            ),
            frame(
                &format!("{RUSTC}/core/src/result.rs"),
                "core::result::Result<T,E>::unwrap::h4f5a6b7c8d9e0f1a",
                1102,
                false,
            ),
            frame(
                &format!("{RUSTC}/core/src/result.rs"),
                "core::result::unwrap_failed::h5a6b7c8d9e0f1a2b",
                1679,
                false,
            ),
            frame(
                &format!("{RUSTC}/core/src/panicking.rs"),
                "core::panicking::panic_fmt::h6b7c8d9e0f1a2b3c",
                74,
                false,
            ),
            frame(
                &format!("{RUSTC}/std/src/panicking.rs"),
                "std::panicking::begin_panic_handler::h7c8d9e0f1a2b3c4d",
                665,
                false,
            ),
        ]
    }

    fn rust_panic(load_line: u32) -> Event {
        with_exceptions(vec![exception(
            "panic",
            "called `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound, message: \"No such file or directory\" }",
            rust_panic_frames(load_line),
        )])
    }

    /// Django handling `POST /checkout`, failing in the app's payment service.
    fn django_frames(root: &str, charge_line: u32) -> Vec<Frame> {
        vec![
            py_frame(
                "django.core.handlers.exception",
                &format!("{VENV}/django/core/handlers/exception.py"),
                "inner",
                55,
                false,
            ),
            py_frame(
                "django.core.handlers.base",
                &format!("{VENV}/django/core/handlers/base.py"),
                "_get_response",
                197,
                false,
            ),
            py_frame(
                "app.views",
                &format!("{root}/app/views.py"),
                "checkout",
                42,
                true,
            ),
            py_frame(
                "app.services.payments",
                &format!("{root}/app/services/payments.py"),
                "charge",
                charge_line,
                true,
            ),
        ]
    }

    fn django_error(charge_line: u32) -> Event {
        with_exceptions(vec![exception(
            "ValueError",
            "invalid literal for int() with base 10: 'abc'",
            django_frames("/srv/shop", charge_line),
        )])
    }

    /// Express routing `POST /cart/checkout` into the app's cart route, under `root`.
    fn express_frames(root: &str, line: u32) -> Vec<Frame> {
        vec![
            frame(
                &format!("{root}/node_modules/express/lib/router/layer.js"),
                "Layer.handle [as handle_request]",
                95,
                false,
            ),
            frame(
                &format!("{root}/node_modules/express/lib/router/route.js"),
                "next",
                149,
                false,
            ),
            frame(
                &format!("{root}/src/routes/cart.js"),
                "async CartController.checkout",
                line,
                true,
            ),
            frame(
                &format!("{root}/src/services/cart.js"),
                "CartService.total",
                line + 7,
                true,
            ),
        ]
    }

    fn express_error(root: &str, host: &str, pid: u32, line: u32) -> Event {
        Event {
            server: Some(Server {
                host: Some(host.into()),
                pid: Some(pid),
                root: Some(root.into()),
                ..Server::default()
            }),
            ..with_exceptions(vec![exception(
                "TypeError",
                "Cannot read properties of undefined (reading 'price')",
                express_frames(root, line),
            )])
        }
    }

    #[test]
    fn the_same_error_from_different_line_numbers_and_columns_is_one_group() {
        assert_eq!(group(&rust_panic(31)).hashes, group(&rust_panic(48)).hashes);
        assert_eq!(
            group(&django_error(12)).hashes,
            group(&django_error(19)).hashes
        );
        let a = express_error("/srv/app", "web-1", 7, 10);
        let b = express_error("/srv/app", "web-1", 7, 24);
        assert_eq!(group(&a).hashes, group(&b).hashes);
    }

    #[test]
    fn the_same_error_from_different_hosts_pids_and_roots_is_one_group() {
        let a = group(&express_error("/srv/app", "web-1", 4242, 10));
        let b = group(&express_error("/home/ci/app", "ci-runner-7", 99, 10));
        assert_eq!(a.hashes, b.hashes);
        assert!(
            a.components
                .contains(&"frame: src/routes/cart.js in CartController.checkout".to_owned()),
            "{:?}",
            a.components
        );
    }

    #[test]
    fn the_same_python_error_from_different_virtualenvs_and_roots_is_one_group() {
        // Rollbar's Python SDK sends absolute filenames and no module.
        let deployed = |root: &str, venv: &str| {
            let mut event = django_error(12);
            for f in &mut event.exceptions[0].frames {
                let path = f.abs_path.take().unwrap();
                f.filename = Some(path.replace("/srv/shop", root).replace(VENV, venv));
                f.module = None;
            }
            event.server = Some(Server {
                root: Some(root.into()),
                ..Server::default()
            });
            event
        };
        let a = group(&deployed("/srv/shop", VENV));
        let b = group(&deployed(
            "/home/ci/shop",
            "/home/ci/.virtualenvs/shop/lib/python3.11/site-packages",
        ));
        assert_eq!(a.hashes, b.hashes);
        assert_eq!(
            a.components,
            [
                "type: ValueError",
                "frame: app/views.py in checkout",
                "frame: app/services/payments.py in charge"
            ]
        );
        assert_eq!(
            a.culprit.as_deref(),
            Some("app/services/payments.py in charge")
        );
    }

    #[test]
    fn messages_differing_only_by_variable_parts_are_one_group() {
        let pairs = [
            ("user 42 not found", "user 1337 not found"),
            (
                "order 3f2a9c1b-8d4e-4f6a-9b2c-7e5d1a0f3c8b expired",
                "order 00000000-0000-4000-8000-000000000000 expired",
            ),
            (
                "cannot mail alice@example.com",
                "cannot mail bob.smith+tag@mail.example.org",
            ),
            (
                "connect to 10.0.3.17:5432 refused",
                "connect to 192.168.1.2:6432 refused",
            ),
            (
                "connect to [fe80::1ff:fe23:4567:890a]:80 refused",
                "connect to [::1]:80 refused",
            ),
            ("bad pointer 0x7ffd5fbff8a8", "bad pointer 0xdeadbeef"),
            (
                "object 3f2a9c1b8d4e not in cache",
                "object 9b2c7e5d1a0f not in cache",
            ),
            ("unknown key 'user_id'", "unknown key 'email'"),
            ("no such table \"orders\"", "no such table \"carts\""),
            (
                "request to https://api.stripe.com/v1/charges?id=1 failed",
                "request to http://localhost:8080/health failed",
            ),
            (
                "job ran at 2026-11-01T12:34:56Z",
                "job ran at 2025-01-02T03:04:05.123+02:00",
            ),
            ("timed out after 150ms", "timed out after 2.5s"),
            ("retrying in 3 minutes", "retrying in 10 seconds"),
            ("load average 0.75", "load average 12.5"),
        ];
        for (a, b) in pairs {
            let (ga, gb) = (group(&message_event(a)), group(&message_event(b)));
            assert_eq!(
                ga.hashes, gb.hashes,
                "{a:?} vs {b:?}: {:?} vs {:?}",
                ga.components, gb.components
            );
            let without_frames =
                |m: &str| with_exceptions(vec![exception("app::Error", m, vec![])]);
            assert_eq!(
                group(&without_frames(a)).hashes,
                group(&without_frames(b)).hashes,
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn messages_with_different_words_are_different_groups() {
        let a = group(&message_event("disk almost full on /var"));
        let b = group(&message_event("certificate expires soon"));
        assert_ne!(a.hashes, b.hashes);
    }

    #[test]
    fn an_exception_without_frames_groups_by_type_and_parameterized_message() {
        let event = with_exceptions(vec![exception(
            "sqlx::Error",
            "pool timed out after 30s while waiting for a connection",
            vec![],
        )]);
        let g = group(&event);
        assert_eq!(
            g.components,
            [
                "type: sqlx::Error",
                "message: pool timed out after <duration> while waiting for a connection"
            ]
        );
        assert_eq!(g.hashes.len(), 1);
        let other = with_exceptions(vec![exception(
            "sqlx::Error",
            "database \"bugle\" does not exist",
            vec![],
        )]);
        assert_ne!(group(&other).hashes, g.hashes);
    }

    #[test]
    fn the_exception_message_is_not_hashed_when_frames_exist() {
        let mut other = django_error(12);
        other.exceptions[0].value = Some("invalid literal for int() with base 16: 'zz'".into());
        assert_eq!(group(&django_error(12)).hashes, group(&other).hashes);
        assert!(group(&other)
            .components
            .iter()
            .all(|c| !c.starts_with("message:")));
    }

    #[test]
    fn a_different_exception_type_is_a_different_group() {
        let mut other = django_error(12);
        other.exceptions[0].ty = "KeyError".into();
        let (a, b) = (group(&django_error(12)), group(&other));
        assert_ne!(a.hashes[0], b.hashes[0]);
        assert_ne!(a.hashes[1], b.hashes[1]);
    }

    #[test]
    fn a_different_cause_in_the_chain_is_a_different_group() {
        let chain = |cause: &str| {
            with_exceptions(vec![
                exception("anyhow::Error", "loading config", rust_panic_frames(31)),
                exception(cause, "No such file or directory (os error 2)", vec![]),
            ])
        };
        let (a, b) = (
            group(&chain("std::io::Error")),
            group(&chain("toml::de::Error")),
        );
        assert_ne!(a.hashes[0], b.hashes[0]);
        assert_eq!(
            a.components.last().unwrap(),
            "message: No such file or directory (os error <int>)"
        );
    }

    #[test]
    fn a_different_in_app_call_path_is_a_different_group() {
        let mut other = django_error(12);
        other.exceptions[0].frames[2].function = Some("update_cart".into());
        let (a, b) = (group(&django_error(12)), group(&other));
        assert_ne!(a.hashes[0], b.hashes[0]);
        assert_ne!(a.hashes[1], b.hashes[1]);
    }

    #[test]
    fn a_change_in_library_frames_keeps_the_in_app_hash() {
        // A Django upgrade renames its internals; the bug in the app is the same.
        let mut upgraded = django_error(12);
        upgraded.exceptions[0].frames[1].function = Some("_get_response_async".into());
        upgraded.exceptions[0].frames.insert(
            0,
            py_frame(
                "asgiref.sync",
                &format!("{VENV}/asgiref/sync.py"),
                "thread_handler",
                522,
                false,
            ),
        );
        let (a, b) = (group(&django_error(12)), group(&upgraded));
        assert_eq!(a.hashes.len(), 2);
        assert_eq!(a.hashes[0], b.hashes[0]);
        assert_ne!(a.hashes[1], b.hashes[1]);
    }

    #[test]
    fn a_change_in_what_counts_as_in_app_still_joins_through_the_all_frames_hash() {
        let mut unmarked = django_error(12);
        for f in &mut unmarked.exceptions[0].frames {
            f.in_app = None;
        }
        let (a, b) = (group(&django_error(12)), group(&unmarked));
        assert_eq!(b.hashes, [a.hashes[1].clone()]);
    }

    #[test]
    fn without_in_app_frames_there_is_only_the_all_frames_hash() {
        let mut event = rust_panic(31);
        for f in &mut event.exceptions[0].frames {
            f.in_app = Some(false);
        }
        let g = group(&event);
        assert_eq!(g.hashes.len(), 1);
        assert_eq!(g.hashes[0], group(&rust_panic(31)).hashes[1]);
    }

    #[test]
    fn hashes_are_hex_sha256_deduplicated_and_never_empty() {
        let mut all_in_app = django_error(12);
        all_in_app.exceptions[0].frames.drain(..2);
        for event in [
            all_in_app,
            message_event(""),
            Event::default(),
            rust_panic(1),
        ] {
            let g = group(&event);
            assert!(!g.hashes.is_empty());
            assert!(g
                .hashes
                .iter()
                .all(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())));
            let mut unique = g.hashes.clone();
            unique.dedup();
            assert_eq!(unique, g.hashes);
        }
    }

    #[test]
    fn symbol_hashes_closure_numbering_and_generic_args_do_not_split_groups() {
        // The same binary built with the v0 symbol mangling, and demangled without hashes.
        let mut v0 = rust_panic(31);
        let functions = [
            "std::rt::lang_start_internal",
            "<tokio::runtime::scheduler::multi_thread::worker::Context>::run",
            "<tokio::runtime::task::harness::Harness<app::main::{closure#0}, alloc::sync::Arc<tokio::runtime::scheduler::multi_thread::handle::Handle>>>::poll",
            "app::main::{closure#0}",
            "app::config::load",
            "<core::result::Result<app::config::Config, std::io::error::Error>>::unwrap",
            "core::result::unwrap_failed",
            "core::panicking::panic_fmt",
            "std::panicking::begin_panic_handler",
        ];
        for (f, name) in v0.exceptions[0].frames.iter_mut().zip(functions) {
            f.function = Some(name.into());
        }
        let (legacy, v0) = (group(&rust_panic(31)), group(&v0));
        assert_eq!(
            legacy.hashes, v0.hashes,
            "{:?}\n{:?}",
            legacy.components, v0.components
        );
        assert_eq!(
            legacy.components,
            [
                "type: panic",
                "frame: src/main.rs in app::main::{closure}",
                "frame: src/config.rs in app::config::load"
            ]
        );
    }

    #[test]
    fn recursion_depth_does_not_split_groups() {
        let walk = |depth: usize| {
            let mut frames = vec![frame("src/main.rs", "app::main", 3, true)];
            frames.extend(
                (0..depth).map(|i| frame("src/tree.rs", "app::tree::walk", 10 + i as u32, true)),
            );
            with_exceptions(vec![exception("panic", "stack overflow", frames)])
        };
        assert_eq!(group(&walk(3)).hashes, group(&walk(250)).hashes);
    }

    #[test]
    fn webpack_bundles_from_different_deploys_are_one_group() {
        let bundle = |hash: &str, host: &str| {
            with_exceptions(vec![exception(
                "TypeError",
                "Cannot read properties of null (reading 'addEventListener')",
                vec![
                    frame(
                        &format!("https://{host}/static/js/vendors.{hash}.js"),
                        "Object.<anonymous>",
                        2,
                        false,
                    ),
                    frame(
                        &format!("https://{host}/static/js/main.{hash}.js?v=3"),
                        "initCart",
                        1,
                        true,
                    ),
                ],
            )])
        };
        let (a, b) = (
            group(&bundle("3f2a9c1b", "shop.example.com")),
            group(&bundle("7d1e4b2a", "cdn.example.net")),
        );
        assert_eq!(a.hashes, b.hashes);
        assert_eq!(
            a.culprit.as_deref(),
            Some("static/js/main.<hash>.js in initCart")
        );
    }

    #[test]
    fn a_client_fingerprint_overrides_the_default_grouping() {
        let fingerprinted = |event: Event| Event {
            fingerprint: Some(vec!["payment-provider-down".into()]),
            ..event
        };
        let (a, b) = (
            group(&fingerprinted(django_error(12))),
            group(&fingerprinted(rust_panic(31))),
        );
        assert_eq!(a.hashes.len(), 1);
        assert_eq!(a.hashes, b.hashes);
        assert_eq!(a.components, ["fingerprint: payment-provider-down"]);
        // Title and culprit still describe the event itself.
        assert_eq!(
            a.title,
            "ValueError: invalid literal for int() with base 10: 'abc'"
        );
    }

    #[test]
    fn default_in_a_client_fingerprint_expands_to_the_default_components() {
        let default = group(&django_error(12));
        for marker in ["{{ default }}", "{{default}}"] {
            let only_default = Event {
                fingerprint: Some(vec![marker.into()]),
                ..django_error(12)
            };
            assert_eq!(
                group(&only_default).hashes,
                [default.hashes[0].clone()],
                "{marker}"
            );

            let per_tenant = |tenant: &str| Event {
                fingerprint: Some(vec![marker.into(), tenant.into()]),
                ..django_error(12)
            };
            let (a, b) = (
                group(&per_tenant("tenant-a")),
                group(&per_tenant("tenant-b")),
            );
            assert_ne!(a.hashes, b.hashes);
            assert_eq!(
                a.components[..default.components.len()],
                default.components[..]
            );
            assert_eq!(a.components.last().unwrap(), "fingerprint: tenant-a");
        }
    }

    #[test]
    fn an_empty_client_fingerprint_is_ignored() {
        let event = Event {
            fingerprint: Some(vec![]),
            ..django_error(12)
        };
        assert_eq!(group(&event), group(&django_error(12)));
    }

    #[test]
    fn the_grouping_version_is_part_of_the_hash() {
        for event in [django_error(12), message_event("disk full"), rust_panic(3)] {
            let (v1, v2) = (group_version(&event, 1), group_version(&event, 2));
            assert_eq!(v1.components, v2.components);
            assert!(v1.hashes.iter().all(|h| !v2.hashes.contains(h)));
            assert_eq!(group(&event), group_version(&event, GROUPING_VERSION));
        }
    }

    #[test]
    fn components_explain_the_group() {
        let g = group(&django_error(12));
        assert_eq!(
            g.components,
            [
                "type: ValueError",
                "frame: app.views in checkout",
                "frame: app.services.payments in charge"
            ]
        );
        let g = group(&message_event("user 42 signed in from 10.0.0.1"));
        assert_eq!(g.components, ["message: user <int> signed in from <ip>"]);
    }

    #[test]
    fn title_and_culprit_for_a_rust_panic() {
        let g = group(&rust_panic(31));
        assert_eq!(
            g.title,
            "panic: called `Result::unwrap()` on an `Err` value: Os { code: 2, kind: NotFound, message: \"No such file or directory\" }"
        );
        assert_eq!(
            g.culprit.as_deref(),
            Some("src/config.rs in app::config::load")
        );
    }

    #[test]
    fn title_and_culprit_for_a_python_error() {
        let g = group(&django_error(12));
        assert_eq!(
            g.title,
            "ValueError: invalid literal for int() with base 10: 'abc'"
        );
        assert_eq!(
            g.culprit.as_deref(),
            Some("app.services.payments in charge")
        );
    }

    #[test]
    fn title_and_culprit_for_a_javascript_error() {
        let g = group(&express_error("/srv/app", "web-1", 7, 10));
        assert_eq!(
            g.title,
            "TypeError: Cannot read properties of undefined (reading 'price')"
        );
        assert_eq!(
            g.culprit.as_deref(),
            Some("src/services/cart.js in CartService.total")
        );
    }

    #[test]
    fn the_culprit_is_the_last_frame_when_none_is_in_app() {
        let mut event = express_error("/srv/app", "web-1", 7, 10);
        event.exceptions[0].frames.truncate(2);
        let g = group(&event);
        assert_eq!(
            g.culprit.as_deref(),
            Some("node_modules/express/lib/router/route.js in next")
        );
    }

    #[test]
    fn the_culprit_comes_from_the_outermost_exception_with_frames() {
        let event = with_exceptions(vec![
            exception("anyhow::Error", "request failed", vec![]),
            exception("hyper::Error", "connection closed", rust_panic_frames(3)),
        ]);
        assert_eq!(
            group(&event).culprit.as_deref(),
            Some("src/config.rs in app::config::load")
        );
        assert_eq!(group(&message_event("disk full")).culprit, None);
        assert_eq!(
            group(&with_exceptions(vec![exception("E", "x", vec![])])).culprit,
            None
        );
    }

    #[test]
    fn the_title_uses_the_client_title_then_the_first_line() {
        let mut event = django_error(12);
        event.title = Some("Checkout failed".into());
        assert_eq!(group(&event).title, "Checkout failed");

        let event = with_exceptions(vec![exception(
            "KeyError",
            "\n'card_token'\nTraceback follows",
            vec![],
        )]);
        assert_eq!(group(&event).title, "KeyError: 'card_token'");

        let mut event = with_exceptions(vec![exception("StopIteration", "", vec![])]);
        assert_eq!(group(&event).title, "StopIteration");
        event.exceptions[0].value = None;
        assert_eq!(group(&event).title, "StopIteration");

        assert_eq!(
            group(&message_event("Disk almost full\nused: 97%")).title,
            "Disk almost full"
        );
    }

    #[test]
    fn a_long_title_is_cut_on_a_char_boundary_to_255_chars() {
        let exactly = "é".repeat(255);
        assert_eq!(group(&message_event(&exactly)).title, exactly);

        let title = group(&message_event(&"é".repeat(300))).title;
        assert_eq!(title.chars().count(), 255);
        assert!(title.ends_with("é…"));
    }

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
    fn parameterize_replaces_variable_parts() {
        let cases = [
            ("user 42 not found", "user <int> not found"),
            ("price -3 is negative", "price -<int> is negative"),
            ("load average 0.75", "load average <float>"),
            ("overflow at 6.02e23", "overflow at <float>"),
            ("upgrade 1.2.3 failed", "upgrade <int>.<int>.<int> failed"),
            (
                "mail to alice@example.com bounced",
                "mail to <email> bounced",
            ),
            (
                "GET https://api.example.com/v1/users/42?x=1 failed.",
                "GET <url> failed.",
            ),
            ("from 10.0.3.17:5432", "from <ip>:<int>"),
            ("from 2001:db8::ff00:42:8329", "from <ip>"),
            ("bound [::1]:8080", "bound [<ip>]:<int>"),
            ("peer fe80::1: reset", "peer <ip>: reset"),
            ("order 3f2a9c1b-8d4e-4f6a-9b2c-7e5d1a0f3c8b", "order <uuid>"),
            ("segfault at 0x7ffd5fbff8a8", "segfault at <hex>"),
            (
                "blob sha256:9f86d081884c7d659a2feaa0c55ad015",
                "blob sha256:<hex>",
            ),
            ("commit 3f2a9c1b8d4e missing", "commit <hex> missing"),
            ("at 2026-11-01T12:34:56.789Z", "at <datetime>"),
            ("at 2026-11-01 12:34", "at <datetime>"),
            ("on 2026-11-01 only", "on <date> only"),
            ("at 12:34:56 sharp", "at <time> sharp"),
            ("took 150ms", "took <duration>"),
            ("took 2.5s", "took <duration>"),
            ("took 1h30m", "took <duration>"),
            ("took 10µs", "took <duration>"),
            ("retry in 3 minutes", "retry in <duration>"),
            ("retry in 5min", "retry in <duration>"),
            ("expires in 2 days", "expires in <duration>"),
            ("unknown key 'user_id'", "unknown key '<quoted>'"),
            ("no table \"orders\"", "no table \"<quoted>\""),
            (
                "called `Option::unwrap()` on a `None` value",
                "called `<quoted>` on a `<quoted>` value",
            ),
            (r#"bad json "a \"b\" c" here"#, "bad json \"<quoted>\" here"),
            ("can't parse 'don't'", "can't parse '<quoted>'"),
            ("users' cart 'x'", "users' cart '<quoted>'"),
        ];
        for (input, expected) in cases {
            assert_eq!(parameterize(input), expected, "{input}");
        }
    }

    #[test]
    fn parameterize_keeps_words_and_identifiers() {
        let unchanged = [
            "invalid utf8 in header",
            "ipv4 only",
            "sha256 mismatch",
            "http2 stream reset",
            "unsupported target x86_64-unknown-linux-gnu",
            "python3.12 not found",
            "v1.2 of the api is gone",
            "3rd retry",
            "i18n bundle missing",
            "failed to resolve std::io::Error",
            "no such field deadbeef",
            "can't connect",
            "a::b::c",
            "Os { code: NotFound }",
            "hex bytes 4d 5e 0a",
            "",
        ];
        for input in unchanged {
            assert_eq!(parameterize(input), input);
        }
    }

    #[test]
    fn parameterize_is_idempotent() {
        let message =
            "user 42 (alice@example.com) from 10.0.0.1 at 2026-11-01T12:34:56Z: 'x' took 150ms";
        let once = parameterize(message);
        assert_eq!(parameterize(&once), once);
    }
}
