//! The client crate's example apps, built by `cargo test --workspace`, report to the real server.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use bugle_tests::server::{create_project, create_user_token, Backend, TestServer};
use serde_json::{json, Value};

/// The client's example app `name`, built now if needed (with the cargo that builds the tests, so
/// it lands in this test binary's own target folder).
fn example(name: &str) -> PathBuf {
    example_with(name, &[])
}

/// As `example`, for one that needs the client's optional `features`.
fn example_with(name: &str, features: &[&str]) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "bugle", "--example", name])
            .args(["--features", &features.join(",")])
            .status()
            .unwrap();
        assert!(status.success(), "cannot build the `{name}` example");
        built.push(name.to_owned());
    }
    let exe = std::env::current_exe().unwrap();
    let mut dir = exe.parent().unwrap();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent().unwrap();
    }
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo test --workspace`",
        path.display()
    );
    path
}

fn run_example(name: &str, endpoint: &str, token: &str, env: &[(&str, &str)]) -> Output {
    Command::new(example(name))
        .env("BUGLE_ENDPOINT", endpoint)
        .env("BUGLE_TOKEN", token)
        .env_remove("BUGLE_SPOOL_DIR")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn only_issue(server: &TestServer, api: &str, slug: &str) -> Value {
    let list = server.get(api, &format!("/api/v1/projects/{slug}/issues?status=all"));
    let issues = list.json()["issues"].as_array().unwrap().clone();
    assert_eq!(issues.len(), 1, "{issues:#?}");
    issues[0].clone()
}

#[test]
fn a_panicking_app_is_one_issue_with_its_frames_and_metadata() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Panics");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        for _ in 0..2 {
            let out = run_example("panic", &server.url, &project.token, &[]);
            assert_eq!(
                out.status.code(),
                Some(101),
                "the app's own exit code is kept"
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains("invalid port"),
                "the app's own panic output is kept: {stderr}"
            );
        }
        let issue = only_issue(&server, &api, &project.slug);
        assert_eq!(
            issue["count"], 2,
            "{}: the same panic from two runs",
            backend.name
        );
        assert_eq!(issue["level"], "critical");
        let event = server
            .get(&api, &format!("/api/v1/issues/{}", issue["id"]))
            .json()["latest"]
            .clone();
        let panic = &event["exceptions"][0];
        assert_eq!(panic["type"], "panic");
        assert!(panic["value"]
            .as_str()
            .unwrap()
            .contains("invalid port \"eighty\""));
        let in_app: Vec<&str> = panic["frames"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["in_app"] == true)
            .map(|f| f["function"].as_str().unwrap())
            .collect();
        assert_eq!(
            in_app,
            ["panic::main", "panic::load_config", "panic::parse_port"],
            "{event:#}"
        );
        let last = panic["frames"].as_array().unwrap().last().unwrap();
        assert!(
            last["context_line"].as_str().unwrap().contains("panic!("),
            "{last:#}"
        );
        assert!(event["server"]["host"]
            .as_str()
            .is_some_and(|h| !h.is_empty()));
        assert!(event["server"]["pid"].as_u64().is_some_and(|p| p > 0));
        assert!(event["uuid"].as_str().is_some_and(|u| u.len() == 36));
        assert_eq!(event["language"], "rust");
    }
}

#[test]
fn a_reported_error_chain_shows_every_cause() {
    let backend = Backend::sqlite();
    let project = create_project(&backend.database_url, "Chains");
    let api = create_user_token(&backend.database_url, "ada@example.com", true);
    let server = TestServer::start(&backend.database_url);
    let out = run_example("error_chain", &server.url, &project.token, &[]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let uuid = stdout
        .lines()
        .find_map(|l| l.strip_prefix("captured "))
        .unwrap_or_else(|| panic!("no uuid printed: {stdout}"))
        .trim()
        .to_owned();
    let event = server
        .get(&api, &format!("/api/v1/occurrences/{uuid}"))
        .json();
    let chain: Vec<(&str, &str)> = event["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap(), e["value"].as_str().unwrap()))
        .collect();
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert_eq!(chain[0], ("error_chain::AppError", "cannot start the app"));
    assert!(chain[1].1.contains("cannot load config"));
    assert_eq!(chain[2].0, "std::io::Error");
}

#[test]
fn a_dead_server_delays_exit_by_at_most_the_shutdown_timeout_and_spooled_events_arrive_later() {
    let backend = Backend::sqlite();
    let project = create_project(&backend.database_url, "Outage");
    let api = create_user_token(&backend.database_url, "ada@example.com", true);
    let spool = tempfile::tempdir().unwrap();
    let spool_dir = spool.path().to_str().unwrap();

    // Nothing listens on this port: it was free a moment ago.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    example("panic"); // built before the clock starts
    let started = Instant::now();
    let out = run_example(
        "panic",
        &dead,
        &project.token,
        &[
            ("BUGLE_SHUTDOWN_TIMEOUT", "1"),
            ("BUGLE_SPOOL_DIR", spool_dir),
        ],
    );
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(101));
    assert!(
        elapsed < Duration::from_secs(4),
        "exit took {elapsed:?} with a 1 s timeout"
    );
    let spooled = std::fs::read_dir(spool.path()).unwrap().count();
    assert_eq!(spooled, 1, "the undelivered panic was spooled");

    // The next start, with the server back, delivers it.
    let server = TestServer::start(&backend.database_url);
    let out = run_example(
        "error_chain",
        &server.url,
        &project.token,
        &[("BUGLE_SPOOL_DIR", spool_dir)],
    );
    assert!(out.status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = server.get(
            &api,
            &format!("/api/v1/projects/{}/issues?status=all", project.slug),
        );
        let titles: Vec<String> = list.json()["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect();
        let delivered = titles.iter().any(|t| t.starts_with("panic: invalid port"));
        let empty = std::fs::read_dir(spool.path()).unwrap().count() == 0;
        if delivered && empty {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "spooled panic not delivered: {titles:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Titles and counts of every issue in the project.
fn issue_counts(server: &TestServer, api: &str, slug: &str) -> Vec<(String, u64)> {
    let list = server.get(api, &format!("/api/v1/projects/{slug}/issues?status=all"));
    list.json()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap().to_owned(),
                i["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_cli_that_calls_process_exit_still_delivers_what_it_captured() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Exits");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let out = run_example("exit_code", &server.url, &project.token, &[]);
        assert_eq!(out.status.code(), Some(3), "the app's exit code is kept");
        // exit returns only after the atexit flush, and a 200 means committed: no waiting here.
        let issues = issue_counts(&server, &api, &project.slug);
        assert!(
            issues
                .iter()
                .any(|(t, n)| t.contains("cannot open the input file") && *n == 1),
            "{}: {issues:?}",
            backend.name
        );
    }
}

#[test]
fn a_panic_that_aborts_right_after_the_hooks_is_delivered() {
    let backend = Backend::sqlite();
    let project = create_project(&backend.database_url, "Aborts");
    let api = create_user_token(&backend.database_url, "ada@example.com", true);
    let server = TestServer::start(&backend.database_url);
    let out = run_example("exit_code", &server.url, &project.token, &[]);
    assert_eq!(out.status.code(), Some(3));
    let out = Command::new(example("exit_code"))
        .arg("abort")
        .env("BUGLE_ENDPOINT", &server.url)
        .env("BUGLE_TOKEN", &project.token)
        .output()
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(6), "ended by SIGABRT: {out:?}");
    }
    let issues = issue_counts(&server, &api, &project.slug);
    assert!(
        issues
            .iter()
            .any(|(t, _)| t.starts_with("panic: config file is corrupt")),
        "{issues:?}"
    );
}

#[cfg(unix)]
#[test]
fn sigterm_delivers_every_queued_event_before_the_process_ends_by_it() {
    use std::os::unix::process::ExitStatusExt;
    let backend = Backend::sqlite();
    let project = create_project(&backend.database_url, "Terminated");
    let api = create_user_token(&backend.database_url, "ada@example.com", true);
    let server = TestServer::start(&backend.database_url);
    let app = example("exit_code"); // built before the clock starts
    let started = Instant::now();
    let out = Command::new(app)
        .arg("sigterm")
        .env("BUGLE_ENDPOINT", &server.url)
        .env("BUGLE_TOKEN", &project.token)
        .env("BUGLE_FLUSH_ON_SIGTERM", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.signal(),
        Some(15),
        "still ended by SIGTERM: {out:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let delivered: u64 = issue_counts(&server, &api, &project.slug)
        .iter()
        .filter(|(t, _)| t.contains("terminated while busy"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(delivered, 20, "the 20 events queued when SIGTERM came");
}

#[test]
fn events_dropped_by_a_full_queue_are_reported_with_the_next_send() {
    let backend = Backend::sqlite();
    let project = create_project(&backend.database_url, "Flood");
    let server = TestServer::start(&backend.database_url);
    let out = Command::new(example("exit_code"))
        .arg("flood")
        .env("BUGLE_ENDPOINT", &server.url)
        .env("BUGLE_TOKEN", &project.token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dropped: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("dropped "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no count printed: {stdout}"));
    assert!(
        dropped > 100,
        "a queue of 5 cannot take 200 at once: {dropped}"
    );
    let metrics =
        bugle_tests::server::request("GET", &format!("{}/metrics", server.url), &[], None).body;
    assert!(
        metrics.contains(&format!("bugle_client_dropped_events_total {dropped}\n")),
        "{dropped} dropped: {metrics}"
    );
}

/// The `uuid` printed after `captured ` by an example.
fn captured_uuid(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("captured "))
        .unwrap_or_else(|| panic!("no uuid printed: {stdout}"))
        .trim()
        .to_owned()
}

/// A Rust service with the client's `opentelemetry` feature handles a request of the trace the
/// real Python OpenTelemetry SDK reported two errors of (in another project, over OTLP), and a
/// browser app reported one over Sentry's protocol (`contexts.trace`): the Rust errors carry
/// that trace, and each occurrence page lists the errors of the others.
#[test]
fn a_rust_service_an_otlp_app_and_a_sentry_app_share_their_errors_of_one_trace() {
    let Some(python) = crate::otlp::venv() else {
        return;
    };
    let traced = example_with("traced", &["opentelemetry", "tracing"]);
    for backend in Backend::all() {
        let db = &backend.database_url;
        let shop = create_project(db, "Shop");
        let refunds = create_project(db, "Refunds");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let name = backend.name;
        let trace_id = crate::otlp::run_shop(python, &server, &shop);
        let storefront = create_project(db, "Storefront");
        let sentry = json!({"event_id": "5a1e7cc0b7f44d2c9c1f3a3e4b2d6f10", "platform": "javascript",
            "level": "error", "exception": {"values": [{"type": "ChunkLoadError",
                "value": "Loading chunk 7 failed"}]},
            "contexts": {"trace": {"trace_id": trace_id, "span_id": "a3ce929d0e0e4736"}}});
        let reply = bugle_tests::server::request(
            "POST",
            &format!("{}/api/{}/store/", server.url, storefront.id),
            &[(
                "X-Sentry-Auth",
                &format!("Sentry sentry_version=7, sentry_key={}", storefront.token),
            )],
            Some(sentry.to_string().into_bytes()),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        // Rollbar's items have no trace field: one reported while serving a request that came
        // with a `traceparent` (pyrollbar sends the request's headers) joins that trace.
        let rollbar = json!({"access_token": storefront.token, "data": {"environment": "production",
            "language": "python", "notifier": {"name": "pyrollbar", "version": "1.3.0"},
            "body": {"trace": {"frames": [{"filename": "/srv/shop/views.py", "lineno": 41, "method": "reserve"}],
                "exception": {"class": "InventoryError", "message": "sku 7 is out of stock"}}},
            "request": {"url": "https://shop.example/cart", "method": "POST", "user_ip": "203.0.113.9",
                "headers": {"Traceparent": format!("00-{trace_id}-b9c7c989f97918e1-01"), "Accept": "*/*"}}}});
        let reply = bugle_tests::server::request(
            "POST",
            &format!("{}/api/1/item/", server.url),
            &[],
            Some(rollbar.to_string().into_bytes()),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let run = |args: &[&str], parent: &str| {
            let out = Command::new(&traced)
                .args(args)
                .env("BUGLE_ENDPOINT", &server.url)
                .env("BUGLE_TOKEN", &refunds.token)
                .env_remove("BUGLE_SPOOL_DIR")
                .env("TRACEPARENT", format!("00-{trace_id}-{parent}-01"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out
        };

        // The feature: the request's span, a child of the traceparent, gives the ids.
        let out = run(&[], "00f067aa0ba902b7");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let span: Vec<&str> = stdout
            .lines()
            .find_map(|l| l.strip_prefix("span "))
            .unwrap_or_else(|| panic!("{name}: no span printed: {stdout}"))
            .split(' ')
            .collect();
        assert_eq!(span[0], trace_id, "{name}: the span joined the trace");
        assert_ne!(span[1], "00f067aa0ba902b7", "{name}: a span of its own");
        let refund = captured_uuid(&out);
        let event = server
            .get(&api, &format!("/api/v1/occurrences/{refund}"))
            .json();
        assert_eq!(event["exceptions"][0]["type"], "traced::RefundError");
        assert_eq!(event["trace"]["trace_id"], trace_id.as_str(), "{name}");
        assert_eq!(event["trace"]["span_id"], span[1], "{name}: {event:#}");
        // The same span's `tracing::error!`, through the Bugle layer.
        let list = server.get(
            &api,
            &format!("/api/v1/projects/{}/issues?status=all", refunds.slug),
        );
        let logged = list.json()["issues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"] == "refund failed")
            .cloned()
            .unwrap_or_else(|| panic!("{name}: no `refund failed` in {}", list.body));
        let logged = server
            .get(&api, &format!("/api/v1/issues/{}", logged["id"]))
            .json()["latest"]
            .clone();
        assert_eq!(logged["trace"]["trace_id"], trace_id.as_str(), "{name}");
        assert_eq!(logged["trace"]["span_id"], span[1], "{name}");

        // By hand: set_traceparent wins over the active span (a root of another trace).
        let out = run(&["--by-hand"], "b7ad6b7169203331");
        let by_hand = captured_uuid(&out);
        let event = server
            .get(&api, &format!("/api/v1/occurrences/{by_hand}"))
            .json();
        assert_eq!(event["trace"]["trace_id"], trace_id.as_str(), "{name}");
        assert_eq!(event["trace"]["span_id"], "b7ad6b7169203331", "{name}");

        // Each side's occurrence page lists the other's errors, with project and service.
        let web = crate::otlp::signed_in(&server);
        let section = crate::otlp::trace_section(&web, &refund);
        let listed = ["CardDeclined", "RuntimeError", ">payments<", ">checkout<"];
        for listed in listed
            .iter()
            .chain(&["ChunkLoadError", "Storefront", "InventoryError"])
        {
            assert!(section.contains(listed), "{name}: no {listed} in {section}");
        }
        assert!(section.contains("refund failed"), "{name}: {section}");
        // Each line links to its occurrence page, `/occurrences/<uuid without dashes>`.
        let (refund, by_hand) = (refund.replace('-', ""), by_hand.replace('-', ""));
        assert!(section.contains(&by_hand), "{name}: {section}");
        assert!(!section.contains(&refund), "{name}: not the one shown");
        let mut others = Vec::new();
        for project in [&shop, &storefront] {
            let list = server.get(
                &api,
                &format!("/api/v1/projects/{}/issues?status=all", project.slug),
            );
            others.extend(list.json()["issues"].as_array().unwrap().clone());
        }
        assert_eq!(others.len(), 4, "{name}: {others:#?}");
        for issue in &others {
            let latest = server
                .get(&api, &format!("/api/v1/issues/{}", issue["id"]))
                .json()["latest"]
                .clone();
            let section = crate::otlp::trace_section(&web, latest["uuid"].as_str().unwrap());
            assert!(section.contains("RefundError"), "{name}: {section}");
            assert!(section.contains("Refunds"), "{name}: the project is named");
            assert!(section.contains(&refund), "{name}");
            assert!(section.contains(&by_hand), "{name}");
        }
    }
}
