//! `bugle-bench`: Bugle's throughput, latency, CPU, memory and storage in one run, next to a
//! parse-only ceiling, on SQLite and PostgreSQL, with the same generated workload.
//!
//! ```sh
//! cargo build --release -p bugle-server
//! cargo run --release -p bugle-tests --bin bugle-bench -- [--quick] [--events N] [--out target/bench.json]
//! cargo run --release -p bugle-tests --bin bugle-bench -- --dashboard   # only the seeded pages
//! cargo run --release -p bugle-tests --bin bugle-bench -- --only sqlite  # one run, for profiling
//! cargo run --release -p bugle-tests --bin bugle-bench -- --only otlp --events 20000  # OTLP spans/s (N traces)
//! ```
//!
//! `--new-issues PCT` sets the share of events that open a new issue (2 %; a soak with 0.01
//! reaches a steady database size once retention caps each issue).
//!
//! `--soak 30m [--rate 500] [--only postgres]` runs ingest at a fixed rate for that long, with
//! dashboard reads and retention beside it, and prints RSS, p99, queue, WAL and database size
//! per minute (`bugle_tests::soak`).
//!
//! `--baseline PATH [--rounds N]` measures ingest (`--only sqlite`, the default, or `postgres`)
//! with an earlier `bugle-server` binary and this one, alternating, and prints the ratio: the
//! before/after figure a change on the ingest path reports, taken side by side on one machine.
//! It also prints the median of each round's ratio and the CPU per event of the server and,
//! on PostgreSQL, of the database's backends: steadier figures when other work shares the cores.
//!
//! `--connections N` sets the concurrency at saturation (256). The load comes from one thread
//! (`bugle_tests::load`) on the same two cores as the server.

use std::time::{Duration, Instant};

use bugle_tests::bench::{
    cpu_seconds, database_cpu, database_cpu_between, rss_mb, workload, Body, Latencies, Wire,
    NEW_ISSUES_PERCENT,
};
use bugle_tests::bench::{event, Rng};
use bugle_tests::load::{self, Prepared};
use bugle_tests::server::{create_project, create_user_token, Backend, TestServer};
use bugle_tests::soak::{self, Soak};
use bugle_tests::web::{WebUser, PASSWORD};
use serde_json::{json, Value};

struct Args {
    events: usize,
    quick: bool,
    out: String,
    seed_issues: usize,
    seed_occurrences: usize,
    dashboard_only: bool,
    /// Only this run (ceiling, sqlite or postgres), no dashboard: for profiling.
    only: Option<String>,
    /// Keep-alive connections at saturation.
    connections: usize,
    /// `--soak D`: a long run at `rate` events/s instead of the usual ones.
    soak: Option<Duration>,
    rate: f64,
    /// `--baseline BIN`: an earlier server binary measured beside this one, `rounds` times each.
    baseline: Option<std::path::PathBuf>,
    rounds: usize,
    /// Share of events that open a new issue, in percent (`--new-issues`).
    new_issues: f64,
}

fn args() -> Args {
    let mut args = Args {
        events: 30_000,
        quick: false,
        out: "target/bench.json".into(),
        seed_issues: 20_000,
        seed_occurrences: 1_000_000,
        dashboard_only: false,
        only: None,
        connections: 256,
        soak: None,
        rate: 500.0,
        baseline: None,
        rounds: 3,
        new_issues: NEW_ISSUES_PERCENT,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => {
                args.quick = true;
                args.events = 6_000;
                args.seed_issues = 2_000;
                args.seed_occurrences = 40_000;
            }
            "--events" => args.events = it.next().and_then(|v| v.parse().ok()).expect("--events N"),
            "--out" => args.out = it.next().expect("--out PATH"),
            "--dashboard" => args.dashboard_only = true,
            "--connections" => {
                args.connections = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--connections N")
            }
            "--soak" => {
                args.soak = Some(
                    it.next()
                        .and_then(|v| soak::parse_duration(&v))
                        .expect("--soak 30m (or 90s, 2h)"),
                )
            }
            "--baseline" => args.baseline = Some(it.next().expect("--baseline PATH").into()),
            "--new-issues" => {
                args.new_issues = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--new-issues PCT")
            }
            "--rounds" => args.rounds = it.next().and_then(|v| v.parse().ok()).expect("--rounds N"),
            "--rate" => args.rate = it.next().and_then(|v| v.parse().ok()).expect("--rate N"),
            "--only" => args.only = Some(it.next().expect("--only ceiling|sqlite|postgres|otlp")),
            "--seed-occurrences" => {
                args.seed_occurrences = it.next().and_then(|v| v.parse().ok()).expect("N")
            }
            other => panic!(
                "unknown argument {other}: use --quick, --events N, --out PATH, --dashboard, \
                 --seed-occurrences N, --only ceiling|sqlite|postgres|otlp, --connections N, \
                 --soak 30m, --rate N, --baseline PATH, --rounds N, --new-issues PCT"
            ),
        }
    }
    args
}

/// The workload as HTTP requests, built before anything is timed.
fn requests(token: &str, project_id: i64, bodies: &[Body]) -> Vec<Prepared> {
    bodies
        .iter()
        .map(|body| {
            let json = "Content-Type: application/json".to_owned();
            match body.wire {
                Wire::Native => Prepared::post(
                    "/api/v1/events",
                    &[format!("Authorization: Bearer {token}"), json],
                    &body.bytes,
                ),
                Wire::NativeGzip => Prepared::post(
                    "/api/v1/events",
                    &[
                        format!("Authorization: Bearer {token}"),
                        "Content-Encoding: gzip".into(),
                        json,
                    ],
                    &body.bytes,
                ),
                Wire::SentryEnvelope => Prepared::post(
                    &format!("/api/{project_id}/envelope/"),
                    &[
                        format!("X-Sentry-Auth: Sentry sentry_version=7, sentry_key={token}"),
                        "Content-Type: application/x-sentry-envelope".into(),
                    ],
                    &body.bytes,
                ),
            }
        })
        .collect()
}

/// Sends the requests over `connections` keep-alive connections; returns (2xx, latencies,
/// events/s).
fn load(
    server: &TestServer,
    requests: &[Prepared],
    connections: usize,
    rate: Option<f64>,
) -> (usize, Latencies, f64) {
    let addr = server
        .url
        .trim_start_matches("http://")
        .parse()
        .expect("the server listens on an IP address");
    let out = load::run(addr, requests, connections, rate);
    if out.refused > 0 {
        println!("  ({} requests were not answered 2xx)", out.refused);
    }
    let rate = out.ok as f64 / out.elapsed.as_secs_f64();
    (out.ok, Latencies(out.latencies), rate)
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// Stored occurrences of a project, through the API.
fn stored(server: &TestServer, api: &str, slug: &str) -> i64 {
    let mut total = 0;
    let mut cursor = String::new();
    loop {
        let page = server
            .get(
                api,
                &format!("/api/v1/projects/{slug}/issues?status=all&limit=500{cursor}"),
            )
            .json();
        total += page["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["count"].as_i64().unwrap())
            .sum::<i64>();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return total,
        }
    }
}

fn disk_bytes(backend: &Backend) -> u64 {
    let (db, wal) = soak::database_sizes(backend);
    db + wal
}

/// Mean events per commit and mean commit time (ms) so far, from the server's `/metrics`.
fn batches(server: &TestServer) -> (f64, f64) {
    let text = server.get("", "/metrics").body;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let commits = value("bugle_batch_size_count").max(1.0);
    (
        value("bugle_batch_size_sum") / commits,
        value("bugle_commit_seconds_sum") / commits * 1000.0,
    )
}

/// Measures one backend: saturation, a fixed rate, CPU, memory, storage.
fn measure(
    name: &str,
    backend: Backend,
    bodies: &[Body],
    fixed: &[Body],
    discard: bool,
    connections: usize,
) -> Value {
    let db = &backend.database_url;
    let project = create_project(db, "Bench");
    let api = create_user_token(db, "bench@example.com", true);
    let env: Vec<(&str, &str)> = if discard {
        vec![("BUGLE_BENCH_DISCARD", "true")]
    } else {
        vec![]
    };
    let server = TestServer::start_with(db, &env);
    std::thread::sleep(Duration::from_millis(500));
    let pid = server.pid();
    let (idle_rss, _) = rss_mb(pid);
    let cpu0 = cpu_seconds(pid);
    let db_cpu0 = database_cpu(db);
    let requests_saturation = requests(&project.token, project.id, bodies);
    let requests_fixed = requests(&project.token, project.id, fixed);
    let (ok, lat) = {
        let (ok, lat, rate) = load(&server, &requests_saturation, connections, None);
        println!("  {name:<10} saturation: {rate:>8.0} events/s  p50 {:>6.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            ms(lat.percentile(0.5)), ms(lat.percentile(0.99)), ms(lat.max()));
        ((ok, rate), lat)
    };
    let cpu = cpu_seconds(pid) - cpu0;
    let db_cpu = database_cpu_between(&db_cpu0, &database_cpu(db));
    let (batch, commit_ms) = batches(&server);
    if !discard {
        println!("  {name:<10} commits:    {batch:>8.1} events per commit, {commit_ms:.2} ms each");
    }
    let (_, peak_rss) = rss_mb(pid);
    let (fixed_ok, fixed_lat, _) = load(&server, &requests_fixed, 32, Some(2000.0));
    println!(
        "  {name:<10} at 2,000/s:  p50 {:>6.2} ms  p99 {:>7.2} ms  max {:>7.2} ms ({fixed_ok} ok)",
        ms(fixed_lat.percentile(0.5)),
        ms(fixed_lat.percentile(0.99)),
        ms(fixed_lat.max())
    );
    std::thread::sleep(Duration::from_secs(2));
    let (settled_rss, _) = rss_mb(pid);
    let stored = if discard {
        0
    } else {
        stored(&server, &api, &project.slug)
    };
    let raw: usize = bodies.iter().chain(fixed).map(|b| b.raw_len).sum();
    let disk = if discard { 0 } else { disk_bytes(&backend) };
    let per_event = if stored > 0 {
        disk as f64 / stored as f64
    } else {
        0.0
    };
    let raw_per_event = raw as f64 / (bodies.len() + fixed.len()) as f64;
    json!({
        "events_per_s": ok.1, "accepted": ok.0 + fixed_ok, "stored": stored,
        "p50_ms": ms(lat.percentile(0.5)), "p99_ms": ms(lat.percentile(0.99)), "max_ms": ms(lat.max()),
        "fixed_rate_p50_ms": ms(fixed_lat.percentile(0.5)), "fixed_rate_p99_ms": ms(fixed_lat.percentile(0.99)),
        "fixed_rate_max_ms": ms(fixed_lat.max()),
        "mean_batch": batch, "mean_commit_ms": commit_ms,
        "cpu_s_per_10k": cpu / ok.0.max(1) as f64 * 10_000.0,
        "database_cpu_s_per_10k": db_cpu / ok.0.max(1) as f64 * 10_000.0,
        "idle_rss_mb": idle_rss, "peak_rss_mb": peak_rss, "settled_rss_mb": settled_rss,
        "disk_bytes_per_event": per_event, "raw_bytes_per_event": raw_per_event,
    })
}

/// OTLP: traces of three services sent as their exporters would (JSON, one service per
/// request); spans/s counted, checked against what the services API then reports.
fn otlp(connections: usize, traces: usize) -> Value {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Bench OTLP");
    let api = create_user_token(db, "bench@example.com", true);
    let server = TestServer::start(db);
    std::thread::sleep(Duration::from_millis(500));
    let (bodies, spans, calls) = bugle_tests::otlp_bench::workload(44, traces, 20);
    let requests: Vec<Prepared> = bodies
        .iter()
        .map(|b| {
            Prepared::post(
                "/v1/traces",
                &[
                    format!("Authorization: Bearer {}", project.token),
                    "Content-Type: application/json".into(),
                ],
                b,
            )
        })
        .collect();
    let cpu0 = cpu_seconds(server.pid());
    let (ok, lat, rate) = load(&server, &requests, connections.min(64), None);
    let cpu = cpu_seconds(server.pid()) - cpu0;
    let spans_per_s = rate * spans as f64 / requests.len() as f64;
    let listed = server
        .get(&api, &format!("/api/v1/projects/{}/services", project.slug))
        .json();
    let counted: i64 = listed["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["spans"].as_i64().unwrap())
        .sum();
    let matched: i64 = listed["services"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["calls"].as_array().unwrap().clone())
        .map(|c| c["calls"].as_i64().unwrap())
        .sum();
    println!(
        "  otlp       sqlite:     {spans_per_s:>8.0} spans/s counted ({} requests of {} spans, {ok} ok), p50 {:.2} ms p99 {:.2} ms; {counted}/{spans} spans and {matched}/{calls} calls counted",
        requests.len(),
        spans / requests.len(),
        ms(lat.percentile(0.5)),
        ms(lat.percentile(0.99)),
    );
    json!({
        "spans_per_s": spans_per_s, "spans": spans, "counted": counted,
        "calls": calls, "calls_counted": matched, "requests": requests.len(), "ok": ok,
        "p50_ms": ms(lat.percentile(0.5)), "p99_ms": ms(lat.percentile(0.99)),
        "cpu_s_per_100k_spans": cpu / spans.max(1) as f64 * 100_000.0,
    })
}

/// Seeds a project with many issues and occurrences (small events, fast), then times the
/// issue list and the issue page.
fn dashboard(issues: usize, occurrences: usize) -> Value {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Dashboard");
    let api = create_user_token(db, "bench@example.com", true);
    let server = TestServer::start(db);
    let per_thread = occurrences / 16;
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..16 {
            let (server, token) = (&server, &project.token);
            s.spawn(move || {
                for i in 0..per_thread {
                    let n = t * per_thread + i;
                    // The first `issues` events open one issue each; the rest spread over them.
                    let kind = if n < issues { n } else { n % issues };
                    // Levels, environments and a tag give the search cases something to find.
                    let level = if kind % 2 == 0 { "error" } else { "warning" };
                    let env = ["staging", "production", "production"][n % 3];
                    // 1,000 releases, so the release list and pages are timed at that count.
                    let release = format!("1.{}.{}", n % 1_000 / 10, n % 10);
                    let body = json!({"message": format!("seeded issue {kind}"), "exceptions": [{"type": format!("Seed{kind}")}],
                        "level": level, "environment": env, "tags": {"region": format!("r{}", kind % 50)},
                        "release": release, "server": {"host": format!("h{}", n % 7)}});
                    server.send_event(token, &body);
                }
            });
        }
    });
    println!(
        "  seeded {issues} issues / {} occurrences in {:.0} s",
        per_thread * 16,
        started.elapsed().as_secs_f64()
    );
    // One realistic event (3-25 KB, 10-30 frames) so the timed issue page renders a full trace.
    let full = event(&mut Rng::new(7), Some(1));
    let sent = server.send_event(&project.token, &full).json();
    let full_issue = sent["issue_id"].as_i64().unwrap();
    let full_uuid = sent["uuid"].as_str().unwrap().to_owned();
    let web = WebUser::sign_in(&server.url, "bench@example.com", PASSWORD);
    // Five untimed requests first (caches, a WAL checkpoint after the seeding), then 200 timed.
    let time = |path: &str, html: bool| {
        let get = || {
            let status = if html {
                web.get(path).status
            } else {
                server.get(&api, path).status
            };
            assert_eq!(status, 200, "{path}");
        };
        (0..5).for_each(|_| get());
        let mut lat = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            get();
            lat.push(t.elapsed());
        }
        Latencies(lat)
    };
    let slug = &project.slug;
    let first = server
        .get(
            &api,
            &format!("/api/v1/projects/{slug}/issues?sort=count&limit=1"),
        )
        .json();
    let biggest = first["issues"][0]["id"].as_i64().unwrap();
    let timings = [
        (
            "API issue list",
            time(
                &format!("/api/v1/projects/{slug}/issues?sort=last_seen"),
                false,
            ),
        ),
        (
            "API issue list (count, search)",
            time(
                &format!("/api/v1/projects/{slug}/issues?sort=count&q=seeded"),
                false,
            ),
        ),
        (
            "API issue list, query: status level env",
            time(
                &format!("/api/v1/projects/{slug}/issues?query=is%3Aunresolved%20level%3Aerror%20environment%3Aproduction"),
                false,
            ),
        ),
        (
            "API issue list, query: tag",
            time(&format!("/api/v1/projects/{slug}/issues?query=region%3Ar7"), false),
        ),
        (
            "API issue list, query: free text",
            time(
                &format!("/api/v1/projects/{slug}/issues?query=%22seeded%20issue%2019%22"),
                false,
            ),
        ),
        (
            "API issue list, query: timesSeen by count",
            time(
                &format!("/api/v1/projects/{slug}/issues?sort=count&query=timesSeen%3A%3E100"),
                false,
            ),
        ),
        (
            "API issue",
            time(&format!("/api/v1/issues/{biggest}"), false),
        ),
        ("page: projects", time("/projects", true)),
        (
            "page: issue list",
            time(&format!("/projects/{slug}/issues"), true),
        ),
        (
            "page: issue list 14 d graphs",
            time(&format!("/projects/{slug}/issues?spark=14d"), true),
        ),
        (
            "page: issue list by events",
            time(&format!("/projects/{slug}/issues?sort=count"), true),
        ),
        (
            "page: issue list trending",
            time(&format!("/projects/{slug}/issues?sort=trending"), true),
        ),
        (
            "page: issue list search",
            time(&format!("/projects/{slug}/issues?q=seeded+issue+19"), true),
        ),
        (
            "page: issue list, host filter",
            time(&format!("/projects/{slug}/issues?host=h3"), true),
        ),
        (
            "page: issue (most events)",
            time(&format!("/issues/{biggest}"), true),
        ),
        (
            "page: issue (full trace)",
            time(&format!("/issues/{full_issue}"), true),
        ),
        (
            "page: occurrence",
            time(&format!("/occurrences/{full_uuid}"), true),
        ),
        (
            "API release list (1,000 releases)",
            time(&format!("/api/v1/projects/{slug}/releases"), false),
        ),
        (
            "API release",
            time(&format!("/api/v1/projects/{slug}/releases/1.50.5"), false),
        ),
        (
            "Sentry API release list (sentry-cli)",
            time(&format!("/api/0/projects/bench/{slug}/releases/"), false),
        ),
        ("page: releases", time(&format!("/projects/{slug}/releases"), true)),
        (
            "page: release",
            time(&format!("/projects/{slug}/releases/1.50.5"), true),
        ),
    ];
    for (name, l) in &timings {
        println!(
            "  {name:<42} p50 {:>6.2} ms  p99 {:>6.2} ms",
            ms(l.percentile(0.5)),
            ms(l.percentile(0.99))
        );
    }
    // Lists and pages by name, worst p99 of each kind.
    let worst_of = |pick: &dyn Fn(&str) -> bool| {
        timings
            .iter()
            .filter(|(n, _)| pick(n))
            .map(|(_, l)| ms(l.percentile(0.99)))
            .fold(0.0, f64::max)
    };
    let release = |n: &str| n.contains("release");
    let worst = |is_list: bool| {
        worst_of(&|n: &str| {
            n.contains("issue list") == is_list && n != "page: projects" && !release(n)
        })
    };
    let worst_release = worst_of(&release);
    json!({"issues": issues, "occurrences": per_thread * 16,
        "timings": timings.iter().map(|(n, l)| json!({"name": n, "p50_ms": ms(l.percentile(0.5)), "p99_ms": ms(l.percentile(0.99))})).collect::<Vec<_>>(),
        "issue_list_p99_ms": worst(true), "issue_page_p99_ms": worst(false),
        "release_p99_ms": worst_release})
}

/// The dashboard's two targets as table rows.
fn dashboard_rows(dash: &Value) -> Vec<(&'static str, String, bool)> {
    vec![
        (
            "issue list p99, worst view (<= 50 ms)",
            format!("{} ms", dash["issue_list_p99_ms"]),
            dash["issue_list_p99_ms"].as_f64().unwrap() <= 50.0,
        ),
        (
            "issue page p99, worst view (<= 50 ms)",
            format!("{} ms", dash["issue_page_p99_ms"]),
            dash["issue_page_p99_ms"].as_f64().unwrap() <= 50.0,
        ),
        (
            "release list/page p99, 1,000 (<= 50 ms)",
            format!("{} ms", dash["release_p99_ms"]),
            dash["release_p99_ms"].as_f64().unwrap() <= 50.0,
        ),
    ]
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

fn print_rows(rows: &[(&str, String, bool)]) {
    println!("\n{:<40} {:>24}  result", "target", "measured");
    for (name, value, ok) in rows {
        println!("{name:<40} {value:>24}  {}", verdict(*ok));
    }
}

/// The soak run: one backend, a fixed rate, a line per minute.
fn run_soak(args: &Args, duration: Duration) {
    let backend = match args.only.as_deref() {
        Some("postgres") => Backend::postgres().expect("PostgreSQL at 127.0.0.1:5432"),
        _ => Backend::sqlite(),
    };
    let db = &backend.database_url;
    let project = create_project(db, "Soak");
    create_user_token(db, "bench@example.com", true);
    let server = TestServer::start_with(db, soak::SERVER_ENV);
    let user = WebUser::sign_in(&server.url, "bench@example.com", PASSWORD);
    let (token, id) = (project.token.clone(), project.id);
    let new = args.new_issues;
    let make =
        move |minute: u64, n: usize| requests(&token, id, &workload(1_000 + minute, n, 300, new));
    let report = soak::run(&Soak {
        backend: &backend,
        server: &server,
        user: &user,
        slug: &project.slug,
        duration,
        rate: args.rate,
        requests: &make,
    });
    write_report(&args.out, &json!({"soak": report}));
}

/// The `--baseline` run: rounds of baseline and current in alternating order (AB, BA, ...),
/// so whatever else loads the machine falls on both alike; prints the ratio of the means.
fn compare(args: &Args, baseline: &std::path::Path, bodies: &[Body], fixed: &[Body]) {
    let name = args.only.as_deref().unwrap_or("sqlite");
    let backend = || match name {
        "postgres" => Backend::postgres().expect("PostgreSQL at 127.0.0.1:5432"),
        _ => Backend::sqlite(),
    };
    let labels = ["baseline", "current"];
    let mut rates: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    // The server's CPU per event moves less than throughput when other work shares the cores.
    let mut cpu: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    // PostgreSQL's backends for the server's database: with the server's, all an event costs.
    let mut db_cpu: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..args.rounds {
        let order = if round.is_multiple_of(2) {
            [0, 1]
        } else {
            [1, 0]
        };
        for which in order {
            let run = || {
                measure(
                    labels[which],
                    backend(),
                    bodies,
                    fixed,
                    false,
                    args.connections,
                )
            };
            let report = if which == 0 {
                bugle_tests::server::with_binary(baseline, run)
            } else {
                run()
            };
            assert_eq!(
                report["stored"], report["accepted"],
                "{} lost events",
                labels[which]
            );
            rates[which].push(report["events_per_s"].as_f64().unwrap());
            cpu[which].push(report["cpu_s_per_10k"].as_f64().unwrap());
            db_cpu[which].push(report["database_cpu_s_per_10k"].as_f64().unwrap());
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (before, after) = (mean(&rates[0]), mean(&rates[1]));
    println!("\n{name} events/s, {} rounds, alternating:", args.rounds);
    for (label, r) in labels.iter().zip(&rates) {
        let runs: Vec<String> = r.iter().map(|x| format!("{x:.0}")).collect();
        println!("  {label:<9} {}  (mean {:.0})", runs.join(" / "), mean(r));
    }
    println!(
        "  current / baseline: {:+.1} %",
        (after / before - 1.0) * 100.0
    );
    // Runs of one round are next to each other in time: their ratio is paired.
    let mut paired: Vec<f64> = rates[1].iter().zip(&rates[0]).map(|(c, b)| c / b).collect();
    paired.sort_by(f64::total_cmp);
    let median = paired[paired.len() / 2] * 0.5 + paired[(paired.len() - 1) / 2] * 0.5;
    println!(
        "  median of the rounds' current / baseline: {:+.1} %",
        (median - 1.0) * 100.0
    );
    let (cpu_before, cpu_after) = (mean(&cpu[0]), mean(&cpu[1]));
    println!(
        "server CPU-seconds per 10,000 events: baseline {cpu_before:.2}, current {cpu_after:.2} \
         ({:+.1} %)",
        (cpu_after / cpu_before - 1.0) * 100.0
    );
    let (db_before, db_after) = (mean(&db_cpu[0]), mean(&db_cpu[1]));
    if db_before > 0.0 {
        let (all_before, all_after) = (cpu_before + db_before, cpu_after + db_after);
        println!(
            "database CPU-seconds per 10,000 events: baseline {db_before:.2}, current \
             {db_after:.2} ({:+.1} %)\nserver and database together: baseline {all_before:.2}, \
             current {all_after:.2} ({:+.1} %)",
            (db_after / db_before - 1.0) * 100.0,
            (all_after / all_before - 1.0) * 100.0
        );
    }
    let report = json!({"backend": name, "baseline": rates[0], "current": rates[1],
        "ratio": after / before, "cpu_s_per_10k": {"baseline": cpu[0], "current": cpu[1]},
        "database_cpu_s_per_10k": {"baseline": db_cpu[0], "current": db_cpu[1]}});
    write_report(&args.out, &report);
}

/// Writes the JSON report to `out` (its folder made when missing: a run from outside the
/// checkout has no `target/`), and says where.
fn write_report(out: &str, report: &Value) {
    let path = std::path::Path::new(out);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).expect("make the report's folder");
    }
    std::fs::write(path, serde_json::to_string_pretty(report).unwrap()).expect("write the report");
    println!("\nwritten to {out}");
}

fn main() {
    let args = args();
    if let Some(duration) = args.soak {
        run_soak(&args, duration);
        return;
    }
    if args.dashboard_only {
        println!("dashboard data:");
        let dash = dashboard(args.seed_issues, args.seed_occurrences);
        print_rows(&dashboard_rows(&dash));
        write_report(&args.out, &json!({"dashboard": dash}));
        return;
    }
    if args.only.as_deref() == Some("otlp") {
        let report = otlp(args.connections, args.events);
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
        return;
    }
    println!(
        "bugle-bench: {} events per run{}",
        args.events,
        if args.quick { " (--quick)" } else { "" }
    );
    let bodies = workload(42, args.events, 300, args.new_issues);
    let fixed = workload(
        43,
        if args.quick { 4_000 } else { 10_000 },
        300,
        args.new_issues,
    );
    let raw_kb =
        bodies.iter().map(|b| b.raw_len).sum::<usize>() as f64 / bodies.len() as f64 / 1024.0;
    println!(
        "workload: avg event {raw_kb:.1} KB, 300 fingerprints + ~{}% new, native/envelope/gzip mix",
        args.new_issues
    );

    if let Some(baseline) = &args.baseline {
        compare(&args, baseline, &bodies, &fixed);
        return;
    }
    if let Some(only) = &args.only {
        let backend = match only.as_str() {
            "postgres" => Backend::postgres().expect("PostgreSQL at 127.0.0.1:5432"),
            _ => Backend::sqlite(),
        };
        let report = measure(
            only,
            backend,
            &bodies,
            &fixed,
            only == "ceiling",
            args.connections,
        );
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
        return;
    }
    let ceiling = measure(
        "ceiling",
        Backend::sqlite(),
        &bodies,
        &fixed,
        true,
        args.connections,
    );
    let sqlite = measure(
        "sqlite",
        Backend::sqlite(),
        &bodies,
        &fixed,
        false,
        args.connections,
    );
    let postgres = Backend::postgres()
        .map(|b| measure("postgres", b, &bodies, &fixed, false, args.connections));
    println!("dashboard data:");
    let dash = dashboard(args.seed_issues, args.seed_occurrences);

    let c = ceiling["events_per_s"].as_f64().unwrap();
    let s = sqlite["events_per_s"].as_f64().unwrap();
    let p = postgres
        .as_ref()
        .map(|p| p["events_per_s"].as_f64().unwrap())
        .unwrap_or(0.0);
    let stored_ok = sqlite["stored"] == sqlite["accepted"]
        && postgres
            .as_ref()
            .is_none_or(|p| p["stored"] == p["accepted"]);
    // Latency and memory targets hold for both backends: the worse one is checked.
    let worst = |key: &str| {
        std::iter::once(&sqlite)
            .chain(postgres.as_ref())
            .map(|m| m[key].as_f64().unwrap())
            .fold(0.0, f64::max)
    };
    let (p99_2k, idle_rss, peak_rss) = (
        worst("fixed_rate_p99_ms"),
        worst("idle_rss_mb"),
        worst("peak_rss_mb"),
    );
    let ratio = sqlite["disk_bytes_per_event"].as_f64().unwrap()
        / sqlite["raw_bytes_per_event"].as_f64().unwrap();
    let mut rows = vec![
        (
            "SQLite events/s (>= 10,000)",
            format!("{s:.0}"),
            s >= 10_000.0,
        ),
        (
            "PostgreSQL events/s (>= 5,000)",
            format!("{p:.0}"),
            p >= 5_000.0,
        ),
        (
            "SQLite / ceiling (>= 50 %)",
            format!("{:.0} % of {c:.0}", s / c * 100.0),
            s / c >= 0.5,
        ),
        ("stored == accepted", format!("{stored_ok}"), stored_ok),
        (
            "p99 at 2,000/s, worse backend (<= 25 ms)",
            format!("{p99_2k} ms"),
            p99_2k <= 25.0,
        ),
        (
            "idle RSS, worse backend (<= 30 MB)",
            format!("{idle_rss:.1} MB"),
            idle_rss <= 30.0,
        ),
        (
            "peak RSS, worse backend (<= 150 MB)",
            format!("{peak_rss:.1} MB"),
            peak_rss <= 150.0,
        ),
        (
            "stored bytes / raw JSON (<= 40 %)",
            format!("{:.0} %", ratio * 100.0),
            ratio <= 0.4,
        ),
    ];
    rows.extend(dashboard_rows(&dash));
    print_rows(&rows);
    let report = json!({
        "events": args.events, "quick": args.quick, "ceiling": ceiling, "sqlite": sqlite,
        "postgres": postgres, "dashboard": dash,
        "targets": rows.iter().map(|(n, v, ok)| json!({"target": n, "measured": v, "pass": ok})).collect::<Vec<_>>(),
    });
    write_report(&args.out, &report);
}
