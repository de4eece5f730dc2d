//! Decoded OTLP into Bugle events: each exception becomes one occurrence.
//!
//! Where exceptions are found (ANCHORS §1.1):
//!
//! - a span event named `exception`, with `exception.type` / `message` / `stacktrace`;
//! - a log record with `exception.*` attributes, or of severity ERROR or above with a body
//!   (a message event).
//!
//! A span whose status is ERROR is not an occurrence by itself: SDKs disagree on when they set
//! it, and the exception that caused it comes as an event. `exception.stacktrace` is parsed
//! into frames ([`crate::otlp::stacktrace`]); when no format reads it the text is kept in
//! `extra.stacktrace` and the issue is grouped on type and message.
//!
//! Event ids are derived from what identifies the exception (trace, span, time, index), so a
//! batch the exporter sends again after a timeout is stored once.

mod resource;
#[cfg(test)]
mod tests;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::event::{Event, Exception, Level, Mechanism, Trace};
use crate::otlp::proto::{
    unix_nanos_to_datetime, AttributesExt, ExportLogsServiceRequest, ExportTraceServiceRequest,
    InstrumentationScope, KeyValue, LogRecord, SeverityLevel, Span, SpanEvent, SpanKind,
    StatusCode,
};
use crate::otlp::stacktrace::{self, Language, Parsed};
pub use resource::ResourceInfo;

/// Most occurrences taken from one request; the rest are rejected (partial success), so one
/// request cannot fill the writer's queue by itself.
pub const MAX_EVENTS_PER_REQUEST: usize = 1000;
/// Attributes kept per group (resource, span, event, record) in `extra.otel`.
pub const MAX_ATTRIBUTES: usize = 64;
/// Bytes kept of one attribute's rendered value (in tags and in `extra.otel`).
pub const MAX_ATTRIBUTE_BYTES: usize = 1024;
/// Bytes kept of a log body used as a message.
const MAX_MESSAGE_BYTES: usize = 8 * 1024;

/// Span and record attributes that become tags (low-cardinality, useful to filter on); the
/// others are kept in `extra.otel`.
const TAG_KEYS: &[&str] = &[
    "http.request.method",
    "http.method",
    "http.route",
    "http.response.status_code",
    "http.status_code",
    "rpc.system",
    "rpc.service",
    "rpc.method",
    "messaging.system",
    "db.system",
    "db.system.name",
    "server.address",
    "peer.service",
    "error.type",
];

/// What a request came to: the events to store, and what was left out.
#[derive(Debug, Default)]
pub struct Mapped {
    pub events: Vec<Event>,
    /// Spans or log records whose exceptions were not kept (for `partial_success`).
    pub rejected: i64,
    pub message: String,
}

impl Mapped {
    fn push(&mut self, ev: Event) {
        if self.events.len() < MAX_EVENTS_PER_REQUEST {
            self.events.push(ev);
        } else {
            self.rejected += 1;
            self.message = format!(
                "only the first {MAX_EVENTS_PER_REQUEST} exceptions of a request are stored"
            );
        }
    }
}

/// The exceptions recorded on the request's spans, one event each.
pub fn events_from_traces(req: &ExportTraceServiceRequest) -> Mapped {
    let mut out = Mapped::default();
    for rs in &req.resource_spans {
        let attrs = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes);
        let mut info: Option<ResourceInfo> = None;
        for ss in &rs.scope_spans {
            for span in &ss.spans {
                for (index, sev) in span.events.iter().enumerate() {
                    if sev.name != "exception" {
                        continue;
                    }
                    let info = info.get_or_insert_with(|| ResourceInfo::read(attrs));
                    if let Some(ev) = span_exception(info, ss.scope.as_ref(), span, index, sev) {
                        out.push(ev);
                    }
                }
            }
        }
    }
    out
}

/// The log records that are errors, one event each.
pub fn events_from_logs(req: &ExportLogsServiceRequest) -> Mapped {
    let mut out = Mapped::default();
    for rl in &req.resource_logs {
        let attrs = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes);
        let mut info: Option<ResourceInfo> = None;
        for sl in &rl.scope_logs {
            for (index, record) in sl.log_records.iter().enumerate() {
                if !is_error_record(record) {
                    continue;
                }
                let info = info.get_or_insert_with(|| ResourceInfo::read(attrs));
                if let Some(ev) = log_event(info, sl.scope.as_ref(), record, index) {
                    out.push(ev);
                }
            }
        }
    }
    out
}

fn has_exception_attributes(attrs: &[KeyValue]) -> bool {
    [
        "exception.type",
        "exception.message",
        "exception.stacktrace",
    ]
    .iter()
    .any(|k| attrs.attr_string(k).is_some())
}

fn is_error_record(record: &LogRecord) -> bool {
    has_exception_attributes(&record.attributes)
        || (record.severity_level() >= SeverityLevel::Error && body(record).is_some())
}

/// The body as text, `None` when absent or blank.
fn body(record: &LogRecord) -> Option<String> {
    record.body_text().filter(|b| !b.trim().is_empty())
}

fn span_exception(
    info: &ResourceInfo,
    scope: Option<&InstrumentationScope>,
    span: &Span,
    index: usize,
    sev: &SpanEvent,
) -> Option<Event> {
    let chain = exception_chain(&sev.attributes, info.language, "otel.span_event")?;
    let attr = |key| sev.attributes.attr_string(key).unwrap_or_default();
    let what = [attr("exception.type"), attr("exception.message")].join("\0");
    let trace_id = span.trace_id_hex();
    let span_id = span.span_id_hex();
    let time = [
        sev.time_unix_nano,
        span.end_time_unix_nano,
        span.start_time_unix_nano,
    ]
    .into_iter()
    .find(|&t| t != 0)
    .unwrap_or(0);
    let mut ev = Event {
        uuid: Some(derived_uuid(&[
            b"span-event",
            &span.trace_id,
            &span.span_id,
            &index.to_le_bytes(),
            &time.to_le_bytes(),
            what.as_bytes(),
        ])),
        timestamp: unix_nanos_to_datetime(time),
        level: Some(Level::Error),
        ..Event::default()
    };
    let mut otel = Map::new();
    chain.apply(&mut ev);
    info.apply(&mut ev, &mut otel);
    let kind = SpanKind::try_from(span.kind).unwrap_or(SpanKind::Unspecified);
    let kind_name = kind
        .as_str_name()
        .trim_start_matches("SPAN_KIND_")
        .to_ascii_lowercase();
    if !span.name.is_empty() {
        ev.tags
            .insert("transaction".into(), clip(&span.name, 200).to_owned());
    }
    if kind != SpanKind::Unspecified {
        ev.tags.insert("span.kind".into(), kind_name.clone());
    }
    let status = match span.status_code() {
        StatusCode::Error => "error",
        StatusCode::Ok => "ok",
        StatusCode::Unset => "unset",
    };
    set_trace(&mut ev, trace_id, span_id);
    if let Some(Value::Object(ctx)) = ev.contexts.get_mut("trace") {
        if let Some(parent) = span.parent_span_id_hex() {
            ctx.insert("parent_span_id".into(), parent.into());
        }
        ctx.insert("op".into(), kind_name.into());
        ctx.insert("description".into(), clip(&span.name, 1024).into());
        ctx.insert("status".into(), status.into());
    }
    tags_from(&mut ev, &span.attributes);
    keep_attributes(&mut otel, "span", &span.attributes);
    keep_attributes(&mut otel, "event", &sev.attributes);
    keep_scope(&mut otel, scope);
    finish(ev, otel)
}

fn log_event(
    info: &ResourceInfo,
    scope: Option<&InstrumentationScope>,
    record: &LogRecord,
    index: usize,
) -> Option<Event> {
    let time = record.timestamp_unix_nano().unwrap_or(0);
    let body = body(record);
    let level = match record.severity_level() {
        SeverityLevel::Fatal => Level::Critical,
        SeverityLevel::Warn => Level::Warning,
        SeverityLevel::Info => Level::Info,
        SeverityLevel::Debug | SeverityLevel::Trace => Level::Debug,
        SeverityLevel::Error | SeverityLevel::Unspecified => Level::Error,
    };
    let mut ev = Event {
        uuid: Some(derived_uuid(&[
            b"log-record",
            &record.trace_id,
            &record.span_id,
            &index.to_le_bytes(),
            &time.to_le_bytes(),
            body.as_deref().unwrap_or("").as_bytes(),
        ])),
        timestamp: unix_nanos_to_datetime(time),
        level: Some(level),
        ..Event::default()
    };
    match exception_chain(&record.attributes, info.language, "otel.log") {
        Some(chain) => {
            // The log line says what the app was doing; the exception, what went wrong.
            let differs = body.as_deref() != chain.exceptions[0].value.as_deref();
            chain.apply(&mut ev);
            if let Some(body) = body.filter(|_| differs) {
                ev.message = Some(clip(&body, MAX_MESSAGE_BYTES).to_owned());
            }
        }
        None => ev.message = Some(clip(body.as_deref()?, MAX_MESSAGE_BYTES).to_owned()),
    }
    let mut otel = Map::new();
    info.apply(&mut ev, &mut otel);
    set_trace(&mut ev, record.trace_id_hex(), record.span_id_hex());
    if let Some(scope) = scope.filter(|s| !s.name.is_empty()) {
        ev.tags
            .insert("logger".into(), clip(&scope.name, 200).to_owned());
    }
    if !record.severity_text.is_empty() {
        otel.insert(
            "severity_text".into(),
            clip(&record.severity_text, 64).into(),
        );
    }
    tags_from(&mut ev, &record.attributes);
    keep_attributes(&mut otel, "record", &record.attributes);
    keep_scope(&mut otel, scope);
    finish(ev, otel)
}

/// An exception read from `exception.*` attributes, its stack trace parsed when it can be.
struct Chain {
    exceptions: Vec<Exception>,
    language: Option<Language>,
    unparsed: Option<String>,
}

impl Chain {
    fn apply(self, ev: &mut Event) {
        ev.exceptions = self.exceptions;
        if let Some(lang) = self.language.and_then(Language::as_str) {
            ev.language = Some(lang.to_owned());
        }
        if let Some(text) = self.unparsed {
            ev.extra.insert("stacktrace".into(), Value::String(text));
        }
    }
}

/// `None` when the attributes name no exception at all (no type, message or stack trace).
fn exception_chain(attrs: &[KeyValue], lang: Language, mechanism: &str) -> Option<Chain> {
    let ty = attrs.attr_string("exception.type");
    let message = attrs.attr_string("exception.message");
    let stacktrace = attrs
        .attr_string("exception.stacktrace")
        .filter(|s| !s.trim().is_empty() && s.trim() != "null");
    if ty.is_none() && message.is_none() && stacktrace.is_none() {
        return None;
    }
    let ty = ty.map(|t| clip(&t, stacktrace::MAX_FIELD_BYTES).to_owned());
    let message = message.map(|m| clip(&m, stacktrace::MAX_MESSAGE_BYTES).to_owned());
    let parsed = stacktrace
        .as_deref()
        .map(|st| stacktrace::parse(st, lang, ty.as_deref(), message.as_deref()));
    let (mut exceptions, language, unparsed) = match parsed {
        Some(Parsed::Chain {
            language,
            exceptions,
        }) => (exceptions, Some(language), None),
        _ => {
            let exc = Exception {
                ty: ty.unwrap_or_else(|| "Error".into()),
                value: message,
                ..Exception::default()
            };
            let text = stacktrace.map(|s| clip(&s, stacktrace::MAX_INPUT_BYTES).to_owned());
            (vec![exc], None, text)
        }
    };
    exceptions[0].mechanism = Some(Mechanism {
        ty: mechanism.into(),
        handled: attrs.attr_bool("exception.escaped").map(|escaped| !escaped),
        ..Mechanism::default()
    });
    Some(Chain {
        exceptions,
        language,
        unparsed,
    })
}

fn set_trace(ev: &mut Event, trace_id: Option<String>, span_id: Option<String>) {
    let Some(trace_id) = trace_id else { return };
    let mut ctx = Map::new();
    ctx.insert("trace_id".into(), trace_id.clone().into());
    if let Some(span_id) = &span_id {
        ctx.insert("span_id".into(), span_id.clone().into());
    }
    ev.contexts.insert("trace".into(), Value::Object(ctx));
    ev.trace = Some(Trace {
        trace_id: Some(trace_id),
        span_id,
    });
}

fn tags_from(ev: &mut Event, attrs: &[KeyValue]) {
    for key in TAG_KEYS {
        if let Some(v) = attrs.attr_string(key) {
            ev.tags.insert((*key).into(), clip(&v, 200).to_owned());
        }
    }
}

fn keep_attributes(otel: &mut Map<String, Value>, group: &str, attrs: &[KeyValue]) {
    let rest: Vec<&KeyValue> = attrs
        .iter()
        .filter(|kv| !kv.key.starts_with("exception.") && !TAG_KEYS.contains(&kv.key.as_str()))
        .collect();
    let kept = bounded_attributes(rest);
    if !kept.is_empty() {
        otel.insert(group.into(), Value::Object(kept));
    }
}

fn keep_scope(otel: &mut Map<String, Value>, scope: Option<&InstrumentationScope>) {
    if let Some(scope) = scope.filter(|s| !s.name.is_empty()) {
        otel.insert(
            "scope".into(),
            json!({ "name": clip(&scope.name, 200), "version": clip(&scope.version, 64) }),
        );
    }
}

fn finish(mut ev: Event, otel: Map<String, Value>) -> Option<Event> {
    if !otel.is_empty() {
        ev.extra.insert("otel".into(), Value::Object(otel));
    }
    Some(ev)
}

/// At most [`MAX_ATTRIBUTES`] attributes, each value at most [`MAX_ATTRIBUTE_BYTES`] as text
/// (longer or nested values are kept as their cut text).
pub(crate) fn bounded_attributes(attrs: Vec<&KeyValue>) -> Map<String, Value> {
    let mut out = Map::new();
    for kv in attrs.into_iter().take(MAX_ATTRIBUTES) {
        let Some(value) = kv.value.as_ref() else {
            continue;
        };
        let json = value.to_json();
        let json = match json {
            Value::String(s) => Value::String(clip(&s, MAX_ATTRIBUTE_BYTES).to_owned()),
            Value::Array(_) | Value::Object(_) => {
                let text = json.to_string();
                if text.len() > MAX_ATTRIBUTE_BYTES {
                    Value::String(clip(&text, MAX_ATTRIBUTE_BYTES).to_owned())
                } else {
                    json
                }
            }
            other => other,
        };
        out.insert(clip(&kv.key, 200).to_owned(), json);
    }
    out
}

/// A uuid from the parts that identify an exception, so a resent batch maps to the same ids.
fn derived_uuid(parts: &[&[u8]]) -> Uuid {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// The longest prefix of `s` within `max` bytes, cut on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
