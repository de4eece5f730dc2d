//! Golden files: SDK payloads in `fixtures/`, each mapped to an `Event` and compared with
//! `<name>.expected.json` beside it. `UPDATE_GOLDEN=1 cargo test` rewrites the expected files;
//! review the diff before keeping it.
//!
//! `*_sdk_*` fixtures are recorded from the real SDKs (sentry-sdk 2.75 for Python through a
//! local HTTP server, pyrollbar 1.5.0 likewise); `sentry_raven_*` are raven-era events written
//! from the protocol docs with the `sentry.interfaces.*` names; the rest are written from the
//! protocols' docs and Sentry's sample events (facts, not copies).

use std::path::{Path, PathBuf};

use serde_json::Value;

use bugle_server::{
    event::Event,
    grouping::{self, rules::Rules},
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
    ("sentry_python_sdk_wsgi.envelope", Wire::SentryEnvelope),
    (
        "sentry_python_sdk_thread_message.envelope",
        Wire::SentryEnvelope,
    ),
    ("sentry_python_sdk_logging.envelope", Wire::SentryEnvelope),
    ("sentry_raven_python_legacy.json", Wire::SentryEvent),
    ("sentry_raven_django_template.json", Wire::SentryEvent),
    ("sentry_raven_query_stacktrace.json", Wire::SentryEvent),
    ("sentry_minimal.json", Wire::SentryEvent),
    ("sentry_java_threads.json", Wire::SentryEvent),
    ("sentry_native_ios_crash.json", Wire::SentryEvent),
    ("sentry_browser_js.json", Wire::SentryEvent),
    ("sentry_wrong_types.json", Wire::SentryEvent),
    ("sentry_exception_nulls.json", Wire::SentryEvent),
    ("sentry_csp.json", Wire::SentryEvent),
    ("sentry_hpkp.json", Wire::SentryEvent),
    ("sentry_expectct.json", Wire::SentryEvent),
    ("sentry_expectstaple.json", Wire::SentryEvent),
    ("rollbar_python_trace_chain.json", Wire::RollbarItem),
    ("rollbar_js_browser.json", Wire::RollbarItem),
    ("rollbar_message.json", Wire::RollbarItem),
    ("rollbar_python_sdk_trace_chain.json", Wire::RollbarItem),
    ("rollbar_python_sdk_message.json", Wire::RollbarItem),
    ("rollbar_crash_report.json", Wire::RollbarItem),
    ("rollbar_every_field.json", Wire::RollbarItem),
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
    let mut event = event.unwrap_or_else(|e| panic!("{name}: {e}"));
    // What ingest does for the SDK protocols: mend and note, never refuse.
    event.sanitize();
    // The stored form reads back whole: nothing dropped hides under a field of the model.
    let stored = serde_json::to_value(&event).unwrap();
    let back: Event =
        serde_json::from_value(stored).unwrap_or_else(|e| panic!("{name}: no read back: {e}"));
    assert_eq!(
        back, event,
        "{name}: the stored event reads back differently"
    );
    event
}

fn title(ev: &Event) -> String {
    grouping::group(ev, &Rules::default()).title
}

fn notes(ev: &Event) -> Vec<(&str, &str)> {
    ev.processing_notes
        .iter()
        .map(|n| (n.path.as_str(), n.reason.as_str()))
        .collect()
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

// Recorded from the real SDKs.

#[test]
fn the_python_sdk_event_carries_request_user_breadcrumbs_and_contexts() {
    let ev = map_fixture("sentry_python_sdk_wsgi.envelope", Wire::SentryEnvelope);
    assert_eq!(types(&ev), ["ValueError", "KeyError"]);
    assert_eq!(
        ev.exceptions[1].frames.last().unwrap().function.as_deref(),
        Some("parse_qty")
    );
    let user = ev.person.as_ref().unwrap();
    assert_eq!(user.geo.as_ref().unwrap()["city"], "Berlin");
    assert_eq!(user.data.as_ref().unwrap()["segment"], "vip");
    let req = ev.request.as_ref().unwrap();
    assert_eq!(req.query.as_ref().unwrap(), "coupon=SPRING&debug=1");
    assert_eq!(req.user_ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(req.cookies.as_ref().unwrap(), "[Filtered]");
    assert!(req.env.as_ref().unwrap().get("SERVER_PORT").is_some());
    let crumbs: Vec<_> = ev
        .breadcrumbs
        .iter()
        .map(|b| b.category.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(crumbs, ["cart", "httplib", "shop.cart"]);
    assert_eq!(ev.breadcrumbs[1].data["status_code"], 404);
    for kind in ["cart", "trace", "runtime", "browser"] {
        assert!(ev.contexts.contains_key(kind), "{kind}");
    }
    assert_eq!(ev.tags["transaction"], "generic WSGI request");
    assert_eq!(ev.tags["dist"], "42");
    assert_eq!(ev.custom.as_ref().unwrap()["attempt"], 3);
    assert!(ev.modules.contains_key("sentry-sdk"));
    assert!(ev.trace.is_some());
    assert!(ev.processing_notes.is_empty(), "{:?}", notes(&ev));
}

#[test]
fn a_python_message_with_attach_stacktrace_has_a_current_thread() {
    let ev = map_fixture(
        "sentry_python_sdk_thread_message.envelope",
        Wire::SentryEnvelope,
    );
    assert!(ev.exceptions.is_empty());
    assert_eq!(ev.message.as_deref(), Some("reindex queue is backing up"));
    assert_eq!(ev.threads.len(), 1);
    assert_eq!(ev.threads[0].current, Some(true));
    assert_eq!(
        ev.threads[0].frames.last().unwrap().function.as_deref(),
        Some("worker")
    );
    assert_eq!(title(&ev), "reindex queue is backing up");
}

#[test]
fn a_python_logging_error_keeps_its_template_and_logger() {
    let ev = map_fixture("sentry_python_sdk_logging.envelope", Wire::SentryEnvelope);
    assert_eq!(
        ev.message.as_deref(),
        Some("Invoice INV-7 was not sent to ada@example.com")
    );
    assert_eq!(
        ev.message_template.as_deref(),
        Some("Invoice %s was not sent to %s")
    );
    assert_eq!(ev.tags["logger"], "shop.mail");
    assert_eq!(title(&ev), "Invoice %s was not sent to %s");
}

#[test]
fn the_pyrollbar_items_keep_the_language_as_sent() {
    let ev = map_fixture("rollbar_python_sdk_trace_chain.json", Wire::RollbarItem);
    assert_eq!(types(&ev), ["RuntimeError", "ZeroDivisionError"]);
    assert_eq!(ev.platform.as_deref(), Some("python 3.11.7"));
    assert_eq!(ev.language.as_deref(), Some("python"));
    assert_eq!(ev.contexts["runtime"]["version"], "3.11.7");
    assert_eq!(
        ev.fingerprint.as_deref(),
        Some(&["charge-failed".to_owned()][..])
    );
    assert_eq!(ev.tags["context"], "billing#charge");
    assert_eq!(
        ev.custom,
        Some(serde_json::json!({"invoice": "INV-7", "tenant": "eu-1"}))
    );
    let msg = map_fixture("rollbar_python_sdk_message.json", Wire::RollbarItem);
    assert_eq!(
        msg.message.as_deref(),
        Some("Nightly invoice export finished with 3 failures")
    );
    assert_eq!(msg.custom.as_ref().unwrap()["failed"][2], "INV-12");
}

// Raven-era interface names.

/// The fixture with every `sentry.interfaces.*` key renamed to its modern key.
fn modernized(name: &str) -> Event {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let Value::Object(legacy) = serde_json::from_slice(&bytes).unwrap() else {
        panic!("{name}: not an object")
    };
    let modern = legacy
        .into_iter()
        .map(|(key, value)| {
            let key = match key.as_str() {
                "sentry.interfaces.Exception" => "exception",
                "sentry.interfaces.Stacktrace" => "stacktrace",
                "sentry.interfaces.Message" => "logentry",
                "sentry.interfaces.Http" => "request",
                "sentry.interfaces.User" => "user",
                "sentry.interfaces.Template" => "template",
                "sentry.interfaces.Query" => "query",
                "sentry.interfaces.Breadcrumbs" => "breadcrumbs",
                "sentry.interfaces.Contexts" => "contexts",
                "sentry.interfaces.Hpkp" => "hpkp",
                "sentry.interfaces.ExpectStaple" => "expectstaple",
                other => other,
            };
            (key.to_owned(), value)
        })
        .collect();
    let mut ev = sentry::event_from_sentry_value(Value::Object(modern)).unwrap();
    ev.sanitize();
    ev
}

#[test]
fn legacy_interface_names_map_onto_the_same_fields_as_the_modern_keys() {
    for name in [
        "sentry_raven_python_legacy.json",
        "sentry_raven_django_template.json",
        "sentry_raven_query_stacktrace.json",
        "sentry_hpkp.json",
        "sentry_expectstaple.json",
    ] {
        let legacy = map_fixture(name, Wire::SentryEvent);
        assert_eq!(legacy, modernized(name), "{name}");
        assert!(
            legacy.processing_notes.is_empty(),
            "{name}: {:?}",
            notes(&legacy)
        );
    }
}

#[test]
fn a_raven_python_event_maps_its_single_exception_http_and_user() {
    let ev = map_fixture("sentry_raven_python_legacy.json", Wire::SentryEvent);
    assert_eq!(types(&ev), ["ZeroDivisionError"]);
    assert_eq!(ev.exceptions[0].frames.len(), 2);
    assert_eq!(
        ev.level,
        Some(bugle_server::event::Level::Error),
        "level 40"
    );
    let req = ev.request.as_ref().unwrap();
    assert_eq!(req.query.as_ref().unwrap(), "step=2");
    assert_eq!(
        req.cookies.as_ref().unwrap(),
        "sessionid=abc123; csrftoken=def456"
    );
    assert_eq!(req.user_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(ev.person.as_ref().unwrap().id.as_deref(), Some("42"));
    assert_eq!(ev.tags["site"], "eu");
    assert_eq!(ev.extra["culprit"], "shop.views.checkout");
    assert_eq!(
        title(&ev),
        "ZeroDivisionError: integer division or modulo by zero"
    );
}

#[test]
fn a_django_template_error_gets_the_template_as_its_frame() {
    let ev = map_fixture("sentry_raven_django_template.json", Wire::SentryEvent);
    let frame = &ev.exceptions[0].frames[0];
    assert_eq!(frame.filename.as_deref(), Some("shop/cart.html"));
    assert_eq!(frame.context_line.as_deref(), Some("  {% endfor %}"));
    assert_eq!(ev.contexts["template"]["lineno"], 14);
}

#[test]
fn a_top_level_stacktrace_without_exception_is_the_current_threads() {
    let ev = map_fixture("sentry_raven_query_stacktrace.json", Wire::SentryEvent);
    assert_eq!(ev.threads.len(), 1);
    assert_eq!(ev.threads[0].current, Some(true));
    assert_eq!(ev.threads[0].frames.len(), 3);
    assert_eq!(ev.message.as_deref(), Some("Slow query took 2311ms"));
    assert_eq!(ev.contexts["query"]["engine"], "psycopg2");
    assert_eq!(title(&ev), "Slow query took %sms");
}

// Written from the protocol docs and Sentry's sample events.

#[test]
fn a_minimal_event_is_stored_as_an_unlabeled_event() {
    let ev = map_fixture("sentry_minimal.json", Wire::SentryEvent);
    assert!(ev.exceptions.is_empty() && ev.message.is_none());
    assert!(ev.processing_notes.is_empty() && ev.extra.is_empty());
    assert_eq!(title(&ev), grouping::UNLABELED);
}

#[test]
fn a_jvm_event_with_threads_only_keeps_every_thread() {
    let ev = map_fixture("sentry_java_threads.json", Wire::SentryEvent);
    let names: Vec<_> = ev.threads.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["main", "order-worker-1", "order-worker-2"]);
    let current = ev.threads.iter().find(|t| t.current == Some(true)).unwrap();
    assert_eq!(
        (current.id.as_deref(), current.state.as_deref()),
        (Some("23"), Some("RUNNABLE"))
    );
    assert_eq!(ev.threads[0].main, Some(true));
    assert_eq!(
        ev.message_template.as_deref(),
        Some("Order queue stalled for %ds")
    );
}

#[test]
fn a_native_ios_crash_keeps_threads_images_and_addresses() {
    let ev = map_fixture("sentry_native_ios_crash.json", Wire::SentryEvent);
    assert_eq!(ev.threads.len(), 30);
    assert_eq!(ev.debug_images.len(), 100);
    assert_eq!(ev.debug_images[0]["type"], "macho");
    let crashed = ev.threads.iter().find(|t| t.crashed == Some(true)).unwrap();
    let exc = &ev.exceptions[0];
    assert_eq!(exc.frames, crashed.frames, "the crashed thread's stack");
    let last = exc.frames.last().unwrap();
    assert_eq!(last.instruction_addr.as_deref(), Some("0x100008b94"));
    assert!(last.function.is_none() && last.package.is_none());
    assert!(exc.frames.iter().all(|f| f.instruction_addr.is_some()));
    assert!(exc
        .frames
        .iter()
        .any(|f| f.symbol.is_some() && f.function.is_none()));
    let mechanism = exc.mechanism.as_ref().unwrap();
    assert_eq!(mechanism.other["meta"]["signal"]["name"], "SIGSEGV");
    for kind in ["device", "os", "app", "culture", "gpu"] {
        assert!(ev.contexts.contains_key(kind), "{kind}");
    }
    assert_eq!(ev.tags["dist"], "112");
    assert_eq!(ev.extra["debug_meta.sdk_info"]["sdk_name"], "iOS");
    assert!(ev.processing_notes.is_empty(), "{:?}", notes(&ev));
    assert_eq!(
        title(&ev),
        "EXC_BAD_ACCESS: Attempted to dereference null pointer."
    );
}

#[test]
fn a_browser_event_carries_its_contexts_and_breadcrumbs() {
    let ev = map_fixture("sentry_browser_js.json", Wire::SentryEvent);
    assert_eq!(ev.context_name("browser").as_deref(), Some("Safari 17.4.1"));
    for kind in ["os", "device", "culture", "trace"] {
        assert!(ev.contexts.contains_key(kind), "{kind}");
    }
    let crumbs: Vec<_> = ev
        .breadcrumbs
        .iter()
        .map(|b| b.category.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(crumbs, ["navigation", "fetch", "ui.click", "console"]);
    assert_eq!(ev.breadcrumbs[0].data["to"], "/checkout");
    assert_eq!(
        ev.exceptions[0].mechanism.as_ref().unwrap().handled,
        Some(false)
    );
}

#[test]
fn wrong_typed_fields_are_dropped_noted_and_kept() {
    let ev = map_fixture("sentry_wrong_types.json", Wire::SentryEvent);
    // What still maps.
    assert_eq!(ev.message.as_deref(), Some("Checkout failed"));
    assert_eq!(types(&ev), ["ValueError"]);
    assert_eq!(ev.person.as_ref().unwrap().username.as_deref(), Some("ada"));
    assert_eq!(ev.contexts["os"]["name"], "Linux");
    let paths: Vec<_> = notes(&ev).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        [
            "event_id",
            "timestamp",
            "level",
            "release",
            "tags.\"\"",
            "user.id",
            "user.geo",
            "user.data",
            "request.query_string[1]",
            "request.query_string[2]",
            "request.headers",
            "request.env",
            "breadcrumbs.values[1].data",
            "breadcrumbs.values[2].timestamp",
            "contexts.device",
            "contexts.gpu",
            "fingerprint[1]",
            "extra",
            "modules.broken",
            "debug_meta.images",
            "threads",
            "exception.values[0].mechanism",
            "exception.values[0].stacktrace.frames[0].lineno",
            "exception.values[0].stacktrace.frames[0].in_app",
            "template.context_line",
            "logentry",
            "title",
        ]
    );
    assert!(notes(&ev).contains(&("user.geo", "dropped: expected an object, got a number")));
    // Every dropped value is kept raw under its path (a skipped null has nothing to keep).
    let dropped = ev.extra["dropped"].as_object().unwrap();
    for path in paths.iter().filter(|p| **p != "request.query_string[1]") {
        assert!(dropped.contains_key(*path), "{path} kept");
    }
}

#[test]
fn null_exception_values_are_skipped_with_notes() {
    let ev = map_fixture("sentry_exception_nulls.json", Wire::SentryEvent);
    assert_eq!(types(&ev), ["TypeError"]);
    assert_eq!(
        notes(&ev),
        [
            ("exception.values[0]", "skipped: null"),
            ("exception.values[2]", "skipped: null")
        ]
    );
}

#[test]
fn each_security_report_inside_an_event_is_a_context_and_a_title() {
    for (name, kind, message) in [
        (
            "sentry_csp.json",
            "csp",
            "Blocked 'script' from 'evil.example'",
        ),
        (
            "sentry_hpkp.json",
            "hpkp",
            "Public key pinning validation failed for 'shop.example'",
        ),
        (
            "sentry_expectct.json",
            "expectct",
            "Expect-CT failed for 'shop.example'",
        ),
        (
            "sentry_expectstaple.json",
            "expectstaple",
            "Expect-Staple failed for 'shop.example'",
        ),
    ] {
        let ev = map_fixture(name, Wire::SentryEvent);
        assert!(ev.contexts[kind].is_object(), "{name}");
        assert_eq!(ev.message.as_deref(), Some(message), "{name}");
        assert_eq!(title(&ev), message, "{name}");
    }
    let csp = map_fixture("sentry_csp.json", Wire::SentryEvent);
    assert_eq!(csp.tags["effective-directive"], "script-src");
}

#[test]
fn a_rollbar_crash_report_is_titled_by_its_exception_type() {
    let ev = map_fixture("rollbar_crash_report.json", Wire::RollbarItem);
    assert_eq!(ev.message.as_deref(), Some("EXC_BAD_ACCESS (SIGSEGV)"));
    assert!(ev.contexts["crash_report"]["raw"]
        .as_str()
        .unwrap()
        .contains("Thread 0 Crashed:"));
    assert_eq!(ev.platform.as_deref(), Some("ios"));
    assert_eq!(title(&ev), "EXC_BAD_ACCESS (SIGSEGV)");
}

#[test]
fn a_rollbar_item_with_every_documented_field_maps_each() {
    let ev = map_fixture("rollbar_every_field.json", Wire::RollbarItem);
    assert_eq!(ev.title.as_deref(), Some("ZeroDivisionError in Cart#total"));
    assert_eq!(
        ev.release.as_deref(),
        Some("3da541559918a808c2402bba5012f6c60b27661c")
    );
    assert_eq!(ev.tags["sha"], "b6437f45b7bbbb15f5eddc2eace4c71a8625da8c");
    assert_eq!(ev.tags["context"], "cart#show");
    assert_eq!(ev.server.as_ref().unwrap().branch.as_deref(), Some("main"));
    assert_eq!(ev.context_name("browser").as_deref(), Some("Safari 17.4.1"));
    assert_eq!(
        ev.contexts["client"]["javascript"]["source_map_enabled"],
        true
    );
    assert_eq!(
        (ev.platform.as_deref(), ev.language.as_deref()),
        (Some("linux"), Some("ruby"))
    );
    let req = ev.request.as_ref().unwrap();
    assert_eq!(req.data.as_ref().unwrap()["qty"], "2");
    assert_eq!(req.query.as_ref().unwrap()["coupon"], "SPRING");
    assert_eq!(req.cookies.as_ref().unwrap(), "_shop_session=abc");
    assert_eq!(ev.extra["request.body"], "qty=2");
    let frames = &ev.exceptions[0].frames;
    assert_eq!(frames[0].vars.as_ref().unwrap()["@cart"], "#<Cart id: 17>");
    assert_eq!(
        frames[1].vars.as_ref().unwrap()["kwargs"]["currency"],
        "EUR"
    );
    assert_eq!(ev.breadcrumbs.len(), 1);
    assert_eq!(
        ev.sdk.as_ref().unwrap().name.as_deref(),
        Some("rollbar-gem")
    );
    assert!(ev.processing_notes.is_empty(), "{:?}", notes(&ev));
}
