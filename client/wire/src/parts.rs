//! The parts of an event: exceptions and their frames, where it ran, who it happened to, what
//! came before. Every field a sender may leave out is optional, so the server reads any sender.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One error in a chain.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Exception {
    /// The error's type (`std::io::Error`, `ValueError`), or `panic`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The module that defines the type, when the type name does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// How it was caught.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<Mechanism>,
    /// Outermost call first, the failing frame last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<Frame>,
}

impl Exception {
    /// An exception without frames.
    pub fn new(ty: impl Into<String>, value: impl Into<String>) -> Self {
        Exception {
            ty: ty.into(),
            value: Some(value.into()),
            ..Exception::default()
        }
    }
}

/// How an exception was caught: `{"type": "panic", "handled": false}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Mechanism {
    /// `panic`, `capture_error`, `tracing`, `log`, Sentry's `onunhandledrejection`…
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub ty: String,
    /// False when nothing in the app handled it (a panic, an uncaught exception).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled: Option<bool>,
    /// Whatever else the SDK said about it (Sentry: `synthetic`, `data`, `description`…).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Mechanism {
    /// A mechanism of a kind, handled or not.
    pub fn new(ty: impl Into<String>, handled: bool) -> Self {
        Mechanism {
            ty: ty.into(),
            handled: Some(handled),
            other: Map::new(),
        }
    }
}

/// One stack frame.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
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
    /// The function (`app::config::load`), symbol hash stripped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// 1-based line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lineno: Option<u32>,
    /// 1-based column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colno: Option<u32>,
    /// True for the app's own code; false for the runtime, dependencies and the SDK; absent when
    /// the sender does not know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_app: Option<bool>,
    /// The source line, when the file was readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_line: Option<String>,
    /// Up to 5 lines before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_context: Vec<String>,
    /// Up to 5 lines after.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_context: Vec<String>,
    /// Local variables (Rollbar `locals`, Sentry `vars`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vars: Option<Value>,
    /// Native code: the binary or library the frame is in (`/usr/lib/libc.so.6`, `MyApp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Native code: the raw (possibly mangled) symbol, when `function` is its readable form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Native code: the address of the instruction (`0x1a2b3c`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction_addr: Option<String>,
    /// Native code: where the frame's image was loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_addr: Option<String>,
}

/// Where the process runs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Server {
    /// Host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Process id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The code root; stripped from filenames for grouping and display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// The branch the code was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// The HTTP request being served.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Request {
    /// Full URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `GET`, `POST`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Request headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Query parameters: an object, or the raw query string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    /// Request body or form data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The client's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_ip: Option<String>,
    /// Cookies: an object, or the raw `Cookie` header (values scrubbed before storing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookies: Option<Value>,
    /// The server environment of the request (CGI/WSGI variables such as `REMOTE_ADDR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Value>,
}

/// The user an occurrence happened to.
///
/// # Examples
/// ```
/// let ada = bugle_wire::Person::new("42").username("ada").email("ada@example.com");
/// assert_eq!(ada.id.as_deref(), Some("42"));
/// ```
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Person {
    /// Stable id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Login name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where the user is: `{"country_code": "DE", "city": "Berlin", "region": "..."}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Value>,
    /// Anything else the app said about the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl Person {
    /// A person known by id.
    pub fn new(id: impl Into<String>) -> Self {
        Person {
            id: Some(id.into()),
            ..Person::default()
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
/// use bugle_wire::{Breadcrumb, Level};
/// let crumb = Breadcrumb::new("http", "GET /cart").level(Level::Debug).data("status", 200);
/// assert_eq!(crumb.level.as_deref(), Some("debug"));
/// assert_eq!(crumb.data["status"], 200);
/// ```
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Breadcrumb {
    /// When it happened.
    #[serde(
        default,
        deserialize_with = "crate::time::deserialize_opt",
        serialize_with = "crate::time::serialize_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<DateTime<Utc>>,
    /// Sentry's breadcrumb type (`http`, `navigation`, `default`…).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// What kind of thing (`http`, `db`, a log target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Severity, as the sender spells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
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
            timestamp: Some(Utc::now()),
            category: Some(category.into()),
            level: Some(crate::Level::Info.as_str().into()),
            message: Some(message.into()),
            ..Breadcrumb::default()
        }
    }
    /// Sets the level.
    #[must_use]
    pub fn level(self, level: crate::Level) -> Self {
        Breadcrumb {
            level: Some(level.as_str().into()),
            ..self
        }
    }
    /// Adds one data key.
    #[must_use]
    pub fn data(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }
}

/// The distributed trace an occurrence belongs to (W3C ids, lowercase hex).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Trace {
    /// 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// 16 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
}

/// The SDK that sent an event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Sdk {
    /// `bugle-rust`, `sentry.python`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A thread of the process: the one an event was captured on, or one of a crash's threads.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Thread {
    /// `main`, the name given to `thread::Builder`, or `<unnamed>`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// `ThreadId(N)`, unique within the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The thread that crashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crashed: Option<bool>,
    /// The thread that captured the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
    /// The process's main thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<bool>,
    /// `Runnable`, `Waiting`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// Its stack, outermost call first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<Frame>,
}
