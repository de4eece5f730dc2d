//! A [`Query`] evaluated in memory against one issue, for alert rules at ingest time (no
//! query per rule and issue). It means what `store::search` compiles to SQL, branch for
//! branch: the store tests run the search language's case table through both and require the
//! same answers.
//!
//! What an alert's issue carries as facets is the triggering event's values (environment,
//! release, host, os, browser, tags, trace, user, URL), so `environment:production` asks
//! whether *this* occurrence came from production; the issue list asks whether any did.

use super::ast::{Assignee, Field, Filter, HasKey, Query, ReleaseValue, Status, Term, TimeField};
use super::facets::{field_facet, tag_facets, USER_FACETS};
use super::pattern::Pattern;
use crate::event::Level;

/// What a query is matched against: the columns and facet values.
#[derive(Debug, Clone, Default)]
pub struct Subject {
    /// `issues.status`: unresolved, resolved, ignored, regressed.
    pub status: String,
    pub level: Option<Level>,
    pub title: String,
    pub culprit: Option<String>,
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The assignee's email (None: unassigned).
    pub assignee: Option<String>,
    /// (facet, value) as `issue_facets` indexes them (`environment`, `tag:region`, ...).
    pub facets: Vec<(String, String)>,
    /// The project's latest release, for `release:latest`.
    pub latest_release: Option<String>,
}

/// What the matching is relative to.
#[derive(Debug, Clone, Copy, Default)]
pub struct MatchContext<'a> {
    /// "Now" for relative times and `is:new`, unix ms.
    pub now_ms: i64,
    /// The email of the user `assigned:me` means (an alert rule has none: it matches no one).
    pub me: Option<&'a str>,
}

impl Query {
    /// Whether every term holds for `subject`.
    pub fn matches(&self, subject: &Subject, ctx: &MatchContext) -> bool {
        self.terms.iter().all(|t| t.matches(subject, ctx))
    }
}

impl Term {
    pub fn matches(&self, s: &Subject, ctx: &MatchContext) -> bool {
        filter_holds(&self.filter, s, ctx) != self.negated
    }
}

fn filter_holds(filter: &Filter, s: &Subject, ctx: &MatchContext) -> bool {
    let unresolved = matches!(s.status.as_str(), "unresolved" | "regressed");
    match filter {
        Filter::Status(status) => match status {
            Status::New => {
                unresolved && s.first_seen >= ctx.now_ms.saturating_sub(Status::NEW_WINDOW_MS)
            }
            Status::Unresolved => unresolved,
            Status::Resolved => s.status == "resolved",
            Status::Ignored => s.status == "ignored",
            Status::Regressed => s.status == "regressed",
            Status::Assigned => s.assignee.is_some(),
            Status::Unassigned => s.assignee.is_none(),
        },
        Filter::Assigned(who) => who.iter().any(|a| match a {
            Assignee::Me => s.assignee.is_some() && same_email(&s.assignee, ctx.me),
            Assignee::Nobody => s.assignee.is_none(),
            Assignee::Email(email) => same_email(&s.assignee, Some(email)),
        }),
        Filter::Level(m) => s.level.is_some_and(|l| m.matches(l)),
        Filter::Field(Field::Message, patterns) => patterns.iter().any(|p| p.matches(&s.title)),
        Filter::Field(field, patterns) => facet_holds(s, &[field_facet(*field)], Some(patterns)),
        Filter::Release(values) => values.iter().any(|v| {
            s.values(&["release".into()]).any(|r| match v {
                ReleaseValue::Pattern(p) => p.matches(r),
                ReleaseValue::Latest => s.latest_release.as_deref() == Some(r),
            })
        }),
        Filter::Tag(key, patterns) => facet_holds(s, &tag_facets(key), Some(patterns)),
        Filter::Time(field, value) => value.range(ctx.now_ms).contains(match field {
            TimeField::FirstSeen => s.first_seen,
            TimeField::LastSeen => s.last_seen,
        }),
        Filter::TimesSeen(op, n) => op.holds(&s.count, &i64::try_from(*n).unwrap_or(i64::MAX)),
        Filter::Has(key) => match key {
            HasKey::Field(Field::Message) => !s.title.is_empty(),
            HasKey::Field(f) => facet_holds(s, &[field_facet(*f)], None),
            HasKey::Release => facet_holds(s, &["release".into()], None),
            HasKey::Tag(k) if k == "user" => facet_holds(s, &USER_FACETS.map(String::from), None),
            HasKey::Tag(k) => facet_holds(s, &tag_facets(k), None),
        },
        Filter::Text(p) => {
            p.found_in(&s.title) || p.found_in(s.culprit.as_deref().unwrap_or_default())
        }
    }
}

/// SQL compares emails with `LOWER(..) = LOWER(..)`.
fn same_email(assignee: &Option<String>, other: Option<&str>) -> bool {
    match (assignee, other) {
        (Some(a), Some(b)) => a.to_lowercase() == b.to_lowercase(),
        _ => false,
    }
}

/// Some value under one of `facets` (matching one of `patterns`, if given; the catch-all
/// row's empty value matches no pattern).
fn facet_holds(s: &Subject, facets: &[String], patterns: Option<&[Pattern]>) -> bool {
    let mut values = s.values(facets);
    match patterns {
        None => values.next().is_some(),
        Some(patterns) => values.any(|v| !v.is_empty() && patterns.iter().any(|p| p.matches(v))),
    }
}

impl Subject {
    fn values<'a>(&'a self, facets: &'a [String]) -> impl Iterator<Item = &'a str> + 'a {
        self.facets
            .iter()
            .filter(move |(f, _)| facets.contains(f))
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse;

    const NOW: i64 = 1_800_000_000_000;

    fn subject() -> Subject {
        Subject {
            status: "unresolved".into(),
            level: Some(Level::Error),
            title: "ValueError: cart 1 is empty".into(),
            culprit: Some("shop.views in checkout".into()),
            count: 3,
            first_seen: NOW - 3_600_000,
            last_seen: NOW - 60_000,
            assignee: Some("Ada@example.com".into()),
            facets: [
                ("environment", "production"),
                ("release", "1.0"),
                ("host", "web-1"),
                ("tag:region", "eu-west"),
                ("tag:service", "checkout"),
                ("user.email", "ada@example.com"),
                ("url", "https://shop.example/cart"),
                ("tag:customer", ""),
            ]
            .into_iter()
            .map(|(f, v)| (f.to_owned(), v.to_owned()))
            .collect(),
            latest_release: Some("2.0".into()),
        }
    }

    #[test]
    fn each_filter_holds_as_the_sql_condition_does() {
        let s = subject();
        let ctx = MatchContext {
            now_ms: NOW,
            me: Some("ada@EXAMPLE.com"),
        };
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("is:unresolved", true),
            ("is:new", true),
            ("!is:resolved", true),
            ("is:ignored", false),
            ("is:assigned", true),
            ("assigned:me", true),
            ("assigned:ADA@example.com", true),
            ("assigned:none", false),
            ("level:error", true),
            ("level:>=warning", true),
            ("level:<error", false),
            ("environment:production", true),
            ("environment:PROD*", false),
            ("!environment:staging", true),
            ("release:latest", false),
            ("release:1.*", true),
            ("service:checkout", true),
            ("region:*-*", true),
            ("tags[region]:us-east", false),
            ("has:region", true),
            ("has:user", true),
            ("!has:trace", true),
            ("customer:*", false),
            ("has:customer", true),
            ("url:\"*/cart\"", true),
            ("age:-24h", true),
            ("lastSeen:+1h", false),
            ("timesSeen:>2", true),
            ("timesSeen:3", true),
            ("valueerror", true),
            ("shop.views", true),
            ("\"cart 2\"", false),
            ("message:\"ValueError*\"", true),
            ("is:unresolved level:error environment:production", true),
            ("is:unresolved level:warning", false),
        ];
        for (q, want) in cases {
            let query = parse(q).unwrap();
            assert_eq!(query.matches(&s, &ctx), *want, "{q}");
        }
        let nobody = MatchContext { me: None, ..ctx };
        assert!(!parse("assigned:me").unwrap().matches(&s, &nobody));
    }
}
