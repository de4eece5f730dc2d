//! Version-1 hashes never change: issues created before an upgrade are found by the hashes
//! their events had then. Each event of the corpus (hand-written ones from five languages,
//! the protocol fixtures' mapped events and the benchmark's generated ones) is grouped and
//! its version-1 hashes compared with the ones recorded when version 1 was current
//! (`fixtures/grouping/v1_hashes.json`; `UPDATE_GOLDEN=1` rewrites it, which must only
//! happen when adding events to the corpus).

use std::path::Path;

use serde_json::{json, Value};

use bugle_server::event::Event;
use bugle_server::grouping;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn corpus() -> Vec<(String, Event)> {
    let mut out = Vec::new();
    let hand: Vec<Value> = serde_json::from_slice(
        &std::fs::read(Path::new(DIR).join("grouping/v1_events.json")).unwrap(),
    )
    .unwrap();
    for (i, v) in hand.into_iter().enumerate() {
        out.push((format!("hand-{i}"), serde_json::from_value(v).unwrap()));
    }
    for name in [
        "sentry_python_chained",
        "sentry_node",
        "rollbar_python_trace_chain",
        "rollbar_js_browser",
        "rollbar_message",
    ] {
        let expected = Path::new(DIR).join(format!("protocols/{name}.expected.json"));
        let v: Value = serde_json::from_slice(&std::fs::read(expected).unwrap()).unwrap();
        out.push((name.to_owned(), serde_json::from_value(v).unwrap()));
    }
    let mut rng = bugle_tests::bench::Rng::new(7);
    for i in 0..40 {
        let fp = if i % 4 == 0 { None } else { Some(i % 9) };
        let v = bugle_tests::bench::event(&mut rng, fp);
        out.push((format!("bench-{i}"), serde_json::from_value(v).unwrap()));
    }
    out
}

#[test]
fn version_1_hashes_are_what_they_were() {
    let path = Path::new(DIR).join("grouping/v1_hashes.json");
    let actual: serde_json::Map<String, Value> = corpus()
        .into_iter()
        .map(|(name, event)| {
            (
                name,
                json!(grouping::group_version(&event, 1)
                    .hashes
                    .iter()
                    .map(|h| &h.hash)
                    .collect::<Vec<_>>()),
            )
        })
        .collect();
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, serde_json::to_string_pretty(&actual).unwrap() + "\n").unwrap();
    }
    let expected: serde_json::Map<String, Value> =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let mut wrong = Vec::new();
    for (name, hashes) in &actual {
        if expected.get(name) != Some(hashes) {
            wrong.push(name.clone());
        }
    }
    assert!(wrong.is_empty(), "version-1 hashes changed for {wrong:?}");
    assert_eq!(actual.len(), expected.len());
}
