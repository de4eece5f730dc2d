//! The one search language (issue list, JSON API, saved searches, alert filters).
//!
//! Sentry's issue search, as people type it:
//! `is:unresolved level:>=warning release:latest browser:Firefox !environment:staging "timeout"`.
//! [`parse`] turns it into a typed [`Query`]; `Display` writes the canonical text back (it
//! parses to the same `Query`), and [`Query::set`] / [`Query::without`] let drop-downs edit
//! one filter. Nothing here touches the database: the store compiles a `Query` to SQL, and
//! [`Query::matches`] evaluates one in memory (alert rules), with the same meaning.
//!
//! # Grammar
//! ```text
//! query   = ws* (term (ws+ term)*)? ws*        every term must hold (AND; no OR, no parens)
//! term    = "!"? (key ":" op? value | word)    "!" negates
//! key     = name | "tags[" name "]"            name: letters, digits, _ - . /
//! op      = ">=" | "<=" | ">" | "<"            only for level, times and timesSeen
//! value   = word | "[" word ("," word)* "]"    a list means any of (not for is, has,
//!                                              times, timesSeen; no comparison with a list)
//! word    = quoted | bare
//! quoted  = " (char | escape)* "               may hold spaces
//! bare    = (char | escape)+                   up to whitespace (and , ] in a list)
//! escape  = \" | \\ | \*                       any other backslash is itself
//! ```
//! An unescaped `*` in any value or free text is a wildcard (`browser:"Firefox 1*"`). A word
//! that is not `key:...` is free text, each word or quoted phrase one term, found
//! case-insensitively in title, message or culprit. To search for text holding a `:`, quote
//! it (`"TypeError: x"`); otherwise `a:b` is the tag `a`.
//!
//! # Keys
//! Built-in key names ignore ASCII case; `firstSeen`, `first_seen`, `firstseen` are one key.
//! Every other key is a tag (a misspelt built-in too, as in Sentry); `tags[level]:x` is the
//! tag named `level`.
//!
//! | key | values | example |
//! |-----|--------|---------|
//! | `is` | unresolved resolved ignored (archived) regressed new assigned unassigned | `!is:resolved` |
//! | `assigned` | `me`, `none`, an email | `assigned:[me,none]` |
//! | `level` | debug < info < warning < error < critical (`warn`, `fatal`, ...) | `level:>=warning` |
//! | `environment` `host` `service` `trace` `user.id` `user.email` `url` `message` | pattern | `url:"*/checkout"` |
//! | `release` | pattern or `latest` (`"latest"` quoted is a release named so) | `release:latest` |
//! | `firstSeen` (`age`), `lastSeen` | `-24h` within, `+24h` longer ago (m h d w); a date or RFC 3339 time, with an op | `firstSeen:>2026-11-01` |
//! | `timesSeen` | a count, with an op | `timesSeen:>100` |
//! | `has` | a field or tag name | `!has:user.email` |
//!
//! A date is a whole UTC day: `firstSeen:2026-11-01` is that day, `>2026-11-01` from the
//! next; a date-time without offset is UTC.
//!
//! # Compiling to SQL (one meaning on both backends)
//! - A negated term is `NOT (the positive condition)`: `!environment:staging` keeps issues
//!   with no environment at all, so write `NOT EXISTS (...)`, not `value <> ?`.
//! - [`Pattern::as_literal`] gives `=` for values without wildcards; otherwise
//!   [`Pattern::to_like`] with `ESCAPE '\'` ([`LIKE_ESCAPE`]). Values are case-sensitive as
//!   typed (PostgreSQL `LIKE`; SQLite's LIKE ignores ASCII case, [`Pattern::to_glob`] does
//!   not). Free text: [`Pattern::to_like_contains`] with ILIKE / LIKE.
//! - [`LevelMatch::levels`] is the `level IN (...)` list; [`TimeValue::range`] the
//!   `col >= ? AND col < ?` bounds in unix ms; [`Cmp::as_sql`] the operator of `timesSeen`.
//!
//! # Errors
//! [`QueryError`] carries a character span (0-based; `end` exclusive) and a reason, such as:
//! - expected a value after \`level:\`
//! - unknown level \`loud\` (expected debug, info, warning, error or critical)
//! - \`is:\` takes no lists
//! - unterminated quote
//! - \`timesSeen\` needs a number, got \`lots\`
//! - unknown status \`foo\` for \`is:\` (expected unresolved, resolved, ...)
//! - \`environment:\` takes no comparisons (quote the value to search for one starting with \`>\`)
//! - unknown time unit \`y\` in \`-3y\` (expected m, h, d or w)
//!
//! Its `Display` adds the column: "unterminated quote (column 7)". An empty or blank query is
//! the empty `Query`. No input panics.

mod ast;
mod display;
mod error;
pub mod facets;
mod lexer;
mod matches;
mod parse;
mod pattern;

#[cfg(test)]
mod tests;

pub use ast::{
    Ago, Assignee, Cmp, Field, Filter, HasKey, Key, Level, LevelMatch, Query, ReleaseValue, Status,
    Term, TimeField, TimeRange, TimeUnit, TimeValue, Timestamp, LEVELS,
};
pub use error::QueryError;
pub use matches::{MatchContext, Subject};
pub use parse::parse;
pub use pattern::{Pattern, Piece, LIKE_ESCAPE};

impl std::str::FromStr for Query {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Query, QueryError> {
        parse(s)
    }
}
