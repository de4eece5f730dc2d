//! Assert what would be sent, without a server.
//!
//! [`with_captured_events`] runs a closure with a client whose transport keeps events in memory, and
//! returns them. Calls are serialized on a process-wide lock, because there is one global client.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::transport::Transport;
use crate::{Event, Options};

static LOCK: Mutex<()> = Mutex::new(());

/// Serializes tests that use the global client.
pub(crate) fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A transport that keeps every event in memory.
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// let transport = Arc::new(bugle::test::CapturingTransport::new());
/// let guard = bugle::init(bugle::Options::default().transport(transport.clone()));
/// bugle::capture_message("hi", bugle::Level::Info);
/// drop(guard);
/// assert_eq!(transport.events()[0].message.as_deref(), Some("hi"));
/// ```
#[derive(Debug, Default)]
pub struct CapturingTransport {
    events: Mutex<Vec<Event>>,
}

impl CapturingTransport {
    /// An empty one.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events sent so far.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The events sent so far, leaving none.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Transport for CapturingTransport {
    fn send(&self, event: Event) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }

    fn flush(&self, _timeout: Duration) -> bool {
        true
    }
}

/// Runs `f` with a capturing client (default options) and returns the events it sent.
///
/// # Examples
/// ```
/// let events = bugle::test::with_captured_events(|| {
///     bugle::capture_message("disk almost full", bugle::Level::Warning);
/// });
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].level, bugle::Level::Warning);
/// ```
pub fn with_captured_events<F: FnOnce()>(f: F) -> Vec<Event> {
    with_captured_events_options(Options::default(), f)
}

/// Runs `f` with a capturing client built from `options` and returns the events it sent.
///
/// # Examples
/// ```
/// let events = bugle::test::with_captured_events_options(bugle::Options::default().sample_rate(0.0), || {
///     bugle::capture_message("sampled out", bugle::Level::Info);
/// });
/// assert!(events.is_empty());
/// ```
pub fn with_captured_events_options<F: FnOnce()>(options: Options, f: F) -> Vec<Event> {
    let _lock = lock();
    let transport = Arc::new(CapturingTransport::new());
    let guard = crate::init(options.transport(transport.clone()));
    f();
    drop(guard);
    transport.take()
}
