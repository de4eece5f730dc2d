//! Release health: session updates counted once per session under concurrency, aggregates,
//! distinct users, crash-free rates, and sessions committed with the event they came with.

use super::*;
use bugle_server::releases::health::{parse_session, parse_sessions, Health};
use bugle_server::store::release_health::{overall, NewSession};

fn session(
    project: i64,
    release: &str,
    sid: &str,
    init: bool,
    status: &str,
    did: &str,
) -> NewSession {
    let body = format!(
        r#"{{"sid":"{sid}","did":"{did}","init":{init},"status":"{status}",
            "started":"{}","attrs":{{"release":"{release}","environment":"production"}}}}"#,
        Utc::now().to_rfc3339()
    );
    NewSession {
        project_id: project,
        update: parse_session(body.as_bytes(), Utc::now().timestamp_millis()).unwrap(),
    }
}

/// A single session's update with an error count, started at `started` (RFC 3339).
fn update(
    project: i64,
    sid: &str,
    init: bool,
    status: &str,
    errors: i64,
    started: &str,
) -> NewSession {
    let body = format!(
        r#"{{"sid":"{sid}","did":"{sid}-user","init":{init},"status":"{status}","errors":{errors},
            "started":"{started}","attrs":{{"release":"5.0","environment":"production"}}}}"#
    );
    NewSession {
        project_id: project,
        update: parse_session(body.as_bytes(), Utc::now().timestamp_millis()).unwrap(),
    }
}

/// Python's SDK sends `ok` with `errors: 1` after a handled error, then `crashed` when the
/// app dies: errored while it runs, then crashed instead (not both), never moved back by a
/// late resend, and moved once when two instances get the crash at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_session_that_errors_then_crashes_counts_as_crashed_once() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let second = second_instance(&backend).await;
        let started = Utc::now().to_rfc3339();
        let h = |store: Store| async move {
            let all = store.health_of(project, &["5.0"]).await.unwrap();
            health_of(&all, "5.0")
        };
        let start = update(project, "s1", true, "ok", 0, &started);
        store.commit_ingest(&[], &[start]).await.unwrap();
        let healthy = update(project, "healthy", true, "ok", 0, &started);
        store.commit_ingest(&[], &[healthy]).await.unwrap();
        let errored = update(project, "s1", false, "ok", 1, &started);
        store
            .commit_ingest(&[], std::slice::from_ref(&errored))
            .await
            .unwrap();
        let now = h(store.clone()).await;
        assert_eq!(
            (now.sessions, now.errored, now.crashed),
            (2, 1, 0),
            "{name}: running with an error"
        );
        assert_eq!(now.crash_free_sessions(), Some(1.0), "{name}");
        // The crash reaches both instances at once (an SDK retry); then the old update again.
        let crashed = update(project, "s1", false, "crashed", 1, &started);
        let (a, b) = tokio::join!(
            store.commit_ingest(&[], std::slice::from_ref(&crashed)),
            second.commit_ingest(&[], std::slice::from_ref(&crashed)),
        );
        a.unwrap();
        b.unwrap();
        store.commit_ingest(&[], &[errored]).await.unwrap();
        let exited = update(project, "s1", false, "exited", 1, &started);
        store.commit_ingest(&[], &[exited]).await.unwrap();
        let now = h(store.clone()).await;
        assert_eq!(
            (now.sessions, now.errored, now.crashed),
            (2, 0, 1),
            "{name}: moved, once"
        );
        assert_eq!((now.users, now.crashed_users), (2, 1), "{name}");
        assert_eq!(now.crash_free_sessions(), Some(0.5), "{name}");
    }
}

fn health_of(h: &bugle_server::store::release_health::ReleaseHealth, release: &str) -> Health {
    h.get(release).map(overall).unwrap_or_default()
}

/// 8 tasks on two store instances each start 25 sessions of release 1.0 and end them (every
/// fifth crashed), and send every update twice: each session counts once as started and once
/// by how it ended, users are distinct, and the counts are exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_session_updates_count_each_session_once() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let second = second_instance(&backend).await;
        let mut tasks = Vec::new();
        for t in 0..8 {
            let store = if t % 2 == 0 {
                store.clone()
            } else {
                second.clone()
            };
            tasks.push(tokio::spawn(async move {
                for i in 0..25 {
                    let sid = format!("s-{t}-{i}");
                    let did = format!("user-{}", i % 10);
                    let end = if i % 5 == 0 { "crashed" } else { "exited" };
                    let start = session(project, "1.0", &sid, true, "ok", &did);
                    let ended = session(project, "1.0", &sid, false, end, &did);
                    // Batches mix sessions; the resend comes in another batch.
                    store
                        .commit_ingest(&[], &[start.clone(), ended.clone()])
                        .await
                        .unwrap();
                    store.commit_ingest(&[], &[ended, start]).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let all = store
            .health_of(project, &["1.0", "2.0", "3.0", "4.0"])
            .await
            .unwrap();
        let h = health_of(&all, "1.0");
        assert_eq!(h.sessions, 200, "{name}: {h:?}");
        assert_eq!(h.crashed, 40, "{name}: {h:?}");
        assert_eq!(h.exited, 160, "{name}: {h:?}");
        assert_eq!(
            (h.users, h.crashed_users),
            (10, 2),
            "{name}: users 0 and 5 crashed"
        );
        assert_eq!(h.crash_free_sessions(), Some(0.8), "{name}");
        assert_eq!(h.crash_free_users(), Some(0.8), "{name}");
        assert!(
            store
                .releases(project)
                .await
                .unwrap()
                .iter()
                .any(|r| r.version == "1.0"),
            "{name}: a release named by sessions is listed"
        );
    }
}

#[tokio::test]
async fn aggregates_add_up_per_environment_and_one_release_reads_alone() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let now = Utc::now().timestamp_millis();
        let agg = |env: &str, body: &str| {
            let payload = format!(
                r#"{{"attrs":{{"release":"2.0","environment":"{env}"}},"aggregates":[{body}]}}"#
            );
            parse_sessions(payload.as_bytes(), now)
                .unwrap()
                .into_iter()
                .map(|update| NewSession {
                    project_id: project,
                    update,
                })
                .collect::<Vec<_>>()
        };
        let mut updates = agg("production", r#"{"exited":7,"errored":1,"crashed":2}"#);
        updates.extend(agg("staging", r#"{"exited":3,"abnormal":1}"#));
        store.commit_ingest(&[], &updates).await.unwrap();
        store
            .commit_ingest(&[], &agg("production", r#"{"exited":10}"#))
            .await
            .unwrap();
        store
            .commit_ingest(&[], &[session(project, "3.0", "x", true, "ok", "u")])
            .await
            .unwrap();
        let one = store.health_of(project, &["2.0"]).await.unwrap();
        assert_eq!(one.len(), 1, "{name}: only 2.0");
        let envs = &one["2.0"];
        assert_eq!(
            (
                envs["production"].sessions,
                envs["production"].crashed,
                envs["production"].errored
            ),
            (20, 2, 1),
            "{name}"
        );
        assert_eq!(
            envs["production"].crash_free_sessions(),
            Some(0.9),
            "{name}"
        );
        assert_eq!(
            (envs["staging"].sessions, envs["staging"].abnormal),
            (4, 1),
            "{name}"
        );
        assert_eq!(overall(envs).sessions, 24, "{name}");
        let all = store
            .health_of(project, &["1.0", "2.0", "3.0", "4.0"])
            .await
            .unwrap();
        let running = health_of(&all, "3.0");
        assert_eq!(
            (running.sessions, running.crashed, running.users),
            (1, 0, 1),
            "{name}"
        );
        assert_eq!(
            running.crash_free_sessions(),
            Some(1.0),
            "{name}: a running session is healthy"
        );
    }
}

/// An event and the session update sent with it go through the writer in one job: both are
/// stored when the request is answered.
#[tokio::test]
async fn sessions_commit_with_the_event_through_the_writer() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let metrics = std::sync::Arc::new(bugle_server::metrics::Metrics::default());
        let (writer, handle) = Writer::spawn(store.clone(), 64, 16, 2, metrics);
        let mut event = error_event("KeyError", 1, "web-1");
        event.release = Some("4.0".into());
        let committed = writer
            .submit_with_sessions(
                Some(prepared(project, event)),
                vec![session(project, "4.0", "crash-1", true, "crashed", "ada")],
            )
            .await
            .unwrap()
            .expect("the event's commit");
        assert!(committed.new_issue, "{name}");
        let alone = writer
            .submit_with_sessions(
                None,
                vec![session(project, "4.0", "ok-1", true, "exited", "bob")],
            )
            .await
            .unwrap();
        assert!(alone.is_none(), "{name}: no event, no commit result");
        let all = store
            .health_of(project, &["1.0", "2.0", "3.0", "4.0"])
            .await
            .unwrap();
        let h = health_of(&all, "4.0");
        assert_eq!((h.sessions, h.crashed, h.exited), (2, 1, 1), "{name}");
        assert_eq!((h.users, h.crashed_users), (2, 1), "{name}");
        handle.shutdown().await;
    }
}
