//! The benchmark's soak run (`bugle-bench --soak 30m`): ingest at a fixed rate for a long
//! time with dashboard reads and retention running beside it, and a line per minute of what
//! drifts when something leaks or piles up: RSS, ingest p99, the writer's queue, WAL and
//! database size. A steady server keeps every column flat after its first minutes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::bench::{rss_mb, Latencies};
use crate::load::{self, Prepared};
use crate::server::{Backend, TestServer};
use crate::web::WebUser;

/// What the soak needs from the benchmark: where to send, how to read pages, and the next
/// minute's requests (the workload is built by the caller, as for the other runs).
pub struct Soak<'a> {
    pub backend: &'a Backend,
    pub server: &'a TestServer,
    pub user: &'a WebUser,
    pub slug: &'a str,
    pub duration: Duration,
    pub rate: f64,
    pub requests: &'a dyn Fn(u64, usize) -> Vec<Prepared>,
}

/// Settings the soak's server starts with: retention passes every 20 s keeping 1,000
/// occurrences per issue, so that deletes run beside ingest the whole time.
pub const SERVER_ENV: &[(&str, &str)] = &[
    ("BUGLE_RETENTION_INTERVAL_SECS", "20"),
    ("BUGLE_RETENTION_MAX_PER_ISSUE", "1000"),
];

/// Parses `30m`, `90s`, `2h` (a bare number is minutes).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "m"),
    };
    let n: u64 = number.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return None,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// Runs the soak, printing a line per minute; returns the minutes as JSON rows and whether
/// RSS and p99 stayed flat.
pub fn run(soak: &Soak) -> Value {
    let minutes = soak.duration.as_secs().div_ceil(60);
    let addr = soak
        .server
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("the server's address");
    let pid = soak.server.pid();
    println!(
        "soak: {minutes} min at {:.0} events/s, dashboard reads and retention beside",
        soak.rate
    );
    println!(
        "  min   rss MB   sqlite MB   ingest p99 ms   page p99 ms   queue   wal MB    db MB   stored/s"
    );
    let mut rows = Vec::new();
    for minute in 0..minutes {
        let rest = soak.duration.as_secs() % 60;
        let slice = if minute + 1 == minutes && rest > 0 {
            Duration::from_secs(rest)
        } else {
            Duration::from_secs(60)
        };
        let n = (soak.rate * slice.as_secs_f64()) as usize;
        let requests = (soak.requests)(minute, n);
        let (outcome, pages) =
            with_dashboard_reads(soak, || load::run(addr, &requests, 32, Some(soak.rate)));
        let ingest = Latencies(outcome.latencies);
        let (rss, _) = rss_mb(pid);
        let queue = metric(soak.server, "bugle_ingest_queue_depth");
        // SQLite's own share of the RSS (page caches), 0 on PostgreSQL.
        let sqlite_mb = metric(soak.server, "bugle_sqlite_memory_bytes") as f64 / 1e6;
        let (db, wal) = database_sizes(soak.backend);
        let row = json!({
            "minute": minute + 1,
            "rss_mb": rss,
            "sqlite_mb": sqlite_mb,
            "ingest_p99_ms": ms(ingest.percentile(0.99)),
            "page_p99_ms": ms(pages.percentile(0.99)),
            "queue_depth": queue,
            "wal_mb": wal as f64 / 1e6,
            "db_mb": db as f64 / 1e6,
            "accepted_per_s": outcome.ok as f64 / outcome.elapsed.as_secs_f64(),
            "refused": outcome.refused,
        });
        println!(
            "  {:>3}   {:>6.1}   {:>9.1}   {:>13.2}   {:>11.2}   {:>5}   {:>6.1}   {:>6.1}   {:>8.0}",
            minute + 1,
            rss,
            sqlite_mb,
            row["ingest_p99_ms"].as_f64().unwrap_or(0.0),
            row["page_p99_ms"].as_f64().unwrap_or(0.0),
            queue,
            wal as f64 / 1e6,
            db as f64 / 1e6,
            row["accepted_per_s"].as_f64().unwrap_or(0.0),
        );
        rows.push(row);
    }
    let flat = flatness(&rows);
    println!(
        "soak: rss {} (first half {:.1} MB, second half {:.1} MB), p99 {} ({:.2} ms, {:.2} ms)",
        verdict(flat.rss_ok),
        flat.rss.0,
        flat.rss.1,
        verdict(flat.p99_ok),
        flat.p99.0,
        flat.p99.1
    );
    json!({"minutes": rows, "rss_flat": flat.rss_ok, "p99_flat": flat.p99_ok})
}

/// Reads the issue list and the busiest issue's page in a loop while `ingest` runs.
fn with_dashboard_reads<T>(soak: &Soak, ingest: impl FnOnce() -> T) -> (T, Latencies) {
    let stop = AtomicBool::new(false);
    let pages = Mutex::new(Vec::new());
    let list = format!("/projects/{}/issues", soak.slug);
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let page = soak.user.get(&list);
                pages.lock().unwrap().push(started.elapsed());
                if let Some(issue) = first_issue_link(&page.body) {
                    let started = Instant::now();
                    soak.user.get(&issue);
                    pages.lock().unwrap().push(started.elapsed());
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        });
        let out = ingest();
        stop.store(true, Ordering::Relaxed);
        out
    });
    (out, Latencies(pages.into_inner().unwrap()))
}

fn first_issue_link(html: &str) -> Option<String> {
    let start = html.find("href=\"/issues/")? + "href=\"".len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].to_owned())
}

fn metric(server: &TestServer, name: &str) -> u64 {
    let text = server.get("", "/metrics").body;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
        .unwrap_or(0.0) as u64
}

/// (database, WAL) bytes: SQLite's two files, or PostgreSQL's database size (its WAL is the
/// cluster's, not the database's, and is left out).
pub fn database_sizes(backend: &Backend) -> (u64, u64) {
    if let Some(path) = backend.database_url.strip_prefix("sqlite://") {
        let len = |p: String| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        return (len(path.to_owned()), len(format!("{path}-wal")));
    }
    let name = backend.database_url.rsplit('/').next().unwrap().to_owned();
    let out = std::process::Command::new("psql")
        .args([
            &backend.database_url,
            "-Atc",
            &format!("SELECT pg_database_size('{name}')"),
        ])
        .output();
    let db = out
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0);
    (db, 0)
}

struct Flatness {
    rss: (f64, f64),
    p99: (f64, f64),
    rss_ok: bool,
    p99_ok: bool,
}

/// Compares the second half of the run with the first (the first minute, warm-up, aside):
/// flat means RSS grew by less than 20 % and the median minute's p99 by less than half.
fn flatness(rows: &[Value]) -> Flatness {
    let rows = if rows.len() > 2 { &rows[1..] } else { rows };
    let half = rows.len() / 2;
    let (first, second) = rows.split_at(half.max(1).min(rows.len()));
    let mean = |rows: &[Value], key: &str| {
        let v: Vec<f64> = rows.iter().filter_map(|r| r[key].as_f64()).collect();
        v.iter().sum::<f64>() / v.len().max(1) as f64
    };
    let median = |rows: &[Value], key: &str| {
        let mut v: Vec<f64> = rows.iter().filter_map(|r| r[key].as_f64()).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let rss = (mean(first, "rss_mb"), mean(second, "rss_mb"));
    let p99 = (
        median(first, "ingest_p99_ms"),
        median(second, "ingest_p99_ms"),
    );
    Flatness {
        rss,
        p99,
        rss_ok: second.is_empty() || rss.1 <= rss.0 * 1.2,
        p99_ok: second.is_empty() || p99.1 <= p99.0 * 1.5 + 1.0,
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "flat"
    } else {
        "GROWS"
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("0m"), None);
        assert_eq!(parse_duration("3y"), None);
    }

    #[test]
    fn growth_is_seen() {
        let row = |rss: f64, p99: f64| json!({"rss_mb": rss, "ingest_p99_ms": p99});
        let steady: Vec<Value> = (0..10).map(|_| row(50.0, 4.0)).collect();
        let f = flatness(&steady);
        assert!(f.rss_ok && f.p99_ok);
        let leaking: Vec<Value> = (0..10).map(|i| row(50.0 + 10.0 * i as f64, 4.0)).collect();
        assert!(!flatness(&leaking).rss_ok);
    }
}
