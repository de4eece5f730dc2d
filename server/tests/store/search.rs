//! The search language against stored issues: every filter, on both backends.

use std::collections::BTreeSet;

use bugle_server::event::{Event, Level, Person, Request, Trace};
use bugle_server::query::parse;
use bugle_server::store::search::MAX_VALUES_PER_KEY;

use super::*;

/// Three issues: A (ValueError, 3 events, production, tags, user, url, trace), B (KeyError,
/// warning, staging) and C (a message, info, no environment, the newest release).
async fn seed(store: &Store, project: i64) -> [i64; 3] {
    let a = |line| {
        let mut e = error_event("ValueError", line, "web-1");
        e.level = Some(Level::Error);
        e.release = Some("1.0".into());
        e.tags = [("region", "eu-west"), ("service", "checkout")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        e.person = Some(Person {
            id: Some("42".into()),
            email: Some("ada@example.com".into()),
            ..Person::default()
        });
        e.request = Some(Request {
            url: Some("https://shop.example/cart".into()),
            ..Request::default()
        });
        e.trace = Some(Trace {
            // As some SDKs write it: found by the lowercase id people copy from trace UIs.
            trace_id: Some("4BF92F3577B34DA6A3CE929D0E0E4736".into()),
            ..Trace::default()
        });
        prepared(project, e)
    };
    let mut b = error_event("KeyError", 1, "web-2");
    b.level = Some(Level::Warning);
    b.environment = Some("staging".into());
    b.release = Some("2.0".into());
    b.tags.insert("region".into(), "us-east".into());
    let c = Event {
        message: Some("timeout talking to 100%_db".into()),
        level: Some(Level::Info),
        release: Some("2.1".into()),
        ..Event::default()
    };
    let done = store
        .commit_batch(&[a(1), a(2), a(3), prepared(project, b)])
        .await
        .unwrap();
    // Committed last: its release is the latest.
    let c = store.commit_batch(&[prepared(project, c)]).await.unwrap();
    [done[0].issue_id, done[3].issue_id, c[0].issue_id]
}

pub(super) async fn found(
    store: &Store,
    project: i64,
    ids: &[i64; 3],
    query: &str,
    user: Option<i64>,
) -> String {
    let filter = IssueFilter {
        status: StatusFilter::All,
        query: parse(query).unwrap_or_else(|e| panic!("{query}: {e}")),
        user_id: user,
        ..IssueFilter::default()
    };
    let (issues, _) = store.list_issues(project, &filter).await.unwrap();
    let names: BTreeSet<&str> = issues
        .iter()
        .map(|i| ["A", "B", "C"][ids.iter().position(|&id| id == i.id).unwrap()])
        .collect();
    names.into_iter().collect()
}

/// The seeded issues with A assigned to ada (the searching user) and B resolved.
pub(super) async fn seeded(
    store: &Store,
    project: i64,
) -> ([i64; 3], bugle_server::store::users::User) {
    let ids = seed(store, project).await;
    let ada = store
        .create_user("ada@example.com", None, false)
        .await
        .unwrap();
    store
        .assign_issue(ids[0], Some(&ada), "test")
        .await
        .unwrap();
    store.set_issue_status(ids[1], "resolved").await.unwrap();
    (ids, ada)
}

/// Every filter of the language and which of the `seeded` issues it finds; alert rules'
/// in-memory matching answers the same (`alert_rules`).
pub(super) const CASES: &[(&str, &str)] = &[
    ("", "ABC"),
    ("is:unresolved", "AC"),
    ("is:resolved", "B"),
    ("!is:resolved", "AC"),
    ("is:ignored", ""),
    ("is:regressed", ""),
    ("is:new", "AC"),
    ("is:assigned", "A"),
    ("is:unassigned", "BC"),
    ("assigned:me", "A"),
    ("!assigned:me", "BC"),
    ("assigned:ADA@example.com", "A"),
    ("assigned:none", "BC"),
    ("assigned:[me,none]", "ABC"),
    ("level:error", "A"),
    ("level:>=warning", "AB"),
    ("level:<warning", "C"),
    ("level:[info,fatal]", "C"),
    ("environment:production", "A"),
    ("!environment:staging", "AC"),
    ("environment:prod*", "A"),
    ("environment:PROD*", ""),
    ("release:latest", "C"),
    ("release:2.*", "BC"),
    ("release:[1.0,2.1]", "AC"),
    ("host:web-2", "B"),
    ("service:checkout", "A"),
    ("trace:4bf92f3577b34da6a3ce929d0e0e4736", "A"),
    ("trace:4BF92F35-77B3-4DA6-A3CE-929D0E0E4736", "A"),
    ("user.id:42", "A"),
    ("user.email:*@example.com", "A"),
    ("url:\"*/cart\"", "A"),
    ("region:eu-west", "A"),
    ("region:*-*", "AB"),
    ("!region:us-east", "AC"),
    ("tags[region]:us-east", "B"),
    ("has:region", "AB"),
    ("!has:region", "C"),
    ("has:user", "A"),
    ("has:environment", "AB"),
    ("has:release", "ABC"),
    ("age:-24h", "ABC"),
    ("age:+24h", ""),
    ("lastSeen:-1h", "ABC"),
    ("firstSeen:>2026-11-01", "ABC"),
    ("firstSeen:<2020-01-01", ""),
    ("timesSeen:>2", "A"),
    ("timesSeen:1", "BC"),
    ("timesSeen:<=3", "ABC"),
    ("ValueError", "A"),
    ("valueerror", "A"),
    ("\"talking to\"", "C"),
    ("100%_db", "C"),
    ("100%x", ""),
    ("time*db", "C"),
    ("shop.views", "AB"),
    ("!ValueError !KeyError", "C"),
    ("message:\"timeout*\"", "C"),
    ("is:unresolved level:error environment:production", "A"),
];

#[tokio::test]
async fn every_filter_of_the_search_language_finds_its_issues() {
    for (backend, store, project) in stores().await {
        let (ids, ada) = seeded(&store, project).await;
        for (query, want) in CASES {
            let got = found(&store, project, &ids, query, Some(ada.id)).await;
            assert_eq!(got, *want, "{}: {query}", backend.name);
        }
        assert_eq!(
            found(&store, project, &ids, "assigned:me", None).await,
            "",
            "{}: nobody is me without a user",
            backend.name
        );
    }
}

#[tokio::test]
async fn the_older_filter_fields_mean_the_same_as_their_terms() {
    for (backend, store, project) in stores().await {
        let ids = seed(&store, project).await;
        let filter = IssueFilter {
            environment: Some("production".into()),
            level: Some("error".into()),
            q: Some("valueerror".into()),
            ..IssueFilter::default()
        };
        let (issues, _) = store.list_issues(project, &filter).await.unwrap();
        assert_eq!(
            issues.iter().map(|i| i.id).collect::<Vec<_>>(),
            [ids[0]],
            "{}",
            backend.name
        );
        let trending = IssueFilter {
            sort: Sort::Trending,
            query: parse("region:*").unwrap(),
            ..IssueFilter::default()
        };
        let (issues, _) = store.list_issues(project, &trending).await.unwrap();
        assert_eq!(issues.len(), 2, "{}: trending filters too", backend.name);
    }
}

#[tokio::test]
async fn tag_values_are_bounded_per_issue_and_key_with_exact_totals() {
    for (backend, store, project) in stores().await {
        let extra = 7;
        let n = MAX_VALUES_PER_KEY as usize + extra;
        let events: Vec<_> = (0..n)
            .map(|i| {
                let mut e = error_event("ValueError", 1, "web-1");
                e.tags.insert("customer".into(), format!("c{i:04}"));
                e.tags.insert("plan".into(), "free".into());
                prepared(project, e)
            })
            .collect();
        // Two batches: the bound holds across commits as within one.
        let issue = store.commit_batch(&events[..60]).await.unwrap()[0].issue_id;
        store.commit_batch(&events[60..]).await.unwrap();
        let all = store.issue_breakdowns(issue, 1_000).await.unwrap();
        let key = |facet: &str| all.iter().find(|b| b.facet == facet).unwrap().clone();
        let customer = key("tag:customer");
        assert_eq!(customer.total, n as i64, "{}: exact total", backend.name);
        assert_eq!(
            customer.values.len(),
            MAX_VALUES_PER_KEY as usize,
            "{}: bounded",
            backend.name
        );
        assert_eq!(customer.other, extra as i64, "{}", backend.name);
        assert_eq!(key("tag:plan").values, [("free".to_owned(), n as i64)]);
        let top = store.issue_breakdowns(issue, 3).await.unwrap();
        let customer = top.iter().find(|b| b.key() == "customer").unwrap();
        assert_eq!((customer.values.len(), customer.other), (3, n as i64 - 3));
        assert_eq!(top[0].facet, "host", "built-in facets first");
        let filter = IssueFilter {
            query: parse("customer:c0003 plan:free").unwrap(),
            ..IssueFilter::default()
        };
        assert_eq!(
            store.list_issues(project, &filter).await.unwrap().0.len(),
            1
        );
        // New values of the full key from another instance (which has not seen it full) and
        // then from this one (which has): both go to the catch-all row.
        let second = second_instance(&backend).await;
        let later = |from: usize, to: usize| -> Vec<_> {
            (from..to)
                .map(|i| {
                    let mut e = error_event("ValueError", 1, "web-1");
                    e.tags.insert("customer".into(), format!("c{i:04}"));
                    prepared(project, e)
                })
                .collect()
        };
        second.commit_batch(&later(n, n + 3)).await.unwrap();
        store.commit_batch(&later(n + 3, n + 5)).await.unwrap();
        // A value the issue has is counted on its row.
        store.commit_batch(&later(0, 1)).await.unwrap();
        let all = store.issue_breakdowns(issue, 1_000).await.unwrap();
        let customer = all.iter().find(|b| b.facet == "tag:customer").unwrap();
        assert_eq!(
            customer.total,
            n as i64 + 6,
            "{}: exact total",
            backend.name
        );
        assert_eq!(
            customer.values.len(),
            MAX_VALUES_PER_KEY as usize,
            "{}",
            backend.name
        );
        assert_eq!(customer.other, extra as i64 + 5, "{}", backend.name);
        assert_eq!(
            customer.values.iter().find(|v| v.0 == "c0000").map(|v| v.1),
            Some(2)
        );
        // A new issue with more values than the bound in its first batch.
        let wide: Vec<_> = (0..150)
            .map(|i| {
                let mut e = error_event("WideError", 1, "web-1");
                e.tags.insert("customer".into(), format!("w{i:04}"));
                prepared(project, e)
            })
            .collect();
        let wide_issue = store.commit_batch(&wide).await.unwrap()[0].issue_id;
        let all = store.issue_breakdowns(wide_issue, 1_000).await.unwrap();
        let customer = all.iter().find(|b| b.facet == "tag:customer").unwrap();
        assert_eq!(
            (customer.total, customer.values.len(), customer.other),
            (150, MAX_VALUES_PER_KEY as usize, 50),
            "{}",
            backend.name
        );
        assert_eq!(key("host").total, n as i64);
    }
}

#[tokio::test]
async fn saved_searches_are_own_or_shared_and_one_is_the_default() {
    for (backend, store, project) in stores().await {
        let ada = store
            .create_user("ada@example.com", None, false)
            .await
            .unwrap();
        let bob = store
            .create_user("bob@example.com", None, false)
            .await
            .unwrap();
        let p = Some(project);
        store
            .save_search(ada.id, p, "Mine", "level:error", false, true)
            .await
            .unwrap();
        store
            .save_search(
                ada.id,
                p,
                "Team",
                "is:unresolved region:eu-west",
                true,
                false,
            )
            .await
            .unwrap();
        store
            .save_search(ada.id, None, "Everywhere", "is:new", false, true)
            .await
            .unwrap();
        let names = |v: Vec<bugle_server::store::saved_searches::SavedSearch>| {
            v.into_iter().map(|s| s.name).collect::<Vec<_>>()
        };
        assert_eq!(
            names(store.saved_searches(ada.id, p).await.unwrap()),
            ["Mine", "Team"]
        );
        assert_eq!(
            names(store.saved_searches(bob.id, p).await.unwrap()),
            ["Team"],
            "{}",
            backend.name
        );
        assert_eq!(
            names(store.saved_searches(ada.id, None).await.unwrap()),
            ["Everywhere"]
        );
        assert_eq!(
            store.default_search(ada.id, p).await.unwrap().as_deref(),
            Some("level:error")
        );
        assert_eq!(store.default_search(bob.id, p).await.unwrap(), None);
        // A new default replaces the old one of the same list only.
        store
            .save_search(ada.id, p, "Newer", "level:warning", false, true)
            .await
            .unwrap();
        assert_eq!(
            store.default_search(ada.id, p).await.unwrap().as_deref(),
            Some("level:warning")
        );
        assert_eq!(
            store.default_search(ada.id, None).await.unwrap().as_deref(),
            Some("is:new")
        );
        // A query that does not parse, a nameless or a shared cross-project search: refused.
        assert!(store
            .save_search(ada.id, p, "Bad", "level:loud", false, false)
            .await
            .is_err());
        assert!(store
            .save_search(ada.id, p, " ", "x", false, false)
            .await
            .is_err());
        assert!(store
            .save_search(ada.id, None, "All", "x", true, false)
            .await
            .is_err());
        let team = store.saved_searches(bob.id, p).await.unwrap()[0].id;
        assert!(
            store.delete_saved_search(bob.id, team).await.is_err(),
            "only the owner deletes"
        );
        store.delete_saved_search(ada.id, team).await.unwrap();
        assert!(store.saved_searches(bob.id, p).await.unwrap().is_empty());
    }
}
