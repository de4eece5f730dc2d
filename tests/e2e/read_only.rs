//! SQLite on a disk that went read-only, end to end: the data folder is a tmpfs remounted `ro`.
//! Linux refuses that while a server holds the database open for writing, so the tests meet
//! it as an operator does after a crash or a restart on a file system that turned read-only:
//! the server starts on it. Ingest answers 503 with Retry-After within the bound (never 500),
//! `/readyz` says read-only, the dashboard and the API keep serving reads and refuse writes with
//! 503, and once the disk is writable again the server recovers by itself (its connections were
//! opened read-only, as SQLite does silently, and are replaced). Nothing acknowledged is lost
//! and `PRAGMA integrity_check` is `ok`.

use std::time::{Duration, Instant};

use bugle_tests::mounts::Tmpfs;
use bugle_tests::server::{binary, create_project, create_user_token, request, TestServer};
use bugle_tests::web::{create_user, WebUser, PASSWORD};
use serde_json::json;

use crate::disk_full::{integrity, wait_accepted};

const ENV: &[(&str, &str)] = &[("BUGLE_STORE_TIMEOUT_MS", "2000")];

#[test]
fn sqlite_restarted_on_a_read_only_disk_answers_503_serves_reads_and_recovers_when_writable() {
    let Some(fs) = Tmpfs::mount(64) else { return };
    let db = format!("sqlite://{}/bugle.db", fs.path.display());
    let project = create_project(&db, "ReadOnly");
    let api = create_user_token(&db, "ada@example.com", true);
    create_user(&db, "bob@example.com", true);
    let server = TestServer::start_with(&db, ENV);
    let session = WebUser::sign_in(&server.url, "bob@example.com", PASSWORD).cookie;
    let mut acknowledged = Vec::new();
    for i in 0..20 {
        let reply = server.send_event(&project.token, &json!({"message": format!("ro {i}")}));
        assert_eq!(reply.status, 200, "{}", reply.body);
        acknowledged.push(reply.json()["uuid"].as_str().unwrap().to_owned());
    }
    // A crash (kill -9) leaves the WAL and its index beside the database, which is what lets
    // SQLite read a database it may not write.
    drop(server);
    fs.set_read_only(true);
    let server = TestServer::start_with(&db, ENV);
    let user = WebUser {
        base: server.url.clone(),
        cookie: session,
    };

    for _ in 0..5 {
        let started = Instant::now();
        let reply = server.send_event(&project.token, &json!({"message": "refused"}));
        let took = started.elapsed();
        assert_eq!(reply.status, 503, "read-only is a 503: {}", reply.body);
        assert!(reply.header("retry-after").is_some());
        assert!(took < Duration::from_secs(4), "an answer took {took:?}");
    }
    let ready = request("GET", &format!("{}/readyz", server.url), &[], None);
    assert_eq!(ready.status, 503, "{}", ready.body);
    assert!(ready.body.contains("read-only"), "{}", ready.body);
    let issues = server.get(&api, &format!("/api/v1/projects/{}/issues", project.slug));
    assert_eq!(issues.status, 200, "reads are served: {}", issues.body);
    let issue_id = issues.json()["issues"][0]["id"].as_i64().unwrap();
    assert_eq!(issues.json()["issues"][0]["count"], 20);
    let page = user.get(&format!("/projects/{}/issues", project.slug));
    assert_eq!(page.status, 200, "the dashboard reads: {}", page.body);
    let resolve = |server: &TestServer| {
        server.send_json(
            "PATCH",
            &api,
            &format!("/api/v1/issues/{issue_id}"),
            &json!({"status": "resolved"}),
        )
    };
    let refused = resolve(&server);
    assert_eq!(refused.status, 503, "a write is a 503: {}", refused.body);
    assert!(refused.header("retry-after").is_some());
    let form = user.post(
        &format!("/issues/{issue_id}"),
        &format!("/issues/{issue_id}/status"),
        &[("status", "resolved")],
    );
    assert_eq!(form.status, 503, "the dashboard says why: {}", form.body);
    assert!(
        form.body.contains("database is unavailable"),
        "{}",
        form.body
    );

    fs.set_read_only(false);
    wait_accepted(&server, &project, Duration::from_secs(10));
    let ready = request("GET", &format!("{}/readyz", server.url), &[], None);
    assert_eq!(ready.status, 200, "{}", ready.body);
    let resolved = resolve(&server);
    assert_eq!(
        resolved.status, 200,
        "the pool's read-only connections were replaced: {}",
        resolved.body
    );
    for uuid in &acknowledged {
        let occ = server.get(&api, &format!("/api/v1/occurrences/{uuid}"));
        assert_eq!(occ.status, 200, "acknowledged {uuid} is stored");
    }
    drop(server);
    assert_eq!(integrity(&db), "ok");
}

/// After a clean stop SQLite has removed the WAL index, and cannot even read the database from
/// a read-only folder: the server refuses to start and says why, as PostgreSQL does on a
/// read-only data directory.
#[test]
fn sqlite_on_a_read_only_disk_after_a_clean_stop_refuses_to_start_and_says_why() {
    let Some(fs) = Tmpfs::mount(16) else { return };
    let db = format!("sqlite://{}/bugle.db", fs.path.display());
    create_project(&db, "Clean");
    fs.set_read_only(true);
    let out = std::process::Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("BUGLE_DATABASE_URL", &db)
        .output()
        .expect("bugle-server runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("read-only file system"), "{stderr}");
    fs.set_read_only(false);
    assert_eq!(integrity(&db), "ok");
}
