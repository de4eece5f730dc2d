//! Golden files: real-shaped SDK payloads in `fixtures/`, each mapped to an `Event` and compared
//! with `<name>.expected.json` beside it. `UPDATE_GOLDEN=1 cargo test` rewrites the expected
//! files; review the diff before keeping it.

use std::path::{Path, PathBuf};

use serde_json::Value;

use bugle_server::{
    event::Event,
    protocol::{envelope, rollbar, sentry},
};

const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/protocols");

#[derive(Clone, Copy)]
enum Wire {
    /// A Sentry event JSON (envelope `event` item or `/store/` body).
    SentryEvent,
    /// A raw Sentry envelope body.
    SentryEnvelope,
    /// A Rollbar `POST /api/1/item/` body `{access_token, data}`.
    RollbarItem,
}

const CASES: &[(&str, Wire)] = &[
    ("sentry_python_chained.json", Wire::SentryEvent),
    ("sentry_node.json", Wire::SentryEvent),
    ("sentry_rust_panic.envelope", Wire::SentryEnvelope),
    ("rollbar_python_trace_chain.json", Wire::RollbarItem),
    ("rollbar_js_browser.json", Wire::RollbarItem),
    ("rollbar_message.json", Wire::RollbarItem),
];

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURE_DIR).join(name)
}

fn map_fixture(name: &str, wire: Wire) -> Event {
    let bytes = std::fs::read(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let event = match wire {
        Wire::SentryEvent => sentry::event_from_sentry(&bytes).map_err(|e| e.client_message()),
        Wire::SentryEnvelope => {
            let env = envelope::parse_envelope(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            sentry::event_from_envelope(&env)
                .map_err(|e| e.client_message())
                .and_then(|ev| ev.ok_or_else(|| "no event item".to_owned()))
        }
        Wire::RollbarItem => {
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            assert!(
                rollbar::rollbar_token(&body).is_some(),
                "{name}: no access_token"
            );
            rollbar::item_data(&body)
                .and_then(rollbar::event_from_rollbar)
                .map_err(|e| e.client_message())
        }
    };
    let event = event.unwrap_or_else(|e| panic!("{name}: {e}"));
    event
        .validate()
        .unwrap_or_else(|e| panic!("{name}: mapped event is invalid: {e}"));
    event
}

fn expected_path(name: &str) -> PathBuf {
    let stem = name.split_once('.').map_or(name, |(stem, _)| stem);
    fixture(&format!("{stem}.expected.json"))
}

#[test]
fn every_fixture_maps_to_its_expected_event() {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut mismatches = Vec::new();
    for &(name, wire) in CASES {
        let actual = serde_json::to_value(map_fixture(name, wire)).unwrap();
        let path = expected_path(name);
        if update {
            let text = serde_json::to_string_pretty(&actual).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        let expected: Value = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}")),
            Err(e) => panic!("{path:?}: {e} (run with UPDATE_GOLDEN=1 to create it)"),
        };
        if actual != expected {
            mismatches.push(format!(
                "{name}: mapped event differs from {}\n--- actual ---\n{}",
                path.display(),
                serde_json::to_string_pretty(&actual).unwrap()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\n(rerun with UPDATE_GOLDEN=1 if the change is intended)",
        mismatches.join("\n\n")
    );
}

// The golden files pin everything; these say in words what must hold in them.

fn types(ev: &Event) -> Vec<&str> {
    ev.exceptions.iter().map(|e| e.ty.as_str()).collect()
}

#[test]
fn a_python_chained_exception_is_outermost_first() {
    let ev = map_fixture("sentry_python_chained.json", Wire::SentryEvent);
    assert_eq!(types(&ev), ["ValueError", "KeyError"]);
    let frames = &ev.exceptions[0].frames;
    assert_eq!(
        frames.last().unwrap().function.as_deref(),
        Some("load_line"),
        "crash site last"
    );
    assert_eq!(ev.language.as_deref(), Some("python"));
    assert_eq!(
        ev.request.as_ref().unwrap().user_ip.as_deref(),
        Some("203.0.113.9")
    );
}

#[test]
fn the_rollbar_trace_chain_matches_the_sentry_order() {
    let rb = map_fixture("rollbar_python_trace_chain.json", Wire::RollbarItem);
    let st = map_fixture("sentry_python_chained.json", Wire::SentryEvent);
    assert_eq!(types(&rb), types(&st));
    assert_eq!(
        rb.exceptions[0].frames.last().unwrap().function,
        st.exceptions[0].frames.last().unwrap().function
    );
}

#[test]
fn a_rust_panic_without_platform_is_still_rust() {
    let ev = map_fixture("sentry_rust_panic.envelope", Wire::SentryEnvelope);
    assert_eq!(ev.platform.as_deref(), Some("other"));
    assert_eq!(ev.language.as_deref(), Some("rust"));
    assert_eq!(ev.exceptions[0].mechanism.as_ref().unwrap().ty, "panic");
}

#[test]
fn the_browser_item_has_breadcrumbs_and_a_browser() {
    let ev = map_fixture("rollbar_js_browser.json", Wire::RollbarItem);
    assert_eq!(ev.breadcrumbs.len(), 4);
    assert_eq!(
        ev.context_name("browser").as_deref(),
        Some("Chrome 124.0.6367.91")
    );
    assert_eq!(ev.release.as_deref(), Some("web-7c2e91f"));
}
