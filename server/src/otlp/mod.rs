//! OpenTelemetry (OTLP/HTTP): decoding export requests and mapping exceptions into events.

pub mod map;
pub mod proto;
pub mod stacktrace;
