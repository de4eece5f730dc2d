//! The one normalized occurrence every wire protocol maps into.
//!
//! Native events (PROTOCOLS.md §1) deserialize straight into [`Event`]; the Sentry and Rollbar
//! mappers build one. The model is lenient about extras (unknown keys land in `extra` and are
//! stored) and strict about invariants ([`Event::validate`]): an event must say *what* happened,
//! through an exception or a message.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// Severity, in Rollbar's words; Sentry's and log crates' spellings are accepted when parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level {0:?} (expected critical, error, warning, info or debug)")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, UnknownLevel> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "critical" | "fatal" => Level::Critical,
            "error" | "err" => Level::Error,
            "warning" | "warn" => Level::Warning,
            "info" | "log" | "notice" => Level::Info,
            "debug" | "trace" => Level::Debug,
            _ => return Err(UnknownLevel(s.to_owned())),
        })
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One occurrence of an error or message, whatever protocol brought it.
///
/// Deserialized by hand (below): serde's derive with a `flatten` field buffers the whole
/// document into an intermediate tree first, which doubled the parsing cost of a 15 KB event.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Event {
    /// The client's id for this occurrence; the server makes one (v7) when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<Uuid>,
    /// When it happened, per the client: RFC 3339 or unix seconds on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// A client-chosen title; otherwise grouping derives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The exception chain, outermost (the reported error) first, then its causes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
    /// Client grouping override; `{{ default }}` expands to the default components.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<Server>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<Person>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub breadcrumbs: Vec<Breadcrumb>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<Sdk>,
    /// Environment descriptions keyed by kind (`os`, `runtime`, `browser`, `device`), each an
    /// object with at least `name` and usually `version`, as Sentry's contexts are.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub contexts: Map<String, Value>,
    /// Everything else the client sent, kept so nothing is lost.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Fills the known fields in one pass and keeps unknown keys in `extra`. Field types and their
/// treatment of `null` match what the derive did (`Option` fields take `null`, lists do not).
impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> serde::de::Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let mut e = Event::default();
        while let Some(key) = map.next_key::<EventKey>()? {
            match key {
                EventKey::Uuid => e.uuid = map.next_value()?,
                EventKey::Timestamp => e.timestamp = map.next_value::<Timestamp>()?.0,
                EventKey::Level => e.level = map.next_value()?,
                EventKey::Language => e.language = map.next_value()?,
                EventKey::Platform => e.platform = map.next_value()?,
                EventKey::Framework => e.framework = map.next_value()?,
                EventKey::Environment => e.environment = map.next_value()?,
                EventKey::Release => e.release = map.next_value()?,
                EventKey::Title => e.title = map.next_value()?,
                EventKey::Message => e.message = map.next_value()?,
                EventKey::Exceptions => e.exceptions = map.next_value()?,
                EventKey::Fingerprint => e.fingerprint = map.next_value()?,
                EventKey::Server => e.server = map.next_value()?,
                EventKey::Request => e.request = map.next_value()?,
                EventKey::Person => e.person = map.next_value()?,
                EventKey::Tags => e.tags = map.next_value()?,
                EventKey::Custom => e.custom = map.next_value()?,
                EventKey::Breadcrumbs => e.breadcrumbs = map.next_value()?,
                EventKey::Trace => e.trace = map.next_value()?,
                EventKey::Sdk => e.sdk = map.next_value()?,
                EventKey::Contexts => e.contexts = map.next_value()?,
                EventKey::Other(name) => {
                    e.extra.insert(name, map.next_value()?);
                }
            }
        }
        Ok(e)
    }
}

/// A top-level key of an event: known names without allocating, anything else kept.
enum EventKey {
    Uuid,
    Timestamp,
    Level,
    Language,
    Platform,
    Framework,
    Environment,
    Release,
    Title,
    Message,
    Exceptions,
    Fingerprint,
    Server,
    Request,
    Person,
    Tags,
    Custom,
    Breadcrumbs,
    Trace,
    Sdk,
    Contexts,
    Other(String),
}

impl<'de> Deserialize<'de> for EventKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = EventKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<EventKey, E> {
                Ok(match key {
                    "uuid" => EventKey::Uuid,
                    "timestamp" => EventKey::Timestamp,
                    "level" => EventKey::Level,
                    "language" => EventKey::Language,
                    "platform" => EventKey::Platform,
                    "framework" => EventKey::Framework,
                    "environment" => EventKey::Environment,
                    "release" => EventKey::Release,
                    "title" => EventKey::Title,
                    "message" => EventKey::Message,
                    "exceptions" => EventKey::Exceptions,
                    "fingerprint" => EventKey::Fingerprint,
                    "server" => EventKey::Server,
                    "request" => EventKey::Request,
                    "person" => EventKey::Person,
                    "tags" => EventKey::Tags,
                    "custom" => EventKey::Custom,
                    "breadcrumbs" => EventKey::Breadcrumbs,
                    "trace" => EventKey::Trace,
                    "sdk" => EventKey::Sdk,
                    "contexts" => EventKey::Contexts,
                    other => EventKey::Other(other.to_owned()),
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// `timestamp` as RFC 3339 or unix seconds (see [`de_timestamp`]).
struct Timestamp(Option<DateTime<Utc>>);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de_timestamp(d).map(Timestamp)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exception {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// How it was caught, e.g. `{"type": "panic", "handled": false}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<Value>,
    /// Outermost call first, the failing line last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<Frame>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abs_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineno: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colno: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_line: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_context: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_context: Vec<String>,
    /// Local variables (Rollbar `locals`, Sentry `vars`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vars: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Server {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The code root; stripped from filenames for grouping and display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Query parameters: an object, or the raw query string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    /// Request body or form data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_ip: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Person {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Breadcrumb {
    #[serde(
        default,
        deserialize_with = "de_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<DateTime<Utc>>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sdk {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Why an event cannot be stored; the message is shown to the client as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEvent {
    #[error("event has neither `exceptions` nor `message`: one of them is required")]
    NothingHappened,
    #[error("exceptions[{0}].type is empty")]
    EmptyExceptionType(usize),
    #[error("`{field}` is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
}

/// Longest accepted values for the fields that are indexed or shown in lists.
const MAX_SHORT: usize = 255;

impl Event {
    /// Checks the invariants every stored event keeps, whatever protocol brought it.
    pub fn validate(&self) -> Result<(), InvalidEvent> {
        let has_message = self
            .message
            .as_deref()
            .is_some_and(|m| !m.trim().is_empty());
        if self.exceptions.is_empty() && !has_message {
            return Err(InvalidEvent::NothingHappened);
        }
        if let Some(i) = self.exceptions.iter().position(|e| e.ty.trim().is_empty()) {
            return Err(InvalidEvent::EmptyExceptionType(i));
        }
        for (field, value) in [
            ("environment", &self.environment),
            ("release", &self.release),
            ("language", &self.language),
            ("platform", &self.platform),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_SHORT)
            {
                return Err(InvalidEvent::TooLong {
                    field,
                    max: MAX_SHORT,
                });
            }
        }
        Ok(())
    }

    /// Fills what the server decides when the client did not: id, time, level.
    pub fn finalize(&mut self, received_at: DateTime<Utc>) {
        self.uuid.get_or_insert_with(Uuid::now_v7);
        self.timestamp.get_or_insert(received_at);
        if self.level.is_none() {
            self.level = Some(if self.exceptions.is_empty() {
                Level::Info
            } else {
                Level::Error
            });
        }
    }

    pub fn level(&self) -> Level {
        self.level.unwrap_or(Level::Error)
    }

    pub fn host(&self) -> Option<&str> {
        self.server.as_ref()?.host.as_deref()
    }

    /// `name version` of a context such as `os` or `browser`, for breakdowns.
    pub fn context_name(&self, kind: &str) -> Option<String> {
        let ctx = self.contexts.get(kind)?.as_object()?;
        let name = ctx.get("name")?.as_str()?;
        Some(match ctx.get("version").and_then(Value::as_str) {
            Some(v) => format!("{name} {v}"),
            None => name.to_owned(),
        })
    }
}

/// Accepts RFC 3339 strings and unix seconds (integer or float), the two forms clients send.
fn de_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(&s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| D::Error::custom(format!("invalid timestamp {s:?}: {e}"))),
        Some(Value::Number(n)) => n
            .as_f64()
            .and_then(timestamp_from_unix)
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("invalid unix timestamp {n}"))),
        Some(other) => Err(D::Error::custom(format!(
            "invalid timestamp {other}: expected an RFC 3339 string or unix seconds"
        ))),
    }
}

/// Unix seconds (fractions allowed) to a time; `None` when out of range.
pub fn timestamp_from_unix(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() || !(0.0..=253_402_300_799.0).contains(&secs) {
        return None;
    }
    let whole = secs.trunc() as i64;
    let nanos = ((secs - secs.trunc()) * 1e9) as u32;
    Utc.timestamp_opt(whole, nanos).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_example_parses_and_keeps_unknown_keys() {
        let ev: Event = serde_json::from_value(serde_json::json!({
            "timestamp": 1_700_000_000,
            "level": "fatal",
            "exceptions": [{"type": "app::Error", "value": "boom", "frames": [{"filename": "src/main.rs", "lineno": 3}]}],
            "server": {"host": "web-1", "pid": 42},
            "something_new": {"a": 1}
        }))
        .unwrap();
        assert_eq!(ev.level, Some(Level::Critical));
        assert_eq!(ev.timestamp.unwrap().timestamp(), 1_700_000_000);
        assert_eq!(ev.host(), Some("web-1"));
        assert_eq!(ev.extra["something_new"]["a"], 1);
        assert!(ev.validate().is_ok());
        let back = serde_json::to_value(&ev).unwrap();
        assert_eq!(back["something_new"]["a"], 1);
    }

    #[test]
    fn an_event_without_exception_or_message_is_invalid() {
        let ev = Event::default();
        assert_eq!(ev.validate(), Err(InvalidEvent::NothingHappened));
        let ev = Event {
            message: Some("  ".into()),
            ..Event::default()
        };
        assert_eq!(ev.validate(), Err(InvalidEvent::NothingHappened));
    }

    #[test]
    fn finalize_fills_id_time_and_level() {
        let mut ev = Event {
            message: Some("disk almost full".into()),
            ..Event::default()
        };
        let now = Utc::now();
        ev.finalize(now);
        assert!(ev.uuid.is_some());
        assert_eq!(ev.timestamp, Some(now));
        assert_eq!(ev.level, Some(Level::Info));
    }

    #[test]
    fn every_field_round_trips_and_null_means_what_it_did_with_the_derive() {
        let text = r#"{"uuid":"0b7f6c1e-5c8e-4a43-9a55-7d0f3b0a2c11","timestamp":"2026-11-30T10:00:00Z",
            "level":"warning","language":"rust","platform":"rust","framework":"actix","environment":"prod",
            "release":"1.2","title":"T","message":"m","exceptions":[{"type":"E"}],"fingerprint":["a"],
            "server":{"host":"h"},"request":{"url":"/x"},"person":{"id":"7"},"tags":{"k":"v"},
            "custom":{"c":1},"breadcrumbs":[{"message":"b"}],"trace":{"trace_id":"t"},
            "sdk":{"name":"s"},"contexts":{"os":{"name":"Linux"}},"x\u0079z":[1]}"#;
        let ev: Event = serde_json::from_str(text).unwrap();
        assert_eq!(ev.extra["xyz"], serde_json::json!([1]));
        assert_eq!(ev.contexts["os"]["name"], "Linux");
        let back: Event = serde_json::from_slice(&serde_json::to_vec(&ev).unwrap()).unwrap();
        assert_eq!(back, ev);
        let nulls: Event =
            serde_json::from_str(r#"{"message":"m","release":null,"timestamp":null}"#).unwrap();
        assert_eq!((nulls.release, nulls.timestamp), (None, None));
        assert!(serde_json::from_str::<Event>(r#"{"message":"m","exceptions":null}"#).is_err());
        assert!(serde_json::from_str::<Event>(r#"["not", "an", "object"]"#).is_err());
    }

    #[test]
    fn unknown_levels_are_rejected_with_a_clear_message() {
        let err = serde_json::from_str::<Event>(r#"{"message":"x","level":"loud"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown level"), "{err}");
    }
}
