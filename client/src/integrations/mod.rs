//! Integrations with logging crates, each behind a feature of the same name.
//!
//! Both turn error-level records into events and lower levels into breadcrumbs that go with the next
//! event. Records emitted by the SDK's own thread (e.g. the HTTP client's `log` output) are ignored,
//! so reporting never feeds itself.

#[cfg(feature = "log")]
pub mod log;
#[cfg(feature = "tracing")]
pub mod tracing;

#[cfg(any(feature = "log", feature = "tracing"))]
use serde_json::{Map, Value};

#[cfg(any(feature = "log", feature = "tracing"))]
use crate::{Breadcrumb, Event, Level};

/// An event from a log record: message, level, logger tag, fields as custom data.
#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn record_event(
    level: Level,
    target: &str,
    message: Option<String>,
    fields: Map<String, Value>,
) -> Event {
    let mut event = Event::new(level);
    event.message = message;
    event.tags.insert("logger".into(), target.to_owned());
    event.custom = fields;
    event
}

#[cfg(any(feature = "log", feature = "tracing"))]
pub(crate) fn record_breadcrumb(
    level: Level,
    target: &str,
    message: Option<String>,
    fields: Map<String, Value>,
) -> Breadcrumb {
    let mut crumb = Breadcrumb::new(target, "");
    crumb.message = message;
    crumb.level = Some(level.as_str().into());
    crumb.data = fields;
    crumb
}
