use prost::Message as _;
use serde_json::json;

use super::*;

// ---------------------------------------------------------------------------------------------
// helpers

fn kv(key: &str, value: AnyValueKind) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
    }
}

fn s(text: &str) -> AnyValueKind {
    AnyValueKind::String(text.into())
}

fn json_traces(doc: serde_json::Value) -> Result<ExportTraceServiceRequest, DecodeError> {
    decode_traces(doc.to_string().as_bytes(), Encoding::Json)
}

fn json_logs(doc: serde_json::Value) -> Result<ExportLogsServiceRequest, DecodeError> {
    decode_logs(doc.to_string().as_bytes(), Encoding::Json)
}

/// A traces document with one span whose fields are `span`.
fn one_span(span: serde_json::Value) -> serde_json::Value {
    json!({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]})
}

fn first_span(req: &ExportTraceServiceRequest) -> &Span {
    req.spans().next().expect("a span").span
}

/// `depth` levels of `arrayValue` around a string.
fn nested_array(depth: usize) -> AnyValue {
    let mut v = AnyValue::string("leaf");
    for _ in 0..depth {
        v = AnyValue {
            value: Some(AnyValueKind::Array(ArrayValue { values: vec![v] })),
        };
    }
    v
}

fn nested_array_json(depth: usize) -> String {
    let mut v = r#"{"stringValue":"leaf"}"#.to_string();
    for _ in 0..depth {
        v = format!(r#"{{"arrayValue":{{"values":[{v}]}}}}"#);
    }
    v
}

fn sample_traces() -> ExportTraceServiceRequest {
    let span = Span {
        trace_id: (1..=16).collect(),
        span_id: vec![0xab, 0xcd, 0xef, 1, 2, 3, 4, 5],
        trace_state: "vendor=x".into(),
        parent_span_id: vec![9; 8],
        flags: 0x301,
        name: "GET /".into(),
        kind: SpanKind::Server as i32,
        start_time_unix_nano: 1_700_000_000_123_456_789,
        end_time_unix_nano: u64::MAX,
        attributes: vec![
            kv("s", s("text")),
            kv("b", AnyValueKind::Bool(true)),
            kv("i", AnyValueKind::Int(i64::MIN)),
            kv("d", AnyValueKind::Double(-2.5)),
            kv("bytes", AnyValueKind::Bytes(vec![0, 255, 16])),
            kv(
                "arr",
                AnyValueKind::Array(ArrayValue {
                    values: vec![
                        AnyValue::int(1),
                        AnyValue::string("two"),
                        AnyValue::default(),
                    ],
                }),
            ),
            kv(
                "map",
                AnyValueKind::KvList(KeyValueList {
                    values: vec![kv("inner", AnyValueKind::Array(ArrayValue::default()))],
                }),
            ),
            KeyValue {
                key: "empty".into(),
                value: None,
            },
        ],
        dropped_attributes_count: 3,
        events: vec![SpanEvent {
            time_unix_nano: 1_700_000_000_200_000_000,
            name: "exception".into(),
            attributes: vec![kv("exception.type", s("ValueError"))],
            dropped_attributes_count: 1,
        }],
        dropped_events_count: 2,
        links: vec![SpanLink {
            trace_id: vec![7; 16],
            span_id: vec![8; 8],
            trace_state: String::new(),
            attributes: vec![kv("link", s("yes"))],
            dropped_attributes_count: 0,
            flags: 1,
        }],
        dropped_links_count: 4,
        status: Some(SpanStatus {
            message: "boom".into(),
            code: StatusCode::Error as i32,
        }),
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", s("api"))],
                dropped_attributes_count: 0,
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "lib".into(),
                    version: "1.0".into(),
                    attributes: vec![],
                    dropped_attributes_count: 0,
                }),
                spans: vec![span],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".into(),
            }],
            schema_url: String::new(),
        }],
    }
}

// ---------------------------------------------------------------------------------------------
// content types

#[test]
fn content_types() {
    for (ct, enc) in [
        ("application/x-protobuf", Some(Encoding::Protobuf)),
        ("application/protobuf", Some(Encoding::Protobuf)),
        ("Application/X-Protobuf", Some(Encoding::Protobuf)),
        ("application/json", Some(Encoding::Json)),
        ("application/json; charset=utf-8", Some(Encoding::Json)),
        (" application/json ;charset=UTF-8", Some(Encoding::Json)),
        (
            "application/x-protobuf;proto=opentelemetry",
            Some(Encoding::Protobuf),
        ),
        ("text/plain", None),
        ("application/jsonx", None),
        ("", None),
    ] {
        assert_eq!(Encoding::from_content_type(ct), enc, "{ct:?}");
    }
    for enc in [Encoding::Protobuf, Encoding::Json] {
        assert_eq!(Encoding::from_content_type(enc.content_type()), Some(enc));
    }
}

// ---------------------------------------------------------------------------------------------
// protobuf

#[test]
fn protobuf_traces_round_trip() {
    let req = sample_traces();
    let bytes = req.encode_to_vec();
    let back = decode_traces(&bytes, Encoding::Protobuf).unwrap();
    assert_eq!(back, req);
    let span = first_span(&back);
    assert_eq!(span.kind(), SpanKind::Server);
    assert_eq!(span.status_code(), StatusCode::Error);
    assert_eq!(
        span.trace_id_hex().as_deref(),
        Some("0102030405060708090a0b0c0d0e0f10")
    );
    assert_eq!(span.span_id_hex().as_deref(), Some("abcdef0102030405"));
    assert_eq!(span.attributes.attr_i64("i"), Some(i64::MIN));
}

#[test]
fn protobuf_logs_round_trip() {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: None,
            scope_logs: vec![ScopeLogs {
                scope: None,
                log_records: vec![LogRecord {
                    time_unix_nano: 0,
                    observed_time_unix_nano: 42,
                    severity_number: SeverityNumber::Fatal2 as i32,
                    severity_text: "CRITICAL".into(),
                    body: Some(AnyValue::string("disk on fire")),
                    attributes: vec![kv("exception.type", s("OSError"))],
                    dropped_attributes_count: 0,
                    flags: 1,
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    event_name: "device.app.lifecycle".into(),
                }],
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    };
    let back = decode_logs(&req.encode_to_vec(), Encoding::Protobuf).unwrap();
    assert_eq!(back, req);
    let item = back.log_records().next().unwrap();
    assert!(item.resource_attributes().is_empty());
    assert_eq!(item.record.severity_number(), SeverityNumber::Fatal2);
    assert_eq!(item.record.severity_level(), SeverityLevel::Fatal);
    assert_eq!(item.record.timestamp_unix_nano(), Some(42));
    assert_eq!(back.log_record_count(), 1);
}

#[test]
fn protobuf_unknown_fields_and_enum_values_are_tolerated() {
    let mut bytes = sample_traces().encode_to_vec();
    // An unknown field (number 99, varint) at the top level.
    bytes.extend_from_slice(&[0x98, 0x06, 0x01]);
    let mut req = decode_traces(&bytes, Encoding::Protobuf).unwrap();
    assert_eq!(req.span_count(), 1);

    req.resource_spans[0].scope_spans[0].spans[0].kind = 42;
    let back = decode_traces(&req.encode_to_vec(), Encoding::Protobuf).unwrap();
    let span = first_span(&back);
    assert_eq!(span.kind, 42, "the raw value is kept");
    assert_eq!(span.kind(), SpanKind::Unspecified);
}

#[test]
fn protobuf_truncated_and_garbage() {
    let bytes = sample_traces().encode_to_vec();
    let err = decode_traces(&bytes[..bytes.len() - 5], Encoding::Protobuf).unwrap_err();
    assert!(matches!(err, DecodeError::Protobuf { .. }));
    let text = err.to_string();
    assert!(text.starts_with("invalid protobuf: "), "{text}");
    assert_eq!(err.field(), None);

    let err = decode_logs(b"{\"resourceLogs\":[]}", Encoding::Protobuf).unwrap_err();
    assert!(err.to_string().starts_with("invalid protobuf: "), "{err}");

    // A string field that is not UTF-8 (Span.name = 0xff).
    let span = [0x2a, 0x01, 0xff];
    let scope = [&[0x12, span.len() as u8][..], &span].concat();
    let rs = [&[0x12, scope.len() as u8][..], &scope].concat();
    let req = [&[0x0a, rs.len() as u8][..], &rs].concat();
    let err = decode_traces(&req, Encoding::Protobuf).unwrap_err();
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[test]
fn protobuf_nesting_is_bounded() {
    // 30 levels of arrays inside an attribute: fine.
    let mut req = sample_traces();
    req.resource_spans[0].scope_spans[0].spans[0].attributes = vec![KeyValue {
        key: "deep".into(),
        value: Some(nested_array(30)),
    }];
    let back = decode_traces(&req.encode_to_vec(), Encoding::Protobuf).unwrap();
    assert_eq!(back, req);

    // 1000 levels: prost's recursion limit stops it with an error, not a stack overflow.
    req.resource_spans[0].scope_spans[0].spans[0].attributes[0].value = Some(nested_array(1000));
    let bytes = std::thread::Builder::new()
        .stack_size(64 << 20) // encoding and dropping the hand-made value recurse too
        .spawn(move || req.encode_to_vec())
        .unwrap()
        .join()
        .unwrap();
    let err = decode_traces(&bytes, Encoding::Protobuf).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// JSON

#[test]
fn json_span_fields() {
    let req = json_traces(one_span(json!({
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "",
        "traceState": "a=b",
        "name": "op",
        "kind": 3,
        "flags": 257,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": 1544712661000000000u64,
        "droppedAttributesCount": "2",
        "events": [{"timeUnixNano": "1544712660500000000", "name": "exception",
                    "attributes": [{"key": "exception.type", "value": {"stringValue": "E"}}]}],
        "links": [{"traceId": "00000000000000000000000000000001", "spanId": "0000000000000002",
                   "flags": 1}],
        "status": {"code": 2, "message": "bad"}
    })))
    .unwrap();
    let span = first_span(&req);
    assert_eq!(
        span.trace_id_hex().as_deref(),
        Some("5b8efff798038103d269b633813fc60c")
    );
    assert_eq!(span.span_id_hex().as_deref(), Some("eee19b7ec3c1b174"));
    assert_eq!(span.parent_span_id_hex(), None);
    assert_eq!(span.trace_state, "a=b");
    assert_eq!(span.kind(), SpanKind::Client);
    assert_eq!(span.flags, 257);
    assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
    assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
    assert_eq!(span.dropped_attributes_count, 2);
    assert_eq!(span.exception_events().count(), 1);
    assert_eq!(span.events[0].time_unix_nano, 1_544_712_660_500_000_000);
    assert_eq!(
        span.links[0].trace_id_hex().as_deref(),
        Some("00000000000000000000000000000001")
    );
    assert_eq!(
        span.links[0].span_id_hex().as_deref(),
        Some("0000000000000002")
    );
    assert_eq!(span.status_code(), StatusCode::Error);
    assert_eq!(span.status_message(), "bad");
}

#[test]
fn json_and_protobuf_decode_alike() {
    let req = sample_traces();
    let span = &req.resource_spans[0].scope_spans[0].spans[0];
    let doc = json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
        "scopeSpans": [{
            "scope": {"name": "lib", "version": "1.0"},
            "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
            "spans": [{
                "traceId": hex::encode(&span.trace_id),
                "spanId": hex::encode(&span.span_id).to_uppercase(),
                "traceState": "vendor=x",
                "parentSpanId": "0909090909090909",
                "flags": 0x301,
                "name": "GET /",
                "kind": "SPAN_KIND_SERVER",
                "startTimeUnixNano": 1_700_000_000_123_456_789u64,
                "endTimeUnixNano": u64::MAX.to_string(),
                "attributes": [
                    {"key": "s", "value": {"stringValue": "text"}},
                    {"key": "b", "value": {"boolValue": true}},
                    {"key": "i", "value": {"intValue": i64::MIN.to_string()}},
                    {"key": "d", "value": {"doubleValue": -2.5}},
                    {"key": "bytes", "value": {"bytesValue": "AP8Q"}},
                    {"key": "arr", "value": {"arrayValue": {"values": [
                        {"intValue": 1}, {"stringValue": "two"}, {}]}}},
                    {"key": "map", "value": {"kvlistValue": {"values": [
                        {"key": "inner", "value": {"arrayValue": {}}}]}}},
                    {"key": "empty"}
                ],
                "droppedAttributesCount": 3,
                "events": [{"timeUnixNano": "1700000000200000000", "name": "exception",
                    "attributes": [{"key": "exception.type", "value": {"stringValue": "ValueError"}}],
                    "droppedAttributesCount": 1}],
                "droppedEventsCount": 2,
                "links": [{"traceId": "07070707070707070707070707070707", "spanId": "0808080808080808",
                    "attributes": [{"key": "link", "value": {"stringValue": "yes"}}], "flags": 1}],
                "droppedLinksCount": 4,
                "status": {"message": "boom", "code": "STATUS_CODE_ERROR"}
            }]
        }]
    }]});
    assert_eq!(json_traces(doc).unwrap(), req);
}

#[test]
fn json_int64_as_string_or_number() {
    for (value, expected) in [
        (json!("10"), 10),
        (json!(10), 10),
        (json!("-9223372036854775808"), i64::MIN),
        (json!(9223372036854775807i64), i64::MAX),
        (json!(" 7 "), 7),
        (json!(1e3), 1000),
        (json!("5.0"), 5),
        (json!(null), 0),
    ] {
        let req = json_traces(one_span(json!({
            "attributes": [{"key": "n", "value": {"intValue": value.clone()}}]
        })))
        .unwrap();
        let attrs = &first_span(&req).attributes;
        if value.is_null() {
            assert!(attrs.attr("n").unwrap().is_empty());
        } else {
            assert_eq!(attrs.attr_i64("n"), Some(expected), "{value}");
        }
    }
    for bad in [
        json!("9223372036854775808"),
        json!("ten"),
        json!(1.5),
        json!(true),
    ] {
        let err = json_traces(one_span(json!({
            "attributes": [{"key": "n", "value": {"intValue": bad.clone()}}]
        })))
        .unwrap_err();
        assert_eq!(
            err.field(),
            Some("resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue"),
            "{bad}: {err}"
        );
    }
    // fixed64 times: negative is out of range.
    let err = json_traces(one_span(json!({"startTimeUnixNano": -1}))).unwrap_err();
    assert!(err.to_string().contains("out of range for uint64"), "{err}");
}

#[test]
fn json_enums_as_numbers_or_names() {
    for (kind, expected) in [
        (json!(2), SpanKind::Server),
        (json!("2"), SpanKind::Server),
        (json!("SPAN_KIND_CONSUMER"), SpanKind::Consumer),
        (json!("span_kind_producer"), SpanKind::Producer),
        (json!("SPAN_KIND_NONSENSE"), SpanKind::Unspecified),
        (json!(null), SpanKind::Unspecified),
    ] {
        let req = json_traces(one_span(json!({"kind": kind.clone()}))).unwrap();
        assert_eq!(first_span(&req).kind(), expected, "{kind}");
    }
    let req = json_traces(one_span(json!({"kind": 99}))).unwrap();
    assert_eq!(first_span(&req).kind, 99);

    let logs = json_logs(json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
        {"severityNumber": "SEVERITY_NUMBER_WARN2"},
        {"severityNumber": 21},
        {"severityNumber": 0, "severityText": "Error"},
    ]}]}]}))
    .unwrap();
    let records: Vec<_> = logs.log_records().map(|i| i.record).collect();
    assert_eq!(records[0].severity_number(), SeverityNumber::Warn2);
    assert_eq!(records[0].severity_level(), SeverityLevel::Warn);
    assert_eq!(records[1].severity_level(), SeverityLevel::Fatal);
    assert_eq!(records[2].severity_level(), SeverityLevel::Error);

    let err = json_traces(one_span(json!({"kind": 1e10}))).unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
    let err = json_traces(one_span(json!({"status": {"code": [1]}}))).unwrap_err();
    assert_eq!(
        err.field(),
        Some("resourceSpans[0].scopeSpans[0].spans[0].status.code")
    );
}

#[test]
fn json_unknown_fields_snake_case_and_nulls() {
    let req = json_traces(json!({
        "resource_spans": [{
            "futureField": {"deep": [1, 2, {"x": null}]},
            "resource": {"attributes": [{"key": "k", "value": {"string_value": "v", "newKind": 5}}],
                         "entityRefs": [{"type": "service"}]},
            "scope_spans": [{
                "scope": null,
                "spans": [{
                    "trace_id": "0102030405060708090a0b0c0d0e0f10",
                    "span_id": null,
                    "parent_span_id": "0102030405060708",
                    "start_time_unix_nano": "5",
                    "dropped_events_count": 1,
                    "name": null,
                    "events": null,
                    "attributes": [
                        {"key": "a", "value": {"int_value": "3"}},
                        {"key": "b", "value": null},
                        {"key": "c", "value": {"stringValue": null, "boolValue": false}},
                        {"key": "d", "value": {"kvlist_value": {"values": [
                            {"key": "x", "value": {"bytes_value": "AQI="}}]}}},
                        {"key": "e", "value": {"stringValueStrindex": 3}},
                        {"key": "f", "keyStrindex": 2, "value": {"double_value": "Infinity"}}
                    ],
                    "somethingNew": true
                }]
            }]
        }],
        "extra": "ignored"
    }))
    .unwrap();
    let item = req.spans().next().unwrap();
    assert_eq!(item.resource_attributes().attr_str("k"), Some("v"));
    assert!(item.scope.is_none());
    let span = item.span;
    assert_eq!(span.trace_id.len(), 16);
    assert!(span.span_id.is_empty());
    assert_eq!(
        span.parent_span_id_hex().as_deref(),
        Some("0102030405060708")
    );
    assert_eq!(span.start_time_unix_nano, 5);
    assert_eq!(span.dropped_events_count, 1);
    assert_eq!(span.name, "");
    assert!(span.events.is_empty());
    let attrs = &span.attributes;
    assert_eq!(attrs.attr_i64("a"), Some(3));
    assert!(attrs.attr("b").unwrap().is_empty());
    assert_eq!(attrs.attr_bool("c"), Some(false));
    let d = attrs.attr("d").unwrap().as_kvlist().unwrap();
    assert_eq!(d.attr("x").unwrap().as_bytes(), Some(&[1u8, 2][..]));
    assert!(
        attrs.attr("e").unwrap().is_empty(),
        "profiling-only field ignored"
    );
    assert_eq!(attrs.attr_f64("f"), Some(f64::INFINITY));
}

#[test]
fn json_any_values() {
    let req = json_logs(json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "body": {"kvlistValue": {"values": [
            {"key": "msg", "value": {"stringValue": "hi \"there\""}},
            {"key": "n", "value": {"doubleValue": 1.5}},
            {"key": "nan", "value": {"doubleValue": "NaN"}},
            {"key": "list", "value": {"arrayValue": {"values": [{"boolValue": true}, {}]}}},
            {"key": "raw", "value": {"bytesValue": "_-8"}}
        ]}},
        "attributes": [
            {"key": "b64 padded", "value": {"bytesValue": "aGk="}},
            {"key": "b64 bare", "value": {"bytesValue": "aGk"}}
        ]
    }]}]}]}))
    .unwrap();
    let record = req.log_records().next().unwrap().record;
    assert_eq!(
        record.body_text().unwrap(),
        r#"{"list":[true,null],"msg":"hi \"there\"","n":1.5,"nan":"NaN","raw":"ffef"}"#
    );
    // Two members of the oneof: the last one wins, as in the binary encoding.
    let req = decode_traces(
        br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[
            {"key":"k","value":{"stringValue":"first","intValue":2}}]}]}]}]}"#,
        Encoding::Json,
    )
    .unwrap();
    let value = first_span(&req).attributes.attr("k").unwrap();
    assert_eq!(value.value, Some(AnyValueKind::Int(2)));
    assert_eq!(
        record.attributes.attr("b64 padded").unwrap().as_bytes(),
        Some(&b"hi"[..])
    );
    assert_eq!(
        record.attributes.attr("b64 bare").unwrap().as_bytes(),
        Some(&b"hi"[..])
    );

    let err = json_logs(json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "body": {"bytesValue": "not base64!"}}]}]}]}))
    .unwrap_err();
    assert_eq!(
        err.field(),
        Some("resourceLogs[0].scopeLogs[0].logRecords[0].body.bytesValue")
    );
    assert!(err.to_string().contains("not base64"), "{err}");

    let err = json_logs(json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "body": "plain string"}]}]}]}))
    .unwrap_err();
    assert!(err.to_string().contains("AnyValue"), "{err}");
}

#[test]
fn json_bad_hex_ids() {
    let err = json_traces(one_span(
        json!({"traceId": "zz8efff798038103d269b633813fc60c"}),
    ))
    .unwrap_err();
    assert_eq!(
        err.field(),
        Some("resourceSpans[0].scopeSpans[0].spans[0].traceId")
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "invalid JSON: resourceSpans[0].scopeSpans[0].spans[0].traceId: not hex: "
        ),
        "{text}"
    );

    // The common mistake: the standard proto3 mapping's base64.
    let err = json_logs(json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [{
        "spanId": "dNNE8Vf5bRE="}]}]}]}))
    .unwrap_err();
    assert_eq!(
        err.field(),
        Some("resourceLogs[0].scopeLogs[0].logRecords[0].spanId")
    );
    assert!(err.to_string().contains("looks like base64"), "{err}");

    // Odd length, and a number instead of a string.
    assert!(json_traces(one_span(json!({"spanId": "abc"}))).is_err());
    let err = json_traces(one_span(json!({"spanId": 12}))).unwrap_err();
    assert!(err.to_string().contains("hex string"), "{err}");

    // Valid hex of the wrong length decodes, but yields no id.
    let req = json_traces(one_span(
        json!({"traceId": "abcd", "spanId": "0000000000000000"}),
    ))
    .unwrap();
    let span = first_span(&req);
    assert_eq!(span.trace_id, vec![0xab, 0xcd]);
    assert_eq!(span.trace_id_hex(), None);
    assert_eq!(span.span_id_hex(), None, "all-zero id is invalid");
}

#[test]
fn json_malformed() {
    let err = decode_traces(b"{\"resourceSpans\": [", Encoding::Json).unwrap_err();
    assert_eq!(err.field(), None);
    assert!(err.to_string().starts_with("invalid JSON: "), "{err}");

    let err = decode_traces(b"{} {}", Encoding::Json).unwrap_err();
    assert!(err.to_string().contains("trailing"), "{err}");

    for body in [&b"\"x\""[..], b"5", b"null"] {
        let err = decode_traces(body, Encoding::Json).unwrap_err();
        assert!(err.to_string().starts_with("invalid JSON: "), "{err}");
    }

    let err = decode_traces(br#"{"resourceSpans": {"a": 1}}"#, Encoding::Json).unwrap_err();
    assert_eq!(err.field(), Some("resourceSpans"));
}

#[test]
fn empty_bodies_are_empty_requests() {
    for body in [
        &b""[..],
        b"  \n",
        b"{}",
        b"\xEF\xBB\xBF{}",
        br#"{"resourceSpans": null}"#,
    ] {
        let req = decode_traces(body, Encoding::Json).unwrap();
        assert_eq!(req.span_count(), 0);
    }
    assert_eq!(
        decode_traces(b"", Encoding::Protobuf).unwrap(),
        Default::default()
    );
    assert_eq!(
        decode_logs(b"", Encoding::Protobuf).unwrap(),
        Default::default()
    );
    assert_eq!(
        decode_logs(b"", Encoding::Json).unwrap(),
        Default::default()
    );
    let req = decode_logs(br#"{"resourceLogs": [{}]}"#, Encoding::Json).unwrap();
    assert_eq!(req.log_record_count(), 0);
}

#[test]
fn json_nesting_is_bounded() {
    // Absurdly deep AnyValue nesting: serde_json's recursion limit, an error, no stack overflow.
    let depth = 100_000;
    let deep = format!(
        r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{}{}}}]}}]}}]}}"#,
        r#"{"arrayValue":{"values":["#.repeat(depth),
        "]}}".repeat(depth)
    );
    let err = decode_logs(deep.as_bytes(), Encoding::Json).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
    assert_eq!(err.field(), None);

    // Deep nesting inside an unknown field is skipped without recursing (serde_json ignores
    // values iteratively).
    let deep = format!(r#"{{"future":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
    assert_eq!(
        decode_traces(deep.as_bytes(), Encoding::Json).unwrap(),
        Default::default()
    );

    // AnyValue nesting: 30 levels decode; 60 exceed the limit.
    let doc = |depth| {
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"attributes":[{{"key":"deep","value":{}}}]}}]}}]}}]}}"#,
            nested_array_json(depth)
        )
    };
    let req = decode_traces(doc(30).as_bytes(), Encoding::Json).unwrap();
    assert_eq!(
        first_span(&req).attributes.attr("deep"),
        Some(&nested_array(30))
    );
    let err = decode_traces(doc(60).as_bytes(), Encoding::Json).unwrap_err();
    assert!(err.to_string().contains("recursion limit"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// accessors

#[test]
fn attribute_lookup_and_rendering() {
    let attrs = vec![
        kv("s", s("text")),
        kv("s", s("second")),
        kv("num", s("42")),
        kv("b", AnyValueKind::Bool(true)),
        kv("escaped", s("False")),
        kv("i", AnyValueKind::Int(-7)),
        kv("d", AnyValueKind::Double(2.0)),
        kv("inf", AnyValueKind::Double(f64::NEG_INFINITY)),
        kv("bytes", AnyValueKind::Bytes(vec![0xde, 0xad])),
        kv(
            "arr",
            AnyValueKind::Array(ArrayValue {
                values: vec![
                    AnyValue::int(1),
                    AnyValue::string("a\"b"),
                    AnyValue::default(),
                ],
            }),
        ),
        kv(
            "map",
            AnyValueKind::KvList(KeyValueList {
                values: vec![kv("k", AnyValueKind::Bool(false))],
            }),
        ),
        KeyValue {
            key: "none".into(),
            value: None,
        },
    ];
    assert_eq!(attrs.attr_str("s"), Some("text"), "first occurrence wins");
    assert_eq!(attrs.attr_str("i"), None);
    assert_eq!(attrs.attr_str("missing"), None);
    assert_eq!(attrs.attr_i64("num"), Some(42));
    assert_eq!(attrs.attr_i64("d"), Some(2));
    assert_eq!(attrs.attr_f64("i"), Some(-7.0));
    assert_eq!(attrs.attr_bool("b"), Some(true));
    assert_eq!(attrs.attr_bool("escaped"), Some(false));
    assert_eq!(attrs.attr_bool("s"), None);
    assert!(attrs.attr("none").unwrap().is_empty());

    let rendered: Vec<_> = attrs
        .iter()
        .map(|kv| kv.value.clone().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        rendered,
        [
            "text",
            "second",
            "42",
            "true",
            "False",
            "-7",
            "2",
            "-Infinity",
            "dead",
            r#"[1,"a\"b",null]"#,
            r#"{"k":false}"#,
            ""
        ]
    );
    assert_eq!(attrs.attr_string("none"), None);
    assert_eq!(attrs.attr_string("i").as_deref(), Some("-7"));
    assert_eq!(attrs.attr("map").unwrap().to_json(), json!({"k": false}));
}

#[test]
fn rendering_is_depth_bounded() {
    let deep = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let v = nested_array(10_000);
            let text = v.to_string();
            std::mem::forget(v); // dropping 10k levels recurses; not what is tested here
            text
        })
        .unwrap()
        .join()
        .unwrap();
    let expected = format!(
        r#"{}"..."{}"#,
        "[".repeat(MAX_RENDER_DEPTH),
        "]".repeat(MAX_RENDER_DEPTH)
    );
    assert_eq!(deep, expected);
}

#[test]
fn ids_enums_times() {
    assert_eq!(trace_id_hex(&[0; 16]), None);
    assert_eq!(trace_id_hex(&[0xAB; 15]), None);
    assert_eq!(trace_id_hex(&[0xAB; 16]).unwrap(), "ab".repeat(16));
    assert_eq!(span_id_hex(&[]), None);
    assert_eq!(span_id_hex(&[1; 8]).unwrap(), "0101010101010101");

    assert_eq!(SpanKind::Server.as_str_name(), "SPAN_KIND_SERVER");
    assert_eq!(
        SpanKind::from_str_name("span_kind_client"),
        Some(SpanKind::Client)
    );
    assert_eq!(StatusCode::Error.as_str_name(), "STATUS_CODE_ERROR");
    assert_eq!(
        SeverityNumber::Error3.as_str_name(),
        "SEVERITY_NUMBER_ERROR3"
    );
    assert_eq!(SeverityNumber::from_str_name("nope"), None);

    for (n, level) in [
        (0, SeverityLevel::Unspecified),
        (1, SeverityLevel::Trace),
        (8, SeverityLevel::Debug),
        (9, SeverityLevel::Info),
        (16, SeverityLevel::Warn),
        (17, SeverityLevel::Error),
        (24, SeverityLevel::Fatal),
        (25, SeverityLevel::Unspecified),
        (-1, SeverityLevel::Unspecified),
    ] {
        assert_eq!(SeverityLevel::from_number(n), level, "{n}");
    }
    for (text, level) in [
        ("ERROR", Some(SeverityLevel::Error)),
        ("Warning", Some(SeverityLevel::Warn)),
        ("Information", Some(SeverityLevel::Info)),
        ("CRITICAL", Some(SeverityLevel::Fatal)),
        ("dbg", None),
    ] {
        assert_eq!(SeverityLevel::from_text(text), level, "{text}");
    }

    let span = Span::default();
    assert_eq!(span.status_code(), StatusCode::Unset);
    assert_eq!(span.status_message(), "");

    let record = LogRecord {
        time_unix_nano: 0,
        observed_time_unix_nano: 0,
        ..Default::default()
    };
    assert_eq!(record.timestamp_unix_nano(), None);
    assert_eq!(record.body_text(), None);
    assert_eq!(unix_nanos_to_datetime(0), None);
    assert_eq!(
        unix_nanos_to_datetime(1_544_712_660_300_000_001)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        "2018-12-13T14:51:00.300000001Z"
    );
    assert!(unix_nanos_to_datetime(u64::MAX).is_some());
}

// ---------------------------------------------------------------------------------------------
// responses

#[test]
fn export_responses() {
    assert!(encode_trace_response(0, "", Encoding::Protobuf).is_empty());
    assert!(encode_logs_response(0, "", Encoding::Protobuf).is_empty());
    assert_eq!(encode_trace_response(0, "", Encoding::Json), b"{}");
    assert_eq!(encode_logs_response(0, "", Encoding::Json), b"{}");

    let pb = encode_trace_response(3, "3 spans had no trace id", Encoding::Protobuf);
    let back = ExportTraceServiceResponse::decode(&pb[..]).unwrap();
    let partial = back.partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 3);
    assert_eq!(partial.error_message, "3 spans had no trace id");

    let pb = encode_logs_response(0, "warning: deprecated attribute", Encoding::Protobuf);
    let back = ExportLogsServiceResponse::decode(&pb[..]).unwrap();
    let partial = back
        .partial_success
        .expect("a warning sets partial_success");
    assert_eq!(partial.rejected_log_records, 0);
    assert_eq!(partial.error_message, "warning: deprecated attribute");

    let js: serde_json::Value =
        serde_json::from_slice(&encode_trace_response(3, "why", Encoding::Json)).unwrap();
    assert_eq!(
        js,
        json!({"partialSuccess": {"rejectedSpans": "3", "errorMessage": "why"}})
    );
    let js: serde_json::Value =
        serde_json::from_slice(&encode_logs_response(7, "", Encoding::Json)).unwrap();
    assert_eq!(js, json!({"partialSuccess": {"rejectedLogRecords": "7"}}));
}

#[test]
fn status_bodies() {
    let pb = encode_status(rpc_code::UNAVAILABLE, "overloaded", Encoding::Protobuf);
    let st = RpcStatus::decode(&pb[..]).unwrap();
    assert_eq!((st.code, st.message.as_str()), (14, "overloaded"));
    assert!(st.details.is_empty());

    let js: serde_json::Value =
        serde_json::from_slice(&encode_status(8, "slow down", Encoding::Json)).unwrap();
    assert_eq!(js, json!({"code": 8, "message": "slow down"}));

    let err = json_traces(one_span(json!({"spanId": "xyz!"}))).unwrap_err();
    let st = RpcStatus::decode(&err.to_status_body(Encoding::Protobuf)[..]).unwrap();
    assert_eq!(st.code, rpc_code::INVALID_ARGUMENT);
    assert_eq!(st.message, err.to_string());
    assert_eq!(st.details.len(), 1);
    assert_eq!(
        st.details[0].type_url,
        "type.googleapis.com/google.rpc.BadRequest"
    );
    let bad = BadRequest::decode(&st.details[0].value[..]).unwrap();
    assert_eq!(
        bad.field_violations[0].field,
        "resourceSpans[0].scopeSpans[0].spans[0].spanId"
    );
    assert!(bad.field_violations[0].description.starts_with("not hex"));

    let js: serde_json::Value =
        serde_json::from_slice(&err.to_status_body(Encoding::Json)).unwrap();
    assert_eq!(js["code"], 3);
    assert_eq!(
        js["details"][0]["@type"],
        "type.googleapis.com/google.rpc.BadRequest"
    );
    assert_eq!(
        js["details"][0]["fieldViolations"][0]["field"],
        "resourceSpans[0].scopeSpans[0].spans[0].spanId"
    );

    let err = decode_traces(b"\xff\xff", Encoding::Protobuf).unwrap_err();
    let st = RpcStatus::decode(&err.to_status_body(Encoding::Protobuf)[..]).unwrap();
    assert!(st.message.starts_with("invalid protobuf: "));
    assert!(st.details.is_empty());
}

// ---------------------------------------------------------------------------------------------
// real SDK payloads (server/tests/fixtures/otlp/README.md says how they were captured)

const PY_TRACES: &[u8] = include_bytes!("../../../tests/fixtures/otlp/python-traces.pb");
const PY_LOGS: &[u8] = include_bytes!("../../../tests/fixtures/otlp/python-logs.pb");
const PY_TRACES_JSON: &[u8] = include_bytes!("../../../tests/fixtures/otlp/python-traces.pb.json");
const PY_LOGS_JSON: &[u8] = include_bytes!("../../../tests/fixtures/otlp/python-logs.pb.json");
const NODE_TRACES: &[u8] = include_bytes!("../../../tests/fixtures/otlp/node-traces.json");
const NODE_LOGS: &[u8] = include_bytes!("../../../tests/fixtures/otlp/node-logs.json");

const PY_TRACE_ID: &str = "5c2e0bd725586568638580be7b278c72";

fn assert_python_resource(attrs: &[KeyValue]) {
    assert_eq!(attrs.attr_str("service.name"), Some("checkout-py"));
    assert_eq!(attrs.attr_str("service.version"), Some("1.4.2"));
    assert_eq!(
        attrs.attr_str("deployment.environment.name"),
        Some("staging")
    );
    assert_eq!(attrs.attr_str("telemetry.sdk.language"), Some("python"));
    assert_eq!(attrs.attr_str("telemetry.sdk.name"), Some("opentelemetry"));
    assert_eq!(attrs.attr_str("telemetry.sdk.version"), Some("1.45.2"));
    assert!(attrs.attr_str("service.instance.id").is_some());
}

#[test]
fn python_sdk_traces() {
    let req = decode_traces(PY_TRACES, Encoding::Protobuf).unwrap();
    assert_eq!(req.span_count(), 3);
    let items: Vec<_> = req.spans().collect();
    for item in &items {
        assert_python_resource(item.resource_attributes());
        let scope = item.scope.unwrap();
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("checkout.tracer", "0.1.0")
        );
        assert_eq!(item.span.trace_id_hex().as_deref(), Some(PY_TRACE_ID));
        assert_eq!(
            item.span.flags, 0x100,
            "parent-is-remote known, not remote; not sampled bit"
        );
        assert_eq!(item.span.exception_events().count(), 1);
    }
    // Children end first, so the export order is: decode order, charge card, POST /checkout.
    let names: Vec<_> = items.iter().map(|i| i.span.name.as_str()).collect();
    assert_eq!(names, ["decode order", "charge card", "POST /checkout"]);

    let root = items[2].span;
    assert_eq!(root.span_id_hex().as_deref(), Some("eb434cf78b60b55d"));
    assert_eq!(root.parent_span_id_hex(), None);
    assert_eq!(root.kind(), SpanKind::Server);
    assert_eq!(root.status_code(), StatusCode::Error);
    assert_eq!(
        root.status_message(),
        "invalid literal for int() with base 10: '12.50 EUR'"
    );
    assert_eq!(root.start_time_unix_nano, 1_796_160_864_149_586_978);
    assert_eq!(root.end_time_unix_nano, 1_796_160_864_152_267_273);
    assert_eq!(
        root.attributes.attr_str("http.request.method"),
        Some("POST")
    );
    assert_eq!(
        root.attributes.attr_i64("http.response.status_code"),
        Some(500)
    );
    let ev = root.exception_events().next().unwrap();
    assert_eq!(ev.time_unix_nano, 1_796_160_864_150_169_447);
    assert_eq!(
        unix_nanos_to_datetime(ev.time_unix_nano)
            .unwrap()
            .to_rfc3339(),
        "2026-12-01T21:34:24.150169447+00:00"
    );
    let a = &ev.attributes;
    assert_eq!(a.attr_str("exception.type"), Some("ValueError"));
    assert_eq!(
        a.attr_str("exception.message"),
        Some("invalid literal for int() with base 10: '12.50 EUR'")
    );
    let stack = a.attr_str("exception.stacktrace").unwrap();
    assert!(
        stack.starts_with("Traceback (most recent call last):\n  File \""),
        "{stack}"
    );
    assert!(stack.ends_with("ValueError: invalid literal for int() with base 10: '12.50 EUR'\n"));
    // Python sends escaped as a string.
    assert_eq!(a.attr_str("exception.escaped"), Some("False"));
    assert_eq!(a.attr_bool("exception.escaped"), Some(false));

    let decode = items[0].span;
    assert_eq!(decode.span_id_hex().as_deref(), Some("fafbca3e67dfc7a6"));
    assert_eq!(
        decode.parent_span_id_hex().as_deref(),
        Some("eb434cf78b60b55d")
    );
    assert_eq!(decode.kind(), SpanKind::Internal);
    assert_eq!(
        decode.status_code(),
        StatusCode::Unset,
        "record_exception alone sets no status"
    );
    let ev = decode.exception_events().next().unwrap();
    assert_eq!(
        ev.attributes.attr_str("exception.type"),
        Some("json.decoder.JSONDecodeError"),
        "span events qualify the type with its module"
    );

    let charge = items[1].span;
    assert_eq!(charge.span_id_hex().as_deref(), Some("420370b27fefa0db"));
    assert_eq!(charge.kind(), SpanKind::Client);
    assert_eq!(charge.status_code(), StatusCode::Error);
    assert_eq!(
        charge.status_message(),
        "PaymentDeclined: card declined: insufficient funds"
    );
    let ev = charge.exception_events().next().unwrap();
    assert_eq!(
        ev.attributes.attr_str("exception.type"),
        Some("__main__.PaymentDeclined")
    );
    // The exception escaped the span, yet the SDK (1.45.2) still says "False".
    assert_eq!(ev.attributes.attr_bool("exception.escaped"), Some(false));
}

#[test]
fn python_sdk_logs() {
    let req = decode_logs(PY_LOGS, Encoding::Protobuf).unwrap();
    assert_eq!(req.log_record_count(), 2);
    let items: Vec<_> = req.log_records().collect();
    for item in &items {
        assert_python_resource(item.resource_attributes());
        assert_eq!(
            item.scope.unwrap().name,
            "checkout.payments",
            "the logger's name"
        );
        let r = item.record;
        assert_eq!(r.severity_number(), SeverityNumber::Error);
        assert_eq!(r.severity_text, "ERROR");
        assert_eq!(r.severity_level(), SeverityLevel::Error);
        assert_eq!(r.trace_id_hex().as_deref(), Some(PY_TRACE_ID));
        assert_eq!(r.flags, 3);
        assert_eq!(
            r.attributes.attr_str("code.function.name"),
            Some("<module>")
        );
        assert!(r
            .attributes
            .attr_str("code.file.path")
            .unwrap()
            .ends_with("/emit_python.py"));
        assert!(r
            .attributes
            .attr_str("exception.stacktrace")
            .unwrap()
            .starts_with("Traceback"));
        assert_eq!(r.attributes.attr("exception.escaped"), None);
    }
    let first = items[0].record;
    assert_eq!(first.time_unix_nano, 1_796_160_864_150_236_672);
    assert_eq!(first.observed_time_unix_nano, 1_796_160_864_150_378_900);
    assert_eq!(first.timestamp_unix_nano(), Some(1_796_160_864_150_236_672));
    assert_eq!(first.span_id_hex().as_deref(), Some("eb434cf78b60b55d"));
    assert_eq!(
        first.body_text().as_deref(),
        Some("payment amount could not be parsed: 12.50 EUR")
    );
    assert_eq!(first.attributes.attr_i64("order.id"), Some(4711));
    assert_eq!(first.attributes.attr_i64("code.line.number"), Some(57));
    assert_eq!(
        first.attributes.attr_str("exception.type"),
        Some("ValueError")
    );

    let second = items[1].record;
    assert_eq!(second.span_id_hex().as_deref(), Some("fafbca3e67dfc7a6"));
    assert_eq!(
        second.body_text().as_deref(),
        Some("order body is not JSON")
    );
    assert_eq!(
        second.attributes.attr_str("exception.type"),
        Some("JSONDecodeError"),
        "the logging handler uses the bare class name"
    );
}

#[test]
fn python_payloads_read_the_same_as_json() {
    assert_eq!(
        decode_traces(PY_TRACES_JSON, Encoding::Json).unwrap(),
        decode_traces(PY_TRACES, Encoding::Protobuf).unwrap()
    );
    assert_eq!(
        decode_logs(PY_LOGS_JSON, Encoding::Json).unwrap(),
        decode_logs(PY_LOGS, Encoding::Protobuf).unwrap()
    );
}

fn assert_node_resource(attrs: &[KeyValue]) {
    assert_eq!(attrs.attr_str("service.name"), Some("checkout-node"));
    assert_eq!(attrs.attr_str("service.version"), Some("2.0.1"));
    assert_eq!(
        attrs.attr_str("deployment.environment.name"),
        Some("production")
    );
    assert_eq!(attrs.attr_str("telemetry.sdk.language"), Some("nodejs"));
    assert_eq!(attrs.attr_str("telemetry.sdk.version"), Some("2.12.1"));
}

const NODE_TRACE_ID: &str = "7b08e54272c6a6be81871f108d3aa6fc";

#[test]
fn node_sdk_traces() {
    let req = decode_traces(NODE_TRACES, Encoding::Json).unwrap();
    assert_eq!(req.span_count(), 2);
    let items: Vec<_> = req.spans().collect();
    for item in &items {
        assert_node_resource(item.resource_attributes());
        assert_eq!(item.scope.unwrap().name, "checkout.tracer");
        assert_eq!(item.span.trace_id_hex().as_deref(), Some(NODE_TRACE_ID));
        assert_eq!(item.span.flags, 0x101);
    }
    let child = items[0].span;
    assert_eq!(child.name, "read price list");
    assert_eq!(child.span_id_hex().as_deref(), Some("f7a1f1f65073a255"));
    assert_eq!(
        child.parent_span_id_hex().as_deref(),
        Some("8c8a907656fa83a2")
    );
    assert_eq!(child.kind(), SpanKind::Internal);
    assert_eq!(child.status_code(), StatusCode::Unset);
    assert_eq!(child.start_time_unix_nano, 1_796_160_853_519_000_000);
    assert_eq!(child.end_time_unix_nano, 1_796_160_853_519_584_551);
    let ev = child.exception_events().next().unwrap();
    assert_eq!(ev.time_unix_nano, 1_796_160_853_519_456_791);
    assert_eq!(
        ev.attributes.attr_str("exception.type"),
        Some("ENOENT"),
        "the JS SDK prefers error.code over error.name"
    );
    assert!(ev
        .attributes
        .attr_str("exception.stacktrace")
        .unwrap()
        .starts_with("Error: ENOENT: no such file or directory"));
    assert_eq!(ev.attributes.attr("exception.escaped"), None);

    let root = items[1].span;
    assert_eq!(root.name, "POST /checkout");
    assert_eq!(root.span_id_hex().as_deref(), Some("8c8a907656fa83a2"));
    assert_eq!(root.parent_span_id_hex(), None);
    assert_eq!(root.kind(), SpanKind::Server);
    assert_eq!(root.status_code(), StatusCode::Error);
    assert_eq!(
        root.status_message(),
        "Cannot read properties of undefined (reading 'percent')"
    );
    assert_eq!(
        root.attributes.attr_i64("http.response.status_code"),
        Some(500)
    );
    let ev = root.exception_events().next().unwrap();
    assert_eq!(ev.time_unix_nano, 1_796_160_853_517_720_719);
    assert_eq!(ev.attributes.attr_str("exception.type"), Some("TypeError"));
    let stack = ev.attributes.attr_str("exception.stacktrace").unwrap();
    assert!(stack.starts_with("TypeError: Cannot read properties of undefined (reading 'percent')\n    at applyDiscount ("));
}

#[test]
fn node_sdk_logs() {
    let req = decode_logs(NODE_LOGS, Encoding::Json).unwrap();
    assert_eq!(req.log_record_count(), 2);
    let items: Vec<_> = req.log_records().collect();
    for item in &items {
        assert_node_resource(item.resource_attributes());
        let scope = item.scope.unwrap();
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("checkout.payments", "0.2.0")
        );
        assert_eq!(item.record.trace_id_hex().as_deref(), Some(NODE_TRACE_ID));
        assert_eq!(item.record.flags, 1);
    }
    let first = items[0].record;
    assert_eq!(
        first.time_unix_nano, 1_796_160_853_518_000_000,
        "millisecond precision"
    );
    assert_eq!(first.observed_time_unix_nano, first.time_unix_nano);
    assert_eq!(first.severity_number(), SeverityNumber::Error);
    assert_eq!(first.span_id_hex().as_deref(), Some("8c8a907656fa83a2"));
    assert_eq!(
        first.body_text().as_deref(),
        Some("discount could not be applied")
    );
    assert_eq!(first.attributes.attr_i64("order.id"), Some(4711));
    assert_eq!(
        first.attributes.attr_string("order.tags").as_deref(),
        Some(r#"["gift","express"]"#)
    );
    assert_eq!(
        first.attributes.attr_str("exception.type"),
        Some("TypeError")
    );

    let second = items[1].record;
    assert_eq!(second.severity_level(), SeverityLevel::Warn);
    assert_eq!(second.span_id_hex().as_deref(), Some("f7a1f1f65073a255"));
    assert_eq!(
        second.body_text().as_deref(),
        Some(r#"{"msg":"price list missing","path":"/nonexistent/prices.json"}"#)
    );
    assert_eq!(second.attributes.attr_str("exception.type"), Some("ENOENT"));
}

#[test]
fn real_payloads_re_encode_to_the_same_data() {
    // What a handler might do to forward or store: protobuf out, protobuf in, nothing lost.
    let node = decode_traces(NODE_TRACES, Encoding::Json).unwrap();
    assert_eq!(
        decode_traces(&node.encode_to_vec(), Encoding::Protobuf).unwrap(),
        node
    );
    let py = decode_logs(PY_LOGS, Encoding::Protobuf).unwrap();
    assert_eq!(
        py.encode_to_vec(),
        PY_LOGS,
        "prost writes fields in the same order as Python"
    );
}
