//! The database going away under load: prompt 503s with Retry-After, never a hang or a 500, and
//! every acknowledged event stored once it is back. PostgreSQL stopped or hanging, and SQLite
//! whose write lock another process holds.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
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
    let expect = Expect {
        ready_503: true,
        api_503: true,
        page_503: true,
    };
    under_load(&pg.url(), expect, || pg.stop(), || pg.start_again());
}

/// A PostgreSQL that hangs (every process stopped, connections open) is no different: ingest
/// answers 503 within the bound, nothing acknowledged is lost, and it recovers on SIGCONT.
#[test]
fn a_hanging_postgresql_under_load_answers_503_promptly_and_loses_no_acknowledged_event() {
    let Some(pg) = PgCluster::start() else { return };
    let expect = Expect {
        ready_503: true,
        api_503: false,
        page_503: false,
    };
    under_load(&pg.url(), expect, || pg.pause(), || pg.resume());
}

/// Another process (python3's sqlite3) holds SQLite's write lock for 3 s under load: the writer
/// gives up at the store timeout instead of SQLite's usual busy wait, the events are answered
/// 503 within the bound (counted as `busy`), `/readyz` says the lock is held, and service
/// resumes when the lock is released.
#[test]
fn sqlite_write_locked_by_another_process_under_load_answers_503_promptly_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bugle.db");
    let db = format!("sqlite://{}", path.display());
    let expect = Expect {
        ready_503: true,
        api_503: false,
        page_503: false,
    };
    let lock = Mutex::new(None);
    let metrics = under_load(
        &db,
        expect,
        || *lock.lock().unwrap() = Some(WriteLock::take(&path)),
        || lock.lock().unwrap().take().unwrap().release(),
    );
    let busy = metrics
        .lines()
        .find_map(|l| l.strip_prefix("bugle_store_errors_total{reason=\"busy\"} "))
        .map_or(0, |v| v.trim().parse::<u64>().unwrap());
    assert!(busy > 0, "batches refused as busy are counted:\n{metrics}");
}

/// A `BEGIN IMMEDIATE` held by another process until released.
struct WriteLock(Child);

impl WriteLock {
    fn take(path: &std::path::Path) -> WriteLock {
        const HOLD: &str = "import sqlite3, sys\n\
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n\
            c.execute('BEGIN IMMEDIATE')\n\
            print('locked', flush=True)\n\
            sys.stdin.read()\n\
            c.execute('ROLLBACK')\n";
        let mut child = Command::new("python3")
            .args(["-c", HOLD])
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "locked");
        WriteLock(child)
    }

    fn release(mut self) {
        drop(self.0.stdin.take());
        assert!(self.0.wait().unwrap().success());
    }
}

/// What the outage looks like from outside besides ingest.
struct Expect {
    /// `/readyz` answers 503 meanwhile.
    ready_503: bool,
    /// The JSON API answers 503 meanwhile.
    api_503: bool,
    /// A signed-in dashboard page is the "database unavailable" page (503) meanwhile.
    page_503: bool,
}

/// Six clients send events while `down` takes the database away for 3 s and `up` brings it
/// back; returns the server's metrics afterwards.
fn under_load(db: &str, expect: Expect, down: impl FnOnce(), up: impl FnOnce()) -> String {
    let db = db.to_owned();
    let project = create_project(&db, "Outage");
    let api = create_user_token(&db, "ada@example.com", true);
    bugle_tests::web::create_user(&db, "bob@example.com", true);
    let server = TestServer::start_with(
        &db,
        &[
            ("BUGLE_STORE_TIMEOUT_MS", "2000"),
            ("BUGLE_RETENTION_MAX_PER_ISSUE", "1000000"),
        ],
    );
    let web = bugle_tests::web::WebUser::sign_in(
        &server.url,
        "bob@example.com",
        bugle_tests::web::PASSWORD,
    );
    let url = format!("{}/api/v1/events", server.url);
    let auth = format!("Bearer {}", project.token);
    let acknowledged = Mutex::new(Vec::new());
    // (status, took) of every answer; connection errors as status 0.
    let answers = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let (down_ready, down_api, down_page) = std::thread::scope(|s| {
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
        down();
        let down_ready = expect
            .ready_503
            .then(|| wait_ready(&server, 503, Duration::from_secs(5)));
        let down_api = expect
            .api_503
            .then(|| server.get(&api, &format!("/api/v1/projects/{}/issues", project.slug)));
        let down_page = expect
            .page_503
            .then(|| web.get(&format!("/projects/{}/issues", project.slug)));
        std::thread::sleep(Duration::from_secs(3));
        up();
        let up = wait_ready(&server, 200, Duration::from_secs(20));
        assert_eq!(up.status, 200, "the pool recovers by itself: {}", up.body);
        std::thread::sleep(Duration::from_secs(1));
        stop.store(true, Ordering::Relaxed);
        (down_ready, down_api, down_page)
    });
    if let Some(page) = down_page {
        assert_eq!(page.status, 503, "{}", page.body);
        assert!(
            page.body.contains("the database is unavailable right now"),
            "a clear page, not a 500: {}",
            page.body
        );
        assert!(page.header("retry-after").is_some());
    }
    if let Some(down_ready) = down_ready {
        assert_eq!(down_ready.status, 503, "{}", down_ready.body);
        assert!(down_ready.body.contains("database"), "{}", down_ready.body);
        assert!(down_ready.header("retry-after").is_some());
    }
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
    request("GET", &format!("{}/metrics", server.url), &[], None).body
}
