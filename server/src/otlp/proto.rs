//! OTLP export requests: protobuf and JSON decoding.
