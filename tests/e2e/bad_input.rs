use std::io::Write;

use bugle_tests::server::{create_project, create_user_token, request, Backend, TestServer};
use serde_json::json;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// What is wrong, headers, body, expected status, a word the detail must contain.
type BadCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16, &'a str);

/// Total occurrences stored in the project, through the API.
fn stored(server: &TestServer, api: &str, slug: &str) -> i64 {
    let list = server.get(
        api,
        &format!("/api/v1/projects/{slug}/issues?status=all&limit=500"),
    );
    list.json()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["count"].as_i64().unwrap())
        .sum()
}

#[test]
fn bad_input_gets_a_4xx_naming_the_problem_and_stores_nothing() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Web");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start_with(
            db,
            &[
                ("BUGLE_MAX_BODY_BYTES", "65536"),
                ("BUGLE_MAX_EVENT_BYTES", "262144"),
            ],
        );
        let auth = format!("Bearer {}", project.token);
        let url = format!("{}/api/v1/events", server.url);
        let big_message = json!({"message": "x".repeat(70_000)})
            .to_string()
            .into_bytes();
        let bomb = gzip(
            &json!({"message": "y".repeat(1_000_000)})
                .to_string()
                .into_bytes(),
        );
        assert!(bomb.len() < 65536);
        let cases: Vec<BadCase> = vec![
            (
                "malformed JSON",
                vec![("Authorization", &auth)],
                b"{\"message\": ".to_vec(),
                400,
                "malformed JSON",
            ),
            (
                "not an object",
                vec![("Authorization", &auth)],
                b"[1, 2]".to_vec(),
                422,
                "invalid event",
            ),
            (
                "wrong type",
                vec![("Authorization", &auth)],
                br#"{"message": 42}"#.to_vec(),
                422,
                "message",
            ),
            (
                "wrong nested type",
                vec![("Authorization", &auth)],
                br#"{"exceptions": [{"type": "E", "frames": [{"lineno": "twelve"}]}]}"#.to_vec(),
                422,
                "exceptions[0].frames[0].lineno",
            ),
            (
                "missing required",
                vec![("Authorization", &auth)],
                br#"{"level": "error"}"#.to_vec(),
                422,
                "exceptions",
            ),
            (
                "exception without type",
                vec![("Authorization", &auth)],
                br#"{"exceptions": [{"value": "v"}]}"#.to_vec(),
                422,
                "type",
            ),
            (
                "unknown level",
                vec![("Authorization", &auth)],
                br#"{"message": "m", "level": "loud"}"#.to_vec(),
                422,
                "level",
            ),
            (
                "bad timestamp",
                vec![("Authorization", &auth)],
                br#"{"message": "m", "timestamp": "yesterday"}"#.to_vec(),
                422,
                "timestamp",
            ),
            (
                "bad uuid",
                vec![("Authorization", &auth)],
                br#"{"message": "m", "uuid": "nope"}"#.to_vec(),
                422,
                "uuid",
            ),
            (
                "oversized body",
                vec![("Authorization", &auth)],
                big_message,
                413,
                "exceeds",
            ),
            (
                "gzip bomb",
                vec![("Authorization", &auth), ("Content-Encoding", "gzip")],
                bomb,
                413,
                "decompressed",
            ),
            (
                "corrupt gzip",
                vec![("Authorization", &auth), ("Content-Encoding", "gzip")],
                b"not gzip".to_vec(),
                400,
                "gzip",
            ),
            (
                "unknown encoding",
                vec![("Authorization", &auth), ("Content-Encoding", "lzma")],
                b"{}".to_vec(),
                415,
                "Content-Encoding",
            ),
            (
                "no token",
                vec![],
                br#"{"message": "m"}"#.to_vec(),
                401,
                "token",
            ),
            (
                "unknown token",
                vec![("Authorization", "Bearer 0123456789abcdef0123456789abcdef")],
                br#"{"message": "m"}"#.to_vec(),
                403,
                "token",
            ),
        ];
        for (what, headers, body, status, needle) in cases {
            let reply = request("POST", &url, &headers, Some(body));
            assert_eq!(
                reply.status, status,
                "{}: {what}: {}",
                backend.name, reply.body
            );
            let detail = reply.json()["detail"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                detail.contains(needle),
                "{}: {what}: {detail:?} should mention {needle:?}",
                backend.name
            );
        }
        assert_eq!(
            stored(&server, &api, &project.slug),
            0,
            "{}: nothing stored",
            backend.name
        );

        // The server keeps serving, compressed bodies included.
        let event = json!({"message": "compressed hello"})
            .to_string()
            .into_bytes();
        let ok = request(
            "POST",
            &url,
            &[("Authorization", &auth), ("Content-Encoding", "gzip")],
            Some(gzip(&event)),
        );
        assert_eq!(ok.status, 200, "{}: {}", backend.name, ok.body);
        let ok = request(
            "POST",
            &url,
            &[("X-Bugle-Token", &project.token)],
            Some(event),
        );
        assert_eq!(ok.status, 200, "{}: X-Bugle-Token works too", backend.name);
        assert_eq!(stored(&server, &api, &project.slug), 2);
        let missing = request("GET", &format!("{}/api/v1/nothing", server.url), &[], None);
        assert_eq!(missing.status, 404);
        assert!(missing.json()["detail"].is_string());
    }
}

#[test]
fn a_full_queue_answers_429_with_retry_after_and_every_200_is_stored() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Busy");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start_with(
            db,
            &[("BUGLE_QUEUE_CAPACITY", "1"), ("BUGLE_BATCH_MAX", "1")],
        );
        let url = format!("{}/api/v1/events", server.url);
        let auth = format!("Bearer {}", project.token);
        let replies: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..32)
                .map(|t| {
                    let (url, auth) = (&url, &auth);
                    s.spawn(move || {
                        (0..10)
                            .map(|i| {
                                let body = json!({"message": format!("burst {t} {i}")}).to_string();
                                request(
                                    "POST",
                                    url,
                                    &[("Authorization", auth)],
                                    Some(body.into_bytes()),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        let ok = replies.iter().filter(|r| r.status == 200).count() as i64;
        let busy: Vec<_> = replies.iter().filter(|r| r.status == 429).collect();
        assert_eq!(
            ok + busy.len() as i64,
            320,
            "{}: only 200 and 429",
            backend.name
        );
        assert!(
            !busy.is_empty(),
            "{}: a queue of 1 should overflow",
            backend.name
        );
        assert!(busy.iter().all(|r| r.header("retry-after") == Some("1")));
        assert!(busy[0].json()["detail"].as_str().unwrap().contains("busy"));
        assert_eq!(
            stored(&server, &api, &project.slug),
            ok,
            "{}: every 200 committed",
            backend.name
        );
    }
}

/// What is sent, path, headers, body.
type DeepCase<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, Vec<u8>);

/// The server's resident memory, in KiB (Linux).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn nesting_100000_deep_is_a_400_on_every_protocol_with_bounded_memory() {
    let backend = Backend::sqlite();
    let project = create_project(&backend.database_url, "Deep");
    let api = create_user_token(&backend.database_url, "ada@example.com", true);
    let server = TestServer::start(&backend.database_url);
    let deep_array = "[".repeat(100_000).into_bytes();
    let deep_object = "{\"a\":".repeat(100_000).into_bytes();
    let deep_event = format!("{{\"message\":\"m\",\"custom\":{}", "[".repeat(100_000)).into_bytes();
    let native = format!("Bearer {}", project.token);
    let sentry = format!("Sentry sentry_version=7, sentry_key={}", project.token);
    let envelope = {
        let mut e = b"{}\n{\"type\":\"event\"}\n".to_vec();
        e.extend_from_slice(&deep_event);
        e.push(b'\n');
        e
    };
    let before = rss_kib(server.pid());
    let cases: Vec<DeepCase> = vec![
        (
            "native [",
            "/api/v1/events".into(),
            vec![("Authorization", &native)],
            deep_array.clone(),
        ),
        (
            "native {",
            "/api/v1/events".into(),
            vec![("Authorization", &native)],
            deep_object.clone(),
        ),
        (
            "native field",
            "/api/v1/events".into(),
            vec![("Authorization", &native)],
            deep_event.clone(),
        ),
        (
            "sentry store",
            format!("/api/{}/store/", project.id),
            vec![("X-Sentry-Auth", &sentry)],
            deep_event.clone(),
        ),
        (
            "sentry envelope",
            format!("/api/{}/envelope/", project.id),
            vec![("X-Sentry-Auth", &sentry)],
            envelope,
        ),
        (
            "rollbar",
            "/api/1/item/".into(),
            vec![("X-Rollbar-Access-Token", &project.token)],
            deep_object.clone(),
        ),
    ];
    for (what, path, headers, body) in cases {
        for _ in 0..5 {
            let reply = request(
                "POST",
                &format!("{}{path}", server.url),
                &headers,
                Some(body.clone()),
            );
            assert!(
                (400..500).contains(&reply.status),
                "{what}: {} {}",
                reply.status,
                reply.body
            );
            // Rollbar's own error shape is {"err": 1, "message"}; the others' {"detail"}.
            assert!(
                reply.body.contains("\"detail\"") || reply.body.contains("\"message\""),
                "{what}: {}",
                reply.body
            );
        }
    }
    let grown = rss_kib(server.pid()).saturating_sub(before);
    assert!(
        grown < 64 * 1024,
        "30 deep bodies grew the server by {grown} KiB"
    );
    assert_eq!(stored(&server, &api, &project.slug), 0);
    // And it still serves.
    let ok = server.send_event(&project.token, &json!({"message": "still here"}));
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[test]
fn events_with_100000_frames_or_breadcrumbs_are_cut_and_noted_not_refused() {
    let backend = Backend::sqlite();
    let project = create_project(&backend.database_url, "Huge");
    let api = create_user_token(&backend.database_url, "ada@example.com", true);
    // 100,000 frames and crumbs are ~5 MB of JSON (gzip takes them under the body limit).
    let server = TestServer::start_with(
        &backend.database_url,
        &[("BUGLE_MAX_EVENT_BYTES", "16777216")],
    );
    let frames: Vec<_> = (0..100_000)
        .map(|i| json!({"function": format!("f{i}")}))
        .collect();
    let crumbs: Vec<_> = (0..100_000)
        .map(|i| json!({"message": format!("b{i}")}))
        .collect();
    let native = json!({
        "exceptions": [{"type": "RecursionError", "value": "deep", "frames": frames}],
        "breadcrumbs": crumbs,
    });
    let sentry_frames: Vec<_> = (0..100_000)
        .map(|i| json!({"function": format!("s{i}"), "filename": "app.py"}))
        .collect();
    let sentry_event = json!({
        "event_id": "5d1e3a0c9b8f4e6aa1b2c3d4e5f60718",
        "exception": {"values": [{"type": "RecursionError", "value": "deep",
            "stacktrace": {"frames": sentry_frames}}]},
        "breadcrumbs": {"values": crumbs},
    });
    let auth = format!("Bearer {}", project.token);
    let sentry = format!("Sentry sentry_version=7, sentry_key={}", project.token);
    let sends = [
        (
            "/api/v1/events".to_owned(),
            ("Authorization", auth.as_str()),
            native,
        ),
        (
            format!("/api/{}/store/", project.id),
            ("X-Sentry-Auth", sentry.as_str()),
            sentry_event,
        ),
    ];
    for (path, header, body) in sends {
        let reply = request(
            "POST",
            &format!("{}{path}", server.url),
            &[header, ("Content-Encoding", "gzip")],
            Some(gzip(body.to_string().as_bytes())),
        );
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let v = reply.json();
        let uuid = v["uuid"].as_str().or(v["id"].as_str()).unwrap().to_owned();
        let event = server
            .get(&api, &format!("/api/v1/occurrences/{uuid}"))
            .json();
        let kept = event["exceptions"][0]["frames"].as_array().unwrap();
        assert_eq!(kept.len(), 250, "{path}");
        assert_eq!(
            event["breadcrumbs"].as_array().unwrap().len(),
            100,
            "{path}"
        );
        let notes: Vec<&str> = event["processing_notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["path"].as_str().unwrap())
            .collect();
        assert!(notes.contains(&"exceptions[0].frames"), "{path}: {notes:?}");
        assert!(notes.contains(&"breadcrumbs"), "{path}: {notes:?}");
    }
}
