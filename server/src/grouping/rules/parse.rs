//! The rules text to [`Rules`]: one line at a time, one token at a time, stopping at the first
//! error with its line and column (1-based, in characters).

use crate::event::Level;

use super::matching::{
    EventField, EventMatcher, FrameMatcher, FrameTest, Glob, Piece, Template, Var,
};
use super::{
    Conditions, FingerprintRule, FrameAction, RuleError, Rules, StackRule, MAX_RULES,
    MAX_TEXT_BYTES,
};

const KEYS: &str = "error.type, error.value, message, level, environment, platform, language, \
    tags.NAME, stack.function, stack.module, stack.package, stack.abs_path, stack.filename, \
    stack.path, app";
const VARIABLES: &str = "default, error.type, error.value, message, stack.function, \
    stack.module, level, tags.NAME";
const EXPECTED_END: &str =
    "expected \"->\" and a fingerprint, or an action (+app, -app, +group, -group)";
const NEEDS_MATCHER: &str = "a rule needs at least one matcher";

pub(super) fn parse(text: &str) -> Result<Rules, RuleError> {
    if text.len() > MAX_TEXT_BYTES {
        let (line, column) = position_of_byte(text, MAX_TEXT_BYTES);
        return Err(RuleError {
            line,
            column,
            message: format!(
                "the rules are too long: at most {} KB",
                MAX_TEXT_BYTES / 1024
            ),
        });
    }
    let mut rules = Rules {
        source: text.to_owned(),
        ..Rules::default()
    };
    let mut count = 0;
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let mut p = Line::new(line, i + 1);
        p.skip_spaces();
        if p.at_end() {
            continue;
        }
        count += 1;
        if count > MAX_RULES {
            return Err(p.error(p.pos, format!("too many rules: at most {MAX_RULES}")));
        }
        match p.rule()? {
            Parsed::Fingerprint(rule) => rules.fingerprint_rules.push(rule),
            Parsed::Stack(rule) => rules.stack_rules.push(rule),
        }
    }
    Ok(rules)
}

/// The line and column of the char that holds byte `at` (which must be inside `text`).
fn position_of_byte(text: &str, at: usize) -> (usize, usize) {
    let mut at = at;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

enum Parsed {
    Fingerprint(FingerprintRule),
    Stack(StackRule),
}

enum Matcher {
    Event(EventMatcher),
    Frame(FrameMatcher),
}

/// A cursor over the chars of one line.
struct Line {
    chars: Vec<char>,
    pos: usize,
    line: usize,
}

impl Line {
    fn new(text: &str, line: usize) -> Line {
        Line {
            chars: text.chars().collect(),
            pos: 0,
            line,
        }
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> RuleError {
        RuleError {
            line: self.line,
            column: pos + 1,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_is(&self, s: &str) -> bool {
        let mut rest = self.chars[self.pos..].iter();
        s.chars().all(|c| rest.next() == Some(&c))
    }

    fn at_space(&self) -> bool {
        self.peek().is_some_and(char::is_whitespace)
    }

    fn skip_spaces(&mut self) {
        while self.at_space() {
            self.pos += 1;
        }
    }

    /// At the end of the line or of what it says: called at the start of a token, where `#`
    /// starts a comment.
    fn at_end(&self) -> bool {
        matches!(self.peek(), None | Some('#'))
    }

    /// The chars up to the next space, without moving.
    fn peek_word(&self) -> String {
        self.chars[self.pos..]
            .iter()
            .take_while(|c| !c.is_whitespace())
            .collect()
    }

    fn negation_hint(&self, token: usize, word: &str) -> RuleError {
        self.error(
            token,
            format!(
                "unknown action {word:?} (to negate a matcher, write !{})",
                &word[1..]
            ),
        )
    }

    /// The chars up to the next space.
    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| !c.is_whitespace()) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn rule(&mut self) -> Result<Parsed, RuleError> {
        let line = self.line;
        let mut conditions = Conditions {
            event: Vec::new(),
            frame: Vec::new(),
        };
        // A matcher value holding "->", as `type:Foo->x`, for the hint when the rule ends.
        let mut glued_arrow = false;
        loop {
            self.skip_spaces();
            let token = self.pos;
            let has_matcher = !conditions.event.is_empty() || !conditions.frame.is_empty();
            if self.at_end() {
                let hint = if glued_arrow {
                    " (put spaces around \"->\")"
                } else {
                    ""
                };
                return Err(self.error(token, format!("{EXPECTED_END}{hint}")));
            }
            if self.peek_is("->") {
                if !has_matcher {
                    return Err(self.error(token, NEEDS_MATCHER));
                }
                self.pos += 2;
                let (values, title) = self.fingerprint()?;
                return Ok(Parsed::Fingerprint(FingerprintRule {
                    line,
                    conditions,
                    values,
                    title,
                }));
            }
            if matches!(self.peek(), Some('+' | '-')) {
                let word = self.peek_word();
                if word.starts_with('-') && word.contains(':') {
                    return Err(self.negation_hint(token, &word));
                }
                if !has_matcher {
                    return Err(self.error(token, NEEDS_MATCHER));
                }
                let action = self.actions()?;
                return Ok(Parsed::Stack(StackRule { conditions, action }));
            }
            if !self.chars[token..]
                .iter()
                .take_while(|c| !c.is_whitespace())
                .any(|c| *c == ':')
            {
                let word = self.word();
                return Err(if has_matcher {
                    self.error(token, EXPECTED_END)
                } else {
                    self.error(
                        token,
                        format!("expected a matcher such as error.type:ValueError, found {word:?}"),
                    )
                });
            }
            let value_start = self.pos;
            match self.matcher()? {
                Matcher::Event(m) => conditions.event.push(m),
                Matcher::Frame(m) => conditions.frame.push(m),
            }
            glued_arrow |= self.chars[value_start..self.pos]
                .windows(2)
                .any(|w| w == ['-', '>']);
        }
    }

    /// `!`? key `:` value, at a token that holds a `:`.
    fn matcher(&mut self) -> Result<Matcher, RuleError> {
        let negate = self.peek() == Some('!');
        if negate {
            self.pos += 1;
        }
        let key_start = self.pos;
        while self.peek() != Some(':') {
            self.pos += 1;
        }
        let key: String = self.chars[key_start..self.pos].iter().collect();
        if key.is_empty() {
            return Err(self.error(key_start, "expected a matcher key before \":\""));
        }
        self.pos += 1;
        let value_start = self.pos;
        let value = self.value(&format!("{key}:"))?;
        let event = |field, glob| -> Result<Matcher, RuleError> {
            Ok(Matcher::Event(EventMatcher {
                field,
                negate,
                glob,
            }))
        };
        let frame = |test| -> Result<Matcher, RuleError> {
            Ok(Matcher::Frame(FrameMatcher { test, negate }))
        };
        let path = |value: &str| Glob::path(value).map_err(|e| self.error(value_start, e));
        match key.as_str() {
            "error.type" => event(EventField::ErrorType, Glob::text(&value, false)),
            "error.value" => event(EventField::ErrorValue, Glob::text(&value, true)),
            "message" => event(EventField::Message, Glob::text(&value, true)),
            "level" => {
                let pattern = if value.contains(['*', '?']) {
                    value
                } else {
                    match value.parse::<Level>() {
                        Ok(level) => level.as_str().to_owned(),
                        Err(e) => return Err(self.error(value_start, e.to_string())),
                    }
                };
                event(EventField::Level, Glob::text(&pattern, false))
            }
            "environment" => event(EventField::Environment, Glob::text(&value, false)),
            "platform" | "language" => event(EventField::Platform, Glob::text(&value, false)),
            "stack.function" => frame(FrameTest::Function(Glob::text(&value, false))),
            "stack.module" | "stack.package" => frame(FrameTest::Module(Glob::text(&value, false))),
            "stack.abs_path" => frame(FrameTest::AbsPath(path(&value)?)),
            "stack.filename" => frame(FrameTest::Filename(path(&value)?)),
            "stack.path" => frame(FrameTest::Path(path(&value)?)),
            "app" => match value.to_ascii_lowercase().as_str() {
                "yes" | "true" => frame(FrameTest::App(true)),
                "no" | "false" => frame(FrameTest::App(false)),
                _ => Err(self.error(
                    value_start,
                    format!("expected app:yes or app:no, found {value:?}"),
                )),
            },
            _ => match key
                .strip_prefix("tags.")
                .or_else(|| key.strip_prefix("tag."))
            {
                Some("") => Err(self.error(
                    key_start + key.chars().count(),
                    format!("expected a tag name after {key:?}"),
                )),
                Some(name) => event(EventField::Tag(name.to_owned()), Glob::text(&value, false)),
                None => Err(self.error(
                    key_start,
                    format!("unknown matcher key {key:?} (expected {KEYS})"),
                )),
            },
        }
    }

    /// A matcher's value: quoted, or up to the next space. `after` names what it follows.
    fn value(&mut self, after: &str) -> Result<String, RuleError> {
        match self.peek() {
            None => Err(self.error(self.pos, format!("missing value after {after:?}"))),
            Some(c) if c.is_whitespace() => {
                Err(self.error(self.pos, format!("missing value after {after:?}")))
            }
            Some('"') => {
                let open = self.pos;
                self.pos += 1;
                let mut value = String::new();
                loop {
                    match self.peek() {
                        None => return Err(self.error(open, "unterminated quote")),
                        Some('"') => break,
                        Some('\\') => value.push(self.escaped()),
                        Some(c) => {
                            value.push(c);
                            self.pos += 1;
                        }
                    }
                }
                self.pos += 1;
                self.expect_space_after_quote()?;
                Ok(value)
            }
            Some(_) => Ok(self.word()),
        }
    }

    /// At a `\`: `\"` and `\\` are the char escaped, any other backslash is itself.
    fn escaped(&mut self) -> char {
        match self.chars.get(self.pos + 1) {
            Some(&c @ ('"' | '\\')) => {
                self.pos += 2;
                c
            }
            _ => {
                self.pos += 1;
                '\\'
            }
        }
    }

    fn expect_space_after_quote(&self) -> Result<(), RuleError> {
        if self.peek().is_some_and(|c| !c.is_whitespace()) {
            return Err(self.error(self.pos, "expected a space after the closing quote"));
        }
        Ok(())
    }

    /// Actions, from the first one to the end of the line.
    fn actions(&mut self) -> Result<FrameAction, RuleError> {
        let mut action = FrameAction::default();
        loop {
            self.skip_spaces();
            if self.at_end() {
                return Ok(action);
            }
            let token = self.pos;
            let word = self.word();
            let (slot, value) = match word.as_str() {
                "+app" => (&mut action.in_app, true),
                "-app" => (&mut action.in_app, false),
                "+group" => (&mut action.group, true),
                "-group" => (&mut action.group, false),
                w if w.starts_with("->") => {
                    return Err(self.error(
                        token,
                        "a rule is either a fingerprint rule (->) or a stack rule \
                         (+app, -app, +group, -group), not both",
                    ))
                }
                w if w.starts_with('-') && w.contains(':') => {
                    return Err(self.negation_hint(token, w))
                }
                w if w.contains(':') => {
                    return Err(self.error(token, "matchers come before the actions"))
                }
                w => {
                    return Err(self.error(
                        token,
                        format!("unknown action {w:?} (expected +app, -app, +group or -group)"),
                    ))
                }
            };
            if *slot == Some(!value) {
                let kind = &word[1..];
                return Err(self.error(token, format!("conflicting actions +{kind} and -{kind}")));
            }
            *slot = Some(value);
        }
    }

    /// After `->`: the values, then the attributes.
    fn fingerprint(&mut self) -> Result<(Vec<Template>, Option<Template>), RuleError> {
        self.skip_spaces();
        if self.at_end() {
            return Err(self.error(self.pos, "expected a fingerprint after \"->\""));
        }
        if self.peek_is("title=") {
            return Err(self.error(self.pos, "expected a fingerprint before the title"));
        }
        let mut values = Vec::new();
        loop {
            values.push(self.template(false)?);
            self.skip_spaces();
            if self.peek() != Some(',') {
                break;
            }
            self.pos += 1;
            self.skip_spaces();
            if self.at_end() {
                return Err(self.error(self.pos, "expected a fingerprint value after \",\""));
            }
        }
        let mut title = None;
        loop {
            self.skip_spaces();
            if self.at_end() {
                return Ok((values, title));
            }
            if !self.at_attribute() {
                return Err(self.error(
                    self.pos,
                    if title.is_some() {
                        "expected the end of the rule after the title (quote a title with \
                         spaces: title=\"...\")"
                    } else {
                        "expected \",\" and another fingerprint value, or title=\"...\""
                    },
                ));
            }
            let name_start = self.pos;
            let name = self.attribute_name();
            match name.as_str() {
                "title" if title.is_some() => {
                    return Err(self.error(name_start, "the title is given twice"))
                }
                "title" => title = Some(self.template(true)?),
                _ => {
                    return Err(self.error(
                        name_start,
                        format!("unknown attribute {name:?} (expected title)"),
                    ))
                }
            }
        }
    }

    /// At `name=` (letters and `_`).
    fn at_attribute(&self) -> bool {
        let name = self.chars[self.pos..]
            .iter()
            .take_while(|c| c.is_ascii_alphabetic() || **c == '_')
            .count();
        name > 0 && self.chars.get(self.pos + name) == Some(&'=')
    }

    /// The name of the attribute at the cursor; consumes the `=`.
    fn attribute_name(&mut self) -> String {
        let start = self.pos;
        while self.peek() != Some('=') {
            self.pos += 1;
        }
        let name = self.chars[start..self.pos].iter().collect();
        self.pos += 1;
        name
    }

    /// A fingerprint value (or the title): text, quoted text and variables, up to a space or
    /// a comma outside quotes.
    fn template(&mut self, title: bool) -> Result<Template, RuleError> {
        let start = self.pos;
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut default_at = None;
        let mut var = |p: &mut Line, text: &mut String, pieces: &mut Vec<Piece>| {
            let open = p.pos;
            let v = p.variable()?;
            if v == Var::Default {
                if title {
                    return Err(p.error(open, "{{ default }} cannot be used in a title"));
                }
                default_at = Some(open);
            }
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(text)));
            }
            pieces.push(Piece::Var(v));
            Ok(())
        };
        loop {
            match self.peek() {
                None | Some(',') => break,
                Some(c) if c.is_whitespace() => break,
                Some('{') if self.peek_is("{{") => var(self, &mut text, &mut pieces)?,
                Some('"') => {
                    let open = self.pos;
                    self.pos += 1;
                    loop {
                        match self.peek() {
                            None => return Err(self.error(open, "unterminated quote")),
                            Some('"') => break,
                            Some('\\') => text.push(self.escaped()),
                            Some('{') if self.peek_is("{{") => {
                                var(self, &mut text, &mut pieces)?;
                            }
                            Some(c) => {
                                text.push(c);
                                self.pos += 1;
                            }
                        }
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let what = if title {
            "the title"
        } else {
            "a fingerprint value"
        };
        if self.pos == start {
            return Err(if title {
                self.error(start, "missing value after \"title=\"")
            } else {
                self.error(start, "expected a fingerprint value")
            });
        }
        if pieces.is_empty() {
            return Err(self.error(start, format!("{what} cannot be empty")));
        }
        if let Some(open) = default_at.filter(|_| pieces.len() > 1) {
            return Err(self.error(open, "{{ default }} must be a fingerprint value of its own"));
        }
        Ok(Template(pieces))
    }

    /// `{{ name }}` at the cursor.
    fn variable(&mut self) -> Result<Var, RuleError> {
        let open = self.pos;
        self.pos += 2;
        self.skip_spaces();
        let name_start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && c != '}' && c != '"')
        {
            self.pos += 1;
        }
        let name: String = self.chars[name_start..self.pos].iter().collect();
        self.skip_spaces();
        if name.is_empty() {
            return Err(self.error(open, "expected a variable name after \"{{\""));
        }
        if !self.peek_is("}}") {
            return Err(self.error(self.pos, "expected \"}}\" to close the variable"));
        }
        self.pos += 2;
        Ok(match name.as_str() {
            "default" => Var::Default,
            "error.type" => Var::ErrorType,
            "error.value" => Var::ErrorValue,
            "message" => Var::Message,
            "stack.function" => Var::StackFunction,
            "stack.module" => Var::StackModule,
            "level" => Var::Level,
            _ => match name
                .strip_prefix("tags.")
                .or_else(|| name.strip_prefix("tag."))
            {
                Some(tag) if !tag.is_empty() => Var::Tag(tag.to_owned()),
                _ => {
                    return Err(self.error(
                        open,
                        format!("unknown variable {{{{ {name} }}}} (expected {VARIABLES})"),
                    ))
                }
            },
        })
    }
}
