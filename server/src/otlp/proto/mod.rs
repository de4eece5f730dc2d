//! OTLP export requests: protobuf and JSON decoding, and the export responses.
//!
//! For an OTLP/HTTP handler (`POST /v1/traces`, `POST /v1/logs`):
//!
//! ```ignore
//! let enc = Encoding::from_content_type(content_type).ok_or(/* 415 */)?;
//! // body already decompressed and size-bounded by the caller
//! let req = match decode_traces(&body, enc) {
//!     Ok(req) => req,
//!     Err(e) => return http_400(enc.content_type(), e.to_status_body(enc)),
//! };
//! for item in req.spans() {
//!     let service = item.resource_attributes().attr_str("service.name");
//!     for ev in item.span.exception_events() {
//!         let ty = ev.attributes.attr_str("exception.type");
//!         // ...
//!     }
//! }
//! http_200(enc.content_type(), encode_trace_response(rejected, "", enc))
//! ```
//!
//! Bounds: protobuf decoding stops at prost's nesting limit (100 messages deep), JSON at
//! serde_json's (128 levels); the renderers in [`access`] stop at [`MAX_RENDER_DEPTH`]. Memory is
//! bounded only by the caller's body limit: a decoded request can be far larger than its wire
//! form (an empty `Span` is 2 bytes of protobuf or 3 of JSON, and 264 bytes decoded; an empty
//! `KeyValue` 2 bytes and 56), so a hostile body can take ~100-250x its size.

pub mod access;
mod json;
mod json_any_value;
mod response;
mod types;

#[cfg(test)]
mod tests;

use std::fmt;

pub use access::{
    span_id_hex, trace_id_hex, unix_nanos_to_datetime, AttributesExt, LogItem, SeverityLevel,
    SpanItem, MAX_RENDER_DEPTH,
};
pub use response::{
    encode_logs_response, encode_status, encode_status_with_details, encode_trace_response,
    rpc_code,
};
pub use types::*;

/// The two OTLP/HTTP payload encodings, chosen by `Content-Type`; the response uses the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `application/x-protobuf` (also accepted: `application/protobuf`).
    Protobuf,
    /// `application/json`.
    Json,
}

impl Encoding {
    /// Reads a `Content-Type` header value: the media type is matched case-insensitively and
    /// parameters (`; charset=utf-8`) are ignored. `None` for anything else (a 415).
    pub fn from_content_type(content_type: &str) -> Option<Encoding> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/x-protobuf")
            || media.eq_ignore_ascii_case("application/protobuf")
        {
            Some(Encoding::Protobuf)
        } else if media.eq_ignore_ascii_case("application/json") {
            Some(Encoding::Json)
        } else {
            None
        }
    }

    /// The `Content-Type` to send a response of this encoding with.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// Why a request body could not be decoded: the body of a `400 Bad Request`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Malformed protobuf: truncated, wrong wire type, invalid UTF-8 in a string, nested too deep.
    Protobuf { message: String },
    /// Malformed JSON, or a well-formed document with a bad value. `field` is the path to the bad
    /// value (`resourceSpans[0].scopeSpans[0].spans[1].traceId`) when there is one.
    Json {
        field: Option<String>,
        message: String,
    },
}

impl DecodeError {
    /// The path to the offending field, for JSON bodies whose error is tied to one.
    pub fn field(&self) -> Option<&str> {
        match self {
            DecodeError::Json { field, .. } => field.as_deref(),
            DecodeError::Protobuf { .. } => None,
        }
    }

    /// A `google.rpc.Status` body for the 400 response (code `INVALID_ARGUMENT`, this error as the
    /// message, and a `google.rpc.BadRequest` detail naming the field when one is known).
    pub fn to_status_body(&self, enc: Encoding) -> Vec<u8> {
        let message = self.to_string();
        match self.field() {
            Some(field) => encode_status_with_details(
                rpc_code::INVALID_ARGUMENT,
                &message,
                &[(field, self.description())],
                enc,
            ),
            None => encode_status(rpc_code::INVALID_ARGUMENT, &message, enc),
        }
    }

    fn description(&self) -> &str {
        match self {
            DecodeError::Protobuf { message } | DecodeError::Json { message, .. } => message,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Protobuf { message } => write!(f, "invalid protobuf: {message}"),
            DecodeError::Json {
                field: Some(field),
                message,
            } => write!(f, "invalid JSON: {field}: {message}"),
            DecodeError::Json {
                field: None,
                message,
            } => write!(f, "invalid JSON: {message}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes the body of `POST /v1/traces`. An empty body is an empty request.
pub fn decode_traces(body: &[u8], enc: Encoding) -> Result<ExportTraceServiceRequest, DecodeError> {
    decode(body, enc)
}

/// Decodes the body of `POST /v1/logs`. An empty body is an empty request.
pub fn decode_logs(body: &[u8], enc: Encoding) -> Result<ExportLogsServiceRequest, DecodeError> {
    decode(body, enc)
}

fn decode<T>(body: &[u8], enc: Encoding) -> Result<T, DecodeError>
where
    T: prost::Message + Default + serde::de::DeserializeOwned,
{
    match enc {
        Encoding::Protobuf => T::decode(body).map_err(|e| {
            let text = e.to_string();
            let message = text
                .strip_prefix("failed to decode Protobuf message: ")
                .unwrap_or(&text)
                .to_string();
            DecodeError::Protobuf { message }
        }),
        Encoding::Json => decode_json(body),
    }
}

fn decode_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, DecodeError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    // Tracking the path costs on every field; only a failed parse needs it, so parse again then.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = (path != "." && !inner.is_syntax() && !inner.is_eof()).then_some(path);
        DecodeError::Json {
            field,
            message: inner.to_string(),
        }
    })?;
    de.end().map_err(|e| DecodeError::Json {
        field: None,
        message: e.to_string(),
    })?;
    Ok(value)
}
