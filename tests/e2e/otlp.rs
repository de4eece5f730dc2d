//! OpenTelemetry: the real Python SDK with its OTLP/HTTP protobuf exporter reports two
//! services of one trace, the Node SDK reports over OTLP/HTTP JSON, and the endpoints answer as the OTLP spec says (encodings, gzip,
//! auth, limits, overload) on SQLite and PostgreSQL.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bugle_tests::server::{
    create_project, create_user_token, request, Backend, Project, Reply, TestServer,
};
use serde_json::{json, Value};

const APP: &str = include_str!("otlp_app.py");
const NODE_APP: &str = include_str!("otlp_app.js");

// A virtualenv with the OpenTelemetry SDK and its OTLP/HTTP (protobuf) exporter, kept apart
// from `sdk-venv` so the two sets of packages never constrain each other.
const PACKAGES: &[&str] = &[
    "opentelemetry-sdk>=1.30,<2",
    "opentelemetry-exporter-otlp-proto-http>=1.30,<2",
];
const IMPORTS: &str = "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http";

/// `target/otel-venv/bin/python`, made once per test run (see `prepared_venv`).
pub fn venv() -> Option<&'static Path> {
    static VENV: OnceLock<Option<PathBuf>> = OnceLock::new();
    VENV.get_or_init(|| {
        bugle_tests::python::prepared_venv("otel-venv", PACKAGES, "python", &["-c", IMPORTS])
    })
    .as_deref()
}

const TRACE: &str = "5b8efff798038103d269b633813fc60c";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// The issues of a project, most recent first.
fn issues(server: &TestServer, api: &str, project: &Project) -> Vec<Value> {
    let list = server.get(
        api,
        &format!("/api/v1/projects/{}/issues?status=all", project.slug),
    );
    list.json()["issues"].as_array().unwrap().clone()
}

fn latest(server: &TestServer, api: &str, issue: &Value) -> Value {
    server
        .get(api, &format!("/api/v1/issues/{}", issue["id"]))
        .json()["latest"]
        .clone()
}

fn by_type<'a>(events: &'a [Value], ty: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["exceptions"][0]["type"] == ty)
        .unwrap_or_else(|| panic!("no {ty} among {events:#?}"))
}

fn in_app_functions(exception: &Value) -> Vec<String> {
    exception["frames"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["in_app"] == true)
        .map(|f| f["function"].as_str().unwrap().to_owned())
        .collect()
}

/// The exporter's settings for `project`, as `NAME=value` lines.
fn shop_env(server: &TestServer, project: &Project) -> [String; 2] {
    [
        format!("OTEL_EXPORTER_OTLP_ENDPOINT={}", server.url),
        format!(
            "OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20{}",
            project.token
        ),
    ]
}

/// Runs the Python shop (otlp_app.py) against `server` for order 17: `CardDeclined` in
/// payments and `RuntimeError` in checkout, one trace; its id.
pub fn run_shop(python: &Path, server: &TestServer, project: &Project) -> String {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("shop.py");
    std::fs::write(&script, APP).unwrap();
    let env = shop_env(server, project);
    let out = Command::new(python)
        .arg(&script)
        .arg("17")
        .envs(env.iter().filter_map(|line| line.split_once('=')))
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the app failed to export:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let trace_id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(trace_id.len(), 32, "printed {trace_id:?}");
    trace_id
}

/// The "errors in this trace" section of an occurrence's page.
pub fn trace_section(web: &bugle_tests::web::WebUser, uuid: &str) -> String {
    let page = web.get(&format!("/occurrences/{uuid}"));
    assert_eq!(page.status, 200, "{}", page.body);
    let section = page
        .body
        .split("id=\"trace-errors\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no trace section in {}", page.body));
    section.split("</section>").next().unwrap().to_owned()
}

#[test]
fn the_python_sdk_reports_an_exception_in_each_of_two_services_of_one_trace() {
    let Some(python) = venv() else {
        return;
    };
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Shop");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        // What the project's settings page says to set is what the app is run with.
        let settings = signed_in(&server).get(&format!("/projects/{}/settings", project.slug));
        for line in shop_env(&server, &project) {
            assert!(
                settings.body.contains(&line),
                "{}: no {line} in {}",
                backend.name,
                settings.body
            );
        }
        let trace_id = run_shop(python, &server, &project);

        let list = issues(&server, &api, &project);
        assert_eq!(list.len(), 2, "{}: {list:#?}", backend.name);
        let events: Vec<Value> = list.iter().map(|i| latest(&server, &api, i)).collect();

        // The span event recorded by `payments` when the exception left its SERVER span.
        let declined = by_type(&events, "CardDeclined");
        let exc = &declined["exceptions"][0];
        assert_eq!(exc["value"], "card 4242 declined by the bank");
        assert_eq!(
            in_app_functions(exc),
            ["serve_charge", "charge"],
            "{}",
            backend.name
        );
        assert_eq!(
            exc["frames"].as_array().unwrap().last().unwrap()["lineno"],
            60
        );
        assert_eq!(declined["tags"]["service"], "payments");
        assert_eq!(declined["tags"]["transaction"], "POST /charge");
        assert_eq!(declined["release"], "2.0.7");
        assert_eq!(declined["environment"], "staging");
        assert_eq!(declined["server"]["host"], "payments-host");
        assert_eq!(declined["language"], "python");
        assert_eq!(declined["sdk"]["name"], "opentelemetry.python");
        assert_eq!(declined["trace"]["trace_id"], trace_id.as_str());
        assert_eq!(declined["contexts"]["trace"]["op"], "server");

        // The log record `checkout` wrote with logger.exception(), in its CLIENT span.
        let failed = by_type(&events, "RuntimeError");
        assert_eq!(failed["message"], "checkout failed for order 17");
        assert_eq!(
            failed["exceptions"][0]["value"],
            "order 17 could not be paid"
        );
        assert_eq!(in_app_functions(&failed["exceptions"][0]), ["place_order"]);
        // Its cause, chained by Python's "During handling of the above exception".
        assert_eq!(failed["exceptions"][1]["type"], "CardDeclined");
        assert_eq!(failed["tags"]["service"], "checkout");
        assert_eq!(failed["tags"]["logger"], "shop.checkout");
        assert_eq!(failed["release"], "2.0.1");
        assert_eq!(failed["environment"], "staging");
        assert_eq!(failed["trace"]["trace_id"], trace_id.as_str());
        // The server span of payments is the child of checkout's client span.
        assert_eq!(
            declined["contexts"]["trace"]["parent_span_id"],
            failed["trace"]["span_id"]
        );

        services_show_the_call(&server, &api, &project, backend.name);
        the_occurrence_page_lists_the_other_error(&server, declined, failed, backend.name);
    }
}

/// Spans were counted per service and the CLIENT -> SERVER pair, exported in two batches
/// (payments' first), counted as one call from checkout to payments.
fn services_show_the_call(server: &TestServer, api: &str, project: &Project, backend: &str) {
    let reply = server.get(api, &format!("/api/v1/projects/{}/services", project.slug));
    assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
    let services = reply.json()["services"].as_array().unwrap().clone();
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["checkout", "payments"], "{backend}: {services:#?}");
    let (checkout, payments) = (&services[0], &services[1]);
    // checkout: POST /orders (SERVER) and its CLIENT span, set to ERROR by hand.
    assert_eq!(checkout["spans"], 2, "{backend}: {checkout}");
    assert_eq!(checkout["error_spans"], 1, "{backend}: {checkout}");
    assert_eq!(checkout["calls"], json!([{ "to": "payments", "calls": 1 }]));
    assert_eq!(checkout["open_issues"], 1);
    // payments: POST /charge, ERROR as the exception left it.
    assert_eq!(payments["spans"], 1, "{backend}: {payments}");
    assert_eq!(payments["error_spans"], 1);
    assert_eq!(payments["error_rate"], 1.0);
    assert_eq!(payments["calls"], json!([]));
    assert!(payments["last_error"].is_string());
    let bad = server.get(
        api,
        &format!("/api/v1/projects/{}/services?hours=0", project.slug),
    );
    assert_eq!(bad.status, 400, "{backend}: {}", bad.body);

    let web = signed_in(server);
    let page = web.get(&format!("/projects/{}/services", project.slug));
    assert_eq!(page.status, 200, "{backend}: {}", page.body);
    let html = &page.body;
    assert!(
        html.contains("<svg class=\"services\""),
        "{backend}: {html}"
    );
    for name in ["checkout", "payments"] {
        let link = format!(
            "href=\"/projects/{}/issues?query=service%3A%22{name}%22\"",
            project.slug
        );
        assert!(html.contains(&link), "{backend}: no {link} in {html}");
    }
    assert!(
        html.contains("checkout → payments: 1 calls"),
        "{backend}: {html}"
    );
    assert!(html.contains("100% errors · 1 spans"), "{backend}: {html}");
    // The issue list a node links to shows that service's issue only.
    let list = web.get(&format!(
        "/projects/{}/issues?query=service%3A%22payments%22",
        project.slug
    ));
    assert!(
        list.body.contains("CardDeclined"),
        "{backend}: {}",
        list.body
    );
    assert!(!list.body.contains("RuntimeError"), "{backend}");
    let issues = web.get(&format!("/projects/{}/issues", project.slug));
    assert!(issues.body.contains("id=\"services-link\""), "{backend}");
}

/// Each error's page lists the other, with its service and how far apart they were.
fn the_occurrence_page_lists_the_other_error(
    server: &TestServer,
    declined: &Value,
    failed: &Value,
    backend: &str,
) {
    let web = signed_in(server);
    let section = trace_section(&web, declined["uuid"].as_str().unwrap());
    assert!(section.contains("RuntimeError"), "{backend}: {section}");
    assert!(section.contains(">checkout<"), "{backend}: {section}");
    // The log record follows the span event by well under a millisecond, or a few.
    assert!(
        section.contains(" after<") || section.contains(">at the same time<"),
        "{backend}: {section}"
    );
    assert!(
        !section.contains("CardDeclined"),
        "{backend}: the error shown is not listed"
    );
    let section = trace_section(&web, failed["uuid"].as_str().unwrap());
    assert!(section.contains(">payments<"), "{backend}: {section}");
    assert!(
        section.contains(" before<") || section.contains(">at the same time<"),
        "{backend}: {section}"
    );
}

pub fn signed_in(server: &TestServer) -> bugle_tests::web::WebUser {
    bugle_tests::web::WebUser::sign_in(&server.url, "ada@example.com", bugle_tests::web::PASSWORD)
}

const NODE_PACKAGES: &[&str] = &[
    "@opentelemetry/api@1",
    "@opentelemetry/sdk-trace-node@2",
    "@opentelemetry/exporter-trace-otlp-http@0",
    "@opentelemetry/resources@2",
];

/// `target/otel-node/`, an npm project with the OpenTelemetry Node SDK and its OTLP/HTTP JSON
/// exporter; `None` (after saying why) without node or the registry, outside CI.
fn node_project() -> Option<PathBuf> {
    let dir = bugle_tests::server::binary()
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("otel-node");
    let ready = || {
        dir.join("node_modules/@opentelemetry/exporter-trace-otlp-http")
            .exists()
    };
    if !ready() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("package.json"),
            r#"{"name": "otel-e2e", "private": true}"#,
        )
        .unwrap();
        let installed = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent"])
            .args(NODE_PACKAGES)
            .current_dir(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !installed || !ready() {
            assert!(
                !bugle_tests::in_ci(),
                "CI=true: cannot install {NODE_PACKAGES:?}"
            );
            eprintln!("skipping: cannot install {NODE_PACKAGES:?} with npm");
            return None;
        }
    }
    Some(dir)
}

#[test]
fn the_node_sdk_reports_an_exception_over_otlp_json() {
    let Some(dir) = node_project() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Inventory");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start(db);
    let script = dir.join("app.js");
    std::fs::write(&script, NODE_APP).unwrap();
    let out = Command::new("node")
        .arg(&script)
        .env("BUGLE_URL", &server.url)
        .env("BUGLE_TOKEN", &project.token)
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the app failed to export:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let trace_id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let list = issues(&server, &api, &project);
    assert_eq!(list.len(), 1, "{list:#?}");
    assert_eq!(list[0]["title"], "TypeError: sku A-17 is not stocked");
    let ev = latest(&server, &api, &list[0]);
    let exc = &ev["exceptions"][0];
    assert_eq!(exc["type"], "TypeError");
    let last = exc["frames"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["function"], "reserve", "{ev:#}");
    assert_eq!(last["in_app"], true);
    assert_eq!(ev["language"], "javascript");
    assert_eq!(ev["tags"]["service"], "inventory");
    assert_eq!(ev["tags"]["transaction"], "POST /reserve");
    assert_eq!(ev["release"], "3.1.0");
    assert_eq!(ev["environment"], "staging");
    assert_eq!(ev["trace"]["trace_id"], trace_id.as_str());
}

fn exception_request(ty: &str) -> Value {
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": TRACE, "spanId": "eee19b7ec3c1b174", "name": "GET /cart", "kind": 2,
            "startTimeUnixNano": "1764633600000000000", "endTimeUnixNano": "1764633600100000000",
            "events": [{"name": "exception", "timeUnixNano": "1764633600050000000", "attributes": [
                {"key": "exception.type", "value": {"stringValue": ty}},
                {"key": "exception.message", "value": {"stringValue": "cart 12 is gone"}},
                {"key": "exception.stacktrace", "value": {"stringValue": ty.to_owned() +
                    ": cart 12 is gone\n    at load (/srv/cart/load.js:10:5)\n    at Server.handle (/srv/node_modules/express/router.js:20:3)"}}
            ]}]
        }]}]
    }]})
}

fn post(url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    request("POST", url, headers, Some(body))
}

#[test]
fn otlp_endpoints_answer_as_the_spec_says() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Cart");
        let other = create_project(db, "Other");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start_with(db, &[("BUGLE_MAX_EVENT_BYTES", "262144")]);
        let traces = format!("{}/v1/traces", server.url);
        let logs = format!("{}/v1/logs", server.url);
        let bearer = format!("Bearer {}", project.token);
        let json_headers = [
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
        ];
        let name = backend.name;

        // JSON, plain and gzip: 200 with the (empty) export response in JSON.
        let body = exception_request("TypeError").to_string().into_bytes();
        let reply = post(&traces, &json_headers, body.clone());
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.json(), json!({}));
        let gz = [
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Encoding", "gzip"),
        ];
        let reply = post(
            &traces,
            &gz,
            gzip(&exception_request("RangeError").to_string().into_bytes()),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        // The same batch again (an exporter's retry) is stored once.
        assert_eq!(post(&traces, &json_headers, body).status, 200);
        let list = issues(&server, &api, &project);
        assert_eq!(list.len(), 2, "{name}: {list:#?}");
        assert!(list.iter().all(|i| i["count"] == 1), "{name}: {list:#?}");
        let ev = latest(&server, &api, &list[0]);
        assert_eq!(ev["language"], "javascript", "{name}: {ev:#}");
        let frames = ev["exceptions"][0]["frames"].as_array().unwrap();
        assert_eq!(frames.last().unwrap()["function"], "load");
        assert_eq!(frames.last().unwrap()["in_app"], true);
        assert_eq!(frames[0]["in_app"], false, "node_modules is not the app's");

        // Empty requests succeed; a logs request without errors stores nothing.
        assert_eq!(post(&traces, &json_headers, b"{}".to_vec()).status, 200);
        let info = json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"severityNumber": 9, "body": {"stringValue": "all good"}}]}]}]});
        assert_eq!(
            post(&logs, &json_headers, info.to_string().into_bytes()).status,
            200
        );
        let empty_pb = post(
            &logs,
            &[
                ("Authorization", bearer.as_str()),
                ("Content-Type", "application/x-protobuf"),
            ],
            Vec::new(),
        );
        assert_eq!(empty_pb.status, 200);
        assert_eq!(
            empty_pb.header("content-type"),
            Some("application/x-protobuf")
        );

        // Undecodable: 400 with a google.rpc.Status naming the problem, in the request's encoding.
        let bad = json!({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "xyz"}]}]}]});
        let reply = post(&traces, &json_headers, bad.to_string().into_bytes());
        assert_eq!(reply.status, 400, "{name}");
        assert_eq!(reply.json()["code"], 3);
        assert!(
            reply.json()["message"]
                .as_str()
                .unwrap()
                .contains("traceId"),
            "{}",
            reply.body
        );
        let reply = post(
            &traces,
            &[
                ("Authorization", bearer.as_str()),
                ("Content-Type", "application/x-protobuf"),
            ],
            vec![0x0a, 0xff, 0xff],
        );
        assert_eq!(reply.status, 400);
        assert_eq!(reply.header("content-type"), Some("application/x-protobuf"));

        // Neither encoding, no token, a wrong token, too large.
        let reply = post(
            &traces,
            &[
                ("Authorization", bearer.as_str()),
                ("Content-Type", "text/plain"),
            ],
            b"x".to_vec(),
        );
        assert_eq!(reply.status, 415);
        assert!(reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("application/x-protobuf"));
        let reply = post(
            &traces,
            &[("Content-Type", "application/json")],
            b"{}".to_vec(),
        );
        assert_eq!(reply.status, 401);
        assert!(reply.json()["message"].as_str().unwrap().contains("Bearer"));
        let reply = post(
            &traces,
            &[
                ("Authorization", "Bearer nope"),
                ("Content-Type", "application/json"),
            ],
            b"{}".to_vec(),
        );
        assert_eq!(reply.status, 403);
        let bomb = gzip(&vec![b' '; 1024 * 1024]);
        assert_eq!(
            post(&traces, &gz, bomb).status,
            413,
            "{name}: a gzip bomb is cut off"
        );

        // Sentry's spelling, with its auth header, for the key's own project only.
        let sentry_auth = format!("Sentry sentry_key={}", project.token);
        let sentry_headers = [
            ("x-sentry-auth", sentry_auth.as_str()),
            ("Content-Type", "application/json"),
        ];
        let url = format!(
            "{}/api/{}/integration/otlp/v1/traces",
            server.url, project.id
        );
        let reply = post(
            &url,
            &sentry_headers,
            exception_request("SyntaxError").to_string().into_bytes(),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(issues(&server, &api, &project).len(), 3);
        let url = format!("{}/api/{}/integration/otlp/v1/logs", server.url, other.id);
        assert_eq!(post(&url, &sentry_headers, b"{}".to_vec()).status, 403);
    }
}

#[test]
fn a_full_queue_is_a_503_with_retry_after_and_retried_batches_are_stored_once() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Busy");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start_with(
        db,
        &[("BUGLE_QUEUE_CAPACITY", "1"), ("BUGLE_BATCH_MAX", "1")],
    );
    let url = format!("{}/v1/traces", server.url);
    let auth = format!("Bearer {}", project.token);
    // 16 exporters at once, each with a batch of 10 exceptions, retrying on 503 as they do.
    let busy: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16u8)
            .map(|t| {
                let (url, auth) = (&url, &auth);
                s.spawn(move || {
                    let events: Vec<Value> = (0..10)
                        .map(|i| json!({"name": "exception", "timeUnixNano": (i + 1).to_string(),
                            "attributes": [{"key": "exception.type", "value": {"stringValue": "QueueTest"}}]}))
                        .collect();
                    let span_id = format!("{:016x}", u64::from(t) + 1);
                    let body = json!({"resourceSpans": [{"scopeSpans": [{"spans": [
                        {"traceId": TRACE, "spanId": span_id, "name": "s", "events": events}]}]}]})
                    .to_string()
                    .into_bytes();
                    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
                    let mut busy = Vec::new();
                    loop {
                        let reply = post(url, &headers, body.clone());
                        match reply.status {
                            200 => return busy,
                            503 => busy.push(reply),
                            other => panic!("{other}: {}", reply.body),
                        }
                        assert!(busy.len() < 500, "never got through");
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(!busy.is_empty(), "a queue of 1 should overflow");
    assert!(busy.iter().all(|r| r.header("retry-after") == Some("1")));
    assert_eq!(busy[0].json()["code"], 14);
    let list = issues(&server, &api, &project);
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["count"], 160,
        "every exception once, however often its batch was sent"
    );
}

/// A JavaScript exception whose innermost frame is `function` in the app's own `vendor/` folder
/// (guessed in-app: it is not under node_modules).
fn vendored_exception(span_id: &str, function: &str) -> Value {
    let stack = format!(
        "TypeError: cart 12 is gone\n    at {function} (/srv/cart/vendor/lib.js:3:1)\n    \
         at load (/srv/cart/load.js:10:5)"
    );
    json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
        "scopeSpans": [{"spans": [{
            "traceId": TRACE, "spanId": span_id, "name": "GET /cart", "kind": 2,
            "events": [{"name": "exception", "timeUnixNano": "1764633600050000000", "attributes": [
                {"key": "exception.type", "value": {"stringValue": "TypeError"}},
                {"key": "exception.message", "value": {"stringValue": "cart 12 is gone"}},
                {"key": "exception.stacktrace", "value": {"stringValue": stack}}
            ]}]
        }]}]
    }]})
}

#[test]
fn a_projects_stack_rules_override_the_in_app_guess_for_otlp_frames() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Vendored");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start(db);
    let url = format!("{}/v1/traces", server.url);
    let bearer = format!("Bearer {}", project.token);
    let headers = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    let send = |span_id: &str, function: &str| {
        let body = vendored_exception(span_id, function).to_string();
        let reply = post(&url, &headers, body.into_bytes());
        assert_eq!(reply.status, 200, "{}", reply.body);
    };
    // Guessed in-app, the vendored frames tell the two apart.
    send("00000000000000a1", "parseCart");
    send("00000000000000a2", "readCart");
    assert_eq!(issues(&server, &api, &project).len(), 2);
    let ev = latest(&server, &api, &issues(&server, &api, &project)[0]);
    let innermost = ev["exceptions"][0]["frames"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(innermost["function"], "readCart", "{ev:#}");
    assert_eq!(innermost["in_app"], true, "{ev:#}");

    // Not the app's code, the project says: new events of two other vendored functions group
    // by `load` alone, into one new issue (the two existing ones keep their events).
    let rules = json!({"rules": "stack.path:**/vendor/** -app\n"});
    let path = format!("/api/v1/projects/{}/grouping", project.slug);
    let reply = server.send_json("PUT", &api, &path, &rules);
    assert_eq!(reply.status, 200, "{}", reply.body);
    send("00000000000000b1", "scanCart");
    send("00000000000000b2", "dumpCart");
    let list = issues(&server, &api, &project);
    assert_eq!(list.len(), 3, "{list:#?}");
    assert_eq!(list[0]["count"], 2, "{list:#?}");
}
