//! Values with `*` wildcards, and their translations for SQL and for matching in memory.

/// The escape character of every LIKE pattern made here: callers must write `ESCAPE '\'`
/// (in Rust source: `"ESCAPE '\\'"`), as the store already does for its text search.
pub const LIKE_ESCAPE: char = '\\';

/// One piece of a [`Pattern`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Characters taken as they are (a `*` here was written `\*`).
    Lit(String),
    /// `*`: any run of characters, including none.
    Any,
}

/// A value as typed, with its wildcards kept apart from literal text.
///
/// Normalized so that equal patterns compare equal: no empty literal pieces, adjacent
/// literals merged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Pattern {
    pieces: Vec<Piece>,
}

impl Pattern {
    /// A value without wildcards (a `*` in `s` is a literal star).
    pub fn literal(s: &str) -> Self {
        let mut p = Pattern::default();
        p.push_str(s);
        p
    }

    /// `*` in `s` is a wildcard; there are no escapes (for values from a UI, not a query).
    pub fn wildcard(s: &str) -> Self {
        let mut p = Pattern::default();
        for (i, part) in s.split('*').enumerate() {
            if i > 0 {
                p.push_any();
            }
            p.push_str(part);
        }
        p
    }

    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    pub fn has_wildcards(&self) -> bool {
        self.pieces.contains(&Piece::Any)
    }

    /// The value itself when it has no wildcard: compare it with `=`, which can use an index.
    pub fn as_literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// The text with each wildcard shown as `*` (for messages; ambiguous with a literal `*`).
    pub fn to_plain(&self) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Lit(s) => s.as_str(),
                Piece::Any => "*",
            })
            .collect()
    }

    pub(super) fn push_char(&mut self, c: char) {
        match self.pieces.last_mut() {
            Some(Piece::Lit(s)) => s.push(c),
            _ => self.pieces.push(Piece::Lit(c.to_string())),
        }
    }

    pub(super) fn push_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.push_char(c));
    }

    pub(super) fn push_any(&mut self) {
        self.pieces.push(Piece::Any);
    }

    /// A LIKE pattern matching the whole value: `*` becomes `%`; literal `%`, `_` and `\` are
    /// escaped with [`LIKE_ESCAPE`]. Case is kept: PostgreSQL's LIKE is case-sensitive and
    /// ILIKE is not; SQLite's LIKE ignores ASCII case.
    pub fn to_like(&self) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Any => out.push('%'),
                Piece::Lit(s) => {
                    for c in s.chars() {
                        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
                            out.push(LIKE_ESCAPE);
                        }
                        out.push(c);
                    }
                }
            }
        }
        out
    }

    /// A LIKE pattern matching values that contain this pattern (free text search).
    pub fn to_like_contains(&self) -> String {
        format!("%{}%", self.to_like())
    }

    /// A SQLite GLOB pattern matching the whole value, case-sensitively (GLOB has no ESCAPE
    /// clause: literal `*`, `?` and `[` are written as one-character classes).
    pub fn to_glob(&self) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Any => out.push('*'),
                Piece::Lit(s) => {
                    for c in s.chars() {
                        match c {
                            '*' | '?' | '[' => {
                                out.push('[');
                                out.push(c);
                                out.push(']');
                            }
                            _ => out.push(c),
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether the whole of `value` matches, case-sensitively (a value filter in memory).
    pub fn matches(&self, value: &str) -> bool {
        let pat = self.chars(false);
        let text: Vec<char> = value.chars().collect();
        glob_match(&pat, &text)
    }

    /// Whether `haystack` contains a match, ignoring case (free text in memory).
    pub fn found_in(&self, haystack: &str) -> bool {
        let mut pat = vec![None];
        pat.extend(self.chars(true));
        pat.push(None);
        let text: Vec<char> = haystack.chars().flat_map(char::to_lowercase).collect();
        glob_match(&pat, &text)
    }

    /// The pattern as characters, `None` for a wildcard.
    fn chars(&self, lowercase: bool) -> Vec<Option<char>> {
        let mut out = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Any => out.push(None),
                Piece::Lit(s) if lowercase => {
                    out.extend(s.chars().flat_map(char::to_lowercase).map(Some))
                }
                Piece::Lit(s) => out.extend(s.chars().map(Some)),
            }
        }
        out
    }
}

/// Wildcard matching without recursion: on a mismatch, let the last `*` swallow one more
/// character. Worst case O(pattern × text), never exponential.
fn glob_match(pat: &[Option<char>], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(None) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Some(c)) if *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(Option::is_none)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_escapes_sql_wildcards_and_the_escape_char() {
        let mut p = Pattern::literal("100%_a\\b");
        p.push_any();
        p.push_str("*x");
        assert_eq!(p.to_like(), "100\\%\\_a\\\\b%*x");
        assert_eq!(p.to_like_contains(), "%100\\%\\_a\\\\b%*x%");
        assert_eq!(Pattern::wildcard("Firefox 1*").to_like(), "Firefox 1%");
    }

    #[test]
    fn glob_brackets_glob_specials() {
        let mut p = Pattern::literal("a*?[]");
        p.push_any();
        assert_eq!(p.to_glob(), "a[*][?][[]]*");
    }

    #[test]
    fn literal_and_normalization() {
        assert_eq!(Pattern::literal("abc").as_literal(), Some("abc"));
        assert_eq!(Pattern::wildcard("a*").as_literal(), None);
        assert_eq!(Pattern::wildcard("ab"), Pattern::literal("ab"));
        assert!(Pattern::literal("").is_empty());
        assert_eq!(Pattern::wildcard("**").pieces(), &[Piece::Any, Piece::Any]);
    }

    #[test]
    fn matching_in_memory() {
        let p = Pattern::wildcard("Firefox 1*");
        assert!(p.matches("Firefox 1"));
        assert!(p.matches("Firefox 123.0"));
        assert!(!p.matches("firefox 123"));
        assert!(!p.matches("Firefox 2"));
        assert!(Pattern::wildcard("*Timeout").matches("ReadTimeout"));
        assert!(!Pattern::wildcard("*Timeout").matches("Timeouts"));
        assert!(Pattern::wildcard("a*b*c").matches("aXbYbc"));
        assert!(!Pattern::wildcard("a*b*c").matches("aXbYb"));
        assert!(Pattern::literal("a*").matches("a*"));
        assert!(!Pattern::literal("a*").matches("ab"));
        assert!(Pattern::wildcard("*").matches(""));
        assert!(Pattern::wildcard("timeout*db").found_in("Read TIMEOUT on db1"));
        assert!(!Pattern::literal("timeout").found_in("time out"));
        assert!(Pattern::literal("日本").found_in("エラー日本語"));
    }
}
