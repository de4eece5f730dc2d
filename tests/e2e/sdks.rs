//! The official Sentry and Rollbar SDKs, run as users run them, report to the real server:
//! Python `sentry-sdk` and `rollbar` from a virtualenv this module prepares, and the Rust
//! `sentry` crate. Each sends real chained exceptions and messages that differ only by
//! numbers; the events must arrive grouped one issue per bug, with frames, release,
//! environment, host and user, and the SDK must have seen success.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bugle_tests::server::{create_project, create_user_token, Backend, Project, TestServer};
use serde_json::Value;

use bugle_tests::python::venv as python;

/// Runs a Python script; panics with its output unless it exits 0 (the scripts exit 1 when
/// the SDK logged a delivery problem).
pub(crate) fn run_python(python: &Path, script: &str, args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.py");
    std::fs::write(&path, script).unwrap();
    let out = Command::new(python)
        .arg(&path)
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "script failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The issues of a project, most frequent first.
fn issues(server: &TestServer, api: &str, project: &Project) -> Vec<Value> {
    let list = server.get(
        api,
        &format!(
            "/api/v1/projects/{}/issues?sort=count&status=all",
            project.slug
        ),
    );
    list.json()["issues"].as_array().unwrap().clone()
}

fn latest(server: &TestServer, api: &str, issue: &Value) -> Value {
    server
        .get(api, &format!("/api/v1/issues/{}", issue["id"]))
        .json()["latest"]
        .clone()
}

/// The DSN printed by `project create`, pointed at the test server's port.
pub(crate) fn dsn(project: &Project, server: &TestServer) -> String {
    let host = server.url.strip_prefix("http://").unwrap();
    project.dsn.replace("127.0.0.1:8080", host)
}

fn exception_types(event: &Value) -> Vec<String> {
    event["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

fn has_in_app_frame(event: &Value, function: &str) -> bool {
    event["exceptions"][0]["frames"]
        .as_array()
        .is_some_and(|frames| {
            frames
                .iter()
                .any(|f| f["function"] == function && f["in_app"] == true)
        })
}

const SENTRY_PY: &str = r#"
import logging, sys
import sentry_sdk

problems = []
class Problems(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            problems.append(record.getMessage())
logging.getLogger("sentry_sdk.errors").addHandler(Problems())

sentry_sdk.init(dsn=sys.argv[1], release="shop@1.2.3", environment="staging", server_name="py-host-1")
sentry_sdk.set_user({"id": "42", "username": "ada", "email": "ada@example.com"})

def load_order(order_id):
    try:
        return {}["order-%d" % order_id]
    except KeyError as e:
        raise ValueError("order %d could not be loaded" % order_id) from e

for order_id in (17, 23, 31):
    try:
        load_order(order_id)
    except Exception as e:
        sentry_sdk.capture_exception(e)
for user in (881, 992):
    sentry_sdk.capture_message("cache miss for user %d" % user)
sentry_sdk.flush(timeout=10)
if problems:
    print("\n".join(problems))
    sys.exit(1)
"#;

#[test]
fn python_sentry_sdk_reports_grouped_complete_events() {
    let Some(python) = python() else { return };
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Python");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        run_python(python, SENTRY_PY, &[&dsn(&project, &server)]);

        let issues = issues(&server, &api, &project);
        assert_eq!(
            issues.len(),
            2,
            "{}: one issue per bug: {issues:#?}",
            backend.name
        );
        assert_eq!(issues[0]["count"], 3);
        assert_eq!(
            issues[0]["title"],
            "ValueError: order 17 could not be loaded"
        );
        assert_eq!(
            issues[1]["count"], 2,
            "messages differing by a number group"
        );
        let event = latest(&server, &api, &issues[0]);
        assert_eq!(
            exception_types(&event),
            ["ValueError", "KeyError"],
            "{event:#}"
        );
        assert!(has_in_app_frame(&event, "load_order"), "{event:#}");
        assert_eq!(event["release"], "shop@1.2.3");
        assert_eq!(event["environment"], "staging");
        assert_eq!(event["server"]["host"], "py-host-1");
        assert_eq!(event["person"]["id"], "42");
        assert_eq!(event["language"], "python");
    }
}

const ROLLBAR_PY: &str = r#"
import logging, sys
import rollbar

problems = []
class Problems(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            problems.append(record.getMessage())
logging.getLogger("rollbar").addHandler(Problems())

rollbar.init(sys.argv[1], environment="production", endpoint=sys.argv[2] + "/api/1/",
             handler="blocking", code_version="9.9.9")
person = {"person": {"id": "7", "username": "bob", "email": "bob@example.com"}}

def charge(card):
    try:
        int("card-%d" % card)
    except ValueError as e:
        raise RuntimeError("card %d declined" % card) from e

for card in (1111, 2222):
    try:
        charge(card)
    except Exception:
        rollbar.report_exc_info(sys.exc_info(), payload_data=person)
for queue in (17, 18):
    rollbar.report_message("queue %d is 93%% full" % queue, "warning", payload_data=person)
if problems:
    print("\n".join(problems))
    sys.exit(1)
"#;

#[test]
fn python_rollbar_sdk_reports_grouped_complete_events() {
    let Some(python) = python() else { return };
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Rollbar");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        run_python(python, ROLLBAR_PY, &[&project.token, &server.url]);

        let issues = issues(&server, &api, &project);
        assert_eq!(
            issues.len(),
            2,
            "{}: one issue per bug: {issues:#?}",
            backend.name
        );
        assert!(issues.iter().all(|i| i["count"] == 2), "{issues:#?}");
        let error = issues.iter().find(|i| i["level"] == "error").unwrap();
        assert_eq!(error["title"], "RuntimeError: card 1111 declined");
        let event = latest(&server, &api, error);
        assert_eq!(
            exception_types(&event),
            ["RuntimeError", "ValueError"],
            "{event:#}"
        );
        assert!(
            has_in_app_frame(&event, "charge")
                || event["exceptions"][0]["frames"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["function"] == "charge"),
            "{event:#}"
        );
        assert_eq!(event["release"], "9.9.9");
        assert_eq!(event["environment"], "production");
        assert!(
            event["server"]["host"]
                .as_str()
                .is_some_and(|h| !h.is_empty()),
            "{event:#}"
        );
        assert_eq!(event["person"]["username"], "bob");
    }
}

#[derive(Debug)]
struct PaymentError {
    order: u32,
    source: std::io::Error,
}

impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "payment for order {} failed", self.order)
    }
}

impl std::error::Error for PaymentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[test]
fn the_rust_sentry_crate_reports_grouped_complete_events() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Rust");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);

        // A hub of its own, so tests running in parallel do not share the global one.
        let mut options = sentry::ClientOptions::new();
        options.dsn = Some(dsn(&project, &server).parse().unwrap());
        options.release = Some("rust-app@2.0.0".into());
        options.environment = Some("canary".into());
        options.server_name = Some("rust-host".into());
        options.attach_stacktrace = true;
        // Not the defaults: they install a process-wide panic hook. These two attach and
        // clean the stack trace of where each error was captured.
        options.default_integrations = false;
        options.integrations = vec![
            Arc::new(sentry::integrations::backtrace::AttachStacktraceIntegration),
            Arc::new(sentry::integrations::backtrace::ProcessStacktraceIntegration),
        ];
        let options = sentry::apply_defaults(options);
        let client = Arc::new(sentry::Client::from(options));
        let hub = sentry::Hub::new(Some(client.clone()), Arc::new(sentry::Scope::default()));
        hub.configure_scope(|scope| {
            scope.set_user(Some(sentry::User {
                id: Some("9".into()),
                username: Some("carol".into()),
                ..Default::default()
            }))
        });
        for order in [5, 6] {
            let err = PaymentError {
                order,
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("gateway timed out after {order}s"),
                ),
            };
            hub.capture_error(&err);
        }
        hub.capture_message("worker 3 restarted", sentry::Level::Warning);
        assert!(
            client.close(Some(Duration::from_secs(10))),
            "the SDK flushed every event"
        );

        let issues = issues(&server, &api, &project);
        assert_eq!(
            issues.len(),
            2,
            "{}: one issue per bug: {issues:#?}",
            backend.name
        );
        assert_eq!(issues[0]["count"], 2);
        let event = latest(&server, &api, &issues[0]);
        assert_eq!(
            exception_types(&event),
            ["PaymentError", "Custom"],
            "{event:#}"
        );
        assert!(
            event["exceptions"][0]["frames"]
                .as_array()
                .is_some_and(|f| !f.is_empty()),
            "{event:#}"
        );
        assert_eq!(event["release"], "rust-app@2.0.0");
        assert_eq!(event["environment"], "canary");
        assert_eq!(event["server"]["host"], "rust-host");
        assert_eq!(event["person"]["username"], "carol");
        assert_eq!(event["language"], "rust");
    }
}

/// Browser SDKs and proxies may send brotli; Python's reference encoder makes the body.
#[test]
fn a_brotli_compressed_envelope_is_accepted() {
    let Some(python) = python() else { return };
    let backend = Backend::sqlite();
    let project = create_project(&backend.database_url, "Brotli");
    let server = TestServer::start(&backend.database_url);
    let envelope = format!(
        "{{}}\n{{\"type\":\"event\"}}\n{}\n",
        serde_json::json!({"event_id": "9ec79c33ec9942ab8353589fcb2e04aa", "message": "compressed with br"})
    );
    let out = Command::new(python)
        .args([
            "-c",
            "import sys, brotli; sys.stdout.buffer.write(brotli.compress(sys.stdin.buffer.read()))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(envelope.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success());
    let reply = bugle_tests::server::request(
        "POST",
        &format!("{}/api/{}/envelope/", server.url, project.id),
        &[
            (
                "X-Sentry-Auth",
                &format!("Sentry sentry_key={}", project.token),
            ),
            ("Content-Encoding", "br"),
        ],
        Some(out.stdout),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["id"], "9ec79c33ec9942ab8353589fcb2e04aa");
}
