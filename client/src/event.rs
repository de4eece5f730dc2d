//! The event as it goes over the wire (PROTOCOLS.md §1, the native API).
//!
//! ```json
//! {"uuid": "…", "timestamp": "2026-11-23T21:00:00.123Z", "level": "critical", "language": "rust",
//!  "platform": "linux", "environment": "production", "release": "1.4.2",
//!  "message": "panicked at src/main.rs:12:5: boom",
//!  "exceptions": [{"type": "panic", "value": "boom", "mechanism": {"type": "panic", "handled": false},
//!                  "frames": [{"function": "app::main", "filename": "src/main.rs", "lineno": 12, "in_app": true}]}],
//!  "server": {"host": "web-1", "pid": 4242, "root": "/app"},
//!  "thread": {"name": "main"}, "sdk": {"name": "bugle-rust", "version": "0.1.0"}, …}
//! ```
//! `exceptions` are outermost first; `frames` are outermost call first, the failing line last.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// How bad an occurrence is.
///
/// # Examples
/// ```
/// assert_eq!("warn".parse::<bugle::Level>(), Ok(bugle::Level::Warning));
/// assert_eq!(bugle::Level::Critical.to_string(), "critical");
/// ```
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fine-grained diagnostics.
    Debug,
    /// Something worth knowing.
    Info,
    /// Something that may need attention.
    Warning,
    /// A failed operation (the default for captured errors).
    #[default]
    Error,
    /// The process or a thread cannot go on (panics).
    Critical,
}

impl Level {
    /// The wire spelling: `critical`, `error`, `warning`, `info` or `debug`.
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

/// The string was not a level name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLevel(pub String);

impl fmt::Display for UnknownLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown level {:?}", self.0)
    }
}

impl std::error::Error for UnknownLevel {}

/// Accepts the Rollbar and Sentry spellings too (`fatal`, `warn`, `log`).
impl FromStr for Level {
    type Err = UnknownLevel;
    fn from_str(s: &str) -> Result<Self, UnknownLevel> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "critical" | "fatal" => Self::Critical,
            "error" => Self::Error,
            "warning" | "warn" => Self::Warning,
            "info" | "log" => Self::Info,
            "debug" | "trace" => Self::Debug,
            _ => return Err(UnknownLevel(s.to_owned())),
        })
    }
}

/// One occurrence, as sent to `POST /api/v1/events`.
///
/// The capture functions build it and the client fills in the metadata; `before_send` may change any
/// field. Top-level keys the model does not name go in [`Event::extra`] and are kept by the server.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// Unique per occurrence; the server stores a resent uuid once.
    pub uuid: Uuid,
    /// RFC 3339, UTC.
    pub timestamp: String,
    /// Severity.
    pub level: Level,
    /// Always `rust`.
    pub language: String,
    /// The OS family (`linux`, `macos`, `windows`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Deployment environment (`production`, `staging`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The app's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Free text; optional when exceptions are present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Outermost first: the reported error, then its causes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
    /// Overrides the server's grouping (`"{{ default }}"` stands for the default hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Vec<String>>,
    /// Where the process runs.
    #[serde(default)]
    pub server: Server,
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
    /// This SDK.
    #[serde(default)]
    pub sdk: Sdk,
    /// `os`, `device`, `runtime`.
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
    /// A new event with a fresh uuid and the current time; metadata is added when it is captured.
    ///
    /// # Examples
    /// ```
    /// let mut event = bugle::Event::new(bugle::Level::Info);
    /// event.message = Some("cache warmed".into());
    /// let sent = bugle::test::with_captured_events(|| {
    ///     bugle::capture_event(event);
    /// });
    /// assert_eq!(sent[0].message.as_deref(), Some("cache warmed"));
    /// assert_eq!(sent[0].language, "rust");
    /// ```
    pub fn new(level: Level) -> Self {
        Event {
            uuid: Uuid::new_v4(),
            timestamp: crate::time::now_rfc3339(),
            level,
            language: "rust".into(),
            platform: None,
            environment: None,
            release: None,
            message: None,
            exceptions: Vec::new(),
            fingerprint: None,
            server: Server::default(),
            person: None,
            tags: BTreeMap::new(),
            custom: Map::new(),
            breadcrumbs: Vec::new(),
            sdk: Sdk::default(),
            contexts: Map::new(),
            thread: None,
            extra: Map::new(),
        }
    }
}

/// One error in a chain.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Exception {
    /// The error's type (`std::io::Error`), or `panic`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Its message (`Display`).
    #[serde(default)]
    pub value: String,
    /// How it was caught.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<Mechanism>,
    /// Outermost call first, the failing frame last.
    #[serde(default)]
    pub frames: Vec<Frame>,
}

impl Exception {
    /// An exception without frames.
    pub fn new(ty: impl Into<String>, value: impl Into<String>) -> Self {
        Exception {
            ty: ty.into(),
            value: value.into(),
            mechanism: None,
            frames: Vec::new(),
        }
    }
}

/// How an exception was caught.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Mechanism {
    /// `panic`, `capture_error`, `tracing`, `log`…
    #[serde(rename = "type")]
    pub ty: String,
    /// False when nothing in the app handled it (a panic).
    pub handled: bool,
}

/// One stack frame.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Frame {
    /// Path relative to the code root when under it, else shortened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The full path the debug info names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abs_path: Option<String>,
    /// The function's module path (`app::config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The demangled function, symbol hash stripped (`app::config::load`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineno: Option<u32>,
    /// 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colno: Option<u32>,
    /// True for the app's own code; false for std, core, alloc, dependencies and this SDK.
    #[serde(default)]
    pub in_app: bool,
    /// The source line, when the file was readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_line: Option<String>,
    /// Up to 5 lines before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_context: Vec<String>,
    /// Up to 5 lines after.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_context: Vec<String>,
}

/// Where the process runs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Server {
    /// Host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The code root (working directory unless configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// The user an occurrence happened to.
///
/// # Examples
/// ```
/// bugle::set_person(bugle::Person::new("42").username("ada").email("ada@example.com"));
/// ```
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Person {
    /// Stable id.
    pub id: String,
    /// Login name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Person {
    /// A person known by id.
    pub fn new(id: impl Into<String>) -> Self {
        Person {
            id: id.into(),
            username: None,
            email: None,
        }
    }
    /// Sets the login name.
    #[must_use]
    pub fn username(self, username: impl Into<String>) -> Self {
        Person {
            username: Some(username.into()),
            ..self
        }
    }
    /// Sets the email address.
    #[must_use]
    pub fn email(self, email: impl Into<String>) -> Self {
        Person {
            email: Some(email.into()),
            ..self
        }
    }
}

/// Something that happened before an occurrence.
///
/// # Examples
/// ```
/// bugle::add_breadcrumb(bugle::Breadcrumb::new("db", "connected").level(bugle::Level::Debug));
/// ```
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Breadcrumb {
    /// RFC 3339, UTC.
    pub timestamp: String,
    /// What kind of thing (`http`, `db`, a log target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Severity.
    #[serde(default)]
    pub level: Level,
    /// What happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Structured details.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
}

impl Breadcrumb {
    /// A breadcrumb stamped now, at level info.
    pub fn new(category: impl Into<String>, message: impl Into<String>) -> Self {
        Breadcrumb {
            timestamp: crate::time::now_rfc3339(),
            category: Some(category.into()),
            level: Level::Info,
            message: Some(message.into()),
            data: Map::new(),
        }
    }
    /// Sets the level.
    #[must_use]
    pub fn level(self, level: Level) -> Self {
        Breadcrumb { level, ..self }
    }
    /// Adds one data key.
    #[must_use]
    pub fn data(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }
}

/// The SDK that sent an event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Sdk {
    /// `bugle-rust`.
    pub name: String,
    /// This crate's version.
    pub version: String,
}

impl Default for Sdk {
    fn default() -> Self {
        Sdk {
            name: crate::SDK_NAME.into(),
            version: crate::SDK_VERSION.into(),
        }
    }
}

/// The thread an event was captured on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Thread {
    /// `main`, the name given to `thread::Builder`, or `<unnamed>`.
    pub name: String,
    /// `ThreadId(N)`, unique within the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_serializes_with_the_wire_names() {
        let mut ev = Event::new(Level::Critical);
        ev.exceptions.push(Exception {
            mechanism: Some(Mechanism {
                ty: "panic".into(),
                handled: false,
            }),
            ..Exception::new("panic", "boom")
        });
        ev.extra.insert("x".into(), Value::from(1));
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["level"], "critical");
        assert_eq!(v["language"], "rust");
        assert_eq!(v["exceptions"][0]["type"], "panic");
        assert_eq!(v["exceptions"][0]["mechanism"]["handled"], false);
        assert_eq!(v["sdk"]["name"], "bugle-rust");
        assert_eq!(v["x"], 1);
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn levels_parse_from_other_spellings() {
        assert_eq!("FATAL".parse(), Ok(Level::Critical));
        assert_eq!("log".parse(), Ok(Level::Info));
        assert!("loud".parse::<Level>().is_err());
    }
}
