//! OTLP/HTTP response bodies: `Export{Trace,Logs}ServiceResponse` for 200s and `google.rpc.Status`
//! for 4xx/5xx, each in the request's encoding.

use prost::Message as _;
use serde_json::{json, Map, Value};

use super::types::{
    BadRequest, ExportLogsPartialSuccess, ExportLogsServiceResponse, ExportTracePartialSuccess,
    ExportTraceServiceResponse, FieldViolation, ProtoAny, RpcStatus,
};
use super::Encoding;

/// `google.rpc.Code` values for [`encode_status`]. OTLP clients act on the HTTP status, not on
/// this code; it is for their logs.
pub mod rpc_code {
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const PERMISSION_DENIED: i32 = 7;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const UNIMPLEMENTED: i32 = 12;
    pub const INTERNAL: i32 = 13;
    pub const UNAVAILABLE: i32 = 14;
    pub const UNAUTHENTICATED: i32 = 16;
}

const BAD_REQUEST_TYPE_URL: &str = "type.googleapis.com/google.rpc.BadRequest";

/// The body of a 200 for `/v1/traces`. With `rejected == 0` and an empty `message` it is the plain
/// empty response (`""` / `{}`); otherwise `partial_success` carries both (a message with zero
/// rejected is a warning, which the spec allows).
pub fn encode_trace_response(rejected: i64, message: &str, enc: Encoding) -> Vec<u8> {
    let partial = (rejected != 0 || !message.is_empty()).then(|| ExportTracePartialSuccess {
        rejected_spans: rejected,
        error_message: message.to_string(),
    });
    match enc {
        Encoding::Protobuf => ExportTraceServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        Encoding::Json => partial_json("rejectedSpans", rejected, message, partial.is_some()),
    }
}

/// The body of a 200 for `/v1/logs`; see [`encode_trace_response`].
pub fn encode_logs_response(rejected: i64, message: &str, enc: Encoding) -> Vec<u8> {
    let partial = (rejected != 0 || !message.is_empty()).then(|| ExportLogsPartialSuccess {
        rejected_log_records: rejected,
        error_message: message.to_string(),
    });
    match enc {
        Encoding::Protobuf => ExportLogsServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        Encoding::Json => partial_json("rejectedLogRecords", rejected, message, partial.is_some()),
    }
}

/// proto3 JSON: default-valued fields are left out, int64 is a decimal string.
fn partial_json(count_key: &str, rejected: i64, message: &str, present: bool) -> Vec<u8> {
    let mut root = Map::new();
    if present {
        let mut partial = Map::new();
        if rejected != 0 {
            partial.insert(count_key.into(), Value::String(rejected.to_string()));
        }
        if !message.is_empty() {
            partial.insert("errorMessage".into(), Value::String(message.to_string()));
        }
        root.insert("partialSuccess".into(), Value::Object(partial));
    }
    serde_json::to_vec(&Value::Object(root)).expect("a JSON value serializes")
}

/// A `google.rpc.Status` body for a 4xx/5xx (`code` from [`rpc_code`]; 0 leaves it out).
pub fn encode_status(code: i32, message: &str, enc: Encoding) -> Vec<u8> {
    encode_status_with_details(code, message, &[], enc)
}

/// Like [`encode_status`], with a `google.rpc.BadRequest` detail listing `(field, description)`
/// violations (none: no detail), as the spec recommends for a 400.
pub fn encode_status_with_details(
    code: i32,
    message: &str,
    violations: &[(&str, &str)],
    enc: Encoding,
) -> Vec<u8> {
    match enc {
        Encoding::Protobuf => {
            let details = if violations.is_empty() {
                Vec::new()
            } else {
                let bad = BadRequest {
                    field_violations: violations
                        .iter()
                        .map(|(field, description)| FieldViolation {
                            field: field.to_string(),
                            description: description.to_string(),
                        })
                        .collect(),
                };
                vec![ProtoAny {
                    type_url: BAD_REQUEST_TYPE_URL.to_string(),
                    value: bad.encode_to_vec(),
                }]
            };
            RpcStatus {
                code,
                message: message.to_string(),
                details,
            }
            .encode_to_vec()
        }
        Encoding::Json => {
            let mut root = Map::new();
            if code != 0 {
                root.insert("code".into(), json!(code));
            }
            if !message.is_empty() {
                root.insert("message".into(), json!(message));
            }
            if !violations.is_empty() {
                let list: Vec<Value> = violations
                    .iter()
                    .map(|(field, description)| json!({"field": field, "description": description}))
                    .collect();
                root.insert(
                    "details".into(),
                    json!([{"@type": BAD_REQUEST_TYPE_URL, "fieldViolations": list}]),
                );
            }
            serde_json::to_vec(&Value::Object(root)).expect("a JSON value serializes")
        }
    }
}
