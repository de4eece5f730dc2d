//! Sentry and Rollbar endpoints at the HTTP level: auth variants, envelope items, encodings,
//! CORS, error shapes and rate limits, as SDKs meet them.

use std::io::Write;

use bugle_tests::server::{
    cli, create_project, create_user_token, request, Backend, Project, Reply, TestServer,
};
use serde_json::{json, Value};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn auth(project: &Project) -> String {
    format!(
        "Sentry sentry_version=7, sentry_client=test/1.0, sentry_key={}",
        project.token
    )
}

fn sentry_event(id: &str, message: &str) -> Value {
    json!({"event_id": id, "message": message, "level": "error", "platform": "python"})
}

/// An envelope with an event between items of other kinds, one of them unknown to Bugle.
fn envelope(id: &str, dsn: Option<&str>) -> Vec<u8> {
    let mut header = json!({"event_id": id, "sent_at": "2026-11-24T10:00:00Z"});
    if let Some(dsn) = dsn {
        header["dsn"] = json!(dsn);
    }
    let event = sentry_event(id, "checkout failed for cart 12").to_string();
    let session = json!({"sid": "7c4f3a1e6d8b4c2a9f0e1d2c3b4a5968", "init": true, "started": "2026-11-24T10:00:00Z",
        "status": "ok", "errors": 0, "attrs": {"release": "1.0"}}).to_string();
    let report = json!({"discarded_events": [{"reason": "sample_rate", "category": "error", "quantity": 2}]}).to_string();
    let mut body = format!("{header}\n");
    body.push_str(&format!(
        "{{\"type\":\"session\",\"length\":{}}}\n{session}\n",
        session.len()
    ));
    body.push_str(&format!(
        "{{\"type\":\"event\",\"length\":{}}}\n{event}\n",
        event.len()
    ));
    body.push_str(&format!("{{\"type\":\"client_report\"}}\n{report}\n"));
    body.push_str("{\"type\":\"statsd_v9000\",\"length\":5}\nhello\n");
    body.push_str("{\"type\":\"attachment\",\"length\":3,\"filename\":\"a.txt\"}\nabc");
    body.into_bytes()
}

fn stored(server: &TestServer, api: &str, project: &Project) -> Vec<Value> {
    let list = server.get(
        api,
        &format!("/api/v1/projects/{}/issues?status=all", project.slug),
    );
    list.json()["issues"].as_array().unwrap().clone()
}

fn post(server: &TestServer, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    request(
        "POST",
        &format!("{}{path}", server.url),
        headers,
        Some(body),
    )
}

#[test]
fn sentry_envelopes_and_store_bodies_are_accepted_in_every_form_sdks_send() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Sentry");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let envelope_path = format!("/api/{}/envelope/", project.id);
        let store_path = format!("/api/{}/store/", project.id);
        let auth = auth(&project);
        let host = server.url.strip_prefix("http://").unwrap();
        let dsn = project.dsn.replace("127.0.0.1:8080", host);

        // X-Sentry-Auth, no Content-Type (as sentry-rust sends).
        let id1 = "9ec79c33ec9942ab8353589fcb2e04d1";
        let reply = post(
            &server,
            &envelope_path,
            &[("X-Sentry-Auth", &auth)],
            envelope(id1, None),
        );
        assert_eq!(reply.status, 200, "{}: {}", backend.name, reply.body);
        assert_eq!(reply.json()["id"], id1);
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        // The key only in the envelope header's DSN, gzip-compressed.
        let id2 = "9ec79c33ec9942ab8353589fcb2e04d2";
        let reply = post(
            &server,
            &envelope_path,
            &[
                ("Content-Encoding", "gzip"),
                ("Content-Type", "application/x-sentry-envelope"),
            ],
            gzip(&envelope(id2, Some(&dsn))),
        );
        assert_eq!(reply.status, 200, "{}: {}", backend.name, reply.body);
        // The key in the query string, deflate, legacy /store/ with a plain-text content type.
        let id3 = "9ec79c33ec9942ab8353589fcb2e04d3";
        let reply = post(
            &server,
            &format!("{store_path}?sentry_version=7&sentry_key={}", project.token),
            &[
                ("Content-Encoding", "deflate"),
                ("Content-Type", "text/plain"),
            ],
            zlib(
                sentry_event(id3, "checkout failed for cart 98")
                    .to_string()
                    .as_bytes(),
            ),
        );
        assert_eq!(reply.status, 200, "{}: {}", backend.name, reply.body);
        assert_eq!(reply.json()["id"], id3);
        // An envelope without an event (sessions only) is accepted and stores no event.
        let session = "{}\n{\"type\":\"session\"}\n{\"sid\":\"a\",\"status\":\"exited\",\"attrs\":{\"release\":\"1\"}}\n";
        let reply = post(
            &server,
            &envelope_path,
            &[("X-Sentry-Auth", &auth)],
            session.as_bytes().to_vec(),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        // A resent event id is stored once.
        let reply = post(
            &server,
            &envelope_path,
            &[("X-Sentry-Auth", &auth)],
            envelope(id1, None),
        );
        assert_eq!(reply.status, 200);

        let issues = stored(&server, &api, &project);
        assert_eq!(issues.len(), 1, "{}: {issues:#?}", backend.name);
        assert_eq!(
            issues[0]["count"], 3,
            "{}: three distinct events",
            backend.name
        );
        let event = server
            .get(&api, &format!("/api/v1/occurrences/{id2}"))
            .json();
        assert_eq!(event["message"], "checkout failed for cart 12");

        let metrics = request("GET", &format!("{}/metrics", server.url), &[], None).body;
        // Session items are release health now: the same session, sent with each of the
        // three envelopes, counts once.
        assert!(
            !metrics.contains("bugle_skipped_items_total{type=\"session\"}"),
            "{metrics}"
        );
        let releases = server
            .get(&api, &format!("/api/v1/projects/{}/releases", project.slug))
            .json();
        let one = releases["releases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["version"] == "1.0")
            .expect("release 1.0, named by the session")
            .clone();
        assert_eq!(one["health"]["sessions"], 1, "{}: {one}", backend.name);
        assert!(
            metrics.contains("bugle_skipped_items_total{type=\"statsd_v9000\"} 3"),
            "{metrics}"
        );
    }
}

#[test]
fn sentry_refusals_are_clear_and_browsers_get_cors() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Browser");
    let other = create_project(db, "Other");
    let server = TestServer::start_with(db, &[("BUGLE_MAX_EVENT_BYTES", "100000")]);
    let path = format!("/api/{}/envelope/", project.id);
    let preflight = request(
        "OPTIONS",
        &format!("{}{path}", server.url),
        &[
            ("Origin", "https://shop.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        None,
    );
    assert_eq!(preflight.status, 200);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    let allowed = preflight.header("access-control-allow-headers").unwrap();
    assert!(
        allowed.contains("x-sentry-auth") && allowed.contains("content-type"),
        "{allowed}"
    );

    let event = envelope("9ec79c33ec9942ab8353589fcb2e04d1", None);
    let cases = [
        ("no key", vec![], event.clone(), 401),
        (
            "unknown key",
            vec![(
                "X-Sentry-Auth",
                "Sentry sentry_key=0123456789abcdef0123456789abcdef".to_owned(),
            )],
            event.clone(),
            403,
        ),
        (
            "key of another project",
            vec![("X-Sentry-Auth", auth(&other))],
            event.clone(),
            403,
        ),
        (
            "truncated item",
            vec![("X-Sentry-Auth", auth(&project))],
            b"{}\n{\"type\":\"event\",\"length\":999}\n{}".to_vec(),
            400,
        ),
        (
            "not JSON",
            vec![("X-Sentry-Auth", auth(&project))],
            b"{}\n{\"type\":\"event\"}\n{nope\n".to_vec(),
            400,
        ),
        (
            "bomb",
            vec![
                ("X-Sentry-Auth", auth(&project)),
                ("Content-Encoding", "gzip".to_owned()),
            ],
            gzip(&vec![b' '; 5_000_000]),
            413,
        ),
    ];
    for (what, headers, body, status) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = post(&server, &path, &headers, body);
        assert_eq!(reply.status, status, "{what}: {}", reply.body);
        assert!(reply.json()["detail"].is_string(), "{what}");
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{what}"
        );
    }
}

fn rollbar_item(token: Option<&str>, uuid: &str, message: &str) -> Value {
    let mut body = json!({"data": {
        "environment": "production", "uuid": uuid, "level": "error",
        "body": {"trace": {"frames": [{"filename": "app/cart.py", "lineno": 3, "method": "add"}],
                           "exception": {"class": "KeyError", "message": message}}},
        "server": {"host": "web-1", "root": "/srv/app"}
    }});
    if let Some(token) = token {
        body["access_token"] = json!(token);
    }
    body
}

#[test]
fn rollbar_items_are_accepted_with_every_token_form_and_refused_in_rollbar_shape() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Rollbar");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let token = project.token.as_str();
        let uuid = "3f1d7e2b-9c11-4a4e-8bb1-0190c7c26a41";

        let header = post(
            &server,
            "/api/1/item/",
            &[("X-Rollbar-Access-Token", token)],
            rollbar_item(None, uuid, "'sku-1'").to_string().into_bytes(),
        );
        assert_eq!(header.status, 200, "{}: {}", backend.name, header.body);
        assert_eq!(
            header.json(),
            json!({"err": 0, "result": {"id": null, "uuid": uuid}})
        );
        let in_body = post(
            &server,
            "/api/1/item/",
            &[],
            rollbar_item(
                Some(token),
                "3f1d7e2b-9c11-4a4e-8bb1-0190c7c26a42",
                "'sku-2'",
            )
            .to_string()
            .into_bytes(),
        );
        assert_eq!(in_body.status, 200, "{}", in_body.body);
        let form = serde_json::to_string(&rollbar_item(
            Some(token),
            "not-a-uuid-but-unique-3",
            "'sku-3'",
        ))
        .unwrap();
        let form_body = format!("payload={}", urlencode(&form));
        let form = post(
            &server,
            "/api/1/item/",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form_body.into_bytes(),
        );
        assert_eq!(form.status, 200, "{}", form.body);
        let resent = post(
            &server,
            "/api/1/item/",
            &[("X-Rollbar-Access-Token", token)],
            rollbar_item(None, uuid, "'sku-1'").to_string().into_bytes(),
        );
        assert_eq!(resent.status, 200);

        let issues = stored(&server, &api, &project);
        assert_eq!(issues.len(), 1, "{}: {issues:#?}", backend.name);
        assert_eq!(
            issues[0]["count"], 3,
            "{}: the resent uuid is stored once",
            backend.name
        );
        assert_eq!(
            issues[0]["culprit"], "app/cart.py in add",
            "the server root is stripped"
        );

        let refusals = [
            (
                "no token",
                vec![],
                rollbar_item(None, uuid, "x").to_string(),
                401,
            ),
            (
                "bad token",
                vec![("X-Rollbar-Access-Token", "0123456789abcdef0123456789abcdef")],
                rollbar_item(None, uuid, "x").to_string(),
                403,
            ),
            (
                "not JSON",
                vec![("X-Rollbar-Access-Token", token)],
                "{nope".to_owned(),
                400,
            ),
            (
                "no environment",
                vec![("X-Rollbar-Access-Token", token)],
                json!({"data": {"body": {"message": {"body": "hi"}}}}).to_string(),
                422,
            ),
            (
                "no body",
                vec![("X-Rollbar-Access-Token", token)],
                json!({"data": {"environment": "p"}}).to_string(),
                422,
            ),
            (
                "too large",
                vec![("X-Rollbar-Access-Token", token)],
                rollbar_item(None, uuid, &"x".repeat(1_100_000)).to_string(),
                413,
            ),
        ];
        for (what, headers, body, status) in refusals {
            let reply = post(&server, "/api/1/item/", &headers, body.into_bytes());
            assert_eq!(
                reply.status, status,
                "{}: {what}: {}",
                backend.name, reply.body
            );
            let body = reply.json();
            assert_eq!(body["err"], 1, "{what}");
            assert!(
                body["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{what}"
            );
        }
    }
}

/// Form encoding for the payload field (what `urllib.parse.urlencode` does).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn a_project_over_its_rate_limit_gets_429_with_the_headers_sdks_read() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Limited");
    cli(db, &["project", "rate-limit", &project.slug, "3"], None);
    let server = TestServer::start(db);
    let token = project.token.as_str();
    let mut statuses = Vec::new();
    for i in 0..3 {
        let reply = post(
            &server,
            "/api/1/item/",
            &[("X-Rollbar-Access-Token", token)],
            rollbar_item(
                None,
                &format!("3f1d7e2b-9c11-4a4e-8bb1-0190c7c26b0{i}"),
                "x",
            )
            .to_string()
            .into_bytes(),
        );
        statuses.push(reply.status);
        if reply.status == 200 {
            assert_eq!(reply.header("x-rate-limit-limit"), Some("3"));
        }
    }
    // The window is a wall-clock minute: a test that straddles its end sees a fresh window.
    let limited = post(
        &server,
        "/api/1/item/",
        &[("X-Rollbar-Access-Token", token)],
        rollbar_item(None, "3f1d7e2b-9c11-4a4e-8bb1-0190c7c26b09", "x")
            .to_string()
            .into_bytes(),
    );
    if statuses.iter().all(|s| *s == 200) && limited.status == 429 {
        assert_eq!(limited.json()["err"], 1);
        assert_eq!(limited.header("x-rate-limit-remaining"), Some("0"));
        let secs: u64 = limited
            .header("x-rate-limit-remaining-seconds")
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&secs));
        assert!(limited.header("retry-after").is_some());
        let sentry = post(
            &server,
            &format!("/api/{}/store/", project.id),
            &[("X-Sentry-Auth", &auth(&project))],
            sentry_event("9ec79c33ec9942ab8353589fcb2e04d9", "x")
                .to_string()
                .into_bytes(),
        );
        assert_eq!(sentry.status, 429);
        let limits = sentry.header("x-sentry-rate-limits").unwrap();
        assert!(limits.ends_with("::project"), "{limits}");
        let native = server.send_event(token, &json!({"message": "x"}));
        assert_eq!(native.status, 429);
        assert!(native.json()["detail"]
            .as_str()
            .unwrap()
            .contains("rate limit"));
    } else {
        eprintln!(
            "the minute rolled over during the test: {statuses:?}, {}",
            limited.status
        );
        assert!(
            statuses
                .iter()
                .chain([&limited.status])
                .filter(|s| **s == 429)
                .count()
                <= 1
        );
    }
}
