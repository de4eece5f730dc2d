//! The canonical text of a query: what the dashboard writes back into the search box. It
//! parses back to the same [`Query`]; quotes only where the parser needs them.

use std::fmt::{self, Display, Formatter, Write};

use chrono::SecondsFormat;

use super::ast::*;
use super::parse::builtin;
use super::pattern::{Pattern, Piece};

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}

impl Display for Term {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_char('!')?;
        }
        write!(f, "{}", self.filter)
    }
}

impl Display for Filter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Status(s) => write!(f, "is:{}", s.as_str()),
            Filter::Assigned(who) => {
                f.write_str("assigned:")?;
                list(f, who, |f, a| match a {
                    Assignee::Me => f.write_str("me"),
                    Assignee::Nobody => f.write_str("none"),
                    Assignee::Email(e) => value(f, &Pattern::literal(e)),
                })
            }
            Filter::Level(LevelMatch::AnyOf(levels)) => {
                f.write_str("level:")?;
                list(f, levels, |f, l| f.write_str(l.as_str()))
            }
            Filter::Level(LevelMatch::Cmp(op, l)) => write!(f, "level:{}{l}", op.as_query()),
            Filter::Field(field, values) => {
                write!(f, "{}:", field.as_str())?;
                list(f, values, value)
            }
            Filter::Release(values) => {
                f.write_str("release:")?;
                list(f, values, |f, v| match v {
                    ReleaseValue::Latest => f.write_str("latest"),
                    ReleaseValue::Pattern(p)
                        if p.as_literal()
                            .is_some_and(|s| s.eq_ignore_ascii_case("latest")) =>
                    {
                        quoted(f, p)
                    }
                    ReleaseValue::Pattern(p) => value(f, p),
                })
            }
            Filter::Tag(key, values) => {
                tag_key(f, key)?;
                f.write_char(':')?;
                list(f, values, value)
            }
            Filter::Time(field, t) => {
                f.write_str(match field {
                    TimeField::FirstSeen => "firstSeen:",
                    TimeField::LastSeen => "lastSeen:",
                })?;
                write!(f, "{t}")
            }
            Filter::TimesSeen(op, n) => write!(f, "timesSeen:{}{n}", op.as_query()),
            Filter::Has(HasKey::Field(field)) => write!(f, "has:{}", field.as_str()),
            Filter::Has(HasKey::Release) => f.write_str("has:release"),
            Filter::Has(HasKey::Tag(key)) => {
                f.write_str("has:")?;
                tag_key(f, key)
            }
            Filter::Text(p) => text(f, p),
        }
    }
}

impl Display for TimeValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            TimeValue::Within(ago) => write!(f, "-{ago}"),
            TimeValue::OlderThan(ago) => write!(f, "+{ago}"),
            TimeValue::At(op, Timestamp::Date(d)) => {
                write!(f, "{}{}", op.as_query(), d.format("%Y-%m-%d"))
            }
            TimeValue::At(op, Timestamp::DateTime(t)) => write!(
                f,
                "{}{}",
                op.as_query(),
                t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            ),
        }
    }
}

impl Display for Ago {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.as_str())
    }
}

/// A tag's key; `tags[key]` when the name would otherwise be read as a built-in key.
fn tag_key(f: &mut Formatter<'_>, key: &str) -> fmt::Result {
    if builtin(key).is_some() {
        write!(f, "tags[{key}]")
    } else {
        f.write_str(key)
    }
}

/// One value, or `[a,b]` for several.
fn list<T>(
    f: &mut Formatter<'_>,
    items: &[T],
    mut one: impl FnMut(&mut Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    if let [item] = items {
        return one(f, item);
    }
    f.write_char('[')?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        one(f, item)?;
    }
    f.write_char(']')
}

/// A value after `key:`, quoted when it would otherwise end early, start a list or a
/// comparison, or be empty.
fn value(f: &mut Formatter<'_>, p: &Pattern) -> fmt::Result {
    let plain = p.to_plain();
    let needs_quotes = plain.is_empty()
        || plain.starts_with(['<', '>', '['])
        || plain.contains(|c: char| c.is_whitespace() || matches!(c, '"' | ',' | ']'));
    if needs_quotes {
        quoted(f, p)
    } else {
        escaped(f, p)
    }
}

/// Free text, quoted when bare it would read as a key, a negation or several words.
fn text(f: &mut Formatter<'_>, p: &Pattern) -> fmt::Result {
    let plain = p.to_plain();
    let needs_quotes = plain.is_empty()
        || plain.starts_with('!')
        || plain.contains(|c: char| c.is_whitespace() || matches!(c, '"' | ':' | '['));
    if needs_quotes {
        quoted(f, p)
    } else {
        escaped(f, p)
    }
}

fn quoted(f: &mut Formatter<'_>, p: &Pattern) -> fmt::Result {
    f.write_char('"')?;
    escaped(f, p)?;
    f.write_char('"')
}

/// The pattern's text with `"`, `\` and literal `*` escaped.
fn escaped(f: &mut Formatter<'_>, p: &Pattern) -> fmt::Result {
    for piece in p.pieces() {
        match piece {
            Piece::Any => f.write_char('*')?,
            Piece::Lit(s) => {
                for c in s.chars() {
                    if matches!(c, '"' | '\\' | '*') {
                        f.write_char('\\')?;
                    }
                    f.write_char(c)?;
                }
            }
        }
    }
    Ok(())
}
