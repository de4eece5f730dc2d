//! OTLP/HTTP: `POST /v1/traces` and `POST /v1/logs` with `Authorization: Bearer <project
//! token>`, and Sentry's spelling `POST /api/{project_id}/integration/otlp/v1/{traces,logs}`
//! with `x-sentry-auth: sentry sentry_key=<key>`.
//!
//! Bodies are protobuf (`application/x-protobuf`) or JSON (`application/json`), optionally
//! gzip (or deflate, br, zstd), at most `ingest.max_event_bytes` as sent and once decompressed.
//! Answers follow the OTLP spec, in the request's encoding:
//!
//! | status | when | exporter does |
//! |---|---|---|
//! | 200 + `Export…ServiceResponse` | every exception committed; `partial_success` counts what was left out | done |
//! | 400 + `google.rpc.Status` | undecodable body | drops the batch |
//! | 401 / 403 | no or unknown token | drops |
//! | 413 | past the size limit | drops |
//! | 415 | neither protobuf nor JSON | drops |
//! | 429 + Retry-After | the project's rate limit is used up | retries later (Python drops) |
//! | 503 + Retry-After | the writer's queue is full, or the database is busy | retries later |
//!
//! A 200 means each exception's occurrence is committed, and the request's spans counted
//! (`otlp::spans`: per service and hour, and the calls between services). Event ids are
//! derived from the exceptions, so a batch sent again after a 503 is stored once.

use actix_web::http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::Utc;

use super::sentry::{check_project, key_from_request};
use super::{content_encoding, decode_body, outcome, prepare, read_body, Admitted};
use crate::error::ApiError;
use crate::otlp::map::{self, Mapped};
use crate::otlp::proto::{self, rpc_code, Encoding};
use crate::otlp::spans;
use crate::routes::Routes;
use crate::state::AppState;

pub fn routes(r: &mut Routes) {
    for (path, signal) in [
        ("/v1/traces", Signal::Traces),
        ("/v1/traces/", Signal::Traces),
        ("/v1/logs", Signal::Logs),
        ("/v1/logs/", Signal::Logs),
        (
            "/api/{project_id}/integration/otlp/v1/traces",
            Signal::Traces,
        ),
        (
            "/api/{project_id}/integration/otlp/v1/traces/",
            Signal::Traces,
        ),
        ("/api/{project_id}/integration/otlp/v1/logs", Signal::Logs),
        ("/api/{project_id}/integration/otlp/v1/logs/", Signal::Logs),
    ] {
        r.add_with_data(actix_web::http::Method::POST, path, signal, ingest);
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Signal {
    Traces,
    Logs,
}

async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    signal: web::Data<Signal>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(enc) = Encoding::from_content_type(content_type) else {
        return ApiError::UnsupportedEncoding(format!(
            "Content-Type {content_type:?} is not OTLP: send application/x-protobuf or application/json"
        ))
        .error_response();
    };
    match handle(&req, payload, **signal, enc, &state).await {
        Ok((rejected, message)) => {
            let body = match **signal {
                Signal::Traces => proto::encode_trace_response(rejected, &message, enc),
                Signal::Logs => proto::encode_logs_response(rejected, &message, enc),
            };
            HttpResponse::Ok()
                .content_type(enc.content_type())
                .body(body)
        }
        Err(Refusal::Undecodable(e)) => HttpResponse::BadRequest()
            .content_type(enc.content_type())
            .body(e.to_status_body(enc)),
        Err(Refusal::Api(e)) => {
            state.metrics.count_event("otlp", e.reason());
            status_response(&e, enc)
        }
    }
}

enum Refusal {
    Undecodable(proto::DecodeError),
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

/// An [`ApiError`] as OTLP answers it: the same status (a full queue is 503, not 429, as
/// exporters drop a batch on 429) and a `google.rpc.Status` body.
fn status_response(e: &ApiError, enc: Encoding) -> HttpResponse {
    let (status, retry_after) = match e {
        ApiError::Overloaded { retry_after, .. } => (
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            Some(*retry_after),
        ),
        e => (e.status_code(), e.retry_after()),
    };
    if status.is_server_error() {
        tracing::warn!(error = %crate::telemetry::error_chain(e), "OTLP request not stored");
    }
    let code = match status.as_u16() {
        400 | 413 | 415 | 422 => rpc_code::INVALID_ARGUMENT,
        401 => rpc_code::UNAUTHENTICATED,
        403 | 404 => rpc_code::PERMISSION_DENIED,
        429 => rpc_code::RESOURCE_EXHAUSTED,
        503 => rpc_code::UNAVAILABLE,
        _ => rpc_code::INTERNAL,
    };
    let mut resp = HttpResponse::build(status);
    resp.content_type(enc.content_type());
    if let Some(secs) = retry_after {
        resp.insert_header((RETRY_AFTER, HeaderValue::from(secs)));
    }
    resp.body(proto::encode_status(code, &e.detail(), enc))
}

/// The project's token from `Authorization: Bearer`, `X-Bugle-Token`, or Sentry's headers.
fn token(req: &HttpRequest) -> Option<String> {
    let headers = req.headers();
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .or_else(|| headers.get("x-bugle-token").and_then(|v| v.to_str().ok()))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    bearer.or_else(|| key_from_request(req))
}

async fn admit(req: &HttpRequest, state: &AppState) -> Result<Admitted, ApiError> {
    let key = token(req).ok_or_else(|| {
        ApiError::Unauthorized(
            "missing project token: send `Authorization: Bearer <project token>` \
             (OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<token>)"
                .into(),
        )
    })?;
    match req.match_info().get("project_id") {
        Some(id) => {
            let id: i64 = id
                .parse()
                .map_err(|_| ApiError::NotFound(format!("no project {id:?}")))?;
            check_project(state, &key, id).await
        }
        None => state.keys.admit(&state.store, &key).await,
    }
}

/// Stores the request's exceptions; answers what was rejected and why.
async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    signal: Signal,
    enc: Encoding,
    state: &AppState,
) -> Result<(i64, String), Refusal> {
    let received_at = Utc::now();
    let admitted = admit(req, state).await?;
    let limit = state.config.ingest.max_event_bytes;
    let body = read_body(req, payload, limit).await?;
    let body = decode_body(content_encoding(req), &body, limit)?;
    let mut traces = None;
    let mapped = match signal {
        Signal::Traces => {
            let request = proto::decode_traces(&body, enc).map_err(Refusal::Undecodable)?;
            let mapped = map::events_from_traces(&request);
            traces = Some(request);
            mapped
        }
        Signal::Logs => {
            let request = proto::decode_logs(&body, enc).map_err(Refusal::Undecodable)?;
            map::events_from_logs(&request)
        }
    };
    let Mapped {
        events,
        mut rejected,
        mut message,
    } = mapped;
    let mut occurrences = Vec::with_capacity(events.len());
    for event in events {
        match prepare(
            admitted.project_id,
            &admitted.rules,
            event,
            "otlp",
            None,
            received_at,
        ) {
            Ok(occurrence) => occurrences.push(occurrence),
            Err(e) => {
                state.metrics.count_event("otlp", e.reason());
                rejected += 1;
                message = e.detail();
            }
        }
    }
    // A few at a time, so they share the writer's batches without one request taking the
    // whole queue (a batch larger than the queue would otherwise never get through).
    let chunk = (state.config.ingest.queue_capacity / 8).clamp(1, 64);
    let mut occurrences = occurrences.into_iter().peekable();
    while occurrences.peek().is_some() {
        let pending: Vec<_> = occurrences
            .by_ref()
            .take(chunk)
            .map(|o| state.writer.submit(o))
            .collect();
        let mut retry = None;
        for result in futures_util::future::join_all(pending).await {
            let result = result.map_err(ApiError::from);
            state.metrics.count_event("otlp", &outcome(result.as_ref()));
            if let Err(e) = result {
                retry.get_or_insert(e);
            }
        }
        // The exporter sends the batch again; what was committed is recognised by its ids.
        if let Some(e) = retry {
            return Err(e.into());
        }
    }
    // Counted (and calls matched) once the exceptions are committed: a batch refused above is
    // sent again, and counted then. One small upsert per request, beside the writer's batches.
    if let Some(request) = traces {
        let counts = spans::count(
            admitted.project_id,
            &request,
            &state.calls,
            received_at.timestamp_millis(),
        );
        drop(request);
        state
            .store
            .add_span_counts(admitted.project_id, &counts)
            .await
            .map_err(ApiError::from)?;
    }
    Ok((rejected, message))
}
