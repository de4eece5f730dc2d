//! The database going away under load: prompt 503s with Retry-After, never a hang or a 500, and
//! every acknowledged event stored once it is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bugle_tests::pg_cluster::PgCluster;
use bugle_tests::server::{create_project, create_user_token, request, try_request, TestServer};
use serde_json::json;

/// Polls `/readyz` until it answers `status`; the last reply.
fn wait_ready(server: &TestServer, status: u16, within: Duration) -> bugle_tests::server::Reply {
    let deadline = Instant::now() + within;
    loop {
        let reply = request("GET", &format!("{}/readyz", server.url), &[], None);
        if reply.status == status || Instant::now() > deadline {
            return reply;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_postgresql_restart_under_load_answers_503_promptly_and_loses_no_acknowledged_event() {
    let Some(pg) = PgCluster::start() else { return };
    under_load(&pg, true, |pg| pg.stop(), |pg| pg.start_again());
}

/// A PostgreSQL that hangs (every process stopped, connections open) is no different: ingest
/// answers 503 within the bound, nothing acknowledged is lost, and it recovers on SIGCONT.
#[test]
fn a_hanging_postgresql_under_load_answers_503_promptly_and_loses_no_acknowledged_event() {
    let Some(pg) = PgCluster::start() else { return };
    under_load(&pg, false, |pg| pg.pause(), |pg| pg.resume());
}

/// Six clients send events while `down` takes the database away for 3 s and `up` brings it
/// back; `check_api`: the JSON API answers 503 meanwhile.
fn under_load(pg: &PgCluster, check_api: bool, down: fn(&PgCluster), up: fn(&PgCluster)) {
    let db = pg.url();
    let project = create_project(&db, "Outage");
    let api = create_user_token(&db, "ada@example.com", true);
    let server = TestServer::start_with(
        &db,
        &[
            ("BUGLE_STORE_TIMEOUT_MS", "2000"),
            ("BUGLE_RETENTION_MAX_PER_ISSUE", "1000000"),
        ],
    );
    let url = format!("{}/api/v1/events", server.url);
    let auth = format!("Bearer {}", project.token);
    let acknowledged = Mutex::new(Vec::new());
    // (status, took) of every answer; connection errors as status 0.
    let answers = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let (down_ready, down_api) = std::thread::scope(|s| {
        for t in 0..6 {
            let (url, auth, acknowledged, answers, stop) =
                (&url, &auth, &acknowledged, &answers, &stop);
            s.spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let body = json!({"message": format!("load {t} {i}"), "exceptions": [{"type": "LoadError"}]});
                    let started = Instant::now();
                    let sent = try_request(
                        "POST",
                        url,
                        &[("Authorization", auth)],
                        Some(body.to_string().into_bytes()),
                    );
                    let took = started.elapsed();
                    let status = match &sent {
                        Ok(reply) => {
                            if reply.status == 200 {
                                let uuid = reply.json()["uuid"].as_str().unwrap().to_owned();
                                acknowledged.lock().unwrap().push(uuid);
                            } else if reply.status == 503 {
                                assert!(reply.header("retry-after").is_some(), "{}", reply.body);
                                std::thread::sleep(Duration::from_millis(50));
                            }
                            reply.status
                        }
                        Err(_) => 0,
                    };
                    answers.lock().unwrap().push((status, took));
                }
            });
        }
        std::thread::sleep(Duration::from_secs(1));
        down(pg);
        let down_ready = wait_ready(&server, 503, Duration::from_secs(5));
        let down_api = check_api
            .then(|| server.get(&api, &format!("/api/v1/projects/{}/issues", project.slug)));
        std::thread::sleep(Duration::from_secs(3));
        up(pg);
        let up = wait_ready(&server, 200, Duration::from_secs(20));
        assert_eq!(up.status, 200, "the pool recovers by itself: {}", up.body);
        std::thread::sleep(Duration::from_secs(1));
        stop.store(true, Ordering::Relaxed);
        (down_ready, down_api)
    });
    assert_eq!(down_ready.status, 503, "{}", down_ready.body);
    assert!(down_ready.body.contains("database"), "{}", down_ready.body);
    assert!(down_ready.header("retry-after").is_some());
    if let Some(down_api) = down_api {
        assert_eq!(
            down_api.status, 503,
            "the API says unavailable, not 500: {}",
            down_api.body
        );
    }

    let answers = answers.into_inner().unwrap();
    let count = |s: u16| answers.iter().filter(|(st, _)| *st == s).count();
    let slowest = answers.iter().map(|(_, t)| *t).max().unwrap();
    eprintln!(
        "{} answers: {} ok, {} 503, {} 429, slowest {slowest:?}",
        answers.len(),
        count(200),
        count(503),
        count(429)
    );
    assert!(count(503) > 0, "the outage was seen");
    for (status, took) in &answers {
        assert!(
            matches!(status, 200 | 429 | 503),
            "only 200, 429 or 503 answers: {status}"
        );
        // 2 s bound, plus slack for a loaded 2-core machine.
        assert!(*took < Duration::from_secs(4), "an answer took {took:?}");
    }

    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(acknowledged.len() > 20, "load was applied before and after");
    let list = server.get(
        &api,
        &format!("/api/v1/projects/{}/issues?status=all", project.slug),
    );
    let stored = list.json()["issues"][0]["count"].as_u64().unwrap() as usize;
    assert!(
        stored >= acknowledged.len(),
        "{stored} stored < {} acknowledged",
        acknowledged.len()
    );
    for uuid in &acknowledged {
        let occ = server.get(&api, &format!("/api/v1/occurrences/{uuid}"));
        assert_eq!(occ.status, 200, "acknowledged {uuid} is stored");
    }
}
