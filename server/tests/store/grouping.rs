//! Grouping in the store: upgrading the algorithm splits no issue and keeps counts exact.

use super::*;
use bugle_server::grouping::{self, Grouping};

/// The occurrence as a version-1 server grouped it: version-1 hashes only.
fn prepared_by_version_1(project: i64, event: Event) -> NewOccurrence {
    let mut occ = prepared(project, event.clone());
    let v1 = grouping::group_version(&event, 1);
    occ.grouping = Grouping {
        hashes: v1.hashes,
        ..occ.grouping
    };
    occ
}

/// Bugs as they arrive over time: each call is a new occurrence of the same bug.
fn bugs() -> Vec<Box<dyn Fn(u32) -> Event>> {
    vec![
        Box::new(|i| error_event("KeyError", 10 + i, &format!("web-{}", i % 3))),
        Box::new(|i| error_event("ValueError", 20 + i, "web-1")),
        Box::new(|i| Event {
            message: Some(format!("user {i} logged in from 10.0.0.{}", i % 250)),
            ..Event::default()
        }),
        Box::new(|i| Event {
            exceptions: vec![Exception {
                ty: "app::SyncError".into(),
                value: Some(format!("sync of order {i} failed after {}ms", 10 * i)),
                ..Exception::default()
            }],
            ..Event::default()
        }),
    ]
}

#[tokio::test]
async fn events_of_version_1_issues_find_them_after_the_upgrade_with_exact_counts() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let bugs = bugs();
        // Before the upgrade: three occurrences of each bug, version-1 hashes only.
        let before: Vec<_> = (0..3)
            .flat_map(|i| bugs.iter().map(move |bug| bug(i)))
            .map(|e| prepared_by_version_1(project, e))
            .collect();
        let committed = store.commit_batch(&before).await.unwrap();
        let issue_of_bug: Vec<i64> = committed[..bugs.len()].iter().map(|c| c.issue_id).collect();
        let distinct: BTreeSet<_> = issue_of_bug.iter().collect();
        assert_eq!(distinct.len(), bugs.len(), "{name}: one issue per bug");

        // After: the same bugs, grouped by the current algorithm, in two batches (the first
        // finds issues by version-1 hashes and teaches them the new ones, the second by those).
        for round in 0..2 {
            let after: Vec<_> = (0..2)
                .flat_map(|i| bugs.iter().map(move |bug| bug(100 + round * 10 + i)))
                .map(|e| prepared(project, e))
                .collect();
            assert!(after.iter().all(|o| o.grouping.hashes[0].version == 2));
            let committed = store.commit_batch(&after).await.unwrap();
            for (k, c) in committed.iter().enumerate() {
                assert_eq!(
                    c.issue_id,
                    issue_of_bug[k % bugs.len()],
                    "{name}: round {round}, bug {k}"
                );
                assert!(!c.new_issue, "{name}: no new issue");
            }
        }
        for &id in &issue_of_bug {
            let issue = store.issue(id).await.unwrap();
            assert_eq!(issue.count, 7, "{name}: exact count of issue {id}");
            assert_eq!(hourly_total(&store, id).await, 7, "{name}");
            let versions: BTreeSet<i64> = store
                .issue_hashes(id)
                .await
                .unwrap()
                .into_iter()
                .map(|h| h.version)
                .collect();
            assert_eq!(
                versions,
                BTreeSet::from([1, 2]),
                "{name}: the issue learnt version 2"
            );
        }
    }
}

#[tokio::test]
async fn a_merged_issue_splits_back_with_its_occurrences_and_counts() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let key_errors: Vec<_> = (0..5)
            .map(|i| prepared(project, error_event("KeyError", 10 + i, "web-1")))
            .collect();
        let value_errors: Vec<_> = (0..3)
            .map(|i| prepared(project, error_event("ValueError", 10 + i, "web-2")))
            .collect();
        let a = store.commit_batch(&key_errors).await.unwrap()[0].issue_id;
        let b = store.commit_batch(&value_errors).await.unwrap()[0].issue_id;
        store.merge_issues(b, a).await.unwrap();
        assert_eq!(store.issue(a).await.unwrap().count, 8, "{name}");

        // The hashes the ValueError issue had (made now: version 2 only).
        let moved: Vec<String> = value_errors[0]
            .grouping
            .hashes
            .iter()
            .filter(|h| h.version == 2)
            .map(|h| h.hash.clone())
            .collect();
        let rules = Rules::default();
        let occurrences = store.occurrences(a, None, 500).await.unwrap();
        let wanted: std::collections::HashSet<&str> = moved.iter().map(String::as_str).collect();
        let chosen =
            bugle_server::regroup::occurrences_with(&occurrences, &rules, &wanted).unwrap();
        assert_eq!(chosen.len(), 3, "{name}: the ValueErrors are found again");
        let split = store
            .split_issue(a, &moved, &chosen, "ada@example.com")
            .await
            .unwrap();

        let (old, new) = (
            store.issue(a).await.unwrap(),
            store.issue(split.id).await.unwrap(),
        );
        assert_eq!(
            (old.count, new.count),
            (5, 3),
            "{name}: counts move with occurrences"
        );
        assert_eq!(hourly_total(&store, a).await, 5, "{name}");
        assert_eq!(hourly_total(&store, split.id).await, 3, "{name}");
        assert_eq!(
            store.issue_facet(split.id, "host").await.unwrap(),
            [("web-2".to_owned(), 3)]
        );
        assert_eq!(
            store.issue_facet(a, "host").await.unwrap(),
            [("web-1".to_owned(), 5)]
        );
        assert!(new.title.starts_with("ValueError"), "{name}: {}", new.title);
        // Later ValueErrors go to the new issue, KeyErrors stay.
        let later = store
            .commit_batch(&[
                prepared(project, error_event("ValueError", 99, "web-3")),
                prepared(project, error_event("KeyError", 99, "web-3")),
            ])
            .await
            .unwrap();
        assert_eq!(
            (later[0].issue_id, later[1].issue_id),
            (split.id, a),
            "{name}"
        );
        // Every hash cannot go: the issue would keep nothing.
        let all: Vec<String> = store
            .issue_hashes(a)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.hash)
            .collect();
        let err = store.split_issue(a, &all, &[], "ada").await.unwrap_err();
        assert!(
            err.to_string().contains("keep at least one hash"),
            "{name}: {err}"
        );
    }
}

#[tokio::test]
async fn an_older_versions_hash_leads_only_to_an_issue_made_under_it() {
    // Version 1 ignored the message when there were frames; version 2 hashes it for a stack
    // of where the error was reported. Two such errors share their version-1 hashes.
    let reported = |message: &str| {
        let mut event = error_event("app::SyncError", 10, "web-1");
        event.exceptions[0].value = Some(message.into());
        event.exceptions[0].mechanism =
            Some(bugle_server::event::Mechanism::new("capture_error", true));
        event
    };
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let a = prepared(project, reported("cannot sync invoice INV-3"));
        let b = prepared(project, reported("the ledger rejected invoice INV-3"));
        assert_eq!(
            a.grouping.hashes[1..],
            b.grouping.hashes[1..],
            "{name}: same version-1 hashes"
        );
        let first = store.commit_batch(&[a]).await.unwrap()[0].issue_id;
        let second = store.commit_batch(&[b]).await.unwrap()[0].issue_id;
        assert_ne!(first, second, "{name}: version 2 tells them apart");
        let versions: Vec<i64> = store
            .issue_hashes(first)
            .await
            .unwrap()
            .iter()
            .map(|h| h.version)
            .collect();
        assert_eq!(
            versions,
            [2],
            "{name}: an issue made now learns no version-1 hash"
        );
    }
}
