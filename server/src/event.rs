//! The one normalized occurrence every wire protocol maps into.
//!
//! Native events (PROTOCOLS.md §1) deserialize straight into [`Event`]; the Sentry and Rollbar
//! mappers build one. Its parts (exceptions, frames, breadcrumbs…) are the native wire format's,
//! defined once in `bugle-wire` for the client and the server; [`Event`] is the wire event as the
//! server reads it from any sender: every top-level field optional, and room for what other
//! protocols bring. The model is lenient about extras (unknown keys land in `extra` and are
//! stored) and strict about invariants ([`Event::validate`]): an event must say *what* happened,
//! through an exception or a message.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use bugle_wire::time::from_unix as timestamp_from_unix;
pub use bugle_wire::{
    Breadcrumb, Exception, Frame, Level, Mechanism, Person, Request, Sdk, Server, Thread, Trace,
    UnknownLevel,
};

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
    /// The message's format string, when the sender knows it (Sentry `logentry.message` with
    /// `params`): grouping uses it instead of the formatted message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_template: Option<String>,
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
    /// The process's threads, when the sender reports them (native crashes, Sentry `threads`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<Thread>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sdk: Option<Sdk>,
    /// Environment descriptions keyed by kind (`os`, `runtime`, `browser`, `device`), each an
    /// object with at least `name` and usually `version`, as Sentry's contexts are.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub contexts: Map<String, Value>,
    /// Installed packages and their versions (Sentry `modules`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub modules: BTreeMap<String, String>,
    /// Native code: the binaries loaded in the process (Sentry `debug_meta.images`), each as
    /// sent (`type`, `code_file`, `debug_id`, `image_addr`, `image_size`, `arch`…). Frames are
    /// not symbolicated: addresses are shown as sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub debug_images: Vec<Value>,
    /// What ingest changed or dropped, and why: a field of the wrong type, a value cut to its
    /// limit. Shown on the occurrence page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processing_notes: Vec<ProcessingNote>,
    /// Everything else the client sent, kept so nothing is lost.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One thing ingest did to an event that the sender should know about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessingNote {
    /// Where: `exception.values[2]`, `user.geo`, `release`.
    pub path: String,
    /// What and why: "dropped: expected an object, got a number".
    pub reason: String,
}

impl ProcessingNote {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        ProcessingNote {
            path: path.into(),
            reason: reason.into(),
        }
    }
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
                EventKey::MessageTemplate => e.message_template = map.next_value()?,
                EventKey::Threads => e.threads = map.next_value()?,
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
                EventKey::Modules => e.modules = map.next_value()?,
                EventKey::DebugImages => e.debug_images = map.next_value()?,
                EventKey::ProcessingNotes => e.processing_notes = map.next_value()?,
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
    MessageTemplate,
    Threads,
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
    Modules,
    DebugImages,
    ProcessingNotes,
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
                    "message_template" => EventKey::MessageTemplate,
                    "threads" => EventKey::Threads,
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
                    "modules" => EventKey::Modules,
                    "debug_images" => EventKey::DebugImages,
                    "processing_notes" => EventKey::ProcessingNotes,
                    other => EventKey::Other(other.to_owned()),
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// `timestamp` as RFC 3339 or unix seconds.
struct Timestamp(Option<DateTime<Utc>>);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bugle_wire::time::deserialize_opt(d).map(Timestamp)
    }
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

    /// What the SDK protocols (Sentry, Rollbar) do instead of [`Event::validate`]: an event
    /// needs only to exist, so what would be invalid is mended and noted, never refused. Over-long
    /// short fields are cut, an empty exception type becomes `Error`.
    pub fn sanitize(&mut self) {
        let mut notes = Vec::new();
        for (field, value) in [
            ("environment", &mut self.environment),
            ("release", &mut self.release),
            ("language", &mut self.language),
            ("platform", &mut self.platform),
        ] {
            if let Some(v) = value.as_mut().filter(|v| v.chars().count() > MAX_SHORT) {
                *v = v.chars().take(MAX_SHORT).collect();
                notes.push(ProcessingNote::new(
                    field,
                    format!("cut to {MAX_SHORT} characters"),
                ));
            }
        }
        for (i, exc) in self.exceptions.iter_mut().enumerate() {
            if exc.ty.trim().is_empty() {
                exc.ty = "Error".into();
                notes.push(ProcessingNote::new(
                    format!("exceptions[{i}].type"),
                    "empty: `Error` used",
                ));
            }
        }
        self.processing_notes.extend(notes);
    }

    /// Fills what the server decides when the client did not: id, time, level, and the trace
    /// of the request being served when it came with a W3C `traceparent` header (how a
    /// Rollbar item, which has no trace field, or an SDK without tracing joins the trace).
    pub fn finalize(&mut self, received_at: DateTime<Utc>) {
        if self.trace.is_none() {
            self.trace = self.request.as_ref().and_then(|r| {
                let (_, value) = r
                    .headers
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case("traceparent"))?;
                traceparent(value)
            });
        }
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

/// What a Bugle client sends is what the server reads: the same parts, with the top-level fields
/// the client always sets made optional, and its other keys (`thread`) kept as extras.
impl From<bugle_wire::Event> for Event {
    fn from(w: bugle_wire::Event) -> Self {
        let mut extra = w.extra;
        if let Some(thread) = w.thread {
            extra.insert(
                "thread".into(),
                serde_json::to_value(thread).expect("a thread serializes"),
            );
        }
        let server = (w.server != Server::default()).then_some(w.server);
        let sdk = (w.sdk != Sdk::default()).then_some(w.sdk);
        Event {
            uuid: Some(w.uuid),
            timestamp: Some(w.timestamp),
            level: Some(w.level),
            language: Some(w.language),
            platform: w.platform,
            framework: w.framework,
            environment: w.environment,
            release: w.release,
            title: w.title,
            message: w.message,
            message_template: w.message_template,
            exceptions: w.exceptions,
            fingerprint: w.fingerprint,
            server,
            request: w.request,
            person: w.person,
            tags: w.tags,
            custom: (!w.custom.is_empty()).then_some(Value::Object(w.custom)),
            breadcrumbs: w.breadcrumbs,
            threads: Vec::new(),
            trace: w.trace,
            sdk,
            contexts: w.contexts,
            modules: BTreeMap::new(),
            debug_images: Vec::new(),
            processing_notes: Vec::new(),
            extra,
        }
    }
}

/// The trace and parent span of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`; a later
/// version may add fields after those); `None` for anything else or all-zero ids.
pub fn traceparent(value: &str) -> Option<Trace> {
    let mut parts = value.trim().split('-');
    let version = parts.next()?;
    let (trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let valid = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && hex(span, 16)
        && hex(flags, 2)
        && (version != "00" || parts.next().is_none())
        && trace.bytes().any(|b| b != b'0')
        && span.bytes().any(|b| b != b'0');
    valid.then(|| Trace {
        trace_id: Some(trace.to_ascii_lowercase()),
        span_id: Some(span.to_ascii_lowercase()),
    })
}

/// A trace id as stored for lookups: hex digits lowercased, dashes dropped (X-Ray's
/// `1-5759e988-bd862e3fe1be46a994272793`), 16 to 64 digits; anything else is no trace id.
pub fn trace_key(id: &str) -> Option<String> {
    let key: String = id
        .trim()
        .chars()
        .filter(|&c| c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let hex = key.bytes().all(|b| b.is_ascii_hexdigit());
    (hex && (16..=64).contains(&key.len()) && key.bytes().any(|b| b != b'0')).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_gives_its_trace_and_span() {
        let t = traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(
            t.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(t.span_id.as_deref(), Some("00f067aa0ba902b7"));
        // A later version may append fields; version 00 may not.
        assert!(
            traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz").is_some()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert!(traceparent(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn an_event_without_a_trace_takes_its_requests_traceparent() {
        let mut ev = Event::default();
        let mut request = Request::default();
        request.headers.insert(
            "Traceparent".into(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        );
        ev.request = Some(request);
        ev.finalize(Utc::now());
        let trace = ev.trace.clone().unwrap();
        assert_eq!(
            trace.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        // A trace the SDK reported wins over the header.
        let mut own = ev.clone();
        own.trace = Some(Trace {
            trace_id: Some("a".repeat(32)),
            span_id: None,
        });
        own.finalize(Utc::now());
        assert_eq!(own.trace.unwrap().trace_id, Some("a".repeat(32)));
    }

    #[test]
    fn trace_ids_are_stored_as_lowercase_hex() {
        assert_eq!(
            trace_key("4BF92F3577B34DA6A3CE929D0E0E4736").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(
            trace_key("1-5759e988-bd862e3fe1be46a994272793").as_deref(),
            Some("15759e988bd862e3fe1be46a994272793")
        );
        for bad in ["", "xyz", "00000000000000000000000000000000", "abc"] {
            assert_eq!(trace_key(bad), None, "{bad:?}");
        }
    }

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
