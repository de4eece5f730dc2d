//! The guard `init` returns: while it lives the client reports; dropping it flushes and stops.

use std::sync::Arc;
use std::time::Duration;

use crate::client::{self, Client};

/// Keeps reporting on; its drop delivers what is queued (up to the shutdown timeout) and stops.
///
/// # Examples
/// ```
/// let bugle = bugle::init(bugle::Options::from_env());
/// if !bugle.is_enabled() {
///     eprintln!("error reporting is off: set BUGLE_ENDPOINT and BUGLE_TOKEN");
/// }
/// ```
#[must_use = "dropping the guard flushes and stops reporting; bind it: `let _bugle = bugle::init(..)`"]
pub struct Guard {
    pub(crate) client: Option<Arc<Client>>,
}

impl Guard {
    /// True when events are reported (an endpoint and a token were configured).
    pub fn is_enabled(&self) -> bool {
        self.client.is_some()
    }

    /// Waits up to `timeout` for queued events to be delivered; true when all were.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.client.as_ref().map_or(true, |c| c.flush(timeout))
    }

    /// Events given up so far: dropped because the queue was full, refused by the server, or out of
    /// retries and not spooled.
    pub fn dropped_events(&self) -> u64 {
        self.client.as_ref().map_or(0, |c| c.dropped())
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            client::unbind(&c);
            c.close();
        }
    }
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("enabled", &self.is_enabled())
            .finish()
    }
}
