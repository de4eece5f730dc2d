//! Bugle server: a self-hosted error tracker.
//!
//! # The path of one event
//! 1. An SDK POSTs to one of the ingest APIs (`ingest::native`; Sentry and Rollbar follow).
//!    The project key is checked first, then the body is read under a size limit and
//!    decompressed under a second limit (`ingest::read_body`, `ingest::decode_body`).
//! 2. The protocol module parses its wire format into the one [`event::Event`].
//! 3. `ingest::prepare` validates it, fills server-made fields (uuid, time, level), groups it
//!    ([`grouping::group`]: a fingerprint hash, title, culprit) and compresses it.
//! 4. The occurrence joins the bounded writer queue (`store::writer`). A full queue answers
//!    429 with Retry-After at once. The writer commits whole batches in one transaction
//!    (`store::ingest`): issue by hash, occurrence by uuid (a resent uuid is stored once),
//!    exact counters.
//! 5. Only after the commit does the request get `200 {"uuid", "issue_id"}`: a 2xx means the
//!    event is durable. Bad input gets a 4xx with `{"detail"}` and stores nothing.

pub mod api;
pub mod body_timeout;
pub mod bounds;
pub mod config;
pub mod error;
pub mod event;
pub mod grouping;
pub mod ingest;
pub mod json;
pub mod metrics;
pub mod notify;
pub mod ops;
pub mod otlp;
pub mod ownership;
pub mod protocol;
pub mod query;
pub mod regroup;
pub mod releases;
pub mod routes;
pub mod scrub;
pub mod secrets;
pub mod sqlite_alloc;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod web;
