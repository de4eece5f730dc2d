//! Store behaviour, each test run on SQLite and on PostgreSQL from the same body.

use std::collections::{BTreeMap, BTreeSet};

use bugle_server::config::Config;
use bugle_server::event::{Event, Exception, Frame, Server};
use bugle_server::ingest::prepare;
use bugle_server::store::issues::{IssueFilter, Sort, StatusFilter};
use bugle_server::store::writer::{SubmitError, Writer};
use bugle_server::store::{NewOccurrence, Store};
use bugle_tests::server::Backend;
use chrono::Utc;
use uuid::Uuid;

/// Each backend with an opened, migrated store and one project.
async fn stores() -> Vec<(Backend, Store, i64)> {
    let mut out = Vec::new();
    for backend in Backend::all() {
        let config = Config {
            database_url: backend.database_url.clone(),
            ..Config::default()
        };
        let store = Store::open(&config).await.expect("store opens");
        let (project, _) = store.create_project("Checkout API", None).await.unwrap();
        out.push((backend, store, project.id));
    }
    out
}

fn frame(module: &str, function: &str, line: u32, in_app: bool) -> Frame {
    Frame {
        module: Some(module.into()),
        function: Some(function.into()),
        filename: Some(format!("{}.py", module.replace('.', "/"))),
        lineno: Some(line),
        in_app: Some(in_app),
        ..Frame::default()
    }
}

/// A Python-like error; `line` and `host` vary without changing the group.
fn error_event(ty: &str, line: u32, host: &str) -> Event {
    Event {
        environment: Some("production".into()),
        server: Some(Server {
            host: Some(host.into()),
            ..Server::default()
        }),
        exceptions: vec![Exception {
            ty: ty.into(),
            value: Some(format!("cart {line} is empty")),
            frames: vec![
                frame("django.core.handlers", "inner", 55, false),
                frame("shop.views", "checkout", line, true),
            ],
            ..Exception::default()
        }],
        ..Event::default()
    }
}

/// Occurrences counted in an issue's hourly buckets, all time.
async fn hourly_total(store: &Store, issue: i64) -> i64 {
    let hours = store.issue_hourly(issue, 0).await.unwrap();
    hours.iter().map(|h| h.1).sum()
}

fn prepared(project: i64, event: Event) -> NewOccurrence {
    prepare(project, event, "native", None, Utc::now()).expect("valid event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_batches_of_one_error_make_one_issue_with_exact_counts() {
    for (backend, store, project) in stores().await {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let batch: Vec<_> = (0..25)
                    .map(|i| {
                        prepared(
                            project,
                            error_event("KeyError", 100 + i, &format!("web-{t}")),
                        )
                    })
                    .collect();
                store.commit_batch(&batch).await.expect("batch commits")
            }));
        }
        let mut issue_ids = BTreeSet::new();
        for task in tasks {
            for c in task.await.unwrap() {
                assert!(!c.duplicate);
                issue_ids.insert(c.issue_id);
            }
        }
        assert_eq!(issue_ids.len(), 1, "{}: one issue", backend.name);
        let id = *issue_ids.first().unwrap();
        let issue = store.issue(id).await.unwrap();
        assert_eq!(issue.count, 200, "{}: exact count", backend.name);
        assert_eq!(
            hourly_total(&store, id).await,
            200,
            "{}: hourly buckets add up",
            backend.name
        );
        let hosts = store.issue_facet(id, "host").await.unwrap();
        assert_eq!(hosts.len(), 8, "{}: eight hosts", backend.name);
        assert!(
            hosts.iter().all(|(_, n)| *n == 25),
            "{}: {hosts:?}",
            backend.name
        );
        assert!(issue.first_seen <= issue.last_seen);
    }
}

/// On SQLite, ingest batches commit on their own connection while the dashboard writes through
/// the pool: both must get the write lock in turn, and nothing is lost or double counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_batches_and_dashboard_writes_interleave() {
    for (backend, store, project) in stores().await {
        let first = store
            .commit_batch(&[prepared(project, error_event("KeyError", 1, "a"))])
            .await
            .unwrap()[0];
        let ingest = {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..40 {
                    let batch = [prepared(project, error_event("KeyError", 2 + i, "b"))];
                    store.commit_batch(&batch).await.expect("batch commits");
                }
            })
        };
        for i in 0..40 {
            let status = if i % 2 == 0 { "resolved" } else { "unresolved" };
            store
                .set_issue_status(first.issue_id, status)
                .await
                .unwrap_or_else(|e| panic!("{}: status change {i}: {e}", backend.name));
        }
        ingest.await.unwrap();
        let issue = store.issue(first.issue_id).await.unwrap();
        assert_eq!(issue.count, 41, "{}: exact count", backend.name);
    }
}

/// Every SQLite connection gets the settings (sent as one multi-statement string).
#[tokio::test]
async fn sqlite_connections_get_every_setting() {
    for (backend, store, _) in stores().await {
        if backend.name != "sqlite" {
            continue;
        }
        let mut conn = store.pool().acquire().await.unwrap();
        let mut pragma = async |name: &str| -> String {
            let row = sqlx::query(&format!("PRAGMA {name}"))
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            sqlx::Row::try_get::<i64, _>(&row, 0)
                .map(|v| v.to_string())
                .or_else(|_| sqlx::Row::try_get::<String, _>(&row, 0))
                .unwrap()
        };
        assert_eq!(pragma("journal_mode").await, "wal");
        assert_eq!(pragma("synchronous").await, "2", "FULL");
        assert_eq!(pragma("busy_timeout").await, "10000");
        assert_eq!(pragma("foreign_keys").await, "1");
        assert_eq!(pragma("temp_store").await, "2", "MEMORY");
        assert_eq!(pragma("cache_size").await, "-16384");
        assert_eq!(
            pragma("auto_vacuum").await,
            "2",
            "INCREMENTAL on a new file"
        );
    }
}

/// The WAL is copied back into the database while ingest goes on, and restarts: steady
/// batches never let it grow with the data. The checkpoint thread keeps it small while it keeps
/// up; SQLite's own checkpoint at 4,000 pages (16 MB) is the backstop when commits come back to
/// back, as here. Without checkpoints this run's WAL grows past 60 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_wal_stays_bounded_under_steady_ingest() {
    for (backend, store, project) in stores().await {
        if backend.name != "sqlite" {
            continue;
        }
        let path = backend.database_url.trim_start_matches("sqlite://");
        let wal = format!("{path}-wal");
        let (mut largest, mut written) = (0, 0);
        for b in 0..480u32 {
            let batch: Vec<_> = (0..25)
                .map(|i| {
                    let ty = format!("Error{}", (b * 25 + i) % 300);
                    prepared(project, error_event(&ty, i, &format!("web-{b}")))
                })
                .collect();
            store.commit_batch(&batch).await.expect("batch commits");
            written += batch.len();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        assert_eq!(written, 12_000);
        let db = std::fs::metadata(path).unwrap().len();
        eprintln!("sqlite: database {db} bytes, largest WAL {largest} bytes");
        assert!(
            largest < 20 << 20,
            "the WAL reached {largest} bytes (database {db})"
        );
    }
}

#[tokio::test]
async fn a_resent_uuid_is_stored_once() {
    for (backend, store, project) in stores().await {
        let uuid = Uuid::new_v4();
        let mut event = error_event("KeyError", 1, "web-1");
        event.uuid = Some(uuid);
        let first = store
            .commit_batch(&[
                prepared(project, event.clone()),
                prepared(project, event.clone()),
            ])
            .await
            .unwrap();
        assert!(
            !first[0].duplicate && first[1].duplicate,
            "{}: in one batch",
            backend.name
        );
        let again = store
            .commit_batch(&[prepared(project, event)])
            .await
            .unwrap();
        assert!(again[0].duplicate, "{}: in a later batch", backend.name);
        assert_eq!(again[0].issue_id, first[0].issue_id);
        let issue = store.issue(first[0].issue_id).await.unwrap();
        assert_eq!(issue.count, 1, "{}: counted once", backend.name);
        assert_eq!(
            store.occurrences(issue.id, None, 10).await.unwrap().len(),
            1
        );
    }
}

#[tokio::test]
async fn a_resend_grouped_differently_leaves_no_empty_issue() {
    for (backend, store, project) in stores().await {
        let mut event = error_event("KeyError", 1, "a");
        event.uuid = Some(Uuid::new_v4());
        let first = store
            .commit_batch(&[prepared(project, event.clone())])
            .await
            .unwrap()[0];
        // The same uuid, as a later grouping algorithm would hash it.
        let mut resend = prepared(project, event);
        resend.grouping.hashes = vec!["f".repeat(64)];
        let again = store.commit_batch(&[resend]).await.unwrap()[0];
        assert!(
            again.duplicate && !again.new_issue,
            "{}: {again:?}",
            backend.name
        );
        assert_eq!(again.issue_id, first.issue_id);
        let filter = IssueFilter {
            status: StatusFilter::All,
            ..IssueFilter::default()
        };
        let (issues, _) = store.list_issues(project, &filter).await.unwrap();
        assert_eq!(issues.len(), 1, "{}: no empty issue left", backend.name);
    }
}

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
async fn users_see_only_their_projects() {
    for (backend, store, project) in stores().await {
        let admin = store
            .create_user("root@example.com", None, true)
            .await
            .unwrap();
        let ada = store
            .create_user("Ada@Example.com", None, false)
            .await
            .unwrap();
        assert_eq!(ada.email, "ada@example.com");
        assert!(store
            .create_user("ada@example.com", None, false)
            .await
            .is_err());
        let (other, key) = store.create_project("Other", None).await.unwrap();
        let owner = store.project_for_key(&key).await.unwrap().unwrap();
        assert_eq!(owner.project_id, other.id);
        assert_eq!(owner.rate_limit_per_minute, None);
        store.set_rate_limit(other.id, Some(100)).await.unwrap();
        let owner = store.project_for_key(&key).await.unwrap().unwrap();
        assert_eq!(owner.rate_limit_per_minute, Some(100), "{}", backend.name);
        assert!(store.set_rate_limit(other.id, Some(0)).await.is_err());
        assert_eq!(store.project_for_key("nope").await.unwrap(), None);
        assert!(store.can_access(&admin, project).await.unwrap());
        assert!(
            !store.can_access(&ada, project).await.unwrap(),
            "{}",
            backend.name
        );
        store.add_member(project, ada.id).await.unwrap();
        store.add_member(project, ada.id).await.unwrap();
        assert!(store.can_access(&ada, project).await.unwrap());
        let visible = store.projects_for_user(&ada).await.unwrap();
        assert_eq!(visible.len(), 1, "{}", backend.name);
        let token = store.create_api_token(ada.id, Some("ci")).await.unwrap();
        let found = store.user_for_api_token(&token).await.unwrap().unwrap();
        assert_eq!(found.id, ada.id);
        assert!(store
            .user_for_api_token("bgl_nope")
            .await
            .unwrap()
            .is_none());
        let (second, _) = store.create_project("Checkout API", None).await.unwrap();
        assert_eq!(second.slug, "checkout-api-2", "{}", backend.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_queue_refuses_at_once_and_every_accepted_event_is_stored() {
    for (backend, store, project) in stores().await {
        let metrics = std::sync::Arc::new(bugle_server::metrics::Metrics::default());
        let (writer, handle) = Writer::spawn(store.clone(), 2, 1, 1, metrics.clone());
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let writer = writer.clone();
            let occ = prepared(project, error_event("KeyError", i, "web"));
            tasks.push(tokio::spawn(async move { writer.submit(occ).await }));
        }
        let (mut accepted, mut refused) = (0, 0);
        let mut issue = None;
        for t in tasks {
            match t.await.unwrap() {
                Ok(c) => {
                    accepted += 1;
                    issue = Some(c.issue_id);
                }
                Err(SubmitError::QueueFull) => refused += 1,
                Err(e) => panic!("{}: unexpected {e}", backend.name),
            }
        }
        assert!(refused > 0, "{}: the queue of 2 never filled", backend.name);
        let count = store.issue(issue.unwrap()).await.unwrap().count;
        assert_eq!(
            count, accepted,
            "{}: every accepted event stored",
            backend.name
        );
        drop(writer);
        handle.shutdown().await;
    }
}

/// Several writer tasks (PostgreSQL's `ingest.writers`) each own the issues their queue is
/// routed by: every event lands, and each issue's counters are exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_writers_share_the_issues_and_keep_counts_exact() {
    for (backend, store, project) in stores().await {
        let metrics = std::sync::Arc::new(bugle_server::metrics::Metrics::default());
        let (writer, handle) = Writer::spawn(store.clone(), 4096, 16, 4, metrics);
        let types = [
            "KeyError",
            "ValueError",
            "OSError",
            "TypeError",
            "IndexError",
        ];
        let mut tasks = Vec::new();
        for i in 0..300u32 {
            let writer = writer.clone();
            let ty = types[i as usize % types.len()];
            let occ = prepared(project, error_event(ty, i, &format!("web-{}", i % 3)));
            tasks.push(tokio::spawn(async move { writer.submit(occ).await }));
        }
        let mut per_issue: BTreeMap<i64, i64> = BTreeMap::new();
        for t in tasks {
            let c = t.await.unwrap().expect("every event is accepted");
            assert!(!c.duplicate);
            *per_issue.entry(c.issue_id).or_default() += 1;
        }
        assert_eq!(per_issue.len(), types.len(), "{}", backend.name);
        for (&id, &n) in &per_issue {
            assert_eq!(n, 60, "{}", backend.name);
            assert_eq!(store.issue(id).await.unwrap().count, n, "{}", backend.name);
            assert_eq!(
                hourly_total(&store, id).await,
                n,
                "{}: hourly buckets add up",
                backend.name
            );
            let hosts: i64 = store
                .issue_facet(id, "host")
                .await
                .unwrap()
                .iter()
                .map(|h| h.1)
                .sum();
            assert_eq!(hosts, n, "{}: host counts add up", backend.name);
        }
        drop(writer);
        handle.shutdown().await;
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
async fn sessions_links_and_login_failures() {
    use bugle_server::store::sessions::LinkPurpose;
    for (backend, store, _) in stores().await {
        let name = backend.name;
        // The first start's link creates one admin, once.
        let link = store
            .create_password_link(LinkPurpose::FirstAdmin, 60_000)
            .await
            .unwrap();
        let admin = store
            .redeem_password_link(&link, Some("Root@Example.com"), "hash")
            .await
            .unwrap();
        assert!(
            admin.is_admin && admin.email == "root@example.com",
            "{name}"
        );
        assert!(store
            .redeem_password_link(&link, Some("x@example.com"), "hash")
            .await
            .is_err());
        let late = store
            .create_password_link(LinkPurpose::FirstAdmin, 60_000)
            .await
            .unwrap();
        assert!(
            store
                .redeem_password_link(&late, Some("y@example.com"), "h")
                .await
                .is_err(),
            "{name}: no second admin through a setup link"
        );

        let token = store.create_session(admin.id, 60_000).await.unwrap();
        let session = store.session(&token).await.unwrap().expect("a session");
        assert_eq!(session.user.id, admin.id);
        assert_eq!(session.csrf.len(), 64);
        assert!(store.session("nope").await.unwrap().is_none());
        let expired = store.create_session(admin.id, -1).await.unwrap();
        assert!(store.session(&expired).await.unwrap().is_none(), "{name}");
        // A password change ends the other sessions.
        let other = store.create_session(admin.id, 60_000).await.unwrap();
        store.set_password(admin.id, "new", &token).await.unwrap();
        assert!(store.session(&other).await.unwrap().is_none(), "{name}");
        assert!(store.session(&token).await.unwrap().is_some());
        store.delete_session(&token).await.unwrap();
        assert!(store.session(&token).await.unwrap().is_none());

        store
            .record_login_failure(&["email:a", "ip:1"])
            .await
            .unwrap();
        store.record_login_failure(&["email:a"]).await.unwrap();
        assert_eq!(store.login_failures_since("email:a", 0).await.unwrap(), 2);
        assert_eq!(store.login_failures_since("ip:1", 0).await.unwrap(), 1);
        store.clear_login_failures("email:a").await.unwrap();
        assert_eq!(store.login_failures_since("email:a", 0).await.unwrap(), 0);
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
