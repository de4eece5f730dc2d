//! The mapper as a whole: payload shapes, defaults, scalars, envelopes. Each interface's own
//! cases sit beside its code.

use serde_json::{json, Value};

use super::*;
use crate::protocol::envelope::parse_envelope;

pub(super) fn map(v: Value) -> Event {
    event_from_sentry(v.to_string().as_bytes()).unwrap()
}

/// The notes as `(path, reason)` pairs.
pub(super) fn notes(ev: &Event) -> Vec<(&str, &str)> {
    ev.processing_notes
        .iter()
        .map(|n| (n.path.as_str(), n.reason.as_str()))
        .collect()
}

#[test]
fn invalid_json_and_non_objects_are_400s() {
    let err = event_from_sentry(b"{\"event_id\":").unwrap_err();
    assert!(matches!(err, MapError::InvalidJson(_)), "{err}");
    assert_eq!(err.status(), 400);
    let err = event_from_sentry(b"[1,2]").unwrap_err();
    assert_eq!(err.to_string(), "event must be a JSON object, got an array");
    assert_eq!(err.status(), 400);
    assert!(payload_from_store(b"\"text\"").is_err());
}

#[test]
fn an_empty_object_gets_the_defaults() {
    let ev = map(json!({}));
    assert_eq!(ev.platform.as_deref(), Some("other"));
    assert_eq!(ev.environment.as_deref(), Some("production"));
    assert_eq!(ev.language, None);
    assert!(ev.processing_notes.is_empty() && ev.extra.is_empty());
}

#[test]
fn a_minimal_event_maps_without_notes() {
    let ev = map(json!({"event_id": "fc6d8c0c43fc4630ad850ee518f1b9d0",
        "timestamp": "2024-05-03T10:15:42Z", "platform": "native", "level": "error"}));
    assert_eq!(ev.level, Some(Level::Error));
    assert_eq!(ev.platform.as_deref(), Some("native"));
    assert!(ev.exceptions.is_empty() && ev.message.is_none());
    assert!(ev.processing_notes.is_empty() && ev.extra.is_empty());
}

#[test]
fn event_ids_with_and_without_dashes_are_read() {
    for id in [
        "fc6d8c0c43fc4630ad850ee518f1b9d0",
        "fc6d8c0c-43fc-4630-ad85-0ee518f1b9d0",
    ] {
        let ev = map(json!({"event_id": id}));
        assert_eq!(
            ev.uuid.unwrap().simple().to_string(),
            "fc6d8c0c43fc4630ad850ee518f1b9d0"
        );
    }
}

#[test]
fn bad_scalars_are_dropped_noted_and_kept_raw() {
    let ev = map(json!({
        "event_id": "not-a-uuid", "level": "loud", "timestamp": "yesterday",
        "release": {"v": 1}, "environment": ["prod"], "platform": 3, "server_name": false
    }));
    assert_eq!((ev.uuid, ev.level, ev.timestamp), (None, None, None));
    assert_eq!(ev.release, None);
    assert_eq!(ev.environment.as_deref(), Some("production"));
    assert_eq!(ev.platform.as_deref(), Some("3"), "numbers are printed");
    assert_eq!(ev.server.as_ref().unwrap().host.as_deref(), Some("false"));
    assert_eq!(
        notes(&ev),
        [
            ("event_id", "dropped: expected a UUID, got \"not-a-uuid\""),
            (
                "timestamp",
                "dropped: expected an RFC 3339 time or unix seconds, got \"yesterday\""
            ),
            (
                "level",
                "dropped: expected a level (fatal, error, warning, info or debug), got \"loud\""
            ),
            ("release", "dropped: expected a string, got an object"),
            ("environment", "dropped: expected a string, got an array"),
        ]
    );
    assert_eq!(
        ev.extra["dropped"],
        json!({"event_id": "not-a-uuid", "level": "loud", "timestamp": "yesterday",
               "release": {"v": 1}, "environment": ["prod"]})
    );
    // The stored event reads back: no dropped value hides under a field of the model.
    let back: Event = serde_json::from_slice(&serde_json::to_vec(&ev).unwrap()).unwrap();
    assert_eq!(back.extra["dropped"]["level"], "loud");
}

#[test]
fn unknown_attributes_are_kept_and_those_named_like_model_fields_are_moved_aside() {
    let ev = map(
        json!({"culprit": "app.views.checkout", "_meta": {"request": {}}, "type": "error",
        "title": "not Sentry's", "person": {"id": 1}}),
    );
    assert_eq!(ev.extra["culprit"], "app.views.checkout");
    assert_eq!(ev.extra["type"], "error");
    assert!(ev.extra.contains_key("_meta"));
    assert_eq!(ev.title, None);
    assert_eq!(ev.extra["dropped"]["title"], "not Sentry's");
    assert_eq!(ev.extra["dropped"]["person"], json!({"id": 1}));
    let back: Event = serde_json::from_slice(&serde_json::to_vec(&ev).unwrap()).unwrap();
    assert_eq!(back, ev);
}

#[test]
fn a_modern_key_wins_over_its_alias() {
    let ev = map(json!({"user": {"id": "modern"}, "sentry.interfaces.User": {"id": "legacy"}}));
    assert_eq!(ev.person.as_ref().unwrap().id.as_deref(), Some("modern"));
    assert_eq!(
        notes(&ev),
        [("sentry.interfaces.User", "ignored: `user` is also present")]
    );
    assert_eq!(
        ev.extra["dropped"]["sentry.interfaces.User"]["id"],
        "legacy"
    );
}

#[test]
fn timestamps_are_rfc3339_or_unix_seconds() {
    let cases = [
        (
            json!("2024-05-03T10:15:42.123456Z"),
            "2024-05-03T10:15:42.123456+00:00",
        ),
        (
            json!("2024-05-03T12:15:42+02:00"),
            "2024-05-03T10:15:42+00:00",
        ),
        (
            json!("2024-05-03T10:15:42.5"),
            "2024-05-03T10:15:42.500+00:00",
        ),
        (json!(1714731342.25), "2024-05-03T10:15:42.250+00:00"),
        (json!(1714731342), "2024-05-03T10:15:42+00:00"),
        (json!("1714731342.25"), "2024-05-03T10:15:42.250+00:00"),
    ];
    for (wire, expected) in cases {
        let ev = map(json!({ "timestamp": wire }));
        assert_eq!(
            ev.timestamp.map(|t| t.to_rfc3339()).as_deref(),
            Some(expected),
            "{wire}"
        );
    }
}

#[test]
fn levels_use_bugle_names_and_raven_numbers_are_read() {
    for (wire, level) in [
        (json!("fatal"), Level::Critical),
        (json!("error"), Level::Error),
        (json!("warning"), Level::Warning),
        (json!("info"), Level::Info),
        (json!("debug"), Level::Debug),
        (json!(40), Level::Error),
        (json!(30), Level::Warning),
    ] {
        assert_eq!(map(json!({ "level": wire })).level, Some(level), "{wire}");
    }
}

#[test]
fn the_language_comes_from_the_platform_or_else_the_sdk() {
    let cases = [
        (json!({"platform": "python"}), Some("python")),
        (json!({"platform": "node"}), Some("javascript")),
        (json!({"platform": "javascript"}), Some("javascript")),
        (json!({"platform": "csharp"}), Some("csharp")),
        (
            json!({"sdk": {"name": "sentry.rust", "version": "0.34.0"}}),
            Some("rust"),
        ),
        (
            json!({"platform": "other", "sdk": {"name": "sentry.dotnet"}}),
            Some("csharp"),
        ),
        (json!({"platform": "native"}), None),
    ];
    for (wire, lang) in cases {
        assert_eq!(map(wire.clone()).language.as_deref(), lang, "{wire}");
    }
}

#[test]
fn transactions_are_told_apart() {
    let tx =
        json!({"type": "transaction", "transaction": "/cart", "spans": [], "start_timestamp": 1.0});
    assert!(is_transaction(&tx));
    assert!(!is_transaction(&json!({"type": "error"})));
    assert!(!is_transaction(&json!({"message": "x"})));
    assert!(matches!(
        payload_from_store(tx.to_string().as_bytes()).unwrap(),
        SentryPayload::Transaction
    ));
    match payload_from_store(b"{\"message\":\"hi\"}").unwrap() {
        SentryPayload::Event(ev) => assert_eq!(ev.message.as_deref(), Some("hi")),
        SentryPayload::Transaction => panic!("an event"),
    }
    let body = format!("{{}}\n{{\"type\":\"event\"}}\n{tx}\n");
    let env = parse_envelope(body.as_bytes()).unwrap();
    assert!(event_from_envelope(&env).unwrap().is_none());
}

#[test]
fn the_envelope_event_id_wins_over_the_payload() {
    let body = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"sdk\":{\"name\":\"sentry.rust\",\"version\":\"0.34.0\"}}\n\
{\"type\":\"event\"}\n{\"event_id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\",\"message\":\"hi\"}\n";
    let env = parse_envelope(body).unwrap();
    let ev = event_from_envelope(&env).unwrap().unwrap();
    assert_eq!(
        ev.uuid.unwrap().simple().to_string(),
        "9ec79c33ec9942ab8353589fcb2e04dc"
    );
    assert_eq!(ev.sdk.unwrap().name.as_deref(), Some("sentry.rust"));
    assert_eq!(ev.language.as_deref(), Some("rust"));
    let sessions = parse_envelope(b"{}\n{\"type\":\"session\"}\n{}\n").unwrap();
    assert!(event_from_envelope(&sessions).unwrap().is_none());
}
