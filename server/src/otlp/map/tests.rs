use serde_json::json;

use super::*;
use crate::otlp::proto::{decode_logs, decode_traces, Encoding};

const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const SPAN: &str = "eee19b7ec3c1b174";

const PY_TRACE: &str = "Traceback (most recent call last):\n  File \"/app/shop/pay.py\", line 12, in charge\n    raise ValueError(\"card 4242 declined\")\nValueError: card 4242 declined\n";

fn resource() -> serde_json::Value {
    json!({"attributes": [
        {"key": "service.name", "value": {"stringValue": "payments"}},
        {"key": "service.version", "value": {"stringValue": "1.4.2"}},
        {"key": "deployment.environment.name", "value": {"stringValue": "production"}},
        {"key": "host.name", "value": {"stringValue": "pay-1"}},
        {"key": "process.pid", "value": {"intValue": "4242"}},
        {"key": "process.runtime.name", "value": {"stringValue": "cpython"}},
        {"key": "process.runtime.version", "value": {"stringValue": "3.11.7"}},
        {"key": "telemetry.sdk.name", "value": {"stringValue": "opentelemetry"}},
        {"key": "telemetry.sdk.language", "value": {"stringValue": "python"}},
        {"key": "telemetry.sdk.version", "value": {"stringValue": "1.30.0"}},
        {"key": "k8s.pod.name", "value": {"stringValue": "pay-1-abc"}}
    ]})
}

fn traces(span: serde_json::Value) -> ExportTraceServiceRequest {
    let body = json!({"resourceSpans": [{"resource": resource(), "scopeSpans": [
        {"scope": {"name": "shop.pay", "version": "0.1"}, "spans": [span]}
    ]}]});
    decode_traces(body.to_string().as_bytes(), Encoding::Json).unwrap()
}

fn logs(record: serde_json::Value) -> ExportLogsServiceRequest {
    let body = json!({"resourceLogs": [{"resource": resource(), "scopeLogs": [
        {"scope": {"name": "shop.checkout"}, "logRecords": [record]}
    ]}]});
    decode_logs(body.to_string().as_bytes(), Encoding::Json).unwrap()
}

fn exception_span(attrs: serde_json::Value) -> serde_json::Value {
    json!({
        "traceId": TRACE, "spanId": SPAN, "parentSpanId": "0102030405060708",
        "name": "POST /charge", "kind": 2,
        "startTimeUnixNano": "1764633600000000000", "endTimeUnixNano": "1764633600500000000",
        "attributes": [{"key": "http.route", "value": {"stringValue": "/charge"}},
                       {"key": "user.tier", "value": {"stringValue": "gold"}}],
        "events": [
            {"name": "log", "timeUnixNano": "1764633600100000000"},
            {"name": "exception", "timeUnixNano": "1764633600200000000", "attributes": attrs}
        ],
        "status": {"code": 2}
    })
}

#[test]
fn a_span_exception_event_becomes_an_event_with_frames_service_release_and_trace() {
    let req = traces(exception_span(json!([
        {"key": "exception.type", "value": {"stringValue": "ValueError"}},
        {"key": "exception.message", "value": {"stringValue": "card 4242 declined"}},
        {"key": "exception.stacktrace", "value": {"stringValue": PY_TRACE}},
        {"key": "exception.escaped", "value": {"stringValue": "False"}}
    ])));
    let mapped = events_from_traces(&req);
    assert_eq!(mapped.rejected, 0);
    let [ev] = &mapped.events[..] else {
        panic!("one event: {mapped:?}")
    };
    assert_eq!(ev.exceptions.len(), 1);
    let exc = &ev.exceptions[0];
    assert_eq!(exc.ty, "ValueError");
    assert_eq!(exc.value.as_deref(), Some("card 4242 declined"));
    assert_eq!(
        exc.frames.last().unwrap().function.as_deref(),
        Some("charge")
    );
    assert_eq!(exc.frames.last().unwrap().lineno, Some(12));
    assert_eq!(exc.mechanism.as_ref().unwrap().handled, Some(true));
    assert_eq!(ev.tags["service"], "payments");
    assert_eq!(ev.tags["transaction"], "POST /charge");
    assert_eq!(ev.tags["span.kind"], "server");
    assert_eq!(ev.tags["http.route"], "/charge");
    assert_eq!(ev.release.as_deref(), Some("1.4.2"));
    assert_eq!(ev.environment.as_deref(), Some("production"));
    assert_eq!(ev.language.as_deref(), Some("python"));
    assert_eq!(ev.host(), Some("pay-1"));
    assert_eq!(ev.server.as_ref().unwrap().pid, Some(4242));
    assert_eq!(ev.contexts["runtime"]["name"], "cpython");
    assert_eq!(ev.contexts["runtime"]["version"], "3.11.7");
    let sdk = ev.sdk.as_ref().unwrap();
    assert_eq!(sdk.name.as_deref(), Some("opentelemetry.python"));
    assert_eq!(sdk.version.as_deref(), Some("1.30.0"));
    let trace = ev.trace.as_ref().unwrap();
    assert_eq!(trace.trace_id.as_deref(), Some(TRACE));
    assert_eq!(trace.span_id.as_deref(), Some(SPAN));
    assert_eq!(ev.contexts["trace"]["parent_span_id"], "0102030405060708");
    assert_eq!(ev.contexts["trace"]["op"], "server");
    assert_eq!(ev.contexts["trace"]["status"], "error");
    assert_eq!(
        ev.timestamp.unwrap().timestamp_nanos_opt(),
        Some(1_764_633_600_200_000_000)
    );
    let otel = &ev.extra["otel"];
    assert_eq!(otel["resource"]["k8s.pod.name"], "pay-1-abc");
    assert_eq!(otel["span"]["user.tier"], "gold");
    assert_eq!(otel["scope"]["name"], "shop.pay");
    assert!(
        otel["span"].get("http.route").is_none(),
        "tags are not kept twice"
    );
}

#[test]
fn the_same_exception_sent_twice_has_the_same_id() {
    let attrs = json!([{"key": "exception.type", "value": {"stringValue": "E"}}]);
    let a = events_from_traces(&traces(exception_span(attrs.clone())));
    let b = events_from_traces(&traces(exception_span(attrs)));
    assert_eq!(a.events[0].uuid, b.events[0].uuid);
    assert!(a.events[0].uuid.is_some());
}

#[test]
fn an_unknown_stack_trace_format_is_kept_as_text() {
    let req = traces(exception_span(json!([
        {"key": "exception.type", "value": {"stringValue": "Boom"}},
        {"key": "exception.message", "value": {"stringValue": "it broke"}},
        {"key": "exception.stacktrace", "value": {"stringValue": "somewhere deep\nin a place"}}
    ])));
    let ev = &events_from_traces(&req).events[0];
    assert_eq!(ev.exceptions[0].ty, "Boom");
    assert!(ev.exceptions[0].frames.is_empty());
    assert_eq!(ev.extra["stacktrace"], "somewhere deep\nin a place");
}

#[test]
fn spans_without_exception_events_and_empty_exception_events_give_nothing() {
    let mut span = exception_span(json!([]));
    assert!(events_from_traces(&traces(span.clone())).events.is_empty());
    span["events"] = json!([]);
    assert!(events_from_traces(&traces(span)).events.is_empty());
}

#[test]
fn a_log_record_with_exception_attributes_is_an_exception_with_its_message() {
    let req = logs(json!({
        "timeUnixNano": "1764633600300000000", "severityNumber": 17, "severityText": "ERROR",
        "body": {"stringValue": "checkout failed for order 17"},
        "traceId": TRACE, "spanId": SPAN,
        "attributes": [
            {"key": "exception.type", "value": {"stringValue": "ValueError"}},
            {"key": "exception.message", "value": {"stringValue": "card 4242 declined"}},
            {"key": "exception.stacktrace", "value": {"stringValue": PY_TRACE}},
            {"key": "code.function", "value": {"stringValue": "checkout"}}
        ]
    }));
    let ev = &events_from_logs(&req).events[0];
    assert_eq!(ev.message.as_deref(), Some("checkout failed for order 17"));
    assert_eq!(ev.exceptions[0].ty, "ValueError");
    assert!(!ev.exceptions[0].frames.is_empty());
    assert_eq!(ev.level, Some(Level::Error));
    assert_eq!(ev.tags["logger"], "shop.checkout");
    assert_eq!(ev.tags["service"], "payments");
    assert_eq!(ev.trace.as_ref().unwrap().trace_id.as_deref(), Some(TRACE));
    assert_eq!(ev.extra["otel"]["record"]["code.function"], "checkout");
}

#[test]
fn only_error_logs_become_events() {
    let record = |n: i32, body: &str| json!({"severityNumber": n, "body": {"stringValue": body}, "timeUnixNano": "1"});
    assert!(events_from_logs(&logs(record(9, "hello")))
        .events
        .is_empty());
    assert!(events_from_logs(&logs(record(13, "careful")))
        .events
        .is_empty());
    assert!(events_from_logs(&logs(record(17, ""))).events.is_empty());
    let fatal = events_from_logs(&logs(record(21, "disk gone")));
    assert_eq!(fatal.events[0].message.as_deref(), Some("disk gone"));
    assert_eq!(fatal.events[0].level, Some(Level::Critical));
    let by_text = json!({"severityText": "error", "body": {"stringValue": "x"}});
    assert_eq!(events_from_logs(&logs(by_text)).events.len(), 1);
}

#[test]
fn a_request_keeps_at_most_its_bound_of_events() {
    let events: Vec<_> = (0..MAX_EVENTS_PER_REQUEST + 5)
        .map(|i| {
            json!({"name": "exception", "timeUnixNano": (i + 1).to_string(),
            "attributes": [{"key": "exception.type", "value": {"stringValue": "E"}}]})
        })
        .collect();
    let span = json!({"traceId": TRACE, "spanId": SPAN, "name": "s", "events": events});
    let mapped = events_from_traces(&traces(span));
    assert_eq!(mapped.events.len(), MAX_EVENTS_PER_REQUEST);
    assert_eq!(mapped.rejected, 5);
    assert!(mapped.message.contains("first"));
}

#[test]
fn attributes_are_bounded_in_number_and_size() {
    let many: Vec<_> = (0..200)
        .map(|i| json!({"key": format!("k{i}"), "value": {"stringValue": "x".repeat(5000)}}))
        .collect();
    let mut span =
        exception_span(json!([{"key": "exception.type", "value": {"stringValue": "E"}}]));
    span["attributes"] = json!(many);
    let ev = &events_from_traces(&traces(span)).events[0];
    let kept = ev.extra["otel"]["span"].as_object().unwrap();
    assert_eq!(kept.len(), MAX_ATTRIBUTES);
    assert!(kept
        .values()
        .all(|v| v.as_str().unwrap().len() == MAX_ATTRIBUTE_BYTES));
}

#[test]
fn deprecated_environment_attribute_and_no_resource_still_map() {
    let body = json!({"resourceSpans": [{"resource": {"attributes": [
        {"key": "deployment.environment", "value": {"stringValue": "staging"}}]},
        "scopeSpans": [{"spans": [exception_span(json!([
            {"key": "exception.message", "value": {"stringValue": "no type"}}]))]}]},
        {"scopeSpans": [{"spans": [exception_span(json!([
            {"key": "exception.type", "value": {"stringValue": "E"}}]))]}]}
    ]});
    let req = decode_traces(body.to_string().as_bytes(), Encoding::Json).unwrap();
    let mapped = events_from_traces(&req);
    assert_eq!(mapped.events[0].environment.as_deref(), Some("staging"));
    assert_eq!(mapped.events[0].exceptions[0].ty, "Error");
    assert!(!mapped.events[1].tags.contains_key("service"));
}
