//! OpenTelemetry (OTLP/HTTP): decoding export requests, mapping exceptions into events, and
//! counting spans and the calls between services.

pub mod calls;
pub mod map;
pub mod proto;
pub mod spans;
pub mod stacktrace;
