//! OpenTelemetry (OTLP/HTTP): decoding export requests and mapping exceptions into events.

pub mod proto;
pub mod stacktrace;
