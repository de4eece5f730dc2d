//! Words to terms: which key means what, and what each key accepts.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::ast::*;
use super::error::QueryError;
use super::lexer::{is_key_char, Cursor, Value, Word};

type Result<T> = std::result::Result<T, QueryError>;

/// What a built-in key takes.
#[derive(Debug, Clone, Copy)]
pub(super) enum Builtin {
    Status,
    Assigned,
    Level,
    Field(Field),
    Release,
    Time(TimeField),
    TimesSeen,
    Has,
}

/// Spellings of the built-in keys, compared ignoring ASCII case (so `firstSeen`, `firstseen`
/// and `first_seen` are one key). Any other key is a tag.
const BUILTINS: &[(&str, Builtin)] = &[
    ("is", Builtin::Status),
    ("assigned", Builtin::Assigned),
    ("level", Builtin::Level),
    ("environment", Builtin::Field(Field::Environment)),
    ("host", Builtin::Field(Field::Host)),
    ("service", Builtin::Field(Field::Service)),
    ("trace", Builtin::Field(Field::Trace)),
    ("user.id", Builtin::Field(Field::UserId)),
    ("user.email", Builtin::Field(Field::UserEmail)),
    ("url", Builtin::Field(Field::Url)),
    ("message", Builtin::Field(Field::Message)),
    ("release", Builtin::Release),
    ("firstSeen", Builtin::Time(TimeField::FirstSeen)),
    ("first_seen", Builtin::Time(TimeField::FirstSeen)),
    ("age", Builtin::Time(TimeField::FirstSeen)),
    ("lastSeen", Builtin::Time(TimeField::LastSeen)),
    ("last_seen", Builtin::Time(TimeField::LastSeen)),
    ("timesSeen", Builtin::TimesSeen),
    ("times_seen", Builtin::TimesSeen),
    ("has", Builtin::Has),
];

pub(super) fn builtin(name: &str) -> Option<Builtin> {
    BUILTINS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, b)| b)
}

const STATUSES: &str = "unresolved, resolved, ignored, regressed, new, assigned or unassigned";
const HAS_FIELDS: &str = "environment, release, host, service, trace, user.id, user.email, url \
                          or message";
const TIME_FORMS: &str = "a relative time (-24h, +7d) or a date (2026-11-01, 2026-11-01T12:00:00Z)";

pub fn parse(input: &str) -> Result<Query> {
    let mut c = Cursor::new(input);
    let mut terms = Vec::new();
    loop {
        c.skip_ws();
        if c.peek().is_none() {
            return Ok(Query { terms });
        }
        terms.push(term(&mut c)?);
    }
}

fn term(c: &mut Cursor) -> Result<Term> {
    let start = c.pos;
    let negated = c.eat('!');
    if negated && c.at_boundary() {
        return Err(QueryError::new(start, c.pos, "expected a term after `!`"));
    }
    if negated && c.peek() == Some('!') {
        return Err(QueryError::new(
            start,
            c.pos + 1,
            "negate a term with a single `!`",
        ));
    }
    let filter = match key(c)? {
        Some(k) => filter(c, &k)?,
        None => {
            let w = c.word()?;
            if w.pattern.is_empty() {
                return Err(QueryError::new(w.start, w.end, "empty search text"));
            }
            Filter::Text(w.pattern)
        }
    };
    Ok(Term { negated, filter })
}

/// A key and its colon, as written.
struct KeyTok {
    name: String,
    /// Written `tags[name]`: a tag even if the name is a built-in key.
    forced_tag: bool,
}

impl KeyTok {
    /// The key as the user wrote it, colon included, for messages.
    fn label(&self) -> String {
        if self.forced_tag {
            format!("tags[{}]:", self.name)
        } else {
            format!("{}:", self.name)
        }
    }
}

/// `name:` or `tags[name]:` at the cursor, consumed; `None` (nothing consumed) for free text.
fn key(c: &mut Cursor) -> Result<Option<KeyTok>> {
    let start = c.pos;
    if c.starts_with("tags[") {
        c.pos += "tags[".len();
        let name_start = c.pos;
        c.pos = c.key_run_end();
        let name = c.slice(name_start, c.pos);
        match c.peek() {
            Some(']') if !name.is_empty() => c.pos += 1,
            Some(']') => {
                return Err(QueryError::new(
                    start,
                    c.pos + 1,
                    "expected a tag name inside `tags[]`",
                ))
            }
            Some(ch) if !ch.is_whitespace() => {
                return Err(QueryError::new(
                    c.pos,
                    c.pos + 1,
                    format!("`{ch}` cannot be part of a tag name (letters, digits, `_ - . /`)"),
                ))
            }
            _ => {
                return Err(QueryError::new(
                    start,
                    c.pos,
                    "unterminated `tags[` (expected `]`)",
                ))
            }
        }
        if !c.eat(':') {
            let end = if c.peek().is_some() { c.pos + 1 } else { c.pos };
            return Err(QueryError::new(
                c.pos,
                end,
                format!("expected `:` after `tags[{name}]`"),
            ));
        }
        return Ok(Some(KeyTok {
            name,
            forced_tag: true,
        }));
    }
    let end = c.key_run_end();
    if end > start && c.peek_at(end) == Some(':') {
        let name = c.slice(start, end);
        c.pos = end + 1;
        return Ok(Some(KeyTok {
            name,
            forced_tag: false,
        }));
    }
    Ok(None)
}

/// The value after `key:`, read as that key's type.
fn filter(c: &mut Cursor, k: &KeyTok) -> Result<Filter> {
    let label = k.label();
    let kind = if k.forced_tag { None } else { builtin(&k.name) };
    if c.at_boundary() {
        // Likely pasted text ("TypeError: x") rather than a tag.
        let hint = match kind {
            None => " (to search for text with a `:`, quote it)",
            Some(_) => "",
        };
        return Err(QueryError::new(
            c.pos,
            c.pos,
            format!("expected a value after `{label}`{hint}"),
        ));
    }
    let op = comparison(c);
    if let Some((op, start, end)) = op {
        match kind {
            Some(Builtin::Level | Builtin::Time(_) | Builtin::TimesSeen) => {}
            Some(Builtin::Status | Builtin::Assigned | Builtin::Has) => {
                return Err(QueryError::new(
                    start,
                    end,
                    format!("`{label}` takes no comparisons"),
                ))
            }
            _ => {
                return Err(QueryError::new(
                    start,
                    end,
                    format!(
                        "`{label}` takes no comparisons (quote the value to search for one \
                         starting with `{}`)",
                        op.as_sql()
                    ),
                ))
            }
        }
        if c.at_boundary() {
            return Err(QueryError::new(
                c.pos,
                c.pos,
                format!("expected a value after `{label}{}`", op.as_sql()),
            ));
        }
        if c.peek() == Some('[') {
            return Err(QueryError::new(
                c.pos,
                c.pos + 1,
                "a comparison takes one value, not a list",
            ));
        }
    }
    let value = c.value()?;
    // For issues without a value, `!has:` is the way; an empty value is a mistake.
    let has_hint = format!(
        " (for issues without one, use `!has:{}`)",
        &label[..label.len() - 1]
    );
    Ok(match kind {
        Some(Builtin::Status) => Filter::Status(status(&single(value, &label)?, &label)?),
        Some(Builtin::Assigned) => Filter::Assigned(
            words(value)
                .iter()
                .map(|w| assignee(w, &label))
                .collect::<Result<_>>()?,
        ),
        Some(Builtin::Level) => Filter::Level(match op {
            Some((op, ..)) => LevelMatch::Cmp(op, level(&single(value, &label)?, &label)?),
            None => LevelMatch::AnyOf(
                words(value)
                    .iter()
                    .map(|w| level(w, &label))
                    .collect::<Result<_>>()?,
            ),
        }),
        // Trace ids are indexed lowercase without dashes (`event::trace_key`): so is a typed one.
        Some(Builtin::Field(Field::Trace)) => Filter::Field(
            Field::Trace,
            patterns(value, &label, &has_hint)?
                .into_iter()
                .map(|p| match p.as_literal().and_then(crate::event::trace_key) {
                    Some(key) => super::Pattern::literal(&key),
                    None => p,
                })
                .collect(),
        ),
        Some(Builtin::Field(f)) => Filter::Field(f, patterns(value, &label, &has_hint)?),
        Some(Builtin::Release) => Filter::Release(
            words(value)
                .into_iter()
                .map(|w| {
                    nonempty(&w, &label, &has_hint)?;
                    let latest = !w.quoted
                        && w.pattern
                            .as_literal()
                            .is_some_and(|s| s.eq_ignore_ascii_case("latest"));
                    Ok(if latest {
                        ReleaseValue::Latest
                    } else {
                        ReleaseValue::Pattern(w.pattern)
                    })
                })
                .collect::<Result<_>>()?,
        ),
        Some(Builtin::Time(field)) => {
            Filter::Time(field, time(op, &single(value, &label)?, &label)?)
        }
        Some(Builtin::TimesSeen) => {
            let (op, n) = (
                op.map_or(Cmp::Eq, |o| o.0),
                count(&single(value, &label)?, k)?,
            );
            Filter::TimesSeen(op, n)
        }
        Some(Builtin::Has) => Filter::Has(has(&single(value, &label)?, &label)?),
        None => Filter::Tag(k.name.clone(), patterns(value, &label, &has_hint)?),
    })
}

/// `>=`, `<=`, `>` or `<` at the cursor, consumed, with its span.
fn comparison(c: &mut Cursor) -> Option<(Cmp, usize, usize)> {
    let start = c.pos;
    let (op, len) = [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
    ]
    .into_iter()
    .find(|(s, _)| c.starts_with(s))
    .map(|(s, op)| (op, s.len()))?;
    c.pos += len;
    Some((op, start, c.pos))
}

fn single(value: Value, label: &str) -> Result<Word> {
    match value {
        Value::One(w) => Ok(w),
        Value::List { start, end, .. } => Err(QueryError::new(
            start,
            end,
            format!("`{label}` takes no lists"),
        )),
    }
}

fn words(value: Value) -> Vec<Word> {
    match value {
        Value::One(w) => vec![w],
        Value::List { items, .. } => items,
    }
}

fn nonempty(w: &Word, label: &str, hint: &str) -> Result<()> {
    if w.pattern.is_empty() {
        return Err(QueryError::new(
            w.start,
            w.end,
            format!("empty value after `{label}`{hint}"),
        ));
    }
    Ok(())
}

fn patterns(value: Value, label: &str, hint: &str) -> Result<Vec<super::Pattern>> {
    words(value)
        .into_iter()
        .map(|w| nonempty(&w, label, hint).map(|()| w.pattern))
        .collect()
}

fn status(w: &Word, label: &str) -> Result<Status> {
    nonempty(w, label, "")?;
    Ok(match w.text().to_ascii_lowercase().as_str() {
        "unresolved" => Status::Unresolved,
        "resolved" => Status::Resolved,
        "ignored" | "archived" => Status::Ignored,
        "regressed" => Status::Regressed,
        "new" => Status::New,
        "assigned" => Status::Assigned,
        "unassigned" => Status::Unassigned,
        _ => {
            return Err(QueryError::new(
                w.start,
                w.end,
                format!(
                    "unknown status `{}` for `{label}` (expected {STATUSES})",
                    w.text()
                ),
            ))
        }
    })
}

fn assignee(w: &Word, label: &str) -> Result<Assignee> {
    nonempty(w, label, "")?;
    let text = w.text();
    if w.pattern.has_wildcards() {
        return Err(QueryError::new(
            w.start,
            w.end,
            format!("`{label}` takes no wildcards"),
        ));
    }
    Ok(match text.to_ascii_lowercase().as_str() {
        "me" => Assignee::Me,
        "none" => Assignee::Nobody,
        _ if text.contains('@') => Assignee::Email(text),
        _ => {
            return Err(QueryError::new(
                w.start,
                w.end,
                format!("`{label}` takes me, none or an email address, got `{text}`"),
            ))
        }
    })
}

fn level(w: &Word, label: &str) -> Result<Level> {
    nonempty(w, label, "")?;
    // The ingest spellings (`fatal`, `warn`, ...) so a level means the same here as in events.
    w.text().parse().map_err(|_| {
        QueryError::new(
            w.start,
            w.end,
            format!(
                "unknown level `{}` (expected debug, info, warning, error or critical)",
                w.text()
            ),
        )
    })
}

fn count(w: &Word, k: &KeyTok) -> Result<u64> {
    let text = w.text();
    let name = &k.name;
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError::new(
            w.start,
            w.end,
            format!("`{name}` needs a number, got `{text}`"),
        ));
    }
    // At most i64::MAX, so the count binds as a SQL BIGINT.
    text.parse::<i64>().map(|n| n as u64).map_err(|_| {
        QueryError::new(
            w.start,
            w.end,
            format!("`{name}` number `{text}` is too large"),
        )
    })
}

fn has(w: &Word, label: &str) -> Result<HasKey> {
    nonempty(w, label, "")?;
    let text = w.text();
    let bad = || {
        QueryError::new(
            w.start,
            w.end,
            format!("`{label}` takes a tag or field name ({HAS_FIELDS}), got `{text}`"),
        )
    };
    let valid = |s: &str| !s.is_empty() && s.chars().all(is_key_char);
    if w.pattern.has_wildcards() {
        return Err(bad());
    }
    if let Some(tag) = text.strip_prefix("tags[").and_then(|r| r.strip_suffix(']')) {
        return if valid(tag) {
            Ok(HasKey::Tag(tag.to_owned()))
        } else {
            Err(bad())
        };
    }
    if !valid(&text) {
        return Err(bad());
    }
    match builtin(&text) {
        Some(Builtin::Field(f)) => Ok(HasKey::Field(f)),
        Some(Builtin::Release) => Ok(HasKey::Release),
        Some(_) => Err(bad()),
        None => Ok(HasKey::Tag(text)),
    }
}

fn time(op: Option<(Cmp, usize, usize)>, w: &Word, label: &str) -> Result<TimeValue> {
    nonempty(w, label, "")?;
    let text = w.text();
    let err = |reason: String| QueryError::new(w.start, w.end, reason);
    let (sign, body) = match text.chars().next() {
        Some(s @ ('-' | '+')) => (Some(s), &text[1..]),
        _ => (None, text.as_str()),
    };
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    let (amount, unit) = body.split_at(digits);
    let relative = digits > 0 && unit.chars().all(|c| c.is_ascii_alphabetic());
    match sign {
        Some(sign) if relative => {
            if let Some((_, start, _)) = op {
                return Err(QueryError::new(
                    start,
                    w.end,
                    "a relative time takes no comparison: -24h is within the last 24 hours, \
                     +24h longer ago",
                ));
            }
            let unit = match unit {
                "m" => TimeUnit::Minutes,
                "h" => TimeUnit::Hours,
                "d" => TimeUnit::Days,
                "w" => TimeUnit::Weeks,
                "" => {
                    return Err(err(format!(
                        "missing time unit in `{text}` (expected m, h, d or w)"
                    )))
                }
                _ => {
                    return Err(err(format!(
                        "unknown time unit `{unit}` in `{text}` (expected m, h, d or w)"
                    )))
                }
            };
            let ago = amount
                .parse::<u64>()
                .ok()
                .filter(|&n| i64::try_from(n).is_ok_and(|n| n.checked_mul(unit.millis()).is_some()))
                .map(|amount| Ago { amount, unit })
                .ok_or_else(|| err(format!("relative time `{text}` is too long")))?;
            Ok(if sign == '-' {
                TimeValue::Within(ago)
            } else {
                TimeValue::OlderThan(ago)
            })
        }
        None if relative && !unit.is_empty() => Err(err(format!(
            "`{label}` needs `-` or `+` before a relative time: -{text} is within the last \
             {amount}{unit}, +{text} longer ago"
        ))),
        None => match timestamp(&text) {
            Some(at) => Ok(TimeValue::At(op.map_or(Cmp::Eq, |o| o.0), at)),
            None => Err(err(format!("`{label}` needs {TIME_FORMS}, got `{text}`"))),
        },
        Some(_) => Err(err(format!("`{label}` needs {TIME_FORMS}, got `{text}`"))),
    }
}

/// `2026-11-01`, RFC 3339, or an RFC 3339 date-time without offset (taken as UTC).
fn timestamp(s: &str) -> Option<Timestamp> {
    if let Some(d) = date(s) {
        return Some(Timestamp::Date(d));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(Timestamp::DateTime(t));
    }
    // chrono's `%Y`, `%H`... take any number of digits; keep to RFC 3339's fixed widths.
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = s.get(..10).and_then(date).is_some()
        && matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && (b.len() == 16 || (b.get(16) == Some(&b':') && digits(17..19)));
    if !shape {
        return None;
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .into_iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
        .map(|t| Timestamp::DateTime(t.and_utc().fixed_offset()))
}

/// Exactly `YYYY-MM-DD`.
fn date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape {
        return None;
    }
    NaiveDate::from_ymd_opt(
        s[..4].parse().ok()?,
        s[5..7].parse().ok()?,
        s[8..].parse().ok()?,
    )
}
