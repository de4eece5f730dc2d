//! A [`tracing_subscriber::Layer`]: `error!` events become occurrences, `warn!`, `info!` and `debug!`
//! events become breadcrumbs that go with the next occurrence. An `error` field holding a
//! `&dyn Error` (`error!(error = &err as &dyn std::error::Error, "…")`) is sent as an exception chain.
//!
//! # Examples
//! ```
//! use tracing_subscriber::prelude::*;
//! let events = bugle::test::with_captured_events(|| {
//!     let subscriber = tracing_subscriber::registry().with(bugle::integrations::tracing::layer());
//!     tracing::subscriber::with_default(subscriber, || {
//!         tracing::info!(user = 42, "logged in");
//!         tracing::error!(order = 7, "payment failed");
//!     });
//! });
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].message.as_deref(), Some("payment failed"));
//! assert_eq!(events[0].custom["order"], 7);
//! assert_eq!(events[0].breadcrumbs[0].message.as_deref(), Some("logged in"));
//! ```

use std::fmt;

use serde_json::{Map, Value};
use tracing_core::field::{Field, Visit};
use tracing_core::{Level as TLevel, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::{record_breadcrumb, record_event};
use crate::Level;

/// The layer; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct BugleLayer {
    event_level: TLevel,
    breadcrumb_level: TLevel,
}

/// A layer with the defaults: `ERROR` → occurrences, `WARN` to `DEBUG` → breadcrumbs.
pub fn layer() -> BugleLayer {
    BugleLayer {
        event_level: TLevel::ERROR,
        breadcrumb_level: TLevel::DEBUG,
    }
}

impl BugleLayer {
    /// Events at this level or more severe become occurrences (default `ERROR`).
    #[must_use]
    pub fn event_level(self, level: TLevel) -> Self {
        BugleLayer {
            event_level: level,
            ..self
        }
    }

    /// Less severe events down to this level become breadcrumbs (default `DEBUG`).
    #[must_use]
    pub fn breadcrumb_level(self, level: TLevel) -> Self {
        BugleLayer {
            breadcrumb_level: level,
            ..self
        }
    }
}

fn level_of(level: &TLevel) -> Level {
    match *level {
        TLevel::ERROR => Level::Error,
        TLevel::WARN => Level::Warning,
        TLevel::INFO => Level::Info,
        _ => Level::Debug,
    }
}

impl<S: Subscriber> Layer<S> for BugleLayer {
    fn on_event(&self, event: &tracing_core::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        // tracing orders levels by verbosity: ERROR is the "smallest".
        let is_event = *meta.level() <= self.event_level;
        if (!is_event && *meta.level() > self.breadcrumb_level) || crate::client::is_reentrant() {
            return;
        }
        let Some(client) = crate::client::current() else {
            return;
        };
        let mut v = FieldVisitor::default();
        event.record(&mut v);
        let level = level_of(meta.level());
        if is_event {
            let mut ev = record_event(level, meta.target(), v.message, v.fields);
            if let Some(exceptions) = v.exceptions {
                ev.exceptions = exceptions;
                if let Some(first) = ev.exceptions.first_mut() {
                    first.frames =
                        crate::backtrace::capture(&client.frames, crate::backtrace::Trim::Sdk);
                    // Where it was logged, not where it failed (the server hashes the message).
                    first.mechanism = Some(crate::Mechanism::new("capture_error", true));
                }
            }
            client.capture(ev);
        } else {
            client.add_breadcrumb(record_breadcrumb(level, meta.target(), v.message, v.fields));
        }
    }
}

#[derive(Default)]
struct FieldVisitor {
    message: Option<String>,
    fields: Map<String, Value>,
    exceptions: Option<Vec<crate::Exception>>,
}

impl FieldVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::from(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let chain = crate::capture::exceptions_from_error(value);
        // The outermost type is `dyn Error` here: name it from the value instead.
        let mut chain = chain;
        if let Some(first) = chain.first_mut() {
            first.ty = crate::capture::type_name_of(value);
        }
        self.put(field, Value::from(value.to_string()));
        if self.exceptions.is_none() {
            self.exceptions = Some(chain);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::prelude::*;

    #[test]
    fn errors_become_events_with_their_chain_and_lower_levels_breadcrumbs() {
        let events = crate::test::with_captured_events(|| {
            let subscriber = tracing_subscriber::registry().with(layer());
            tracing::subscriber::with_default(subscriber, || {
                tracing::trace!("too fine");
                tracing::debug!("connecting");
                tracing::warn!(retries = 3u64, "slow");
                let err = std::io::Error::other("disk gone");
                tracing::error!(error = &err as &dyn std::error::Error, "save failed");
            });
        });
        assert_eq!(events.len(), 1);
        let ev = &events[0];
        assert_eq!(ev.level, Level::Error);
        assert_eq!(ev.message.as_deref(), Some("save failed"));
        assert_eq!(ev.exceptions[0].ty, "std::io::Error");
        assert_eq!(ev.exceptions[0].value.as_deref(), Some("disk gone"));
        assert!(ev.tags["logger"].contains("tracing"));
        let crumbs: Vec<_> = ev
            .breadcrumbs
            .iter()
            .map(|b| (b.level.clone().unwrap(), b.message.clone().unwrap()))
            .collect();
        assert_eq!(
            crumbs,
            [
                ("debug".to_owned(), "connecting".to_owned()),
                ("warning".to_owned(), "slow".to_owned())
            ]
        );
        assert_eq!(ev.breadcrumbs[1].data["retries"], 3);
    }
}
