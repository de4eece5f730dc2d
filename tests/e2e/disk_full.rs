//! SQLite out of disk, end to end: the data folder is a small tmpfs. Ingest
//! answers 503 with Retry-After (never 500) within the bound, the failures are counted,
//! `/readyz` says the disk is full, the database stays intact (`PRAGMA integrity_check` is
//! `ok`), and service returns by itself once there is room again. (A read-only disk is
//! `read_only.rs`.) Needs root to mount: under CI=true it fails loudly without it, elsewhere it
//! is skipped with the reason.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bugle_tests::mounts::Tmpfs;
use bugle_tests::server::{create_project, request, Project, TestServer};
use serde_json::json;

/// An event of ~40 KB that compresses poorly (hex of random uuids).
fn big_event() -> serde_json::Value {
    let noise: String = (0..1200)
        .map(|_| uuid::Uuid::new_v4().simple().to_string())
        .collect();
    json!({"message": "disk", "extra": {"noise": noise}})
}

/// Sends until an answer is not 200 (or `limit` events); every answer is within the bound.
fn send_until_refused(server: &TestServer, project: &Project, limit: usize) -> Option<(u16, bool)> {
    for _ in 0..limit {
        let started = Instant::now();
        let reply = server.send_event(&project.token, &big_event());
        let took = started.elapsed();
        assert!(took < Duration::from_secs(4), "an answer took {took:?}");
        if reply.status != 200 {
            assert_ne!(reply.status, 500, "{}", reply.body);
            return Some((reply.status, reply.header("retry-after").is_some()));
        }
    }
    None
}

/// Sends an event every 200 ms until one is accepted; panics after `within`.
pub fn wait_accepted(server: &TestServer, project: &Project, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let reply = server.send_event(&project.token, &json!({"message": "back"}));
        if reply.status == 200 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still refused: {} {}",
            reply.status,
            reply.body
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn integrity(db: &str) -> String {
    bugle_tests::db::rows(db, "PRAGMA integrity_check")[0][0].clone()
}

fn store_errors(server: &TestServer) -> u64 {
    let text = request("GET", &format!("{}/metrics", server.url), &[], None).body;
    text.lines()
        .find_map(|l| l.strip_prefix("bugle_store_errors_total{reason=\"disk_full\"} "))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Fills the file system with a file until it is full.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    let _ = file.sync_all();
    path
}

#[test]
fn sqlite_out_of_disk_answers_503_stays_intact_and_recovers_when_space_is_freed() {
    let Some(fs) = Tmpfs::mount(24) else { return };
    let db = format!("sqlite://{}/bugle.db", fs.path.display());
    let project = create_project(&db, "Disk");
    let server = TestServer::start_with(&db, &[("BUGLE_STORE_TIMEOUT_MS", "2000")]);
    assert_eq!(server.send_event(&project.token, &big_event()).status, 200);

    // Out of disk.
    let filler = fill(&fs.path);
    let refused = send_until_refused(&server, &project, 200);
    assert_eq!(
        refused,
        Some((503, true)),
        "a full disk is a 503 with Retry-After"
    );
    let errors = store_errors(&server);
    assert!(
        errors > 0,
        "bugle_store_errors_total{{reason=\"disk_full\"}} counts the failed commits"
    );
    let ready = request("GET", &format!("{}/readyz", server.url), &[], None);
    assert_eq!(ready.status, 503, "not ready while the disk is full");
    assert!(ready.body.contains("is full"), "{}", ready.body);
    assert!(ready.header("retry-after").is_some());
    assert_eq!(integrity(&db), "ok");
    std::fs::remove_file(&filler).unwrap();
    let ready = request("GET", &format!("{}/readyz", server.url), &[], None);
    assert_eq!(
        ready.status, 200,
        "ready once space is freed: {}",
        ready.body
    );
    wait_accepted(&server, &project, Duration::from_secs(10));
    assert_eq!(integrity(&db), "ok");
}
