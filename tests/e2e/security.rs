//! Browser security reports (`POST /api/{id}/security/?sentry_key=`): CSP through
//! `report-uri` and the Reporting API, HPKP, Expect-CT and Expect-Staple, sent with the
//! content types browsers use; the refusals; and a real headless Chromium reporting the
//! violations of a page served with a `Content-Security-Policy` header.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use bugle_tests::browser::Browser;
use bugle_tests::server::{
    cli, create_project, create_user_token, request, Backend, Project, Reply, TestServer,
};
use serde_json::{json, Value};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../server/tests/fixtures/security"
);

const CHROME_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn post(server: &TestServer, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
    request(
        "POST",
        &format!("{}{path}", server.url),
        &[("Content-Type", content_type), ("User-Agent", CHROME_UA)],
        Some(body),
    )
}

fn issues(server: &TestServer, api: &str, project: &Project) -> Vec<Value> {
    let list = server.get(
        api,
        &format!("/api/v1/projects/{}/issues?status=all", project.slug),
    );
    assert_eq!(list.status, 200, "{}", list.body);
    list.json()["issues"].as_array().unwrap().clone()
}

/// Issue titles with their counts and levels, sorted by title.
fn summary(issues: &[Value]) -> Vec<(String, i64, String)> {
    let mut out: Vec<(String, i64, String)> = issues
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap().to_owned(),
                i["count"].as_i64().unwrap(),
                i["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn row(title: &str, count: i64, level: &str) -> (String, i64, String) {
    (title.to_owned(), count, level.to_owned())
}

#[test]
fn every_kind_of_security_report_becomes_an_issue_titled_and_grouped_like_sentrys() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Shop");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let path = format!(
            "/api/{}/security/?sentry_key={}&sentry_environment=production&sentry_release=shop%401.4.2",
            project.id, project.token
        );
        let sent = [
            ("csp-report-chrome.json", "application/csp-report", 201),
            ("csp-report-firefox.json", "application/csp-report", 201),
            ("reports-batch.json", "application/reports+json", 201),
            ("hpkp.json", "application/json", 201),
            ("expect-ct.json", "application/expect-ct-report+json", 201),
            ("expect-staple.json", "application/json", 201),
        ];
        for (file, content_type, status) in sent {
            let reply = post(&server, &path, content_type, fixture(file));
            assert_eq!(
                reply.status, status,
                "{}: {file}: {}",
                backend.name, reply.body
            );
            assert_eq!(reply.body, "", "Sentry answers an empty body");
            assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        }
        // Sentry's older path, the key in X-Sentry-Auth instead of the query.
        let reply = request(
            "POST",
            &format!("{}/api/{}/csp-report/", server.url, project.id),
            &[
                ("Content-Type", "application/csp-report"),
                (
                    "X-Sentry-Auth",
                    &format!("Sentry sentry_version=7, sentry_key={}", project.token),
                ),
            ],
            Some(fixture("csp-report-chrome.json")),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        // A batch of reports that are not security reports: accepted, nothing stored.
        let reply = post(
            &server,
            &path,
            "application/reports+json",
            json!([{"type": "deprecation", "age": 1, "url": "https://shop.example/",
                    "user_agent": CHROME_UA, "body": {"id": "UnloadHandler", "message": "x"}}])
            .to_string()
            .into_bytes(),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);

        let found = issues(&server, &api, &project);
        assert_eq!(
            summary(&found),
            [
                row(
                    "Blocked 'image' from 'cdn.tracker.example:8443'",
                    1,
                    "error"
                ),
                // The Chromium report twice, and the batch's two scripts from the same host.
                row("Blocked 'script' from 'evil.example'", 4, "error"),
                row("Blocked inline 'style'", 1, "warning"),
                row("Blocked unsafe eval() 'script'", 1, "error"),
                row("Expect-CT failed for 'shop.example'", 1, "error"),
                row("Expect-Staple failed for 'shop.example'", 1, "error"),
                row(
                    "Public key pinning validation failed for 'shop.example'",
                    1,
                    "error"
                ),
            ],
            "{}",
            backend.name
        );

        // One occurrence as stored: the report in contexts.csp, tags, request, environment.
        let script = found
            .iter()
            .find(|i| i["title"] == "Blocked 'script' from 'evil.example'")
            .unwrap();
        let occurrences = server.get(
            &api,
            &format!("/api/v1/issues/{}/occurrences", script["id"]),
        );
        let occurrences = occurrences.json()["occurrences"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(occurrences.len(), 4);
        let legacy = occurrences
            .iter()
            .find(|o| {
                o["contexts"]["csp"]["document-uri"].is_string() && o["environment"].is_string()
            })
            .expect("the legacy report sent with the query's environment");
        assert_eq!(legacy["environment"], "production");
        assert_eq!(legacy["release"], "shop@1.4.2");
        assert_eq!(legacy["platform"], "javascript");
        assert_eq!(legacy["tags"]["effective-directive"], "script-src-elem");
        assert_eq!(legacy["tags"]["blocked-host"], "evil.example");
        assert_eq!(legacy["tags"]["disposition"], "enforce");
        assert_eq!(legacy["tags"]["logger"], "csp");
        assert_eq!(
            legacy["request"]["url"],
            "https://shop.example/checkout?step=2"
        );
        assert_eq!(legacy["request"]["headers"]["User-Agent"], CHROME_UA);
        assert_eq!(legacy["contexts"]["browser"]["name"], "Chrome");
        let batched = occurrences
            .iter()
            .find(|o| o["contexts"]["csp"]["blockedURL"] == "https://evil.example/other.js")
            .expect("the batch's second report");
        assert!(batched["request"]["headers"]["User-Agent"]
            .as_str()
            .unwrap()
            .contains("Firefox/128.0"));
        let hpkp = found
            .iter()
            .find(|i| {
                i["title"]
                    .as_str()
                    .unwrap()
                    .starts_with("Public key pinning")
            })
            .unwrap();
        let occurrence = &server
            .get(&api, &format!("/api/v1/issues/{}/occurrences", hpkp["id"]))
            .json()["occurrences"][0];
        assert_eq!(
            occurrence["contexts"]["hpkp"]["known-pins"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(occurrence["tags"]["hostname"], "shop.example");

        let metrics = request("GET", &format!("{}/metrics", server.url), &[], None).body;
        for line in [
            "bugle_events_total{protocol=\"security\",outcome=\"accepted\"} 10",
            "bugle_skipped_items_total{type=\"report:deprecation\"} 2",
            "bugle_skipped_items_total{type=\"report:network-error\"} 1",
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
    }
}

#[test]
fn the_security_endpoint_answers_preflights_and_refuses_as_the_sentry_routes_do() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Shop");
    let other = create_project(db, "Other");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start_with(db, &[("BUGLE_MAX_BODY_BYTES", "4096")]);
    let path = |key: &str| format!("/api/{}/security/?sentry_key={key}", project.id);
    let good = fixture("csp-report-chrome.json");

    // The Reporting API preflights a cross-origin upload of application/reports+json.
    let preflight = request(
        "OPTIONS",
        &format!("{}{}", server.url, path(&project.token)),
        &[
            ("Origin", "https://shop.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        None,
    );
    assert_eq!(preflight.status, 200);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert!(preflight
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    assert!(preflight
        .header("access-control-allow-headers")
        .unwrap()
        .contains("content-type"));

    let detail = |reply: &Reply| reply.json()["detail"].as_str().unwrap().to_owned();
    let missing = post(
        &server,
        &format!("/api/{}/security/", project.id),
        "application/csp-report",
        good.clone(),
    );
    assert_eq!(missing.status, 401);
    assert!(detail(&missing).contains("sentry_key"), "{}", missing.body);
    assert_eq!(missing.header("access-control-allow-origin"), Some("*"));
    let unknown = post(
        &server,
        &path("nope"),
        "application/csp-report",
        good.clone(),
    );
    assert_eq!(unknown.status, 403, "{}", unknown.body);
    let foreign = post(
        &server,
        &path(&other.token),
        "application/csp-report",
        good.clone(),
    );
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert!(
        detail(&foreign).contains("does not belong"),
        "{}",
        foreign.body
    );
    let no_project = post(
        &server,
        &format!("/api/shop/security/?sentry_key={}", project.token),
        "application/csp-report",
        good.clone(),
    );
    assert_eq!(no_project.status, 404);

    let bad_json = post(
        &server,
        &path(&project.token),
        "application/csp-report",
        b"{\"csp-report\": {".to_vec(),
    );
    assert_eq!(bad_json.status, 400);
    assert!(
        detail(&bad_json).starts_with("payload is not valid JSON"),
        "{}",
        bad_json.body
    );
    let shape = post(
        &server,
        &path(&project.token),
        "application/json",
        br#"{"message": "hello"}"#.to_vec(),
    );
    assert_eq!(shape.status, 400);
    let text = detail(&shape);
    for accepted in [
        "csp-report",
        "csp-violation",
        "known-pins",
        "expect-ct-report",
        "expect-staple-report",
    ] {
        assert!(text.contains(accepted), "{text}");
    }
    let no_directive = post(
        &server,
        &path(&project.token),
        "application/csp-report",
        br#"{"csp-report": {"blocked-uri": "https://evil.example/x.js"}}"#.to_vec(),
    );
    assert_eq!(no_directive.status, 400);
    assert!(detail(&no_directive).contains("names no directive"));
    let large = post(
        &server,
        &path(&project.token),
        "application/csp-report",
        json!({"csp-report": {"effective-directive": "img-src", "blocked-uri": "x".repeat(5000)}})
            .to_string()
            .into_bytes(),
    );
    assert_eq!(large.status, 413, "{}", large.body);
    assert!(
        issues(&server, &api, &project).is_empty(),
        "nothing refused was stored"
    );

    // The project's rate limit counts each report: a batch of three against a limit of two
    // stores two and answers 429.
    let limited = create_project(db, "Limited");
    cli(db, &["project", "rate-limit", &limited.slug, "2"], None);
    // The limit is read once per key per 30 s: a fresh server sees it at once.
    drop(server);
    let server = TestServer::start(db);
    let entry = |host: &str| {
        json!({"type": "csp-violation", "age": 10, "url": "https://shop.example/",
               "user_agent": CHROME_UA,
               "body": {"documentURL": "https://shop.example/", "effectiveDirective": "img-src",
                        "blockedURL": format!("https://{host}/x.png"), "disposition": "enforce"}})
    };
    let reply = post(
        &server,
        &format!("/api/{}/security/?sentry_key={}", limited.id, limited.token),
        "application/reports+json",
        json!([entry("a.example"), entry("b.example"), entry("c.example")])
            .to_string()
            .into_bytes(),
    );
    let stored = issues(&server, &api, &limited).len();
    if reply.status == 429 {
        assert!(reply.header("retry-after").is_some());
        assert_eq!(stored, 2);
    } else {
        // The wall-clock minute rolled over between two reports: a fresh window.
        eprintln!(
            "the rate limit window rolled over: {} {}",
            reply.status, reply.body
        );
        assert_eq!((reply.status, stored), (201, 3));
    }
}

/// Serves one page with the given response headers and body at `/`, and `/app.js`, on a free
/// port of 127.0.0.1, from a thread that lives as long as the test process.
fn serve_page(headers: Vec<(String, String)>, page: &'static str, script: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let path = first.split_whitespace().nth(1).unwrap_or("/");
            let (status, content_type, body, extra) = match path {
                "/" => (
                    "200 OK",
                    "text/html; charset=utf-8",
                    page,
                    headers.as_slice(),
                ),
                "/app.js" => ("200 OK", "text/javascript", script, &[][..]),
                _ => ("404 Not Found", "text/plain", "not found", &[][..]),
            };
            let mut head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in extra {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body.as_bytes());
        }
    });
    url
}

const PAGE: &str = r#"<!doctype html>
<html><head><title>checkout</title>
<style>.banner { color: red }</style>
</head><body>
<p class="banner">Checkout</p>
<script>document.title = 'the inline script ran';</script>
<img src="http://evil.example/a.png" alt="">
<img src="http://evil.example/b.png" alt="">
<script src="/app.js"></script>
</body></html>"#;

const SCRIPT: &str =
    "try { eval('1 + 1'); } catch (e) { document.body.dataset.evalBlocked = '1'; }\n\
    document.body.dataset.done = '1';\n";

#[test]
fn headless_chromium_reports_the_csp_violations_of_a_page_and_they_become_issues() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Shop");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start(db);
    let report_uri = format!(
        "{}/api/{}/security/?sentry_key={}&sentry_environment=e2e",
        server.url, project.id, project.token
    );
    let page = serve_page(
        vec![
            (
                "Content-Security-Policy".into(),
                format!("script-src 'self'; img-src 'self'; report-uri {report_uri}"),
            ),
            (
                "Content-Security-Policy-Report-Only".into(),
                format!("style-src 'none'; report-uri {report_uri}"),
            ),
        ],
        PAGE,
        SCRIPT,
    );
    browser.goto(&format!("{page}/"));
    browser.wait_for("the page's script", |b| b.exists("body[data-done='1']"));
    assert_eq!(browser.title(), "checkout", "the inline script was blocked");
    assert!(
        browser.exists("body[data-eval-blocked='1']"),
        "eval() was blocked"
    );

    let want = [
        row("Blocked 'image' from 'evil.example'", 2, "error"),
        row("Blocked inline 'style'", 1, "warning"),
        row("Blocked unsafe eval() 'script'", 1, "error"),
        row("Blocked unsafe inline 'script'", 1, "error"),
    ];
    // The browser sends the reports on its own time, soon after the page loads.
    let deadline = Instant::now() + Duration::from_secs(20);
    let found = loop {
        let found = issues(&server, &api, &project);
        if summary(&found) == want || Instant::now() > deadline {
            break found;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(summary(&found), want);
    let image = found
        .iter()
        .find(|i| i["title"] == "Blocked 'image' from 'evil.example'")
        .unwrap();
    let occurrence = &server
        .get(&api, &format!("/api/v1/issues/{}/occurrences", image["id"]))
        .json()["occurrences"][0];
    assert_eq!(occurrence["environment"], "e2e");
    assert_eq!(occurrence["request"]["url"], format!("{page}/"));
    assert_eq!(occurrence["tags"]["effective-directive"], "img-src");
    assert_eq!(occurrence["contexts"]["browser"]["name"], "Chrome");
    assert!(occurrence["contexts"]["csp"]["original-policy"]
        .as_str()
        .unwrap()
        .contains("img-src 'self'"));
}
