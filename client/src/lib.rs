//! Report panics and errors from Rust apps to a Bugle server (a self-hosted error tracker).
//!
//! ```no_run
//! let _bugle = bugle::init(
//!     bugle::Options::new("http://127.0.0.1:8080", "<project token>")
//!         .environment("production")
//!         .release(env!("CARGO_PKG_VERSION")),
//! );
//! // Every panic from here on is reported, on any thread.
//! # let err = std::io::Error::other("x");
//! bugle::capture_error(&err); // walks err.source() into an exception chain
//! bugle::capture_message("disk almost full", bugle::Level::Warning);
//! ```
//! Or configure from the environment (`BUGLE_ENDPOINT`, `BUGLE_TOKEN`, `BUGLE_ENVIRONMENT`,
//! `BUGLE_RELEASE`, `BUGLE_SPOOL_DIR`…, see [`Options::from_env`]); without an endpoint and a token
//! [`init`] returns a disabled guard and the app runs as before:
//! ```
//! let _bugle = bugle::init(bugle::Options::from_env());
//! ```
//!
//! # What happens to one event
//! 1. A capture function ([`capture_error`], [`capture_message`], the panic hook, the `tracing` and
//!    `log` integrations) builds an [`Event`]: a fresh uuid, the time, the exception chain with a
//!    stack trace (symbol hashes stripped, frames marked in-app, source context when readable).
//! 2. The client adds what every event carries: host, pid, code root, OS and arch, thread name,
//!    release, environment, SDK, then the tags, person, custom data and breadcrumbs set on it.
//! 3. `before_send` may change or drop it; sampling comes last; sensitive keys are scrubbed.
//! 4. It is queued for the `bugle-transport` thread without blocking; a full queue drops and counts.
//!    With a spool directory it is written there first.
//! 5. The thread posts it to `{endpoint}/api/v1/events` with `Authorization: Bearer <token>`.
//!    **200** means the server committed it. **429/503** mean "busy": it waits `Retry-After` and
//!    sends again. **5xx** and connection errors are transient: retried with exponential backoff.
//!    Any other **4xx** (bad token, invalid event) will not get better by retrying: dropped.
//! 6. Dropping the [`Guard`] flushes for up to the shutdown timeout (2 s); the panic hook flushes
//!    before the previous hook runs, so a crash is delivered even with `panic = "abort"`;
//!    `std::process::exit` (which skips the guard's drop) flushes from an `atexit` hook, and
//!    SIGTERM does with [`Options::flush_on_sigterm`]. Events dropped because the queue was full
//!    are counted and the count goes with the next send (`X-Bugle-Dropped`), so the server's
//!    metrics show them.
//!
//! # Features
//! - `anyhow`: `capture_anyhow`, which uses the error's own backtrace when one was captured.
//! - `tracing`: `integrations::tracing::layer()`, a `tracing_subscriber::Layer`.
//! - `log`: `integrations::log::BugleLogger`, a `log::Log` that can wrap your logger.
//! - `opentelemetry`: every event carries the trace and span ids of the active span, read from
//!   the current `tracing` span (tracing-opentelemetry's `OpenTelemetrySpanExt::context()`), else
//!   from OpenTelemetry's `Context::current()`; a [`set_traceparent`] set by hand wins over both.
//! - `rustls`: `https://` endpoints.
//!
//! The SDK reports its own problems on stderr when [`Options::debug`] is on, never through `log` or
//! `tracing`. Tests can see what would be sent with [`test::with_captured_events`].
// Only `exit.rs` (atexit, SIGTERM) needs `unsafe`, and allows it for itself.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod backtrace;
mod capture;
mod client;
mod debug;
mod exit;
mod guard;
mod metadata;
mod options;
mod panic;
mod scrub;
mod spool;
mod trace;
mod transport;

pub mod integrations;
pub mod test;

use std::time::Duration;

/// The event and its parts: the native wire format, defined once in `bugle-wire` for this SDK
/// and the server.
pub use bugle_wire::{
    Breadcrumb, Event, Exception, Frame, Level, Mechanism, Person, Request, Sdk, Server, Thread,
    Trace, UnknownLevel,
};
pub use guard::Guard;
pub use options::{BeforeSend, Options, DEFAULT_SCRUB_KEYS};
pub use scrub::FILTERED;
pub use transport::Transport;
pub use uuid::Uuid;

/// The `sdk.name` of every event.
pub const SDK_NAME: &str = "bugle-rust";
/// The `sdk.version` of every event: this crate's version.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Starts reporting: binds the global client and installs the panic hook. Keep the guard alive for as
/// long as the app runs (usually `let _bugle = …` at the top of `main`); dropping it flushes.
///
/// Without an endpoint and a token (and no custom transport), reporting is off: the guard is disabled,
/// nothing is installed, and every capture function does nothing. A second `init` replaces the client.
///
/// # Examples
/// ```
/// let bugle = bugle::init(bugle::Options::default());
/// assert!(!bugle.is_enabled());
/// assert_eq!(bugle::capture_message("nobody hears this", bugle::Level::Info), None);
/// ```
pub fn init(options: Options) -> Guard {
    debug::set_enabled(options.debug);
    if !options.is_enabled() {
        debug::bugle_debug!("no endpoint or token: reporting is off");
        return Guard { client: None };
    }
    let install = options.install_panic_hook;
    let c = std::sync::Arc::new(client::Client::new(options));
    client::bind(c.clone());
    if install {
        panic::install();
    }
    exit::install_at_exit();
    if c.options.flush_on_sigterm {
        exit::install_sigterm();
    }
    Guard { client: Some(c) }
}

/// Reports an error with its whole `source()` chain (outermost first: type names and messages) and
/// a stack trace of where it was captured. Returns the event's uuid if it was queued.
///
/// Never blocks and never panics. A `Box<dyn Error>` is passed as `&*err`.
///
/// # Examples
/// ```
/// let err = "12x".parse::<u32>().unwrap_err();
/// let events = bugle::test::with_captured_events(|| {
///     bugle::capture_error(&err);
/// });
/// let ex = &events[0].exceptions[0];
/// assert_eq!(ex.ty, "std::num::ParseIntError");
/// assert_eq!(ex.value.as_deref(), Some("invalid digit found in string"));
/// assert!(!ex.frames.is_empty());
/// ```
pub fn capture_error<E: std::error::Error + ?Sized>(err: &E) -> Option<Uuid> {
    let c = client::current()?;
    if client::is_reentrant() {
        return None;
    }
    c.capture(capture::event_from_error(err, &c.frames))
}

/// Reports an [`anyhow::Error`] with its context chain; its own backtrace (where the error was
/// created) when one was captured (`RUST_BACKTRACE=1` or `RUST_LIB_BACKTRACE=1`), else where it was
/// reported.
///
/// # Examples
/// ```
/// use anyhow::Context;
/// let err = std::fs::read("/nonexistent/bugle").context("loading settings").unwrap_err();
/// let events = bugle::test::with_captured_events(|| {
///     bugle::capture_anyhow(&err);
/// });
/// assert_eq!(events[0].exceptions[0].value.as_deref(), Some("loading settings"));
/// assert_eq!(events[0].exceptions[1].ty, "std::io::Error");
/// ```
#[cfg(feature = "anyhow")]
pub fn capture_anyhow(err: &anyhow::Error) -> Option<Uuid> {
    let c = client::current()?;
    if client::is_reentrant() {
        return None;
    }
    c.capture(capture::event_from_anyhow(err, &c.frames))
}

/// Reports a message at a level. Returns the event's uuid if it was queued.
///
/// # Examples
/// ```
/// let events = bugle::test::with_captured_events(|| {
///     bugle::capture_message("disk almost full", bugle::Level::Warning);
/// });
/// assert_eq!(events[0].message.as_deref(), Some("disk almost full"));
/// ```
pub fn capture_message(message: &str, level: Level) -> Option<Uuid> {
    let c = client::current()?;
    c.capture(capture::event_from_message(message, level))
}

/// Reports an event built by hand (see [`Event::new`]). Returns its uuid if it was queued.
pub fn capture_event(event: Event) -> Option<Uuid> {
    client::current()?.capture(event)
}

/// Records a breadcrumb; the newest `max_breadcrumbs` go with every later event.
///
/// # Examples
/// ```
/// let events = bugle::test::with_captured_events(|| {
///     bugle::add_breadcrumb(bugle::Breadcrumb::new("http", "GET /cart").data("status", 200));
///     bugle::capture_message("checkout failed", bugle::Level::Error);
/// });
/// assert_eq!(events[0].breadcrumbs[0].message.as_deref(), Some("GET /cart"));
/// ```
pub fn add_breadcrumb(crumb: Breadcrumb) {
    if let Some(c) = client::current() {
        c.add_breadcrumb(crumb);
    }
}

/// Sets a tag on every later event (an event's own tags win).
///
/// # Examples
/// ```
/// let events = bugle::test::with_captured_events(|| {
///     bugle::set_tag("tenant", "eu-1");
///     bugle::capture_message("hi", bugle::Level::Info);
/// });
/// assert_eq!(events[0].tags["tenant"], "eu-1");
/// ```
pub fn set_tag(key: impl Into<String>, value: impl Into<String>) {
    if let Some(c) = client::current() {
        c.set_tag(key.into(), Some(value.into()));
    }
}

/// Removes a tag set with [`set_tag`].
pub fn remove_tag(key: &str) {
    if let Some(c) = client::current() {
        c.set_tag(key.to_owned(), None);
    }
}

/// Sets (or with `None`, clears) the person on every later event.
///
/// # Examples
/// ```
/// let events = bugle::test::with_captured_events(|| {
///     bugle::set_person(bugle::Person::new("42").email("ada@example.com"));
///     bugle::capture_message("hi", bugle::Level::Info);
/// });
/// assert_eq!(events[0].person.as_ref().unwrap().id.as_deref(), Some("42"));
/// ```
pub fn set_person(person: impl Into<Option<Person>>) {
    if let Some(c) = client::current() {
        c.set_person(person.into());
    }
}

/// Sets the trace the current thread works for from a W3C `traceparent` header value
/// (`00-<trace id>-<span id>-<flags>`): events captured on this thread from now on carry its
/// trace and span ids (an event's own trace wins), so Bugle lists them with the other errors of
/// that trace, from any service or SDK. Returns false, and clears the thread's trace, when the
/// value is not a valid `traceparent`.
///
/// With the `opentelemetry` feature, events carry the active span's ids without this; a
/// `traceparent` set here wins over the active span until [`clear_traceparent`].
///
/// # Examples
/// ```
/// let events = bugle::test::with_captured_events(|| {
///     assert!(bugle::set_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
///     bugle::capture_message("payment failed", bugle::Level::Error);
///     bugle::clear_traceparent();
/// });
/// let trace = events[0].trace.as_ref().unwrap();
/// assert_eq!(trace.trace_id.as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
/// assert_eq!(trace.span_id.as_deref(), Some("00f067aa0ba902b7"));
/// ```
pub fn set_traceparent(traceparent: &str) -> bool {
    trace::set(traceparent)
}

/// Forgets the current thread's trace (set with [`set_traceparent`]), as a request ends.
pub fn clear_traceparent() {
    trace::clear();
}

/// Sets one key of the custom data on every later event.
///
/// # Examples
/// ```
/// let events = bugle::test::with_captured_events(|| {
///     bugle::set_custom("cart_items", 3.into());
///     bugle::capture_message("hi", bugle::Level::Info);
/// });
/// assert_eq!(events[0].custom["cart_items"], 3);
/// ```
pub fn set_custom(key: impl Into<String>, value: serde_json::Value) {
    if let Some(c) = client::current() {
        c.set_custom(key.into(), value);
    }
}

/// Waits up to `timeout` for queued events to be delivered; true when all were (or reporting is off).
/// `std::process::exit` skips the guard's drop; the `atexit` hook [`init`] registers flushes then
/// too (bounded by the shutdown timeout), so calling this first is only needed on other platforms.
pub fn flush(timeout: Duration) -> bool {
    client::current().map_or(true, |c| c.flush(timeout))
}

/// True while a client is active.
pub fn is_enabled() -> bool {
    client::current().is_some()
}
