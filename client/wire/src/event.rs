//! The whole event, as a sender builds it.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{Breadcrumb, Exception, Level, Person, Request, Sdk, Server, Thread, Trace};

/// One occurrence, as sent to `POST /api/v1/events`.
///
/// Top-level keys the model does not name go in [`Event::extra`] and are kept by the server.
///
/// # Examples
/// ```
/// let mut event = bugle_wire::Event::new(bugle_wire::Level::Info);
/// event.message = Some("cache warmed".into());
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["level"], "info");
/// assert_eq!(json["language"], "rust");
/// ```
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// Unique per occurrence; the server stores a resent uuid once.
    pub uuid: Uuid,
    /// When it happened (RFC 3339, UTC, to the millisecond on the wire).
    #[serde(
        serialize_with = "crate::time::serialize_millis",
        deserialize_with = "crate::time::deserialize"
    )]
    pub timestamp: DateTime<Utc>,
    /// Severity.
    pub level: Level,
    /// The app's language (`rust`).
    pub language: String,
    /// The OS family (`linux`, `macos`, `windows`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The app's framework (`actix-web`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// Deployment environment (`production`, `staging`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The app's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// A title chosen by the app; otherwise the server derives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Free text; optional when exceptions are present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The message's template (the format string before its arguments were put in), when the
    /// sender knows it: events of one template are one issue, whatever the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_template: Option<String>,
    /// Outermost first: the reported error, then its causes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
    /// Overrides the server's grouping (`"{{ default }}"` stands for the default hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Vec<String>>,
    /// Where the process runs.
    #[serde(default)]
    pub server: Server,
    /// The HTTP request being served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// The user affected, if the app said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Person>,
    /// Short indexed key/values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Any JSON the app attached.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub custom: Map<String, Value>,
    /// What happened before, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breadcrumbs: Vec<Breadcrumb>,
    /// The distributed trace it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    /// The SDK that sent it.
    #[serde(default)]
    pub sdk: Sdk,
    /// Environment descriptions keyed by kind (`os`, `runtime`, `browser`, `device`), each an
    /// object with at least `name`, as Sentry's contexts are.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub contexts: Map<String, Value>,
    /// The thread that captured the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<Thread>,
    /// Other top-level keys, sent as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Event {
    /// A new Rust event with a fresh uuid and the current time (to the millisecond, as the wire
    /// carries it).
    pub fn new(level: Level) -> Self {
        Event {
            uuid: Uuid::new_v4(),
            timestamp: Utc::now().trunc_subsecs(3),
            level,
            language: "rust".into(),
            platform: None,
            framework: None,
            environment: None,
            release: None,
            title: None,
            message: None,
            message_template: None,
            exceptions: Vec::new(),
            fingerprint: None,
            server: Server::default(),
            request: None,
            person: None,
            tags: BTreeMap::new(),
            custom: Map::new(),
            breadcrumbs: Vec::new(),
            trace: None,
            sdk: Sdk::default(),
            contexts: Map::new(),
            thread: None,
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Frame, Mechanism};

    #[test]
    fn an_event_serializes_with_the_wire_names_and_reads_back() {
        let mut ev = Event::new(Level::Critical);
        ev.exceptions.push(Exception {
            mechanism: Some(Mechanism::new("panic", false)),
            frames: vec![Frame {
                function: Some("app::main".into()),
                in_app: Some(true),
                ..Frame::default()
            }],
            ..Exception::new("panic", "boom")
        });
        ev.breadcrumbs.push(Breadcrumb::new("db", "connected"));
        ev.extra.insert("x".into(), Value::from(1));
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["level"], "critical");
        assert_eq!(v["language"], "rust");
        assert_eq!(v["exceptions"][0]["type"], "panic");
        assert_eq!(v["exceptions"][0]["mechanism"]["handled"], false);
        assert_eq!(v["exceptions"][0]["frames"][0]["in_app"], true);
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(v["x"], 1);
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev);
    }
}
