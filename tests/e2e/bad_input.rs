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
