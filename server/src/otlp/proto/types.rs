//! The OTLP messages, written by hand from the opentelemetry-proto `.proto` files (field numbers
//! and wire types mirror them exactly). Each derives `prost::Message` for the binary encoding and
//! `serde::Deserialize` for OTLP/JSON (lowerCamelCase keys, snake_case accepted as aliases, unknown
//! keys ignored, `null` read as the field's default). Nested proto messages are flattened:
//! `Span.Event` is [`SpanEvent`], `Span.Link` [`SpanLink`], `trace.v1.Status` [`SpanStatus`].
//!
//! Left out on purpose (prost skips them as unknown fields, so their presence is harmless):
//! `Resource.entity_refs` (3), and the profiling-only `KeyValue.key_strindex` (3) and
//! `AnyValue.string_value_strindex` (8), which receivers of other signals must treat as absent.

use serde::Deserialize;

use super::json;

// ---------------------------------------------------------------------------------------------
// collector/trace/v1/trace_service.proto

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ExportTraceServiceRequest {
    #[prost(message, repeated, tag = "1")]
    #[serde(alias = "resource_spans", deserialize_with = "json::nullable")]
    pub resource_spans: Vec<ResourceSpans>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportTraceServiceResponse {
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportTracePartialSuccess>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportTracePartialSuccess {
    #[prost(int64, tag = "1")]
    pub rejected_spans: i64,
    #[prost(string, tag = "2")]
    pub error_message: String,
}

// ---------------------------------------------------------------------------------------------
// collector/logs/v1/logs_service.proto

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ExportLogsServiceRequest {
    #[prost(message, repeated, tag = "1")]
    #[serde(alias = "resource_logs", deserialize_with = "json::nullable")]
    pub resource_logs: Vec<ResourceLogs>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportLogsServiceResponse {
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportLogsPartialSuccess>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportLogsPartialSuccess {
    #[prost(int64, tag = "1")]
    pub rejected_log_records: i64,
    #[prost(string, tag = "2")]
    pub error_message: String,
}

// ---------------------------------------------------------------------------------------------
// trace/v1/trace.proto

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceSpans {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    #[serde(alias = "scope_spans", deserialize_with = "json::nullable")]
    pub scope_spans: Vec<ScopeSpans>,
    #[prost(string, tag = "3")]
    #[serde(alias = "schema_url", deserialize_with = "json::nullable")]
    pub schema_url: String,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ScopeSpans {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    #[serde(deserialize_with = "json::nullable")]
    pub spans: Vec<Span>,
    #[prost(string, tag = "3")]
    #[serde(alias = "schema_url", deserialize_with = "json::nullable")]
    pub schema_url: String,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Span {
    /// 16 bytes when valid; see [`Span::trace_id_hex`].
    #[prost(bytes = "vec", tag = "1")]
    #[serde(alias = "trace_id", deserialize_with = "json::hex_id")]
    pub trace_id: Vec<u8>,
    /// 8 bytes when valid; see [`Span::span_id_hex`].
    #[prost(bytes = "vec", tag = "2")]
    #[serde(alias = "span_id", deserialize_with = "json::hex_id")]
    pub span_id: Vec<u8>,
    #[prost(string, tag = "3")]
    #[serde(alias = "trace_state", deserialize_with = "json::nullable")]
    pub trace_state: String,
    /// Empty for a root span.
    #[prost(bytes = "vec", tag = "4")]
    #[serde(alias = "parent_span_id", deserialize_with = "json::hex_id")]
    pub parent_span_id: Vec<u8>,
    /// W3C trace flags in bits 0-7; bits 8-9 say whether the parent is remote.
    #[prost(fixed32, tag = "16")]
    #[serde(deserialize_with = "json::u32_any")]
    pub flags: u32,
    #[prost(string, tag = "5")]
    #[serde(deserialize_with = "json::nullable")]
    pub name: String,
    /// Raw value; `span.kind()` gives the [`SpanKind`] (unknown values read as unspecified).
    #[prost(enumeration = "SpanKind", tag = "6")]
    #[serde(deserialize_with = "json::span_kind")]
    pub kind: i32,
    #[prost(fixed64, tag = "7")]
    #[serde(alias = "start_time_unix_nano", deserialize_with = "json::u64_any")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "8")]
    #[serde(alias = "end_time_unix_nano", deserialize_with = "json::u64_any")]
    pub end_time_unix_nano: u64,
    #[prost(message, repeated, tag = "9")]
    #[serde(deserialize_with = "json::nullable")]
    pub attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "10")]
    #[serde(alias = "dropped_attributes_count", deserialize_with = "json::u32_any")]
    pub dropped_attributes_count: u32,
    #[prost(message, repeated, tag = "11")]
    #[serde(deserialize_with = "json::nullable")]
    pub events: Vec<SpanEvent>,
    #[prost(uint32, tag = "12")]
    #[serde(alias = "dropped_events_count", deserialize_with = "json::u32_any")]
    pub dropped_events_count: u32,
    #[prost(message, repeated, tag = "13")]
    #[serde(deserialize_with = "json::nullable")]
    pub links: Vec<SpanLink>,
    #[prost(uint32, tag = "14")]
    #[serde(alias = "dropped_links_count", deserialize_with = "json::u32_any")]
    pub dropped_links_count: u32,
    #[prost(message, optional, tag = "15")]
    pub status: Option<SpanStatus>,
}

/// `Span.Event`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpanEvent {
    #[prost(fixed64, tag = "1")]
    #[serde(alias = "time_unix_nano", deserialize_with = "json::u64_any")]
    pub time_unix_nano: u64,
    #[prost(string, tag = "2")]
    #[serde(deserialize_with = "json::nullable")]
    pub name: String,
    #[prost(message, repeated, tag = "3")]
    #[serde(deserialize_with = "json::nullable")]
    pub attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "4")]
    #[serde(alias = "dropped_attributes_count", deserialize_with = "json::u32_any")]
    pub dropped_attributes_count: u32,
}

/// `Span.Link`.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpanLink {
    #[prost(bytes = "vec", tag = "1")]
    #[serde(alias = "trace_id", deserialize_with = "json::hex_id")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    #[serde(alias = "span_id", deserialize_with = "json::hex_id")]
    pub span_id: Vec<u8>,
    #[prost(string, tag = "3")]
    #[serde(alias = "trace_state", deserialize_with = "json::nullable")]
    pub trace_state: String,
    #[prost(message, repeated, tag = "4")]
    #[serde(deserialize_with = "json::nullable")]
    pub attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "5")]
    #[serde(alias = "dropped_attributes_count", deserialize_with = "json::u32_any")]
    pub dropped_attributes_count: u32,
    #[prost(fixed32, tag = "6")]
    #[serde(deserialize_with = "json::u32_any")]
    pub flags: u32,
}

/// `trace.v1.Status` (field 1, the deprecated code, is reserved and skipped).
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpanStatus {
    #[prost(string, tag = "2")]
    #[serde(deserialize_with = "json::nullable")]
    pub message: String,
    /// Raw value; `status.code()` gives the [`StatusCode`].
    #[prost(enumeration = "StatusCode", tag = "3")]
    #[serde(deserialize_with = "json::status_code")]
    pub code: i32,
}

/// `Span.SpanKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SpanKind {
    Unspecified = 0,
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// `Status.StatusCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum StatusCode {
    Unset = 0,
    Ok = 1,
    Error = 2,
}

// ---------------------------------------------------------------------------------------------
// logs/v1/logs.proto

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceLogs {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    #[serde(alias = "scope_logs", deserialize_with = "json::nullable")]
    pub scope_logs: Vec<ScopeLogs>,
    #[prost(string, tag = "3")]
    #[serde(alias = "schema_url", deserialize_with = "json::nullable")]
    pub schema_url: String,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ScopeLogs {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    #[serde(alias = "log_records", deserialize_with = "json::nullable")]
    pub log_records: Vec<LogRecord>,
    #[prost(string, tag = "3")]
    #[serde(alias = "schema_url", deserialize_with = "json::nullable")]
    pub schema_url: String,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LogRecord {
    /// When the event happened; 0 if unknown (then see `observed_time_unix_nano`).
    #[prost(fixed64, tag = "1")]
    #[serde(alias = "time_unix_nano", deserialize_with = "json::u64_any")]
    pub time_unix_nano: u64,
    #[prost(fixed64, tag = "11")]
    #[serde(alias = "observed_time_unix_nano", deserialize_with = "json::u64_any")]
    pub observed_time_unix_nano: u64,
    /// Raw value; `record.severity_number()` gives the [`SeverityNumber`].
    #[prost(enumeration = "SeverityNumber", tag = "2")]
    #[serde(alias = "severity_number", deserialize_with = "json::severity_number")]
    pub severity_number: i32,
    #[prost(string, tag = "3")]
    #[serde(alias = "severity_text", deserialize_with = "json::nullable")]
    pub severity_text: String,
    #[prost(message, optional, tag = "5")]
    pub body: Option<AnyValue>,
    #[prost(message, repeated, tag = "6")]
    #[serde(deserialize_with = "json::nullable")]
    pub attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "7")]
    #[serde(alias = "dropped_attributes_count", deserialize_with = "json::u32_any")]
    pub dropped_attributes_count: u32,
    /// W3C trace flags in bits 0-7.
    #[prost(fixed32, tag = "8")]
    #[serde(deserialize_with = "json::u32_any")]
    pub flags: u32,
    /// Empty when the record is not tied to a trace.
    #[prost(bytes = "vec", tag = "9")]
    #[serde(alias = "trace_id", deserialize_with = "json::hex_id")]
    pub trace_id: Vec<u8>,
    #[prost(bytes = "vec", tag = "10")]
    #[serde(alias = "span_id", deserialize_with = "json::hex_id")]
    pub span_id: Vec<u8>,
    #[prost(string, tag = "12")]
    #[serde(alias = "event_name", deserialize_with = "json::nullable")]
    pub event_name: String,
}

/// `SeverityNumber`: TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SeverityNumber {
    Unspecified = 0,
    Trace = 1,
    Trace2 = 2,
    Trace3 = 3,
    Trace4 = 4,
    Debug = 5,
    Debug2 = 6,
    Debug3 = 7,
    Debug4 = 8,
    Info = 9,
    Info2 = 10,
    Info3 = 11,
    Info4 = 12,
    Warn = 13,
    Warn2 = 14,
    Warn3 = 15,
    Warn4 = 16,
    Error = 17,
    Error2 = 18,
    Error3 = 19,
    Error4 = 20,
    Fatal = 21,
    Fatal2 = 22,
    Fatal3 = 23,
    Fatal4 = 24,
}

// ---------------------------------------------------------------------------------------------
// common/v1/common.proto, resource/v1/resource.proto

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Resource {
    #[prost(message, repeated, tag = "1")]
    #[serde(deserialize_with = "json::nullable")]
    pub attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "2")]
    #[serde(alias = "dropped_attributes_count", deserialize_with = "json::u32_any")]
    pub dropped_attributes_count: u32,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InstrumentationScope {
    #[prost(string, tag = "1")]
    #[serde(deserialize_with = "json::nullable")]
    pub name: String,
    #[prost(string, tag = "2")]
    #[serde(deserialize_with = "json::nullable")]
    pub version: String,
    #[prost(message, repeated, tag = "3")]
    #[serde(deserialize_with = "json::nullable")]
    pub attributes: Vec<KeyValue>,
    #[prost(uint32, tag = "4")]
    #[serde(alias = "dropped_attributes_count", deserialize_with = "json::u32_any")]
    pub dropped_attributes_count: u32,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default)]
pub struct KeyValue {
    #[prost(string, tag = "1")]
    #[serde(deserialize_with = "json::nullable")]
    pub key: String,
    /// `None` (or an `AnyValue` with no value) is an empty value.
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

/// A value that is one of the kinds in [`AnyValueKind`], or empty (`value: None`).
/// Its JSON form (`{"stringValue": "x"}` etc.) is read by a hand-written `Deserialize` in `json.rs`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AnyValue {
    #[prost(oneof = "AnyValueKind", tags = "1, 2, 3, 4, 5, 6, 7")]
    pub value: Option<AnyValueKind>,
}

/// The `AnyValue.value` oneof.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum AnyValueKind {
    #[prost(string, tag = "1")]
    String(String),
    #[prost(bool, tag = "2")]
    Bool(bool),
    #[prost(int64, tag = "3")]
    Int(i64),
    #[prost(double, tag = "4")]
    Double(f64),
    #[prost(message, tag = "5")]
    Array(ArrayValue),
    #[prost(message, tag = "6")]
    KvList(KeyValueList),
    #[prost(bytes = "vec", tag = "7")]
    Bytes(Vec<u8>),
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default)]
pub struct ArrayValue {
    #[prost(message, repeated, tag = "1")]
    #[serde(deserialize_with = "json::nullable")]
    pub values: Vec<AnyValue>,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(default)]
pub struct KeyValueList {
    #[prost(message, repeated, tag = "1")]
    #[serde(deserialize_with = "json::nullable")]
    pub values: Vec<KeyValue>,
}

// ---------------------------------------------------------------------------------------------
// google/rpc/status.proto, google/protobuf/any.proto, google/rpc/error_details.proto (BadRequest):
// the body of OTLP/HTTP failure responses. Encoded only.

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoAny {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.BadRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct BadRequest {
    #[prost(message, repeated, tag = "1")]
    pub field_violations: Vec<FieldViolation>,
}

/// `google.rpc.BadRequest.FieldViolation` (only the two original fields).
#[derive(Clone, PartialEq, prost::Message)]
pub struct FieldViolation {
    #[prost(string, tag = "1")]
    pub field: String,
    #[prost(string, tag = "2")]
    pub description: String,
}
