//! Characters to words: quoting, escapes, wildcards and lists. Positions are char indexes.

use super::error::QueryError;
use super::pattern::Pattern;

/// One value or free-text word, with its wildcards resolved.
#[derive(Debug, Clone)]
pub(super) struct Word {
    pub pattern: Pattern,
    pub quoted: bool,
    pub start: usize,
    pub end: usize,
}

impl Word {
    /// The text as typed minus quotes and escapes (wildcards shown as `*`).
    pub fn text(&self) -> String {
        self.pattern.to_plain()
    }
}

/// What follows `key:` (after any comparison operator).
#[derive(Debug)]
pub(super) enum Value {
    One(Word),
    List {
        items: Vec<Word>,
        start: usize,
        end: usize,
    },
}

/// Characters allowed in keys and tag names.
pub(super) fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

pub(super) struct Cursor {
    chars: Vec<char>,
    pub pos: usize,
}

type Result<T> = std::result::Result<T, QueryError>;

impl Cursor {
    pub fn new(input: &str) -> Self {
        Cursor {
            chars: input.chars().collect(),
            pos: 0,
        }
    }

    pub fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    pub fn peek_at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    pub fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(self.pos + i) == Some(c))
    }

    /// End of input or whitespace: where a term ends.
    pub fn at_boundary(&self) -> bool {
        self.peek().is_none_or(char::is_whitespace)
    }

    pub fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// The index just past a run of key characters starting at the cursor.
    pub fn key_run_end(&self) -> usize {
        let mut i = self.pos;
        while self.peek_at(i).is_some_and(is_key_char) {
            i += 1;
        }
        i
    }

    pub fn slice(&self, start: usize, end: usize) -> String {
        self.chars[start..end].iter().collect()
    }

    /// After a quote or list closes, the term must end.
    fn expect_boundary(&self, what: &str) -> Result<()> {
        if self.at_boundary() {
            Ok(())
        } else {
            Err(QueryError::new(
                self.pos,
                self.pos + 1,
                format!("expected a space after {what}"),
            ))
        }
    }

    /// A term-level word: quoted, or bare up to whitespace.
    pub fn word(&mut self) -> Result<Word> {
        if self.peek() == Some('"') {
            let w = self.quoted()?;
            self.expect_boundary("the closing quote")?;
            Ok(w)
        } else {
            self.bare(|_| false)
        }
    }

    /// A value: a word or a `[a, b]` list.
    pub fn value(&mut self) -> Result<Value> {
        if self.peek() != Some('[') {
            return Ok(Value::One(self.word()?));
        }
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            let item_start = self.pos;
            match self.peek() {
                None => return Err(unterminated_list(start, self.pos)),
                Some(']') if items.is_empty() => {
                    return Err(QueryError::new(start, self.pos + 1, "empty list"))
                }
                Some(',' | ']') => {
                    return Err(QueryError::new(
                        item_start,
                        item_start + 1,
                        "empty value in list",
                    ))
                }
                Some('"') => items.push(self.quoted()?),
                Some(_) => items.push(self.bare(|c| c == ',' || c == ']')?),
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(unterminated_list(start, self.pos)),
                Some(_) => {
                    return Err(QueryError::new(
                        self.pos,
                        self.pos + 1,
                        "expected `,` or `]` in list",
                    ))
                }
            }
        }
        let end = self.pos;
        self.expect_boundary("`]`")?;
        Ok(Value::List { items, start, end })
    }

    /// `"..."` with `\"`, `\\` and `\*` escapes; any other backslash is itself.
    fn quoted(&mut self) -> Result<Word> {
        let start = self.pos;
        self.pos += 1;
        let mut pattern = Pattern::default();
        loop {
            match self.peek() {
                None => {
                    return Err(QueryError::new(start, self.pos, "unterminated quote"));
                }
                Some('"') => {
                    self.pos += 1;
                    break;
                }
                Some(c) => self.char_into(c, &mut pattern),
            }
        }
        Ok(Word {
            pattern,
            quoted: true,
            start,
            end: self.pos,
        })
    }

    /// Unquoted text up to whitespace or a `stop` character; same escapes as quotes.
    fn bare(&mut self, stop: fn(char) -> bool) -> Result<Word> {
        let start = self.pos;
        let mut pattern = Pattern::default();
        while let Some(c) = self.peek().filter(|&c| !c.is_whitespace() && !stop(c)) {
            if c == '"' {
                return Err(QueryError::new(
                    self.pos,
                    self.pos + 1,
                    "unexpected `\"` inside a word (quote the whole value, and write `\\\"` \
                     for a literal quote)",
                ));
            }
            self.char_into(c, &mut pattern);
        }
        Ok(Word {
            pattern,
            quoted: false,
            start,
            end: self.pos,
        })
    }

    /// Consumes one character (or an escape pair) into `pattern`.
    fn char_into(&mut self, c: char, pattern: &mut Pattern) {
        self.pos += 1;
        match c {
            '*' => pattern.push_any(),
            '\\' => match self.peek() {
                Some(e @ ('"' | '\\' | '*')) => {
                    self.pos += 1;
                    pattern.push_char(e);
                }
                _ => pattern.push_char('\\'),
            },
            _ => pattern.push_char(c),
        }
    }
}

fn unterminated_list(start: usize, end: usize) -> QueryError {
    QueryError::new(start, end, "unterminated list (expected `]`)")
}
