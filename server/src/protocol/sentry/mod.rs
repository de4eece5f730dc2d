//! A Sentry event payload (an envelope `event` item or a legacy `/store/` body) → [`Event`].
//!
//! Lenient like Sentry's own ingestion: any JSON object is an event (a minimal one has only
//! `event_id`, `timestamp`, `platform` and `level`; grouping titles it `<unlabeled event>`).
//! A value of the wrong type is dropped from the model with a note in `processing_notes`
//! (`{path: "user.geo", reason: "dropped: expected an object, got a number"}`) and kept raw
//! in `extra.dropped` under that path. Only a payload that is not a JSON object is an error
//! (400).
//!
//! Raven-era interface names map onto the same fields as the modern keys (the modern key wins
//! when both are sent; the other is kept in `extra.dropped` with a note):
//!
//! | modern key | legacy alias | goes to |
//! | --- | --- | --- |
//! | `exception` | `sentry.interfaces.Exception` | `exceptions` (reversed: outermost first) |
//! | `stacktrace` | `sentry.interfaces.Stacktrace` | the outermost exception's frames, else the current thread's |
//! | `threads` | `sentry.interfaces.Threads` | `threads` |
//! | `logentry` (and `message`) | `sentry.interfaces.Message` | `message`, `message_template` |
//! | `request` | `sentry.interfaces.Http` | `request` |
//! | `user` | `sentry.interfaces.User` | `person` |
//! | `breadcrumbs` | `sentry.interfaces.Breadcrumbs` | `breadcrumbs` |
//! | `contexts` | `sentry.interfaces.Contexts` | `contexts` (`trace` also → `trace`) |
//! | `debug_meta` | `sentry.interfaces.DebugMeta` | `debug_images` |
//! | `template` | `sentry.interfaces.Template` | a frame, and `contexts.template` |
//! | `query` | `sentry.interfaces.Query` | `contexts.query` |
//! | `csp`, `hpkp`, `expectct`, `expectstaple`, `nel` | `sentry.interfaces.Csp`, `.Hpkp`, `.ExpectCT`, `.ExpectStaple`, `.Nel` | `contexts.<kind>`, and a message |
//!
//! Besides: `event_id` → `uuid`, `server_name` → `server.host`, `extra` → `custom`, `tags` (a
//! map or pairs), `logger`, `transaction`, `dist` and `site` → tags of those names, `modules`,
//! `fingerprint`, `sdk`. Everything else (`culprit`, `errors`, `_meta`...) is kept in `extra`.
//!
//! The modules: [`exception`] (exceptions, frames, threads, template), `message`,
//! `interfaces` (the scope's interfaces), `security` (browser reports), `auth` (header, DSN).

mod auth;
mod exception;
mod interfaces;
mod message;
mod security;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use auth::{key_from_dsn, parse_sentry_auth, SentryAuth};

use super::envelope::{Envelope, Item, ItemType};
use super::{
    element, json_type, string, string_or_number, unix_seconds, MapError, Notes, Obj, Path,
};
use crate::event::{Event, Level, Sdk};

/// Maps a Sentry event JSON payload. Invalid JSON or a non-object is a [`MapError`] (400);
/// everything else maps, what could not be read noted.
pub fn event_from_sentry(payload: &[u8]) -> Result<Event, MapError> {
    let value: Value = serde_json::from_slice(payload).map_err(MapError::InvalidJson)?;
    event_from_sentry_value(value)
}

/// [`event_from_sentry`] for a payload that is already parsed.
pub fn event_from_sentry_value(value: Value) -> Result<Event, MapError> {
    match value {
        Value::Object(obj) => Ok(map_event(obj)),
        other => Err(MapError::NotAnObject {
            what: "event",
            got: json_type(&other),
        }),
    }
}

/// Whether a payload is a performance transaction (`"type": "transaction"`) rather than an
/// event: `/store/` may carry one. Transactions are not stored.
pub fn is_transaction(payload: &Value) -> bool {
    payload.get("type").and_then(Value::as_str) == Some("transaction")
}

/// What a `/store/` body holds.
#[derive(Debug)]
pub enum SentryPayload {
    /// An event to store.
    Event(Box<Event>),
    /// A performance transaction: to be accepted, counted and skipped.
    Transaction,
}

/// Maps a `/store/` body: an event, or a transaction to skip. Invalid JSON or a non-object is
/// a [`MapError`] (400).
pub fn payload_from_store(payload: &[u8]) -> Result<SentryPayload, MapError> {
    let value: Value = serde_json::from_slice(payload).map_err(MapError::InvalidJson)?;
    if is_transaction(&value) {
        return Ok(SentryPayload::Transaction);
    }
    event_from_sentry_value(value).map(|ev| SentryPayload::Event(Box::new(ev)))
}

/// The event of an envelope, if it carries one (`Ok(None)` for sessions, client reports, ...,
/// and for an `event` item that is a transaction). The envelope's `event_id` header wins over
/// the payload's, and its `sdk` fills a missing one.
pub fn event_from_envelope(envelope: &Envelope) -> Result<Option<Event>, MapError> {
    match envelope.item(&ItemType::Event) {
        Some(item) => event_from_item(envelope, item),
        None => Ok(None),
    }
}

/// One event item of `envelope` mapped with the envelope's headers: its `event_id` wins and
/// its `sdk` fills in. Borrowed, so the ingest path copies no payload to map one item.
pub fn event_from_item(envelope: &Envelope, item: &Item) -> Result<Option<Event>, MapError> {
    let mut event = match payload_from_store(&item.payload)? {
        SentryPayload::Event(event) => *event,
        SentryPayload::Transaction => return Ok(None),
    };
    if let Some(id) = envelope.event_id() {
        event.uuid = Some(id);
    }
    if event.sdk.is_none() {
        event.sdk = envelope.headers.get("sdk").and_then(|v| {
            let sdk = Sdk {
                name: string(v.get("name")),
                version: string_or_number(v.get("version")),
            };
            (sdk != Sdk::default()).then_some(sdk)
        });
        if event.language.is_none() {
            event.language = language(event.platform.as_deref(), event.sdk.as_ref());
        }
    }
    Ok(Some(event))
}

fn map_event(obj: Map<String, Value>) -> Event {
    let mut notes = Notes::default();
    let mut top = Obj::new(obj, Path::Top);
    let mut ev = Event {
        uuid: top.parsed("event_id", &mut notes, "a UUID", |v| {
            Uuid::parse_str(v.as_str()?).ok()
        }),
        timestamp: top.parsed("timestamp", &mut notes, TIME, timestamp),
        level: top.parsed("level", &mut notes, LEVEL, level),
        platform: top.text("platform", &mut notes),
        release: top.text("release", &mut notes),
        environment: top.text("environment", &mut notes),
        sdk: interfaces::sdk(&mut top, &mut notes),
        ..Event::default()
    };
    ev.platform.get_or_insert_with(|| "other".to_owned());
    ev.environment
        .get_or_insert_with(|| "production".to_owned());
    ev.language = language(ev.platform.as_deref(), ev.sdk.as_ref());

    interfaces::map(&mut top, &mut ev, &mut notes);
    exception::map(&mut top, &mut ev, &mut notes);
    message::map(&mut top, &mut ev, &mut notes);
    // Last: a report titles the event only when nothing else does.
    security::map(&mut top, &mut ev, &mut notes);

    notes.finish(top.map, &mut ev);
    ev
}

/// Takes `modern`, else its raven-era alias, with the key that was used (for paths). When
/// both are sent the modern one wins and the alias is kept in `extra.dropped` with a note.
fn take_aliased(
    top: &mut Obj<'_>,
    notes: &mut Notes,
    modern: &'static str,
    legacy: &'static str,
) -> Option<(&'static str, Value)> {
    match (top.take(modern), top.take(legacy)) {
        (Some(value), Some(alias)) => {
            notes.drop(
                &Path::top(legacy),
                alias,
                format!("ignored: `{modern}` is also present"),
            );
            Some((modern, value))
        }
        (Some(value), None) => Some((modern, value)),
        (None, Some(alias)) => Some((legacy, alias)),
        (None, None) => None,
    }
}

/// Calls `f` with each object of `{"values": [...]}` or a bare list, as Sentry accepts for
/// exceptions, threads and breadcrumbs; `null` entries are skipped and other entries dropped,
/// with notes.
fn each_value(
    v: Value,
    path: &Path<'_>,
    notes: &mut Notes,
    mut f: impl FnMut(Map<String, Value>, &Path<'_>, &mut Notes),
) {
    let (list, nested) = match v {
        Value::Array(list) => (list, false),
        Value::Object(mut m) => match m.remove("values") {
            Some(Value::Array(list)) => (list, true),
            None | Some(Value::Null) => return,
            Some(other) => return notes.wrong_type(&path.key("values"), other, "a list"),
        },
        other => return notes.wrong_type(path, other, "a list or {\"values\": [...]}"),
    };
    let values = path.key("values");
    let base = if nested { &values } else { path };
    for (i, v) in list.into_iter().enumerate() {
        let at = base.index(i);
        if let Some(m) = element(v, &at, notes) {
            f(m, &at, notes);
        }
    }
}

const TIME: &str = "an RFC 3339 time or unix seconds";
const LEVEL: &str = "a level (fatal, error, warning, info or debug)";

/// RFC 3339 (a missing offset means UTC, as Relay reads it) or unix seconds, also as a string.
fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => unix_seconds(n.as_f64()?),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|t| t.and_utc())
            })
            .or_else(|| s.trim().parse::<f64>().ok().and_then(unix_seconds)),
        _ => None,
    }
}

/// A level name, or (raven-era) a Python logging level number.
fn level(v: &Value) -> Option<Level> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => match n.as_u64()? {
            10 => Some(Level::Debug),
            20 => Some(Level::Info),
            30 => Some(Level::Warning),
            40 => Some(Level::Error),
            50 => Some(Level::Critical),
            _ => None,
        },
        _ => None,
    }
}

/// The language from Sentry's `platform`, else from the SDK name (sentry-rust omits `platform`
/// when it is "other", but its SDK is `sentry.rust`).
fn language(platform: Option<&str>, sdk: Option<&Sdk>) -> Option<String> {
    let from_platform = platform.and_then(|p| match p {
        "python" => Some("python"),
        "javascript" | "node" => Some("javascript"),
        "rust" => Some("rust"),
        "go" => Some("go"),
        "java" => Some("java"),
        "groovy" => Some("groovy"),
        "ruby" => Some("ruby"),
        "csharp" => Some("csharp"),
        "php" => Some("php"),
        "elixir" => Some("elixir"),
        "perl" => Some("perl"),
        "dart" => Some("dart"),
        "objc" => Some("objc"),
        "c" => Some("c"),
        "haskell" => Some("haskell"),
        "cfml" => Some("cfml"),
        "as3" => Some("actionscript"),
        _ => None,
    });
    let from_sdk = || {
        let name = sdk?.name.as_deref()?;
        let family = name.strip_prefix("sentry.")?.split('.').next()?;
        match family {
            "python" => Some("python"),
            "javascript" => Some("javascript"),
            "rust" => Some("rust"),
            "go" => Some("go"),
            "java" => Some("java"),
            "ruby" => Some("ruby"),
            "dotnet" => Some("csharp"),
            "php" => Some("php"),
            "elixir" => Some("elixir"),
            "dart" => Some("dart"),
            _ => None,
        }
    };
    from_platform.or_else(from_sdk).map(str::to_owned)
}
