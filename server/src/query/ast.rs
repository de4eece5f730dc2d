//! What a parsed query means, typed so that compiling it to SQL is a `match` per filter.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};

pub use crate::event::Level;

use super::pattern::Pattern;

/// Every level, lowest first (the order `level:>=warning` compares in).
pub const LEVELS: [Level; 5] = [
    Level::Debug,
    Level::Info,
    Level::Warning,
    Level::Error,
    Level::Critical,
];

/// A whole query: its terms, all of which must hold. No terms: everything matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
}

/// One filter, possibly negated (`!key:value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub negated: bool,
    pub filter: Filter,
}

/// A condition on an issue. Lists (`Vec`s) are never empty and mean "any of"; negated, "none
/// of".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `is:unresolved`
    Status(Status),
    /// `assigned:me`, `assigned:[me,none]`
    Assigned(Vec<Assignee>),
    /// `level:error`, `level:>=warning`, `level:[error,fatal]`
    Level(LevelMatch),
    /// `environment:prod`, `url:"*/checkout"`, ...: the whole value matches a pattern.
    Field(Field, Vec<Pattern>),
    /// `release:latest`, `release:1.2.*`
    Release(Vec<ReleaseValue>),
    /// Any other `key:value`, or `tags[key]:value`: a tag's value matches a pattern.
    Tag(String, Vec<Pattern>),
    /// `firstSeen:-24h`, `lastSeen:>2026-11-01` (`age:` is `firstSeen:`).
    Time(TimeField, TimeValue),
    /// `timesSeen:>100`: the occurrence count.
    TimesSeen(Cmp, u64),
    /// `has:key`: the field or tag is set.
    Has(HasKey),
    /// A word or quoted phrase found (case-insensitively) in title, message or culprit.
    Text(Pattern),
}

/// Which terms [`Query::set`] and [`Query::without`] replace or remove together.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Status,
    Assigned,
    Level,
    Environment,
    Release,
    Host,
    Service,
    Trace,
    UserId,
    UserEmail,
    Url,
    Message,
    FirstSeen,
    LastSeen,
    TimesSeen,
    Has,
    Tag(String),
    Text,
}

/// Built-in fields whose values are plain strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Environment,
    Host,
    Service,
    Trace,
    UserId,
    UserEmail,
    Url,
    /// The event message (the issue title); unlike free text, the whole value must match.
    Message,
}

/// `is:` values. Intended meanings for the store (`status` column values in quotes):
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 'unresolved' or 'regressed' (a regression is unresolved again), as the default view.
    Unresolved,
    /// 'resolved'
    Resolved,
    /// 'ignored' (Sentry's newer word, `archived`, is accepted too)
    Ignored,
    /// 'regressed'
    Regressed,
    /// Unresolved and first seen within [`Status::NEW_WINDOW_MS`] (Sentry's "new").
    New,
    /// Has an assignee.
    Assigned,
    /// Has no assignee.
    Unassigned,
}

impl Status {
    /// How recent a first occurrence keeps an issue `is:new`: 7 days.
    pub const NEW_WINDOW_MS: i64 = 7 * 86_400_000;
}

/// `assigned:` values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Assignee {
    /// The user running the search (an alert rule has none: the caller decides).
    Me,
    /// No assignee.
    Nobody,
    /// The user with this email address (compare case-insensitively).
    Email(String),
}

/// `level:` conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelMatch {
    /// `level:error` (one) or `level:[error,fatal]`.
    AnyOf(Vec<Level>),
    /// `level:>=warning`. The parser never makes `Cmp::Eq` here (that is `AnyOf` of one).
    Cmp(Cmp, Level),
}

impl LevelMatch {
    pub fn matches(&self, level: Level) -> bool {
        match self {
            LevelMatch::AnyOf(levels) => levels.contains(&level),
            LevelMatch::Cmp(op, bound) => op.holds(&level, bound),
        }
    }

    /// The levels that match, lowest first: `level IN (...)` in SQL.
    pub fn levels(&self) -> Vec<Level> {
        LEVELS.into_iter().filter(|l| self.matches(*l)).collect()
    }
}

/// `release:` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseValue {
    /// `release:latest`: the project's most recent release (the store decides which that is).
    /// A release literally named "latest" is written quoted: `release:"latest"`.
    Latest,
    Pattern(Pattern),
}

/// What `has:` asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HasKey {
    Field(Field),
    Release,
    Tag(String),
}

/// A comparison; the value is on the left (`timesSeen:>100`: count > 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    /// The operator as SQL writes it.
    pub fn as_sql(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
        }
    }

    /// The operator as a query writes it (equality has none: `timesSeen:5`).
    pub fn as_query(self) -> &'static str {
        match self {
            Cmp::Eq => "",
            other => other.as_sql(),
        }
    }

    /// Whether `value <op> bound`.
    pub fn holds<T: Ord>(self, value: &T, bound: &T) -> bool {
        match self {
            Cmp::Eq => value == bound,
            Cmp::Gt => value > bound,
            Cmp::Ge => value >= bound,
            Cmp::Lt => value < bound,
            Cmp::Le => value <= bound,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeField {
    /// `issues.first_seen`
    FirstSeen,
    /// `issues.last_seen`
    LastSeen,
}

/// A time condition, kept as written: relative times resolve against a `now` given later
/// ([`TimeValue::range`]), so a saved search or an alert rule stays relative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeValue {
    /// `-24h`: within the last 24 hours.
    Within(Ago),
    /// `+24h`: longer ago than 24 hours.
    OlderThan(Ago),
    /// `>2026-11-01`, `<=2026-11-01T12:00:00Z`, `2026-11-01` (`Cmp::Eq`: that whole day).
    At(Cmp, Timestamp),
}

/// A relative time as written: `amount` `unit`s before now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ago {
    pub amount: u64,
    pub unit: TimeUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Minutes,
    Hours,
    Days,
    Weeks,
}

impl TimeUnit {
    pub fn millis(self) -> i64 {
        match self {
            TimeUnit::Minutes => 60_000,
            TimeUnit::Hours => 3_600_000,
            TimeUnit::Days => 86_400_000,
            TimeUnit::Weeks => 7 * 86_400_000,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TimeUnit::Minutes => "m",
            TimeUnit::Hours => "h",
            TimeUnit::Days => "d",
            TimeUnit::Weeks => "w",
        }
    }
}

impl Ago {
    /// The length in milliseconds (the parser rejects lengths that overflow; saturates here).
    pub fn millis(self) -> i64 {
        i64::try_from(self.amount)
            .unwrap_or(i64::MAX)
            .saturating_mul(self.unit.millis())
    }
}

/// An absolute time: a calendar day (UTC) or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamp {
    Date(NaiveDate),
    DateTime(DateTime<FixedOffset>),
}

/// Unix milliseconds `t` with `start <= t < end`; `None`: unbounded on that side. Both bounds
/// are inclusive-start / exclusive-end so SQL is always `col >= ? AND col < ?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl TimeRange {
    pub fn contains(&self, t: i64) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t < e)
    }
}

impl TimeValue {
    /// The absolute range, in unix milliseconds, given the current time `now_ms`.
    ///
    /// A date is a whole UTC day: `>2026-11-01` starts on 2 November, `<=2026-11-01` ends with
    /// 1 November, `2026-11-01` is that day. An instant is one millisecond.
    pub fn range(&self, now_ms: i64) -> TimeRange {
        let from = |s: i64| TimeRange {
            start: Some(s),
            end: None,
        };
        let until = |e: i64| TimeRange {
            start: None,
            end: Some(e),
        };
        match *self {
            TimeValue::Within(ago) => from(now_ms.saturating_sub(ago.millis())),
            TimeValue::OlderThan(ago) => until(now_ms.saturating_sub(ago.millis())),
            TimeValue::At(op, at) => {
                let (first, next) = match at {
                    Timestamp::Date(d) => {
                        let ms = d.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
                        (ms, ms.saturating_add(86_400_000))
                    }
                    Timestamp::DateTime(t) => {
                        let ms = t.timestamp_millis();
                        (ms, ms.saturating_add(1))
                    }
                };
                match op {
                    Cmp::Eq => TimeRange {
                        start: Some(first),
                        end: Some(next),
                    },
                    Cmp::Gt => from(next),
                    Cmp::Ge => from(first),
                    Cmp::Lt => until(first),
                    Cmp::Le => until(next),
                }
            }
        }
    }
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Environment,
        Field::Host,
        Field::Service,
        Field::Trace,
        Field::UserId,
        Field::UserEmail,
        Field::Url,
        Field::Message,
    ];

    /// The key as a query writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Environment => "environment",
            Field::Host => "host",
            Field::Service => "service",
            Field::Trace => "trace",
            Field::UserId => "user.id",
            Field::UserEmail => "user.email",
            Field::Url => "url",
            Field::Message => "message",
        }
    }
}

impl From<Field> for Key {
    fn from(f: Field) -> Key {
        match f {
            Field::Environment => Key::Environment,
            Field::Host => Key::Host,
            Field::Service => Key::Service,
            Field::Trace => Key::Trace,
            Field::UserId => Key::UserId,
            Field::UserEmail => Key::UserEmail,
            Field::Url => Key::Url,
            Field::Message => Key::Message,
        }
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unresolved => "unresolved",
            Status::Resolved => "resolved",
            Status::Ignored => "ignored",
            Status::Regressed => "regressed",
            Status::New => "new",
            Status::Assigned => "assigned",
            Status::Unassigned => "unassigned",
        }
    }
}

impl Filter {
    pub fn key(&self) -> Key {
        match self {
            Filter::Status(_) => Key::Status,
            Filter::Assigned(_) => Key::Assigned,
            Filter::Level(_) => Key::Level,
            Filter::Field(f, _) => (*f).into(),
            Filter::Release(_) => Key::Release,
            Filter::Tag(k, _) => Key::Tag(k.clone()),
            Filter::Time(TimeField::FirstSeen, _) => Key::FirstSeen,
            Filter::Time(TimeField::LastSeen, _) => Key::LastSeen,
            Filter::TimesSeen(..) => Key::TimesSeen,
            Filter::Has(_) => Key::Has,
            Filter::Text(_) => Key::Text,
        }
    }

    /// `level:<level>`
    pub fn level(level: Level) -> Filter {
        Filter::Level(LevelMatch::AnyOf(vec![level]))
    }

    /// `<field>:<value>`, the value taken literally (a drop-down's choice).
    pub fn field(field: Field, value: &str) -> Filter {
        Filter::Field(field, vec![Pattern::literal(value)])
    }

    /// `release:<value>`, taken literally (even "latest": use `ReleaseValue::Latest` for that).
    pub fn release(value: &str) -> Filter {
        Filter::Release(vec![ReleaseValue::Pattern(Pattern::literal(value))])
    }

    /// `<key>:<value>` for a tag, the value taken literally.
    pub fn tag(key: &str, value: &str) -> Filter {
        Filter::Tag(key.to_owned(), vec![Pattern::literal(value)])
    }
}

impl From<Filter> for Term {
    fn from(filter: Filter) -> Term {
        Term {
            negated: false,
            filter,
        }
    }
}

impl Term {
    pub fn key(&self) -> Key {
        self.filter.key()
    }

    /// The same filter, negated.
    pub fn not(filter: Filter) -> Term {
        Term {
            negated: true,
            filter,
        }
    }
}

impl Query {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms on `key`, in query order (to preselect a drop-down).
    pub fn get<'a>(&'a self, key: &'a Key) -> impl Iterator<Item = &'a Term> + 'a {
        self.terms.iter().filter(move |t| t.key() == *key)
    }

    /// Makes `term` the only one on its key: it takes the place of the first term on that key
    /// (so a drop-down does not reorder the query) or goes last.
    pub fn set(&mut self, term: Term) {
        let key = term.key();
        let mut term = Some(term);
        let mut terms = Vec::with_capacity(self.terms.len() + 1);
        for t in self.terms.drain(..) {
            if t.key() != key {
                terms.push(t);
            } else if let Some(new) = term.take() {
                terms.push(new);
            }
        }
        terms.extend(term);
        self.terms = terms;
    }

    /// Removes every term on `key`.
    pub fn remove(&mut self, key: &Key) {
        self.terms.retain(|t| t.key() != *key);
    }

    /// [`Query::set`], by value.
    pub fn with(mut self, term: impl Into<Term>) -> Query {
        self.set(term.into());
        self
    }

    /// [`Query::remove`], by value.
    pub fn without(mut self, key: &Key) -> Query {
        self.remove(key);
        self
    }
}
