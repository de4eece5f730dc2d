//! Committing batches: one issue per bug under concurrency, exact counts, resends, the queue, writers, SQLite settings.

use super::*;

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
        resend.grouping.hashes = vec![GroupHash {
            version: 3,
            hash: "f".repeat(64),
        }];
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

/// A batch that fails (here one event names a project that does not exist) is committed one
/// event at a time: each request gets its own answer, and only the bad event is refused.
#[tokio::test]
async fn a_failed_batch_is_retried_one_by_one_and_only_the_bad_event_is_refused() {
    for (backend, store, project) in stores().await {
        let metrics = std::sync::Arc::new(bugle_server::metrics::Metrics::default());
        let (writer, handle) = Writer::spawn(store.clone(), 64, 16, 1, metrics);
        // Polled together on this one-thread runtime, all four are queued before the writer
        // runs, so they reach it as one batch.
        let submits = [
            (project, 1),
            (project + 1_000_000, 2),
            (project, 3),
            (project, 4),
        ]
        .map(|(p, line)| writer.submit(prepared(p, error_event("KeyError", line, "web"))));
        let results = futures_util::future::join_all(submits).await;
        assert!(results[1].is_err(), "{}: {:?}", backend.name, results[1]);
        let issue = results[0]
            .as_ref()
            .expect("a good event is stored")
            .issue_id;
        for (i, r) in results.iter().enumerate().filter(|(i, _)| *i != 1) {
            let c = r
                .as_ref()
                .unwrap_or_else(|e| panic!("{} event {i}: {e}", backend.name));
            assert_eq!(c.issue_id, issue, "{}", backend.name);
            assert!(!c.duplicate, "{}", backend.name);
        }
        assert_eq!(
            store.issue(issue).await.unwrap().count,
            3,
            "{}",
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
