//! End-to-end: the real `bugle-server` binary on a free port, spoken to over HTTP, on SQLite
//! and on PostgreSQL. One test binary; each module is one area a user meets.

mod alert_rules;
mod alert_secrets;
mod alert_transport;
mod alerts;
mod api;
mod authorization;
mod bad_input;
mod browser;
mod channel_digest;
mod cli;
mod client;
mod crash;
mod dashboard;
mod disk_full;
mod envelopes;
mod event_page;
mod grouping;
mod grouping_rules;
mod mail_backlog;
mod notifications;
mod operations;
mod otlp;
mod ownership;
mod protocols;
mod read_only;
mod release_health;
mod releases;
mod scale_out;
mod sdks;
mod search;
mod security;
mod slow_clients;
mod store_outage;
mod token_scopes;
