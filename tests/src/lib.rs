//! Helpers shared by the store tests (server crate) and the end-to-end tests (this crate):
//! fresh PostgreSQL databases, and the real `bugle-server` binary on a free port.

pub mod bench;
pub mod browser;
pub mod db;
pub mod load;
pub mod mounts;
pub mod node;
pub mod otlp_bench;
pub mod pg_cluster;
pub mod postgres;
pub mod python;
pub mod receiver;
pub mod sentry_cli;
pub mod server;
pub mod smtp;
pub mod soak;
pub mod web;

/// Whether this run is CI, where a missing PostgreSQL or browser fails instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}
