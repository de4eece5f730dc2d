//! The compiled form of rules and how it is matched: globs, matchers, fingerprint templates.

use regex::Regex;

use crate::event::{Event, Frame};

use super::MAX_RULES;

/// A compiled glob. The common shapes (`exact`, `prefix*`, `*suffix`, `*inner*`) are plain string
/// comparisons; path globs with wildcards become a regex (two kinds of star), other globs a
/// token list matched by backtracking over one kind of star.
#[derive(Clone, Debug)]
pub(super) enum Glob {
    Any,
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    /// `**/name`: the path is `name` or ends with `/name` (the second string).
    InDir(String, String),
    /// `**/dir/**`: the path starts with `dir/` or holds `/dir/` (the second string); in
    /// general `**/x**`: starts with `x` or holds `/x`.
    UnderDir(String, String),
    /// `*` matches anything; chars are lowercased when `fold`.
    Wild {
        tokens: Vec<Token>,
        fold: bool,
    },
    Path(Regex),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
    Char(char),
    One,
    Star,
}

impl Glob {
    /// A glob where `*` matches anything; `fold` ignores case.
    pub(super) fn text(pattern: &str, fold: bool) -> Glob {
        let mut tokens: Vec<Token> = Vec::new();
        for c in pattern.chars() {
            let token = match c {
                '*' => Token::Star,
                '?' => Token::One,
                c if fold => Token::Char(lower(c)),
                c => Token::Char(c),
            };
            if !(token == Token::Star && tokens.last() == Some(&Token::Star)) {
                tokens.push(token);
            }
        }
        if tokens == [Token::Star] {
            return Glob::Any;
        }
        if fold || tokens.contains(&Token::One) {
            return Glob::Wild { tokens, fold };
        }
        let lead = tokens.first() == Some(&Token::Star);
        let trail = tokens.len() > 1 && tokens.last() == Some(&Token::Star);
        let inner = &tokens[usize::from(lead)..tokens.len() - usize::from(trail)];
        if inner.contains(&Token::Star) {
            return Glob::Wild { tokens, fold };
        }
        let literal: String = inner
            .iter()
            .map(|t| match t {
                Token::Char(c) => *c,
                _ => unreachable!("only chars are left"),
            })
            .collect();
        match (lead, trail) {
            (false, false) => Glob::Exact(literal),
            (false, true) => Glob::Prefix(literal),
            (true, false) => Glob::Suffix(literal),
            (true, true) => Glob::Contains(literal),
        }
    }

    /// A glob over `/`-separated paths: `*` and `?` stop at `/`, `**` crosses it, `**/` may
    /// match no directory.
    pub(super) fn path(pattern: &str) -> Result<Glob, String> {
        let pieces = path_pieces(pattern);
        use PathPiece::{AnyDirs, Anything, Lit};
        // The shapes rules are mostly made of, without a regex.
        let glob = match pieces.as_slice() {
            [] => Glob::Exact(String::new()),
            [Lit(l)] => Glob::Exact(l.clone()),
            [Anything] => Glob::Any,
            [Lit(l), Anything] => Glob::Prefix(l.clone()),
            [Anything, Lit(l)] => Glob::Suffix(l.clone()),
            [Anything, Lit(l), Anything] => Glob::Contains(l.clone()),
            [AnyDirs, Lit(l)] => Glob::InDir(l.clone(), format!("/{l}")),
            [AnyDirs, Lit(l), Anything] => Glob::UnderDir(l.clone(), format!("/{l}")),
            _ => {
                let mut re = String::from("(?s)^");
                for piece in &pieces {
                    match piece {
                        Lit(l) => re.push_str(&regex::escape(l)),
                        PathPiece::One => re.push_str("[^/]"),
                        PathPiece::Star => re.push_str("[^/]*"),
                        Anything => re.push_str(".*"),
                        AnyDirs => re.push_str("(?:.*/)?"),
                    }
                }
                re.push('$');
                Regex::new(&re)
                    .map(Glob::Path)
                    .map_err(|_| "this pattern is too complex".to_owned())?
            }
        };
        Ok(glob)
    }

    pub(super) fn matches(&self, s: &str) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(p) => s == p,
            Glob::Prefix(p) => s.starts_with(p.as_str()),
            Glob::Suffix(p) => s.ends_with(p.as_str()),
            Glob::Contains(p) => s.contains(p.as_str()),
            Glob::InDir(name, slash_name) => s == name || s.ends_with(slash_name.as_str()),
            Glob::UnderDir(dir, slash_dir) => {
                s.starts_with(dir.as_str()) || s.contains(slash_dir.as_str())
            }
            Glob::Wild { tokens, fold } => wild_match(tokens, s, *fold),
            Glob::Path(re) => re.is_match(s),
        }
    }
}

/// A path glob, read: literal runs and the four kinds of wildcard.
#[derive(Debug, PartialEq, Eq)]
enum PathPiece {
    Lit(String),
    /// `?`: one char but `/`.
    One,
    /// `*`: chars but `/`.
    Star,
    /// `**`: any chars.
    Anything,
    /// `**/` at the start or after a `/`: any directories, or none.
    AnyDirs,
}

fn path_pieces(pattern: &str) -> Vec<PathPiece> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '*' && c != '?' {
            literal.push(c);
            i += 1;
            continue;
        }
        if !literal.is_empty() {
            pieces.push(PathPiece::Lit(std::mem::take(&mut literal)));
        }
        if c == '?' {
            pieces.push(PathPiece::One);
            i += 1;
            continue;
        }
        let mut end = i;
        while end < chars.len() && chars[end] == '*' {
            end += 1;
        }
        if end - i == 1 {
            pieces.push(PathPiece::Star);
        } else if (i == 0 || chars[i - 1] == '/') && chars.get(end) == Some(&'/') {
            pieces.push(PathPiece::AnyDirs);
            end += 1;
        } else {
            pieces.push(PathPiece::Anything);
        }
        i = end;
    }
    if !literal.is_empty() {
        pieces.push(PathPiece::Lit(literal));
    }
    pieces
}

/// Simple per-character lowercase (the first char of a multi-char lowercase).
fn lower(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// Greedy glob match with one backtrack point, correct because every `*` matches anything:
/// on a mismatch, the last star takes one more char.
fn wild_match(tokens: &[Token], s: &str, fold: bool) -> bool {
    let (mut t, mut i) = (0, 0);
    // The token after the last star, and where in `s` that star's match currently ends.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if tokens.get(t) == Some(&Token::Star) {
            t += 1;
            star = Some((t, i));
            continue;
        }
        let c = s[i..].chars().next();
        let advanced = match (tokens.get(t), c) {
            (None, None) => return true,
            (Some(Token::One), Some(c)) => Some(c),
            (Some(Token::Char(p)), Some(c)) if *p == c || (fold && *p == lower(c)) => Some(c),
            _ => None,
        };
        if let Some(c) = advanced {
            t += 1;
            i += c.len_utf8();
            continue;
        }
        let Some((after, end)) = star else {
            return false;
        };
        let Some(c) = s[end..].chars().next() else {
            return false;
        };
        star = Some((after, end + c.len_utf8()));
        t = after;
        i = end + c.len_utf8();
    }
}

/// An event-level field a matcher reads.
#[derive(Clone, Debug)]
pub(super) enum EventField {
    ErrorType,
    ErrorValue,
    Message,
    Level,
    Environment,
    /// The event's platform or its language.
    Platform,
    Tag(String),
}

#[derive(Clone, Debug)]
pub(super) struct EventMatcher {
    pub(super) field: EventField,
    pub(super) negate: bool,
    pub(super) glob: Glob,
}

impl EventMatcher {
    pub(super) fn matches(&self, event: &Event) -> bool {
        let g = &self.glob;
        let some = |v: Option<&str>| v.is_some_and(|v| g.matches(v));
        let hit = match &self.field {
            EventField::ErrorType => event.exceptions.iter().any(|e| g.matches(&e.ty)),
            EventField::ErrorValue => event.exceptions.iter().any(|e| some(e.value.as_deref())),
            EventField::Message => some(message(event)),
            EventField::Level => g.matches(event.level().as_str()),
            EventField::Environment => some(event.environment.as_deref()),
            EventField::Platform => {
                some(event.platform.as_deref()) || some(event.language.as_deref())
            }
            EventField::Tag(name) => some(event.tags.get(name).map(String::as_str)),
        };
        hit != self.negate
    }
}

/// A frame-level test.
#[derive(Clone, Debug)]
pub(super) enum FrameTest {
    Function(Glob),
    Module(Glob),
    AbsPath(Glob),
    Filename(Glob),
    /// `abs_path` or `filename`.
    Path(Glob),
    App(bool),
}

#[derive(Clone, Debug)]
pub(super) struct FrameMatcher {
    pub(super) test: FrameTest,
    pub(super) negate: bool,
}

impl FrameMatcher {
    /// `in_app` is asked only by `app:`, and only then.
    pub(super) fn matches(&self, frame: &Frame, in_app: &impl Fn() -> bool) -> bool {
        let some = |g: &Glob, v: &Option<String>| v.as_deref().is_some_and(|v| g.matches(v));
        let hit = match &self.test {
            FrameTest::Function(g) => some(g, &frame.function),
            FrameTest::Module(g) => some(g, &frame.module),
            FrameTest::AbsPath(g) => some(g, &frame.abs_path),
            FrameTest::Filename(g) => some(g, &frame.filename),
            FrameTest::Path(g) => some(g, &frame.abs_path) || some(g, &frame.filename),
            FrameTest::App(yes) => in_app() == *yes,
        };
        hit != self.negate
    }

    pub(super) fn reads_app(&self) -> bool {
        matches!(self.test, FrameTest::App(_))
    }
}

/// The event's message, or the outermost exception's value when it has none.
fn message(event: &Event) -> Option<&str> {
    event
        .message
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .or_else(|| event.exceptions.first()?.value.as_deref())
}

/// A `{{ ... }}` in a fingerprint or title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Var {
    Default,
    ErrorType,
    ErrorValue,
    Message,
    StackFunction,
    StackModule,
    Level,
    Tag(String),
}

/// What `{{ default }}` stays as, for the grouping code to expand.
pub(super) const DEFAULT_MARKER: &str = "{{ default }}";

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Piece {
    Text(String),
    Var(Var),
}

/// A fingerprint value or title: text and variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Template(pub(super) Vec<Piece>);

impl Template {
    pub(super) fn expand(&self, event: &Event) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(v) => out.push_str(var_value(v, event).unwrap_or_default()),
            }
        }
        out
    }
}

fn var_value<'e>(var: &Var, event: &'e Event) -> Option<&'e str> {
    let innermost = || event.exceptions.iter().find_map(|e| e.frames.last());
    match var {
        Var::Default => Some(DEFAULT_MARKER),
        Var::ErrorType => event.exceptions.first().map(|e| e.ty.as_str()),
        Var::ErrorValue => event.exceptions.first()?.value.as_deref(),
        Var::Message => message(event),
        Var::StackFunction => innermost()?.function.as_deref(),
        Var::StackModule => innermost()?.module.as_deref(),
        Var::Level => Some(event.level().as_str()),
        Var::Tag(name) => event.tags.get(name).map(String::as_str),
    }
}

const WORDS: usize = MAX_RULES.div_ceil(64);

/// Which stack rules apply to an event: a fixed set, so preparing an event allocates nothing.
#[derive(Clone, Debug, Default)]
pub(super) struct Bits([u64; WORDS]);

impl Bits {
    pub(super) fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    pub(super) fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }
}
