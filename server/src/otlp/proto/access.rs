//! Accessors for mapping decoded OTLP into events: attribute lookup, value rendering, hex ids,
//! enums, severities, times, and flat iteration over a request's spans and log records.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::json::{SEVERITY_NUMBER_NAMES, SPAN_KIND_NAMES, STATUS_CODE_NAMES};
use super::types::*;

/// How deep [`AnyValue::to_json`] and `Display` descend into arrays and kvlists; deeper values
/// render as `"..."`. Decoding already bounds nesting; this bounds the renderers on their own.
pub const MAX_RENDER_DEPTH: usize = 32;

// ---------------------------------------------------------------------------------------------
// attributes

/// Lookup by key on `span.attributes`, `resource.attributes`, a kvlist's values, ... If a key
/// occurs more than once (the spec forbids it) the first occurrence wins.
pub trait AttributesExt {
    /// The value under `key`, if the key is present (its value may still be empty).
    fn attr(&self, key: &str) -> Option<&AnyValue>;

    /// A string value; `None` if absent or not a string.
    fn attr_str(&self, key: &str) -> Option<&str> {
        self.attr(key).and_then(AnyValue::as_str)
    }

    /// An integer, leniently (see [`AnyValue::as_i64`]).
    fn attr_i64(&self, key: &str) -> Option<i64> {
        self.attr(key).and_then(AnyValue::as_i64)
    }

    /// A number, leniently (see [`AnyValue::as_f64`]).
    fn attr_f64(&self, key: &str) -> Option<f64> {
        self.attr(key).and_then(AnyValue::as_f64)
    }

    /// A boolean, leniently (see [`AnyValue::as_bool`]: Python sends `exception.escaped` as the
    /// string `"False"`).
    fn attr_bool(&self, key: &str) -> Option<bool> {
        self.attr(key).and_then(AnyValue::as_bool)
    }

    /// Any value rendered as text (for tags); `None` if absent or empty.
    fn attr_string(&self, key: &str) -> Option<String> {
        self.attr(key)
            .filter(|v| !v.is_empty())
            .map(ToString::to_string)
    }
}

impl AttributesExt for [KeyValue] {
    fn attr(&self, key: &str) -> Option<&AnyValue> {
        self.iter()
            .find(|kv| kv.key == key)
            .map(|kv| kv.value.as_ref().unwrap_or(&EMPTY))
    }
}

impl AttributesExt for KeyValueList {
    fn attr(&self, key: &str) -> Option<&AnyValue> {
        self.values.attr(key)
    }
}

static EMPTY: AnyValue = AnyValue { value: None };

// ---------------------------------------------------------------------------------------------
// values

impl AnyValue {
    pub fn string(s: impl Into<String>) -> AnyValue {
        AnyValue {
            value: Some(AnyValueKind::String(s.into())),
        }
    }

    pub fn int(i: i64) -> AnyValue {
        AnyValue {
            value: Some(AnyValueKind::Int(i)),
        }
    }

    /// True when no value is set (OTLP's empty / null value).
    pub fn is_empty(&self) -> bool {
        self.value.is_none()
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Some(AnyValueKind::String(s)) => Some(s),
            _ => None,
        }
    }

    /// An `intValue`; also a decimal string or an integral `doubleValue`.
    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            Some(AnyValueKind::Int(i)) => Some(*i),
            Some(AnyValueKind::String(s)) => s.trim().parse().ok(),
            Some(AnyValueKind::Double(d))
                if d.fract() == 0.0 && *d >= i64::MIN as f64 && *d < i64::MAX as f64 =>
            {
                Some(*d as i64)
            }
            _ => None,
        }
    }

    /// A `doubleValue` or `intValue`; also a numeric string.
    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            Some(AnyValueKind::Double(d)) => Some(*d),
            Some(AnyValueKind::Int(i)) => Some(*i as f64),
            Some(AnyValueKind::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A `boolValue`; also the strings `"true"` / `"false"` in any case.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Some(AnyValueKind::Bool(b)) => Some(*b),
            Some(AnyValueKind::String(s)) if s.eq_ignore_ascii_case("true") => Some(true),
            Some(AnyValueKind::String(s)) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Some(AnyValueKind::Bytes(b)) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[AnyValue]> {
        match &self.value {
            Some(AnyValueKind::Array(a)) => Some(&a.values),
            _ => None,
        }
    }

    pub fn as_kvlist(&self) -> Option<&[KeyValue]> {
        match &self.value {
            Some(AnyValueKind::KvList(l)) => Some(&l.values),
            _ => None,
        }
    }

    /// As plain JSON: strings, booleans, numbers (non-finite doubles as `"NaN"`, `"Infinity"`,
    /// `"-Infinity"`), bytes as a lowercase hex string, arrays, kvlists as objects (a repeated
    /// key keeps its last value), empty as `null`. Below [`MAX_RENDER_DEPTH`] levels: `"..."`.
    pub fn to_json(&self) -> Value {
        self.to_json_at(0)
    }

    fn to_json_at(&self, depth: usize) -> Value {
        let Some(value) = &self.value else {
            return Value::Null;
        };
        match value {
            AnyValueKind::String(s) => Value::String(s.clone()),
            AnyValueKind::Bool(b) => Value::Bool(*b),
            AnyValueKind::Int(i) => Value::from(*i),
            AnyValueKind::Double(d) => serde_json::Number::from_f64(*d)
                .map_or_else(|| Value::String(double_text(*d)), Value::Number),
            AnyValueKind::Bytes(b) => Value::String(hex::encode(b)),
            AnyValueKind::Array(_) | AnyValueKind::KvList(_) if depth >= MAX_RENDER_DEPTH => {
                Value::String("...".into())
            }
            AnyValueKind::Array(a) => {
                Value::Array(a.values.iter().map(|v| v.to_json_at(depth + 1)).collect())
            }
            AnyValueKind::KvList(l) => Value::Object(
                l.values
                    .iter()
                    .map(|kv| {
                        let v = kv
                            .value
                            .as_ref()
                            .map_or(Value::Null, |v| v.to_json_at(depth + 1));
                        (kv.key.clone(), v)
                    })
                    .collect(),
            ),
        }
    }
}

fn double_text(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d.is_infinite() {
        if d > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        d.to_string()
    }
}

/// Text for a tag: a string as it is, `true`/`false`, decimal numbers, bytes as lowercase hex,
/// arrays and kvlists as compact JSON (see [`AnyValue::to_json`]), empty as `""`.
impl fmt::Display for AnyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            None => Ok(()),
            Some(AnyValueKind::String(s)) => f.write_str(s),
            Some(AnyValueKind::Bool(b)) => write!(f, "{b}"),
            Some(AnyValueKind::Int(i)) => write!(f, "{i}"),
            Some(AnyValueKind::Double(d)) => f.write_str(&double_text(*d)),
            Some(AnyValueKind::Bytes(b)) => b.iter().try_for_each(|byte| write!(f, "{byte:02x}")),
            Some(AnyValueKind::Array(_) | AnyValueKind::KvList(_)) => {
                write!(f, "{}", self.to_json())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ids

/// A trace id as 32 lowercase hex digits; `None` unless it is 16 bytes and not all zero (the
/// spec's invalid id).
pub fn trace_id_hex(id: &[u8]) -> Option<String> {
    (id.len() == 16 && id.iter().any(|&b| b != 0)).then(|| hex::encode(id))
}

/// A span id as 16 lowercase hex digits; `None` unless it is 8 bytes and not all zero.
pub fn span_id_hex(id: &[u8]) -> Option<String> {
    (id.len() == 8 && id.iter().any(|&b| b != 0)).then(|| hex::encode(id))
}

// ---------------------------------------------------------------------------------------------
// enums

macro_rules! names {
    ($ty:ty, $names:expr) => {
        impl $ty {
            /// The proto value name, e.g. `SPAN_KIND_SERVER`.
            pub fn as_str_name(self) -> &'static str {
                $names[self as usize]
            }

            /// From the proto value name (ASCII case-insensitive).
            pub fn from_str_name(name: &str) -> Option<Self> {
                let i = $names.iter().position(|n| n.eq_ignore_ascii_case(name))?;
                Self::try_from(i as i32).ok()
            }
        }
    };
}

names!(SpanKind, SPAN_KIND_NAMES);
names!(StatusCode, STATUS_CODE_NAMES);
names!(SeverityNumber, SEVERITY_NUMBER_NAMES);

/// The six severity ranges of the log data model, for mapping to an event level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeverityLevel {
    Unspecified,
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl SeverityLevel {
    /// TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20, FATAL 21-24; else unspecified.
    pub fn from_number(n: i32) -> SeverityLevel {
        match n {
            1..=4 => SeverityLevel::Trace,
            5..=8 => SeverityLevel::Debug,
            9..=12 => SeverityLevel::Info,
            13..=16 => SeverityLevel::Warn,
            17..=20 => SeverityLevel::Error,
            21..=24 => SeverityLevel::Fatal,
            _ => SeverityLevel::Unspecified,
        }
    }

    /// From a `severity_text` as loggers write it (`ERROR`, `Warning`, `Information`, `crit`, ...),
    /// by prefix, ignoring case. `None` if it is none of the known words.
    pub fn from_text(text: &str) -> Option<SeverityLevel> {
        let t = text.trim().to_ascii_lowercase();
        let level = if t.starts_with("trace") || t == "verbose" {
            SeverityLevel::Trace
        } else if t.starts_with("debug") {
            SeverityLevel::Debug
        } else if t.starts_with("info") || t == "notice" {
            SeverityLevel::Info
        } else if t.starts_with("warn") {
            SeverityLevel::Warn
        } else if t.starts_with("err") {
            SeverityLevel::Error
        } else if ["fatal", "crit", "alert", "emerg", "panic"]
            .iter()
            .any(|p| t.starts_with(p))
        {
            SeverityLevel::Fatal
        } else {
            return None;
        };
        Some(level)
    }
}

// ---------------------------------------------------------------------------------------------
// spans, events, links, log records

impl Span {
    pub fn trace_id_hex(&self) -> Option<String> {
        trace_id_hex(&self.trace_id)
    }

    pub fn span_id_hex(&self) -> Option<String> {
        span_id_hex(&self.span_id)
    }

    /// `None` for a root span.
    pub fn parent_span_id_hex(&self) -> Option<String> {
        span_id_hex(&self.parent_span_id)
    }

    /// `Unset` when the span has no status.
    pub fn status_code(&self) -> StatusCode {
        self.status
            .as_ref()
            .map_or(StatusCode::Unset, SpanStatus::code)
    }

    /// `""` when the span has no status.
    pub fn status_message(&self) -> &str {
        self.status.as_ref().map_or("", |s| s.message.as_str())
    }

    /// The events named `exception` (the semantic conventions' exception events).
    pub fn exception_events(&self) -> impl Iterator<Item = &SpanEvent> {
        self.events.iter().filter(|e| e.name == "exception")
    }
}

impl SpanLink {
    pub fn trace_id_hex(&self) -> Option<String> {
        trace_id_hex(&self.trace_id)
    }

    pub fn span_id_hex(&self) -> Option<String> {
        span_id_hex(&self.span_id)
    }
}

impl LogRecord {
    pub fn trace_id_hex(&self) -> Option<String> {
        trace_id_hex(&self.trace_id)
    }

    pub fn span_id_hex(&self) -> Option<String> {
        span_id_hex(&self.span_id)
    }

    /// `time_unix_nano`, or `observed_time_unix_nano` when that is 0; `None` if both are 0.
    pub fn timestamp_unix_nano(&self) -> Option<u64> {
        [self.time_unix_nano, self.observed_time_unix_nano]
            .into_iter()
            .find(|&t| t != 0)
    }

    /// From `severity_number`, or from `severity_text` when the number is unspecified or out of
    /// range.
    pub fn severity_level(&self) -> SeverityLevel {
        match SeverityLevel::from_number(self.severity_number) {
            SeverityLevel::Unspecified => {
                SeverityLevel::from_text(&self.severity_text).unwrap_or(SeverityLevel::Unspecified)
            }
            level => level,
        }
    }

    /// The body rendered as text (see `Display` for [`AnyValue`]); `None` if absent or empty.
    pub fn body_text(&self) -> Option<String> {
        self.body
            .as_ref()
            .filter(|b| !b.is_empty())
            .map(ToString::to_string)
    }
}

/// Unix nanoseconds as a UTC time; `None` for 0 (OTLP's "unknown").
pub fn unix_nanos_to_datetime(nanos: u64) -> Option<DateTime<Utc>> {
    if nanos == 0 {
        return None;
    }
    let secs = (nanos / 1_000_000_000) as i64;
    DateTime::from_timestamp(secs, (nanos % 1_000_000_000) as u32)
}

// ---------------------------------------------------------------------------------------------
// flat iteration

/// A span with the resource and scope it was sent under.
#[derive(Clone, Copy, Debug)]
pub struct SpanItem<'a> {
    pub resource: Option<&'a Resource>,
    pub scope: Option<&'a InstrumentationScope>,
    pub span: &'a Span,
}

impl<'a> SpanItem<'a> {
    /// The resource's attributes (`service.name`, ...); empty without a resource.
    pub fn resource_attributes(&self) -> &'a [KeyValue] {
        self.resource.map_or(&[], |r| &r.attributes)
    }
}

/// A log record with the resource and scope it was sent under.
#[derive(Clone, Copy, Debug)]
pub struct LogItem<'a> {
    pub resource: Option<&'a Resource>,
    pub scope: Option<&'a InstrumentationScope>,
    pub record: &'a LogRecord,
}

impl<'a> LogItem<'a> {
    /// The resource's attributes (`service.name`, ...); empty without a resource.
    pub fn resource_attributes(&self) -> &'a [KeyValue] {
        self.resource.map_or(&[], |r| &r.attributes)
    }
}

impl ExportTraceServiceRequest {
    /// Every span in the request, in order, with its resource and scope.
    pub fn spans(&self) -> impl Iterator<Item = SpanItem<'_>> {
        self.resource_spans.iter().flat_map(|rs| {
            rs.scope_spans.iter().flat_map(move |ss| {
                ss.spans.iter().map(move |span| SpanItem {
                    resource: rs.resource.as_ref(),
                    scope: ss.scope.as_ref(),
                    span,
                })
            })
        })
    }

    /// How many spans the request carries (for `rejected_spans`).
    pub fn span_count(&self) -> usize {
        self.resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .map(|ss| ss.spans.len())
            .sum()
    }
}

impl ExportLogsServiceRequest {
    /// Every log record in the request, in order, with its resource and scope.
    pub fn log_records(&self) -> impl Iterator<Item = LogItem<'_>> {
        self.resource_logs.iter().flat_map(|rl| {
            rl.scope_logs.iter().flat_map(move |sl| {
                sl.log_records.iter().map(move |record| LogItem {
                    resource: rl.resource.as_ref(),
                    scope: sl.scope.as_ref(),
                    record,
                })
            })
        })
    }

    /// How many log records the request carries (for `rejected_log_records`).
    pub fn log_record_count(&self) -> usize {
        self.resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .map(|sl| sl.log_records.len())
            .sum()
    }
}
