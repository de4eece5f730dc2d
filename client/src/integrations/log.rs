//! A [`log::Log`] that reports: `error!` records become occurrences, `warn!`, `info!`
//! (and, if you lower the level, `debug!`) become breadcrumbs. Wrap your usual logger with
//! [`BugleLogger::with_dest`] to keep its output.
//!
//! # Examples
//! ```
//! let logger = bugle::integrations::log::BugleLogger::new(); // .with_dest(env_logger::Logger…)
//! log::set_boxed_logger(Box::new(logger)).unwrap();
//! log::set_max_level(log::LevelFilter::Info);
//! let events = bugle::test::with_captured_events(|| {
//!     log::info!("user logged in");
//!     log::error!("payment failed");
//! });
//! assert_eq!(events[0].message.as_deref(), Some("payment failed"));
//! assert_eq!(events[0].breadcrumbs[0].message.as_deref(), Some("user logged in"));
//! ```

use ::log::{Level as LogLevel, LevelFilter, Log, Metadata, Record};
use serde_json::{Map, Value};

use super::{record_breadcrumb, record_event};
use crate::Level;

/// Discards everything: the destination of a [`BugleLogger`] that only reports.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopLogger;

impl Log for NoopLogger {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }
    fn log(&self, _: &Record<'_>) {}
    fn flush(&self) {}
}

/// The logger; see the [module docs](self).
#[derive(Debug)]
pub struct BugleLogger<L: Log = NoopLogger> {
    dest: L,
    event_level: LevelFilter,
    breadcrumb_level: LevelFilter,
}

impl Default for BugleLogger<NoopLogger> {
    fn default() -> Self {
        Self::new()
    }
}

impl BugleLogger<NoopLogger> {
    /// `Error` → occurrences, `Warn` and `Info` → breadcrumbs, nothing printed.
    pub fn new() -> Self {
        BugleLogger {
            dest: NoopLogger,
            event_level: LevelFilter::Error,
            breadcrumb_level: LevelFilter::Info,
        }
    }
}

impl<L: Log> BugleLogger<L> {
    /// Also passes every record to `dest` (your usual logger).
    pub fn with_dest<M: Log>(self, dest: M) -> BugleLogger<M> {
        BugleLogger {
            dest,
            event_level: self.event_level,
            breadcrumb_level: self.breadcrumb_level,
        }
    }

    /// Records at this level or more severe become occurrences (default `Error`).
    #[must_use]
    pub fn event_level(self, level: LevelFilter) -> Self {
        BugleLogger {
            event_level: level,
            ..self
        }
    }

    /// Less severe records down to this level become breadcrumbs (default `Info`).
    #[must_use]
    pub fn breadcrumb_level(self, level: LevelFilter) -> Self {
        BugleLogger {
            breadcrumb_level: level,
            ..self
        }
    }
}

fn level_of(level: LogLevel) -> Level {
    match level {
        LogLevel::Error => Level::Error,
        LogLevel::Warn => Level::Warning,
        LogLevel::Info => Level::Info,
        LogLevel::Debug | LogLevel::Trace => Level::Debug,
    }
}

impl<L: Log> Log for BugleLogger<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.event_level.max(self.breadcrumb_level)
            || self.dest.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        let level = record.level();
        let reportable = level <= self.event_level || level <= self.breadcrumb_level;
        if reportable && !crate::client::is_reentrant() {
            if let Some(client) = crate::client::current() {
                let mut fields = Map::new();
                if let Some(m) = record.module_path() {
                    fields.insert("module_path".into(), Value::from(m));
                }
                if let (Some(f), Some(l)) = (record.file(), record.line()) {
                    fields.insert("location".into(), Value::from(format!("{f}:{l}")));
                }
                let message = Some(record.args().to_string());
                if level <= self.event_level {
                    let mut event = record_event(level_of(level), record.target(), message, fields);
                    // A literal format string is known; with arguments only the text is.
                    event.message_template = record.args().as_str().map(str::to_owned);
                    client.capture(event);
                } else {
                    client.add_breadcrumb(record_breadcrumb(
                        level_of(level),
                        record.target(),
                        message,
                        fields,
                    ));
                }
            }
        }
        if self.dest.enabled(record.metadata()) {
            self.dest.log(record);
        }
    }

    fn flush(&self) {
        self.dest.flush();
    }
}
