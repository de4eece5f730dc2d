//! kill -9 under load: every event the server acknowledged is in the database after a restart,
//! and every issue's count is exactly the number of its occurrences (no counter updated
//! without its row, no row without its counter), on SQLite and on PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use bugle_tests::db;
use bugle_tests::server::{create_project, try_request, Backend, TestServer};
use serde_json::json;

/// Keep every occurrence: retention would trim a busy issue to its newest 1,000.
const KEEP_ALL: &[(&str, &str)] = &[("BUGLE_RETENTION_MAX_PER_ISSUE", "100000000")];

#[test]
fn kill_9_under_load_loses_no_acknowledged_event_and_counts_stay_exact() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Crash");
        let server = TestServer::start_with(db, KEEP_ALL);
        let acknowledged = Mutex::new(Vec::new());
        let stop = AtomicBool::new(false);
        let url = format!("{}/api/v1/events", server.url);
        let auth = format!("Bearer {}", project.token);
        std::thread::scope(|s| {
            for t in 0..6 {
                let (url, auth, acknowledged, stop) = (&url, &auth, &acknowledged, &stop);
                s.spawn(move || {
                    let mut i = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        // Twelve issues, so that counters of several issues are in each batch.
                        let body = json!({
                            "message": format!("load {t} {i}"),
                            "exceptions": [{"type": format!("CrashError{}", i % 12)}],
                        });
                        let sent = try_request(
                            "POST",
                            url,
                            &[("Authorization", auth)],
                            Some(body.to_string().into_bytes()),
                        );
                        match sent {
                            Ok(reply) if reply.status == 200 => {
                                let uuid = reply.json()["uuid"].as_str().unwrap().to_owned();
                                acknowledged.lock().unwrap().push(uuid);
                            }
                            Ok(_) => {}
                            // Once the server is gone, connections are refused.
                            Err(_) => std::thread::sleep(Duration::from_millis(20)),
                        }
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(1500));
            // Dropping the server is SIGKILL: no shutdown hook, no flush, no checkpoint.
            drop(server);
            std::thread::sleep(Duration::from_millis(200));
            stop.store(true, Ordering::Relaxed);
        });
        let acknowledged = acknowledged.into_inner().unwrap();
        assert!(
            acknowledged.len() > 50,
            "{}: load was applied",
            backend.name
        );

        // The restarted server opens the database as the crash left it (WAL recovery on SQLite).
        let restarted = TestServer::start_with(db, KEEP_ALL);
        let stored: BTreeSet<String> = db::rows(db, "SELECT uuid FROM occurrences")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        // The store keeps uuids without hyphens.
        let lost: Vec<&String> = acknowledged
            .iter()
            .filter(|u| !stored.contains(&u.replace('-', "")))
            .collect();
        assert!(
            lost.is_empty(),
            "{}: {} of {} acknowledged events lost, e.g. {:?}",
            backend.name,
            lost.len(),
            acknowledged.len(),
            &lost[..lost.len().min(3)]
        );

        let counted: BTreeMap<String, String> = db::rows(
            db,
            "SELECT CAST(id AS TEXT), CAST(count AS TEXT) FROM issues",
        )
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
        let rows: BTreeMap<String, String> = db::rows(
            db,
            "SELECT CAST(issue_id AS TEXT), CAST(COUNT(*) AS TEXT) FROM occurrences GROUP BY issue_id",
        )
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
        assert_eq!(
            counted, rows,
            "{}: each issue's count is its number of occurrences",
            backend.name
        );
        assert_eq!(counted.len(), 12, "{}: twelve issues", backend.name);

        // And it takes events again.
        let reply = restarted.send_event(
            &project.token,
            &json!({"message": "after the crash", "exceptions": [{"type": "CrashError0"}]}),
        );
        assert_eq!(reply.status, 200, "{}: ingest after restart", backend.name);
    }
}
