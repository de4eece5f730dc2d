//! A parsed search [`Query`] as a SQL condition on `issues`, the same on both backends.
//!
//! Every value is a bound parameter; the SQL text depends only on the query's shape. Values
//! that are seen per occurrence (environment, host, tags, trace, user, url) are found in
//! `issue_facets`, one row per (issue, facet, value) with its count, kept by ingest:
//!
//! | facet | from the event |
//! |---|---|
//! | `host` `environment` `release` `os` `browser` `call_path` | as before (unbounded) |
//! | `trace` `user.id` `user.email` `url` | trace id, person, request URL |
//! | `tag:<key>` | each tag (`tag:service` answers `service:`) |
//!
//! The second and third kinds are bounded per issue and key ([`MAX_VALUES_PER_KEY`]): later
//! new values are counted in the key's [`OTHER`] row, so a key's counts still add up to the
//! occurrences that carried it.

use super::sql::Arg;
use super::Backend;
pub use crate::query::facets::{field_facet, tag_facet};
use crate::query::facets::{tag_facets, USER_FACETS};
use crate::query::{
    Assignee, Field, Filter, HasKey, Pattern, Query, ReleaseValue, Status, Term, LIKE_ESCAPE,
};

/// The value of a bounded key's catch-all row (real values are never empty).
pub const OTHER: &str = "";

/// Distinct values indexed per issue and bounded key; later ones are counted in [`OTHER`].
pub const MAX_VALUES_PER_KEY: i64 = 100;

/// Tags indexed per event (the first, by key order); the rest stay in the stored event.
pub const MAX_TAGS_PER_EVENT: usize = 50;

/// What a query is compared against besides the stored rows.
#[derive(Debug, Clone, Default)]
pub struct SearchContext {
    /// "Now" for relative times and `is:new`, unix ms.
    pub now_ms: i64,
    /// The user searching (`assigned:me`); none matches no one.
    pub user_id: Option<i64>,
    /// Each project's latest release (`release:latest`), as (project id, release).
    pub latest_releases: Vec<(i64, String)>,
}

/// A condition with `?` placeholders and their values, in order.
pub(super) struct Sql {
    pub(super) text: String,
    pub(super) args: Vec<Arg>,
}

impl Sql {
    fn new() -> Self {
        Sql {
            text: String::new(),
            args: Vec::new(),
        }
    }
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }
    fn bind(&mut self, arg: Arg) {
        self.text.push('?');
        self.args.push(arg);
    }
    fn text(&mut self, s: &str) {
        self.bind(Arg::Text(s.to_owned()));
    }
}

/// The whole query as one condition (`1 = 1` when it has no terms).
pub(super) fn compile(query: &Query, backend: Backend, ctx: &SearchContext) -> Sql {
    let mut sql = Sql::new();
    if query.terms.is_empty() {
        sql.push("1 = 1");
    }
    for (i, term) in query.terms.iter().enumerate() {
        if i > 0 {
            sql.push(" AND ");
        }
        term_sql(&mut sql, term, backend, ctx);
    }
    sql
}

fn term_sql(sql: &mut Sql, term: &Term, backend: Backend, ctx: &SearchContext) {
    // Every condition below is TRUE or FALSE, never NULL, so NOT is its complement: an issue
    // without an environment is one `!environment:staging` keeps.
    sql.push(if term.negated { "NOT (" } else { "(" });
    match &term.filter {
        Filter::Status(Status::New) => {
            sql.push("issues.status IN ('unresolved', 'regressed') AND issues.first_seen >= ");
            sql.bind(Arg::Int(ctx.now_ms.saturating_sub(Status::NEW_WINDOW_MS)));
        }
        Filter::Status(s) => sql.push(match s {
            Status::Unresolved | Status::New => "issues.status IN ('unresolved', 'regressed')",
            Status::Resolved => "issues.status = 'resolved'",
            Status::Ignored => "issues.status = 'ignored'",
            Status::Regressed => "issues.status = 'regressed'",
            Status::Assigned => "issues.assignee_id IS NOT NULL",
            Status::Unassigned => "issues.assignee_id IS NULL",
        }),
        Filter::Assigned(who) => any_of(sql, who, |sql, a| match a {
            Assignee::Me => {
                sql.push("COALESCE(issues.assignee_id, 0) = ");
                sql.bind(Arg::Int(ctx.user_id.unwrap_or(-1)));
            }
            Assignee::Nobody => sql.push("issues.assignee_id IS NULL"),
            Assignee::Email(email) => {
                sql.push(
                    "COALESCE(issues.assignee_id, 0) IN \
                     (SELECT u.id FROM users u WHERE LOWER(u.email) = LOWER(",
                );
                sql.text(email);
                sql.push("))");
            }
        }),
        Filter::Level(m) => any_of(sql, &m.levels(), |sql, level| {
            sql.push("issues.level = ");
            sql.text(level.as_str());
        }),
        Filter::Field(Field::Message, patterns) => any_of(sql, patterns, |sql, p| {
            value_match(sql, "issues.title", p, backend)
        }),
        Filter::Field(field, patterns) => {
            facet_exists(sql, &[field_facet(*field)], Some(patterns), backend)
        }
        Filter::Release(values) => {
            sql.push(
                "EXISTS (SELECT 1 FROM issue_facets f WHERE f.issue_id = issues.id \
                 AND f.facet = 'release' AND (",
            );
            any_of(sql, values, |sql, v| match v {
                ReleaseValue::Pattern(p) => value_match(sql, "f.value", p, backend),
                ReleaseValue::Latest => latest_release(sql, ctx),
            });
            sql.push("))");
        }
        Filter::Tag(key, patterns) => facet_exists(sql, &tag_facets(key), Some(patterns), backend),
        Filter::Time(field, value) => {
            let col = match field {
                crate::query::TimeField::FirstSeen => "issues.first_seen",
                crate::query::TimeField::LastSeen => "issues.last_seen",
            };
            let range = value.range(ctx.now_ms);
            sql.push("1 = 1");
            if let Some(start) = range.start {
                sql.push(&format!(" AND {col} >= "));
                sql.bind(Arg::Int(start));
            }
            if let Some(end) = range.end {
                sql.push(&format!(" AND {col} < "));
                sql.bind(Arg::Int(end));
            }
        }
        Filter::TimesSeen(op, n) => {
            sql.push(&format!("issues.count {} ", op.as_sql()));
            sql.bind(Arg::Int(i64::try_from(*n).unwrap_or(i64::MAX)));
        }
        Filter::Has(key) => match key {
            HasKey::Field(Field::Message) => sql.push("issues.title <> ''"),
            HasKey::Field(f) => facet_exists(sql, &[field_facet(*f)], None, backend),
            HasKey::Release => facet_exists(sql, &["release".into()], None, backend),
            HasKey::Tag(k) if k == "user" => {
                facet_exists(sql, &USER_FACETS.map(String::from), None, backend)
            }
            HasKey::Tag(k) => facet_exists(sql, &tag_facets(k), None, backend),
        },
        Filter::Text(p) => {
            let like = match backend {
                Backend::Sqlite => "LIKE",
                Backend::Postgres => "ILIKE",
            };
            let pattern = p.to_like_contains();
            sql.push(&format!("issues.title {like} "));
            sql.text(&pattern);
            sql.push(&format!(
                " ESCAPE '{LIKE_ESCAPE}' OR COALESCE(issues.culprit, '') {like} "
            ));
            sql.text(&pattern);
            sql.push(&format!(" ESCAPE '{LIKE_ESCAPE}'"));
        }
    }
    sql.push(")");
}

/// `(a OR b OR ...)` over a non-empty list.
fn any_of<T>(sql: &mut Sql, items: &[T], mut each: impl FnMut(&mut Sql, &T)) {
    sql.push("(");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        each(sql, item);
    }
    if items.is_empty() {
        sql.push("1 = 0");
    }
    sql.push(")");
}

/// `col` equals a literal (an index can answer) or matches a wildcard pattern, case as typed.
fn value_match(sql: &mut Sql, col: &str, p: &Pattern, backend: Backend) {
    match (p.as_literal(), backend) {
        (Some(lit), _) => {
            sql.push(&format!("{col} = "));
            sql.text(lit);
        }
        // SQLite's LIKE ignores ASCII case; GLOB does not.
        (None, Backend::Sqlite) => {
            sql.push(&format!("{col} GLOB "));
            sql.text(&p.to_glob());
        }
        (None, Backend::Postgres) => {
            sql.push(&format!("{col} LIKE "));
            sql.text(&p.to_like());
            sql.push(&format!(" ESCAPE '{LIKE_ESCAPE}'"));
        }
    }
}

/// Some facet row of the issue under one of `facets` (with a value matching one of
/// `patterns`, if given; the catch-all row matches no pattern).
fn facet_exists(sql: &mut Sql, facets: &[String], patterns: Option<&[Pattern]>, backend: Backend) {
    sql.push("EXISTS (SELECT 1 FROM issue_facets f WHERE f.issue_id = issues.id AND f.facet IN (");
    for (i, facet) in facets.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.text(facet);
    }
    sql.push(")");
    if let Some(patterns) = patterns {
        sql.push(" AND f.value <> '' AND ");
        any_of(sql, patterns, |sql, p| {
            value_match(sql, "f.value", p, backend)
        });
    }
    sql.push(")");
}

fn latest_release(sql: &mut Sql, ctx: &SearchContext) {
    sql.push("(1 = 0");
    for (project, release) in &ctx.latest_releases {
        sql.push(" OR (issues.project_id = ");
        sql.bind(Arg::Int(*project));
        sql.push(" AND f.value = ");
        sql.text(release);
        sql.push(")");
    }
    sql.push(")");
}

/// Whether the query names `release:latest` (the store then looks the latest releases up).
pub fn wants_latest_release(query: &Query) -> bool {
    query.terms.iter().any(|t| match &t.filter {
        Filter::Release(values) => values.contains(&ReleaseValue::Latest),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sql(q: &str, backend: Backend) -> (String, usize) {
        let query = crate::query::parse(q).unwrap();
        let s = compile(&query, backend, &SearchContext::default());
        (s.text, s.args.len())
    }

    #[test]
    fn values_are_bound_never_written_into_the_sql() {
        for q in [
            "environment:'; DROP TABLE issues; --",
            "\"'; DROP TABLE issues; --\"",
            "region:\"x' OR '1'='1\"",
            "assigned:\"a'@b\"",
        ] {
            let (text, args) = sql(q, Backend::Postgres);
            assert!(
                !text.contains("DROP") && !text.contains("'1'"),
                "{q}: {text}"
            );
            assert!(args > 0, "{q}");
        }
    }

    #[test]
    fn wildcards_are_glob_on_sqlite_and_like_on_postgres() {
        assert!(sql("browser:Fire*", Backend::Sqlite).0.contains("GLOB"));
        assert!(sql("browser:Fire*", Backend::Postgres)
            .0
            .contains("LIKE ? ESCAPE"));
        assert!(sql("browser:Firefox", Backend::Sqlite)
            .0
            .contains("f.value = ?"));
    }

    #[test]
    fn a_level_nothing_is_below_is_false_never_null() {
        assert_eq!(sql("level:<debug", Backend::Sqlite).0, "((1 = 0))");
        assert_eq!(sql("!level:<debug", Backend::Sqlite).0, "NOT ((1 = 0))");
    }

    #[test]
    fn an_empty_query_is_true() {
        assert_eq!(sql("", Backend::Sqlite).0, "1 = 1");
    }

    #[test]
    fn negation_wraps_the_positive_condition() {
        let (text, _) = sql("!environment:staging", Backend::Sqlite);
        assert!(text.starts_with("NOT (EXISTS"), "{text}");
    }
}
