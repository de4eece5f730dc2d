//! Running Bugle: graceful shutdown, health checks, metrics, request ids, backups.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bugle_tests::server::{
    cli, cli_output, create_project, create_user_token, request, try_request, Backend, TestServer,
};
use serde_json::json;

#[test]
fn sigterm_under_load_exits_cleanly_and_loses_no_acknowledged_event() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Shutdown");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let acknowledged = Mutex::new(Vec::new());
        let stop = AtomicBool::new(false);
        let url = format!("{}/api/v1/events", server.url);
        let auth = format!("Bearer {}", project.token);
        let exited = std::thread::scope(|s| {
            for t in 0..6 {
                let (url, auth, acknowledged, stop) = (&url, &auth, &acknowledged, &stop);
                s.spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let body = json!({"message": format!("load {t} {i}"), "exceptions": [{"type": "LoadError"}]});
                        // After SIGTERM, connections are refused: ureq reports that as an error.
                        let sent = try_request("POST", url, &[("Authorization", auth)], Some(body.to_string().into_bytes()));
                        match sent {
                            Ok(reply) if reply.status == 200 => {
                                let uuid = reply.json()["uuid"].as_str().unwrap().to_owned();
                                acknowledged.lock().unwrap().push(uuid);
                            }
                            Ok(_) => {}
                            Err(_) => std::thread::sleep(Duration::from_millis(20)),
                        }
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(800));
            let started = Instant::now();
            let clean = server.terminate();
            let took = started.elapsed();
            stop.store(true, Ordering::Relaxed);
            (clean, took)
        });
        let (clean, took) = exited;
        assert!(clean, "{}: exit status 0 after SIGTERM", backend.name);
        assert!(
            took < Duration::from_secs(15),
            "{}: stopped in {took:?}",
            backend.name
        );
        let acknowledged = acknowledged.into_inner().unwrap();
        assert!(
            acknowledged.len() > 10,
            "{}: load was applied",
            backend.name
        );

        // Keep every occurrence: retention would trim this busy issue to its newest 1,000.
        let server = TestServer::start_with(db, &[("BUGLE_RETENTION_MAX_PER_ISSUE", "1000000")]);
        let list = server.get(
            &api,
            &format!("/api/v1/projects/{}/issues?status=all", project.slug),
        );
        let stored = list.json()["issues"][0]["count"].as_u64().unwrap() as usize;
        assert!(
            stored >= acknowledged.len(),
            "{}: {stored} stored < {} acknowledged",
            backend.name,
            acknowledged.len()
        );
        for uuid in acknowledged.iter().step_by(7) {
            let occ = server.get(&api, &format!("/api/v1/occurrences/{uuid}"));
            assert_eq!(
                occ.status, 200,
                "{}: acknowledged {uuid} is stored",
                backend.name
            );
        }
    }
}

#[test]
fn health_checks_metrics_and_request_ids() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let server = TestServer::start_with(db, &[("BUGLE_METRICS_TOKEN", "s3cret")]);
    assert_eq!(
        request("GET", &format!("{}/healthz", server.url), &[], None).status,
        200
    );
    let ready = request(
        "GET",
        &format!("{}/readyz", server.url),
        &[("X-Request-Id", "trace-me-42")],
        None,
    );
    assert_eq!(ready.status, 200);
    assert_eq!(ready.header("x-request-id"), Some("trace-me-42"));
    let made = request("GET", &format!("{}/healthz", server.url), &[], None);
    assert_eq!(made.header("x-request-id").map(str::len), Some(32));

    let out = cli_output(db, &["healthcheck", "--url", &server.url], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let out = cli_output(db, &["healthcheck", "--url", &dead], None);
    assert!(!out.status.success(), "a dead server is unhealthy");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unhealthy"));

    let metrics = format!("{}/metrics", server.url);
    assert_eq!(request("GET", &metrics, &[], None).status, 401);
    let reply = request("GET", &metrics, &[("Authorization", "Bearer s3cret")], None);
    assert_eq!(reply.status, 200);
    assert!(
        reply.body.contains("bugle_ingest_queue_depth 0"),
        "{}",
        reply.body
    );
}

#[test]
fn a_backup_of_a_running_sqlite_server_opens_with_everything_in_it() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Backed up");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start(db);
    for i in 0..5 {
        assert_eq!(
            server
                .send_event(&project.token, &json!({"message": format!("event {i}")}))
                .status,
            200
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    cli(db, &["backup", copy.to_str().unwrap()], None);
    let restored = TestServer::start(&format!("sqlite://{}", copy.display()));
    let list = restored.get(&api, &format!("/api/v1/projects/{}/issues", project.slug));
    assert_eq!(list.json()["issues"][0]["count"], 5);
    let again = cli_output(db, &["backup", copy.to_str().unwrap()], None);
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );
}
