//! The native Bugle event format (`POST /api/v1/events`), defined once for the client that
//! writes it and the server that reads it.
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
//! `exceptions` are outermost first (the reported error, then its causes); `frames` are
//! outermost call first, the failing line last.
//!
//! [`Event`] is the whole event as a sender builds it: every field the client always knows is
//! required. The parts ([`Exception`], [`Frame`], [`Breadcrumb`]…) are what any sender may send,
//! so their fields are optional; the server reads events from other senders too (curl, scripts),
//! where even the top-level fields may be missing, and builds its own richer event from these
//! same parts.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod event;
mod level;
mod parts;
pub mod time;

pub use event::Event;
pub use level::{Level, UnknownLevel};
pub use parts::{
    Breadcrumb, Exception, Frame, Mechanism, Person, Request, Sdk, Server, Thread, Trace,
};
