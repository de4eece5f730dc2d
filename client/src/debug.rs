//! The SDK's own diagnostics go to stderr, and only when `Options::debug` is on. Never through
//! `log` or `tracing`: the integrations would turn them into events about the SDK, in a loop.

use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

pub(crate) fn set_enabled(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

pub(crate) fn enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// `eprintln!` with a `[bugle]` prefix when debugging is on.
macro_rules! bugle_debug {
    ($($arg:tt)*) => {
        if $crate::debug::enabled() {
            eprintln!("[bugle] {}", format_args!($($arg)*));
        }
    };
}
pub(crate) use bugle_debug;
