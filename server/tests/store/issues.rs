//! Issue life and lists: regressions, merges, filters and sorting, retention, wake-ups, dashboard lists.

use super::*;

#[tokio::test]
async fn an_occurrence_after_resolution_regresses_the_issue() {
    for (backend, store, project) in stores().await {
        let c = store
            .commit_batch(&[prepared(project, error_event("KeyError", 1, "a"))])
            .await
            .unwrap()[0];
        assert!(c.new_issue);
        let resolved = store
            .set_issue_status(c.issue_id, "resolved")
            .await
            .unwrap();
        assert_eq!(resolved.status, "resolved");
        let again = store
            .commit_batch(&[prepared(project, error_event("KeyError", 2, "b"))])
            .await
            .unwrap()[0];
        assert_eq!(again.issue_id, c.issue_id, "{}", backend.name);
        assert!(
            again.regressed && !again.new_issue,
            "{}: {again:?}",
            backend.name
        );
        let issue = store.issue(c.issue_id).await.unwrap();
        assert_eq!(issue.status, "regressed", "{}", backend.name);
        assert!(issue.regressed_at.is_some() && issue.resolved_at.is_none());
        let activity = store.issue_activity(c.issue_id).await.unwrap();
        let kinds: Vec<_> = activity.iter().map(|a| a.1.as_str()).collect();
        assert_eq!(kinds, ["regressed", "resolved"], "{}", backend.name);
        // Ignored issues are counted but stay ignored.
        store.set_issue_status(c.issue_id, "ignored").await.unwrap();
        store
            .commit_batch(&[prepared(project, error_event("KeyError", 3, "c"))])
            .await
            .unwrap();
        let issue = store.issue(c.issue_id).await.unwrap();
        assert_eq!(
            (issue.status.as_str(), issue.count),
            ("ignored", 3),
            "{}",
            backend.name
        );
    }
}

#[tokio::test]
async fn a_changed_library_frame_still_joins_through_the_in_app_hash() {
    for (backend, store, project) in stores().await {
        let first = error_event("KeyError", 1, "a");
        let mut upgraded = first.clone();
        upgraded.exceptions[0].frames[0] = frame("django.core.handlers.v5", "inner_v5", 1, false);
        let other_path = {
            let mut e = first.clone();
            e.exceptions[0].frames[1] = frame("shop.cart", "add_item", 9, true);
            e
        };
        let other_type = error_event("ValueError", 1, "a");
        let results = store
            .commit_batch(&[
                prepared(project, first),
                prepared(project, upgraded),
                prepared(project, other_path),
                prepared(project, other_type),
            ])
            .await
            .unwrap();
        let ids: Vec<_> = results.iter().map(|c| c.issue_id).collect();
        assert_eq!(ids[0], ids[1], "{}: library change joins", backend.name);
        assert_ne!(ids[0], ids[2], "{}: other in-app path splits", backend.name);
        assert_ne!(ids[0], ids[3], "{}: other type splits", backend.name);
        assert_ne!(ids[2], ids[3]);
    }
}

#[tokio::test]
async fn merged_issues_take_later_events_of_both_kinds() {
    for (backend, store, project) in stores().await {
        let a = store
            .commit_batch(&[prepared(project, error_event("KeyError", 1, "a"))])
            .await
            .unwrap()[0]
            .issue_id;
        let b = store
            .commit_batch(&[
                prepared(project, error_event("ValueError", 1, "b")),
                prepared(project, error_event("ValueError", 2, "c")),
            ])
            .await
            .unwrap()[0]
            .issue_id;
        let target = store.merge_issues(b, a).await.unwrap();
        assert_eq!(target.count, 3, "{}", backend.name);
        assert_eq!(store.issue(b).await.unwrap().status, "merged");
        assert_eq!(store.occurrences(a, None, 10).await.unwrap().len(), 3);
        let later = store
            .commit_batch(&[prepared(project, error_event("ValueError", 3, "d"))])
            .await
            .unwrap()[0];
        assert_eq!(
            later.issue_id, a,
            "{}: later events land in the target",
            backend.name
        );
        assert_eq!(store.issue(a).await.unwrap().count, 4);
        let hosts = store.issue_facet(a, "host").await.unwrap();
        assert_eq!(hosts.len(), 4, "{}: facets merged: {hosts:?}", backend.name);
        assert!(store.merge_issues(a, a).await.is_err());
        assert!(store.set_issue_status(b, "resolved").await.is_err());
    }
}

#[tokio::test]
async fn issue_lists_filter_sort_and_paginate() {
    for (backend, store, project) in stores().await {
        let mut batch = Vec::new();
        for (i, ty) in ["AError", "BError", "CError", "DError", "EError"]
            .iter()
            .enumerate()
        {
            for n in 0..=i {
                let mut e = error_event(ty, n as u32, "web-1");
                if *ty == "CError" {
                    e.environment = Some("staging".into());
                }
                batch.push(prepared(project, e));
            }
        }
        store.commit_batch(&batch).await.unwrap();
        let by_count = IssueFilter {
            sort: Sort::Count,
            limit: 2,
            ..IssueFilter::default()
        };
        let (page1, cursor) = store.list_issues(project, &by_count).await.unwrap();
        let counts: Vec<_> = page1.iter().map(|i| i.count).collect();
        assert_eq!(counts, [5, 4], "{}", backend.name);
        let page2 = IssueFilter {
            cursor: cursor.clone(),
            ..by_count.clone()
        };
        let (page2, _) = store.list_issues(project, &page2).await.unwrap();
        assert_eq!(page2.iter().map(|i| i.count).collect::<Vec<_>>(), [3, 2]);

        let staging = IssueFilter {
            environment: Some("staging".into()),
            ..IssueFilter::default()
        };
        let (found, _) = store.list_issues(project, &staging).await.unwrap();
        assert_eq!(found.len(), 1, "{}", backend.name);
        assert!(found[0].title.starts_with("CError"));

        let search = IssueFilter {
            q: Some("derror".into()),
            ..IssueFilter::default()
        };
        let (found, _) = store.list_issues(project, &search).await.unwrap();
        assert_eq!(found.len(), 1, "{}: case-insensitive search", backend.name);

        store
            .set_issue_status(found[0].id, "resolved")
            .await
            .unwrap();
        let (active, _) = store
            .list_issues(project, &IssueFilter::default())
            .await
            .unwrap();
        assert_eq!(
            active.len(),
            4,
            "{}: resolved leaves the default list",
            backend.name
        );
        let resolved = IssueFilter {
            status: StatusFilter::Resolved,
            ..IssueFilter::default()
        };
        assert_eq!(
            store.list_issues(project, &resolved).await.unwrap().0.len(),
            1
        );
        let bad = IssueFilter {
            cursor: Some("garbage".into()),
            ..IssueFilter::default()
        };
        assert!(store.list_issues(project, &bad).await.is_err());
    }
}

#[tokio::test]
async fn retention_deletes_old_and_surplus_occurrences_but_keeps_counts() {
    use bugle_server::store::retention::RetentionPolicy;
    for (backend, store, project) in stores().await {
        // Eight occurrences of one issue, the first two received 100 days ago.
        let mut batch: Vec<_> = (0..8)
            .map(|i| prepared(project, error_event("KeyError", i, "a")))
            .collect();
        let old = Utc::now().timestamp_millis() - 100 * 86_400_000;
        for occ in &mut batch[..2] {
            occ.received_at = old;
        }
        let issue = store.commit_batch(&batch).await.unwrap()[0].issue_id;
        let policy = RetentionPolicy {
            max_age_days: 90,
            max_occurrences_per_issue: 4,
        };
        let swept = store.sweep_retention(policy).await.unwrap();
        assert_eq!(
            (swept.too_old, swept.over_issue_cap),
            (2, 2),
            "{}",
            backend.name
        );
        let kept = store.occurrences(issue, None, 100).await.unwrap();
        assert_eq!(kept.len(), 4, "{}: the newest four are kept", backend.name);
        let newest = batch.last().unwrap().uuid.to_string();
        assert_eq!(kept[0].event["uuid"], newest);
        assert_eq!(
            store.issue(issue).await.unwrap().count,
            8,
            "{}: totals stay exact",
            backend.name
        );
        // A project setting overrides the default.
        store.set_retention(project, None, Some(1)).await.unwrap();
        store.sweep_retention(policy).await.unwrap();
        assert_eq!(store.occurrences(issue, None, 100).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn an_ignored_issue_wakes_after_n_more_or_at_its_date_and_mails_seen_again() {
    use bugle_server::store::issues::Snooze;
    for (backend, store, project) in stores().await {
        let name = backend.name;
        // Notifications are queued only for someone to tell: mail is off here, so a channel.
        store
            .add_channel(&bugle_server::store::channels::NewChannel {
                project_id: project,
                kind: "webhook",
                name: "hook",
                url: "https://example.com/hook",
                secret: None,
                events: None,
                min_level: None,
                environment: None,
            })
            .await
            .unwrap();
        let send = |ty: &'static str| {
            let store = store.clone();
            async move {
                store
                    .commit_batch(&[prepared(project, error_event(ty, 1, "a"))])
                    .await
                    .unwrap()[0]
            }
        };
        let c = send("KeyError").await;
        let snooze = Snooze {
            more: Some(2),
            until: None,
        };
        let issue = store
            .change_status(c.issue_id, "ignored", snooze, Some("ada@example.com"))
            .await
            .unwrap();
        assert_eq!(issue.snooze_count, Some(3), "{name}");
        send("KeyError").await;
        assert_eq!(store.issue(c.issue_id).await.unwrap().status, "ignored");
        send("KeyError").await;
        let woke = store.issue(c.issue_id).await.unwrap();
        assert_eq!(woke.status, "unresolved", "{name}");
        assert_eq!((woke.snooze_count, woke.snooze_until), (None, None));
        let activity = store.issue_activity(c.issue_id).await.unwrap();
        assert_eq!(activity[0].2.as_deref(), Some("the ignore period ended"));
        assert_eq!(
            activity[1].2.as_deref(),
            Some("until 2 more occurrences, by ada@example.com")
        );
        let kinds: Vec<String> =
            sqlx::query_scalar("SELECT kind FROM outbox WHERE issue_id = $1 ORDER BY id")
                .bind(c.issue_id)
                .fetch_all(store.pool())
                .await
                .unwrap();
        assert!(
            kinds.contains(&"seen_again".to_owned()),
            "{name}: {kinds:?}"
        );

        // A date in the past is refused; a passed date wakes on the next occurrence.
        let past = Snooze {
            until: Some(1),
            more: None,
        };
        assert!(store
            .change_status(c.issue_id, "ignored", past, None)
            .await
            .is_err());
        let soon = Snooze {
            until: Some(bugle_server::time::now_ms() + 50),
            more: None,
        };
        store
            .change_status(c.issue_id, "ignored", soon, None)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        send("KeyError").await;
        assert_eq!(
            store.issue(c.issue_id).await.unwrap().status,
            "unresolved",
            "{name}"
        );
    }
}

#[tokio::test]
async fn dashboard_lists_trending_sparklines_assignees_and_keys() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let mut batch = Vec::new();
        for i in 0..3 {
            batch.push(prepared(project, error_event("Hot", i, &format!("h{i}"))));
        }
        batch.push(prepared(project, error_event("Cold", 1, "h1")));
        let committed = store.commit_batch(&batch).await.unwrap();
        let (hot, cold) = (committed[0].issue_id, committed[3].issue_id);
        let trending = IssueFilter {
            sort: Sort::Trending,
            limit: 1,
            ..IssueFilter::default()
        };
        let (page, next) = store.list_issues(project, &trending).await.unwrap();
        assert_eq!(page[0].id, hot, "{name}");
        let page2 = IssueFilter {
            cursor: next,
            ..trending
        };
        assert_eq!(
            store.list_issues(project, &page2).await.unwrap().0[0].id,
            cold
        );
        let series = store
            .issue_series(&[hot, cold], 3_600_000, 24)
            .await
            .unwrap();
        assert_eq!(series[&hot].len(), 24);
        assert_eq!(series[&hot].iter().sum::<i64>(), 3, "{name}");
        let hosts = store.host_counts(&[hot, cold]).await.unwrap();
        assert_eq!((hosts[&hot], hosts[&cold]), (3, 1), "{name}");

        let ada = store
            .create_user("ada@example.com", None, false)
            .await
            .unwrap();
        let issue = store.assign_issue(hot, Some(&ada), "root").await.unwrap();
        assert_eq!(issue.assignee_id, Some(ada.id));
        let activity = store.issue_activity(hot).await.unwrap();
        assert_eq!(activity[0].1, "assigned");
        assert_eq!(activity[0].2.as_deref(), Some("to ada@example.com by root"));

        let key = store.create_project_key(project).await.unwrap();
        let keys = store.project_key_list(project).await.unwrap();
        assert_eq!(keys.len(), 2, "{name}");
        store.revoke_project_key(project, keys[1].id).await.unwrap();
        assert!(
            store.project_for_key(&key).await.unwrap().is_none(),
            "{name}"
        );
        let summaries = store
            .project_summaries(store.list_projects().await.unwrap())
            .await
            .unwrap();
        assert_eq!(summaries[0].open_issues, 2, "{name}");
        assert_eq!(summaries[0].hourly.iter().sum::<i64>(), 4, "{name}");
    }
}

#[tokio::test]
async fn lists_across_projects_page_in_one_order_without_repeats() {
    for (backend, store, first) in stores().await {
        let (second, _) = store.create_project("Billing", None).await.unwrap();
        let mut expected = Vec::new();
        for i in 0..7u32 {
            let project = if i % 3 == 0 { second.id } else { first };
            let ty: &'static str = Box::leak(format!("Error{i}").into_boxed_str());
            let c = store
                .commit_batch(&[prepared(project, error_event(ty, i, "a"))])
                .await
                .unwrap()[0];
            expected.push(c.issue_id);
        }
        expected.reverse(); // newest first
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let filter = IssueFilter {
                sort: Sort::FirstSeen,
                limit: 3,
                cursor,
                ..IssueFilter::default()
            };
            let (page, next) = store
                .list_issues_in(&[first, second.id], &filter)
                .await
                .unwrap();
            seen.extend(page.iter().map(|i| i.id));
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, expected, "{}", backend.name);
    }
}
