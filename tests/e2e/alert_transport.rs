//! How alerts are posted, against real receivers on loopback: redirects are not followed, a
//! receiver that never answers is cut off by the 10 s timeout (and retried), and a huge answer
//! is read only up to its bound, its start kept as the recorded reason.

use std::time::Duration;

use bugle_tests::receiver::Receiver;
use bugle_tests::server::{create_project, Backend};
use serde_json::Value;

use super::alerts::{add_channel, cli_env, error, start, WAIT};

fn deliveries(db: &str, slug: &str) -> Vec<Value> {
    let (ok, out, err) = cli_env(db, &[], &["channel", "list", slug, "--json"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["deliveries"][0].clone())
        .collect()
}

#[test]
fn redirects_are_not_followed_slow_receivers_time_out_and_big_answers_are_cut() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Transport");
    let elsewhere = Receiver::start("/elsewhere");
    let moved = Receiver::start("/moved");
    let location = elsewhere.url.clone();
    moved.answer_with(move |_| (302, vec![("Location".into(), location.clone())], "".into()));
    let slow = Receiver::start("/slow");
    slow.answer_with(|n| {
        if n == 1 {
            std::thread::sleep(Duration::from_secs(12));
        }
        (200, vec![], "ok".into())
    });
    let big = Receiver::start("/big");
    big.answer_with(|_| (400, vec![], "x".repeat(1 << 20)));
    for url in [&moved.url, &slow.url, &big.url] {
        add_channel(db, &project.slug, "webhook", url);
    }
    let server = start(db, &[]);
    let reply = server.send_event(&project.token, &error("TransportError", "x"));
    assert_eq!(reply.status, 200, "{}", reply.body);

    moved.wait_for(1, WAIT);
    big.wait_for(1, WAIT);
    // The slow receiver is retried after the timeout and takes the second attempt.
    slow.wait_for(2, Duration::from_secs(40));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        elsewhere.requests().is_empty(),
        "the redirect was not followed"
    );
    assert_eq!(moved.requests().len(), 1, "a redirect is final");
    assert_eq!(big.requests().len(), 1, "a 400 is final");

    let [moved_log, slow_log, big_log]: [Value; 3] =
        deliveries(db, &project.slug).try_into().unwrap();
    assert!(
        moved_log["error"]
            .as_str()
            .unwrap()
            .contains("HTTP 302 (redirects are not followed)"),
        "{moved_log}"
    );
    assert_eq!(slow_log["status"], 200, "{slow_log}");
    let error = big_log["error"].as_str().unwrap();
    assert!(error.starts_with("HTTP 400: xxx"), "{big_log}");
    assert!(
        error.len() < 400,
        "only the start is kept: {} bytes",
        error.len()
    );

    let (_, out, _) = cli_env(db, &[], &["channel", "list", &project.slug, "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let timed_out = &v["channels"][1]["deliveries"][1];
    let latency = timed_out["latency_ms"].as_i64().unwrap();
    assert!(
        timed_out["status"].is_null() && (9_500..12_000).contains(&latency),
        "the first attempt was cut off after 10 s: {timed_out}"
    );
}
