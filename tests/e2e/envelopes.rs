//! Sentry envelopes judged item by item, attachments (stored, downloaded, bounded, a minidump
//! becoming a native crash) and user feedback (envelope items, the legacy API, the real SDKs),
//! read back through the API and the dashboard.

use std::path::Path;
use std::process::Command;

use bugle_tests::server::{
    create_project, create_user_token, request, Backend, Project, Reply, TestServer,
};
use bugle_tests::web::{create_user, WebUser, PASSWORD};
use serde_json::{json, Value};

fn auth(project: &Project) -> String {
    format!(
        "Sentry sentry_version=7, sentry_client=test/1.0, sentry_key={}",
        project.token
    )
}

/// An envelope of (item header, payload) pairs; every payload length-prefixed.
fn envelope(event_id: &str, items: &[(Value, Vec<u8>)]) -> Vec<u8> {
    let mut body = json!({"event_id": event_id}).to_string().into_bytes();
    body.push(b'\n');
    for (header, payload) in items {
        let mut header = header.clone();
        header["length"] = json!(payload.len());
        body.extend(header.to_string().as_bytes());
        body.push(b'\n');
        body.extend(payload);
        body.push(b'\n');
    }
    body
}

fn post_envelope(server: &TestServer, project: &Project, body: Vec<u8>) -> Reply {
    request(
        "POST",
        &format!("{}/api/{}/envelope/", server.url, project.id),
        &[("X-Sentry-Auth", &auth(project))],
        Some(body),
    )
}

fn event(id: &str, message: &str) -> Vec<u8> {
    json!({"event_id": id, "message": message, "level": "error", "platform": "python"})
        .to_string()
        .into_bytes()
}

fn occurrence(server: &TestServer, api: &str, id: &str) -> Value {
    let reply = server.get(api, &format!("/api/v1/occurrences/{id}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

/// A minimal Windows minidump: an access violation at 0x10 on x86_64.
fn minidump() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(0x504d_444du32.to_le_bytes());
    b.extend(0xa793u32.to_le_bytes());
    b.extend(2u32.to_le_bytes());
    b.extend(32u32.to_le_bytes());
    b.extend([0u8; 16]);
    for (ty, size, at) in [(6u32, 168u32, 56u32), (7, 56, 224)] {
        b.extend(ty.to_le_bytes());
        b.extend(size.to_le_bytes());
        b.extend(at.to_le_bytes());
    }
    let mut exc = vec![0u8; 168];
    exc[8..12].copy_from_slice(&0xC000_0005u32.to_le_bytes());
    exc[24..32].copy_from_slice(&0x10u64.to_le_bytes());
    b.extend(exc);
    let mut sys = vec![0u8; 56];
    sys[0..2].copy_from_slice(&9u16.to_le_bytes());
    sys[20..24].copy_from_slice(&2u32.to_le_bytes());
    b.extend(sys);
    // Bytes no text has, so a lossy copy would show.
    b.extend((0..=255u8).rev());
    b
}

fn metric(server: &TestServer, name: &str) -> String {
    let text = request("GET", &format!("{}/metrics", server.url), &[], None).body;
    text.lines()
        .filter(|l| l.starts_with(name))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn an_envelope_keeps_its_good_items_when_others_are_bad() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Items");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let id = "9ec79c33ec9942ab8353589fcb2e04dc";
        let mut body = envelope(
            id,
            &[
                (json!({"type": "event"}), event(id, "checkout failed")),
                (json!({"type": "user_report"}), b"{not json".to_vec()),
                (json!({"type": "profile"}), b"{}".to_vec()),
            ],
        );
        // An item header that is not JSON, with its payload, then a session after it.
        body.extend(b"garbage header\n{\"payload\": 1}\n{\"type\":\"session\"}\n{\"sid\":\"x\"}\n");
        let reply = post_envelope(&server, &project, body);
        assert_eq!(reply.status, 200, "{}: {}", backend.name, reply.body);
        assert_eq!(reply.json()["id"], id);
        assert_eq!(occurrence(&server, &api, id)["message"], "checkout failed");
        let dropped = metric(&server, "bugle_dropped_items_total");
        assert!(
            dropped.contains("type=\"user_report\",reason=\"invalid_user_report\"} 1"),
            "{dropped}"
        );
        assert!(
            dropped.contains("reason=\"malformed_item\"} 1"),
            "{dropped}"
        );
        // The session has no `attrs.release`: dropped, said so; the profile is skipped.
        assert!(
            dropped.contains("type=\"session\",reason=\"invalid_session\"} 1"),
            "{dropped}"
        );
        let skipped = metric(&server, "bugle_skipped_items_total");
        assert!(skipped.contains("type=\"profile\"} 1"), "{skipped}");

        // A bad event item is dropped; the user report beside it is kept.
        let other = "0b7f6c1e5c8e4a439a557d0f3b0a2c11";
        let reply = post_envelope(
            &server,
            &project,
            envelope(
                other,
                &[
                    (json!({"type": "event"}), b"[1, 2]".to_vec()),
                    (
                        json!({"type": "user_report"}),
                        json!({"event_id": id, "name": "Ada", "email": "ada@example.com", "comments": "It ate my cart"})
                            .to_string()
                            .into_bytes(),
                    ),
                ],
            ),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let feedback = server
            .get(&api, &format!("/api/v1/projects/{}/feedback", project.slug))
            .json();
        assert_eq!(
            feedback["feedback"][0]["comments"], "It ate my cart",
            "{}",
            backend.name
        );

        // A malformed envelope header still refuses the whole request.
        let reply = post_envelope(
            &server,
            &project,
            b"{nope\n{\"type\":\"event\"}\n{}\n".to_vec(),
        );
        assert_eq!(reply.status, 400);
        assert!(reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("invalid envelope"));
    }
}

#[test]
fn attachments_are_stored_with_their_event_and_downloaded_as_files() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Files");
    let api = create_user_token(db, "ada@example.com", true);
    create_user(db, "web@example.com", true);
    let server = TestServer::start(db);
    let id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let html = b"<script>alert('owned')</script>".to_vec();
    let log: Vec<u8> = "line of the log\n".repeat(500).into_bytes();
    let reply = post_envelope(
        &server,
        &project,
        envelope(
            id,
            &[
                (json!({"type": "event"}), event(id, "render failed")),
                (
                    json!({"type": "attachment", "filename": "app.log", "content_type": "text/plain"}),
                    log.clone(),
                ),
                (
                    json!({"type": "attachment", "filename": "../../evil.html", "content_type": "text/html"}),
                    html.clone(),
                ),
                (
                    json!({"type": "attachment", "filename": "crash.dmp", "attachment_type": "event.minidump"}),
                    minidump(),
                ),
            ],
        ),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let occ = occurrence(&server, &api, id);
    let files = occ["attachments"].as_array().unwrap();
    let names: Vec<_> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["app.log", "evil.html", "crash.dmp"],
        "paths are cut from names"
    );
    assert_eq!(files[0]["size"], log.len());
    assert!(
        files[0]["stored_size"].as_i64().unwrap() < log.len() as i64 / 10,
        "compressed"
    );
    assert_eq!(files[2]["attachment_type"], "event.minidump");

    for (file, bytes) in files.iter().zip([&log, &html, &minidump()]) {
        let got = request(
            "GET",
            &format!("{}{}", server.url, file["download"].as_str().unwrap()),
            &[("Authorization", &format!("Bearer {api}"))],
            None,
        );
        assert_eq!(got.status, 200);
        assert_eq!(got.header("content-type"), Some("application/octet-stream"));
        assert_eq!(got.header("x-content-type-options"), Some("nosniff"));
        assert!(
            got.header("content-disposition")
                .unwrap()
                .starts_with("attachment"),
            "{:?}",
            got.headers
        );
        // Reply bodies are read as text: compare what survives that (the binary one below).
        if bytes.is_ascii() {
            assert_eq!(got.body.as_bytes(), bytes.as_slice());
        }
    }
    let raw = bugle_tests::server::request_bytes(
        "GET",
        &format!("{}{}", server.url, files[2]["download"].as_str().unwrap()),
        &[("Authorization", &format!("Bearer {api}"))],
    );
    assert_eq!(
        raw,
        minidump(),
        "the binary minidump comes back byte for byte"
    );

    let web = WebUser::sign_in(&server.url, "web@example.com", PASSWORD);
    let page = web.get(&format!("/occurrences/{id}"));
    assert!(page.body.contains("app.log") && page.body.contains("evil.html"));
    assert!(
        !page.body.contains("<script>alert"),
        "attachments are never inlined"
    );
    assert!(
        page.body.contains("not-symbolicated"),
        "a minidump says it is not symbolicated"
    );
    let download = web.get(&format!("/attachments/{}", files[1]["id"]));
    assert_eq!(
        download.header("content-disposition").unwrap(),
        "attachment; filename=\"evil.html\""
    );
    assert_eq!(download.header("x-content-type-options"), Some("nosniff"));
    // Another project's member sees neither the page nor the file.
    create_user(db, "eve@example.com", false);
    let eve = WebUser::sign_in(&server.url, "eve@example.com", PASSWORD);
    assert_eq!(
        eve.get(&format!("/attachments/{}", files[1]["id"])).status,
        404
    );
}

#[test]
fn a_minidump_alone_is_a_native_crash_and_a_later_attachment_joins_its_event() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Native");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let id = "6e0c63257de34c92bf9efcd03927272e";
        let reply = post_envelope(
            &server,
            &project,
            envelope(
                id,
                &[(
                    json!({"type": "attachment", "filename": "upload_file_minidump", "attachment_type": "event.minidump"}),
                    minidump(),
                )],
            ),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let occ = occurrence(&server, &api, id);
        assert_eq!(occ["level"], "critical");
        assert_eq!(occ["exceptions"][0]["type"], "EXCEPTION_ACCESS_VIOLATION");
        assert!(occ["exceptions"][0]["value"]
            .as_str()
            .unwrap()
            .contains("not symbolicated"));
        assert_eq!(occ["contexts"]["os"]["name"], "Windows");
        assert_eq!(occ["attachments"].as_array().unwrap().len(), 1);
        // A second envelope with the same event id brings a log: it joins the event.
        let reply = post_envelope(
            &server,
            &project,
            envelope(
                id,
                &[(
                    json!({"type": "attachment", "filename": "later.txt"}),
                    b"after the crash".to_vec(),
                )],
            ),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            occurrence(&server, &api, id)["attachments"]
                .as_array()
                .unwrap()
                .len(),
            2,
            "{}",
            backend.name
        );
    }
}

#[test]
fn attachments_over_their_limits_are_dropped_and_noted_and_the_event_kept() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Limits");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start_with(
        db,
        &[
            ("BUGLE_MAX_ATTACHMENT_BYTES", "1000"),
            ("BUGLE_MAX_PROJECT_ATTACHMENT_BYTES", "200"),
        ],
    );
    let id = "1c7bd6bc1d2f4d5d9c8e2f0a3b4c5d6e";
    let reply = post_envelope(
        &server,
        &project,
        envelope(
            id,
            &[
                (json!({"type": "event"}), event(id, "too big")),
                (
                    json!({"type": "attachment", "filename": "big.bin"}),
                    vec![7u8; 2000],
                ),
                (
                    json!({"type": "attachment", "filename": "small.txt"}),
                    b"fits".to_vec(),
                ),
            ],
        ),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let occ = occurrence(&server, &api, id);
    let names: Vec<_> = occ["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, [json!("small.txt")]);
    let notes = occ["processing_notes"].to_string();
    assert!(
        notes.contains("big.bin") && notes.contains("larger than 1000 bytes"),
        "{notes}"
    );
    // The project's quota (200 stored bytes) is used up by what it keeps: the next is dropped.
    let next = "2c7bd6bc1d2f4d5d9c8e2f0a3b4c5d6e";
    post_envelope(
        &server,
        &project,
        envelope(
            next,
            &[
                (json!({"type": "event"}), event(next, "quota")),
                (
                    json!({"type": "attachment", "filename": "noise.bin"}),
                    (0..900u32).map(|i| (i * 7919 % 251) as u8).collect(),
                ),
            ],
        ),
    );
    assert!(occurrence(&server, &api, next)["attachments"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(metric(&server, "bugle_dropped_items_total").contains("reason=\"project_quota\"} 1"));
}

#[test]
fn feedback_from_envelopes_and_the_legacy_api_is_listed_shown_and_counted() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Feedback");
        let api = create_user_token(db, "ada@example.com", true);
        create_user(db, "web@example.com", true);
        let server = TestServer::start(db);
        let id = "9ec79c33ec9942ab8353589fcb2e04dd";
        post_envelope(
            &server,
            &project,
            envelope(id, &[(json!({"type": "event"}), event(id, "pay failed"))]),
        );
        let feedback_item = json!({
            "type": "feedback", "event_id": "aec79c33ec9942ab8353589fcb2e04dd",
            "contexts": {"feedback": {"message": "Pay button does nothing", "contact_email": "bob@example.com",
                "name": "Bob", "url": "https://shop.example/pay", "associated_event_id": id}}
        });
        let reply = post_envelope(
            &server,
            &project,
            envelope(
                "aec79c33ec9942ab8353589fcb2e04dd",
                &[(
                    json!({"type": "feedback"}),
                    feedback_item.to_string().into_bytes(),
                )],
            ),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        // The legacy API, with the DSN and with an API token.
        let path = format!(
            "{}/api/0/projects/any-org/{}/user-feedback/",
            server.url, project.slug
        );
        let body = json!({"event_id": id, "name": "Cy", "email": "cy@example.com", "comments": "Charged twice"});
        let dsn = project
            .dsn
            .replace("127.0.0.1:8080", server.url.trim_start_matches("http://"));
        let reply = request(
            "POST",
            &path,
            &[
                ("Authorization", &format!("DSN {dsn}")),
                ("Content-Type", "application/json"),
            ],
            Some(body.to_string().into_bytes()),
        );
        assert_eq!(reply.status, 200, "{}: {}", backend.name, reply.body);
        assert_eq!(reply.json()["comments"], "Charged twice");
        let reply = request(
            "POST",
            &path,
            &[("Authorization", &format!("Bearer {api}"))],
            Some(
                json!({"comments": "No event, just a note"})
                    .to_string()
                    .into_bytes(),
            ),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let reply = request("POST", &path, &[], Some(body.to_string().into_bytes()));
        assert_eq!(reply.status, 401);
        let reply = request(
            "POST",
            &path,
            &[("Authorization", &format!("Bearer {api}"))],
            Some(json!({"name": "no comments"}).to_string().into_bytes()),
        );
        assert_eq!(reply.status, 400, "{}", reply.body);

        let all = server
            .get(&api, &format!("/api/v1/projects/{}/feedback", project.slug))
            .json();
        assert_eq!(
            all["feedback"].as_array().unwrap().len(),
            3,
            "{}: {all}",
            backend.name
        );
        let about_event = occurrence(&server, &api, id)["feedback"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(about_event, 2);

        let web = WebUser::sign_in(&server.url, "web@example.com", PASSWORD);
        let issue = server
            .get(&api, &format!("/api/v1/projects/{}/issues", project.slug))
            .json()["issues"][0]["id"]
            .clone();
        let list = web.get(&format!("/projects/{}/issues", project.slug));
        assert!(
            list.body.contains("2 reports"),
            "the issue list counts them"
        );
        let page = web.get(&format!("/issues/{issue}"));
        assert!(
            page.body.contains("Pay button does nothing") && page.body.contains("Charged twice")
        );
        let feed = web.get(&format!("/projects/{}/feedback", project.slug));
        assert!(feed.body.contains("No event, just a note"));
    }
}

#[test]
fn store_takes_transactions_and_skips_them() {
    let backend = Backend::sqlite();
    let project = create_project(&backend.database_url, "Txn");
    let server = TestServer::start(&backend.database_url);
    let reply = request(
        "POST",
        &format!("{}/api/{}/store/", server.url, project.id),
        &[("X-Sentry-Auth", &auth(&project))],
        Some(
            json!({"type": "transaction", "transaction": "/cart", "spans": []})
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(metric(&server, "bugle_skipped_items_total").contains("type=\"transaction\"} 1"));
}

#[test]
fn the_python_sdk_sends_attachments_that_arrive_with_the_event() {
    let Some(python) = bugle_tests::python::venv() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Py files");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start(db);
    let dsn = project
        .dsn
        .replace("127.0.0.1:8080", server.url.trim_start_matches("http://"));
    let script = r#"
import sys, sentry_sdk
sentry_sdk.init(dsn=sys.argv[1])
sentry_sdk.get_current_scope().add_attachment(bytes=b"\x00\x01binary\xff", filename="state.bin")
sentry_sdk.get_current_scope().add_attachment(bytes=b"log line\n" * 50, filename="app.log", content_type="text/plain")
try:
    1 / 0
except ZeroDivisionError as e:
    print(sentry_sdk.capture_exception(e))
sentry_sdk.flush(10)
"#;
    let out = run(python, "app.py", script, &[&dsn]);
    let id = out.trim();
    let occ = occurrence(&server, &api, id);
    let files: Vec<_> = occ["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["size"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [("state.bin".to_owned(), 9), ("app.log".to_owned(), 450)]
    );
}

#[test]
fn the_node_sdk_sends_feedback_that_reaches_its_issue() {
    let Some(node) = bugle_tests::node::project() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Node feedback");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start(db);
    let dsn = project
        .dsn
        .replace("127.0.0.1:8080", server.url.trim_start_matches("http://"));
    let script = r#"
const Sentry = require("@sentry/node");
Sentry.init({ dsn: process.argv[2] });
async function main() {
  const id = Sentry.captureException(new Error("checkout exploded"));
  Sentry.captureFeedback({ message: "The checkout page exploded", name: "Dee", email: "dee@example.com", associatedEventId: id });
  await Sentry.flush(10000);
  console.log(id);
}
main();
"#;
    let modules = node.join("node_modules");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.js"), script).unwrap();
    let out = Command::new("node")
        .arg(dir.path().join("app.js"))
        .arg(&dsn)
        .env("NODE_PATH", &modules)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let occ = occurrence(&server, &api, &id);
    let feedback = occ["feedback"].as_array().unwrap();
    assert_eq!(feedback.len(), 1, "{occ}");
    assert_eq!(feedback[0]["comments"], "The checkout page exploded");
    assert_eq!(feedback[0]["email"], "dee@example.com");
    assert_eq!(feedback[0]["issue_id"], occ["issue_id"]);
}

fn run(python: &Path, name: &str, script: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, script).unwrap();
    let out = Command::new(python).arg(&path).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every recorded payload of the protocol golden tests, sent as its SDK sends it: each is
/// accepted (200) and its occurrence page renders with its title and processing notes.
#[test]
fn every_recorded_payload_is_stored_and_its_page_renders() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Golden");
    let api = create_user_token(db, "ada@example.com", true);
    create_user(db, "web@example.com", true);
    let server = TestServer::start(db);
    let web = WebUser::sign_in(&server.url, "web@example.com", PASSWORD);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/fixtures/protocols");
    let mut sent = 0;
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.contains(".expected."))
        .collect();
    names.sort();
    for name in names {
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let reply = if name.starts_with("rollbar_") {
            // The fixture's own token is a placeholder: send it with this project's.
            let mut body: Value = serde_json::from_slice(&bytes).unwrap();
            body["access_token"] = json!(project.token);
            request(
                "POST",
                &format!("{}/api/1/item/", server.url),
                &[("Content-Type", "application/json")],
                Some(body.to_string().into_bytes()),
            )
        } else if name.ends_with(".envelope") {
            post_envelope(&server, &project, bytes)
        } else {
            request(
                "POST",
                &format!("{}/api/{}/store/", server.url, project.id),
                &[("X-Sentry-Auth", &auth(&project))],
                Some(bytes),
            )
        };
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        sent += 1;
    }
    let issues = server
        .get(
            &api,
            &format!(
                "/api/v1/projects/{}/issues?status=all&limit=100",
                project.slug
            ),
        )
        .json();
    let issues = issues["issues"].as_array().unwrap();
    assert!(
        issues.len() >= sent / 2,
        "{} issues for {sent} payloads",
        issues.len()
    );
    for issue in issues {
        let page = web.get(&format!("/issues/{}", issue["id"]));
        assert_eq!(
            page.status, 200,
            "issue {}: {}",
            issue["id"], issue["title"]
        );
        let title = issue["title"].as_str().unwrap();
        let shown = title
            .replace('&', "&#38;")
            .replace('<', "&#60;")
            .replace('>', "&#62;")
            .replace('"', "&#34;")
            .replace('\'', "&#39;");
        let first_words: String = shown.chars().take(20).collect();
        assert!(
            page.body.contains(&first_words),
            "issue {} shows its title {title:?}",
            issue["id"]
        );
    }
    let notes: Vec<_> = issues
        .iter()
        .filter(|i| {
            let latest = &server
                .get(&api, &format!("/api/v1/issues/{}", i["id"]))
                .json()["latest"];
            latest["processing_notes"]
                .as_array()
                .is_some_and(|n| !n.is_empty())
        })
        .collect();
    assert!(
        !notes.is_empty(),
        "the wrong-typed payload carries its notes to the page"
    );
}
