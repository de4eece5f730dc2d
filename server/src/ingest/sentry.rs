//! Sentry's ingest endpoints, so every Sentry SDK can report to Bugle with a Bugle DSN:
//! `POST /api/{project_id}/envelope/` and the legacy `POST /api/{project_id}/store/`.
//!
//! The key (the DSN's public key) comes from `X-Sentry-Auth`, `Authorization: Sentry ...`,
//! `?sentry_key=`, or the envelope header's `dsn`, and must belong to the project in the URL.
//! Bodies may be gzip, deflate, br or zstd, with any or no Content-Type. An envelope's `event`
//! item is stored; every other item type is accepted, counted and skipped, never rejected.
//! Answers `200 {"id": "<event id>"}` after the commit. Browser SDKs get CORS headers.

use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::Utc;
use serde_json::json;

use super::{content_encoding, decode_body, map_error, prepare, read_body};
use crate::error::ApiError;
use crate::ingest::Admitted;
use crate::protocol::envelope::{parse_envelope_lenient, ItemType};
use crate::protocol::{fill_client_ip, sentry};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::Committed;

pub fn routes(r: &mut Routes) {
    for (path, kind) in [
        ("/api/{project_id}/envelope/", Kind::Envelope),
        ("/api/{project_id}/envelope", Kind::Envelope),
        ("/api/{project_id}/store/", Kind::Store),
        ("/api/{project_id}/store", Kind::Store),
    ] {
        r.add_with_data(Method::POST, path, kind, ingest)
            .add(Method::OPTIONS, path, preflight);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Envelope,
    Store,
}

/// Headers browser SDKs may send, per Sentry's docs plus what SDKs use for tracing.
const ALLOWED_HEADERS: &str = "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, \
    accept, authentication, authorization, content-encoding, transfer-encoding, content-type, \
    sentry-trace, baggage";

pub(super) fn with_cors(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    for (name, value) in [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "POST, OPTIONS"),
        ("access-control-allow-headers", ALLOWED_HEADERS),
        (
            "access-control-expose-headers",
            "x-sentry-error, x-sentry-rate-limits, retry-after",
        ),
        ("access-control-max-age", "3600"),
    ] {
        headers.insert(
            name.parse().expect("valid header name"),
            HeaderValue::from_static(value),
        );
    }
    response
}

pub(super) async fn preflight() -> HttpResponse {
    with_cors(HttpResponse::Ok().finish())
}

async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    project_id: web::Path<String>,
    kind: web::Data<Kind>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = handle(&req, payload, &project_id, **kind, &state).await;
    let outcome = match &result {
        Ok(Answer::Accepted(_)) => None,
        Ok(Answer::Stored(committed)) => Some(super::outcome(Ok(committed))),
        Err(e) => Some(e.reason().to_owned()),
    };
    if let Some(outcome) = outcome {
        state.metrics.count_event("sentry", &outcome);
    }
    let response = match result {
        // The id is the event's, also when the uuid was already stored.
        Ok(Answer::Stored(committed)) => {
            HttpResponse::Ok().json(json!({ "id": committed.uuid.simple().to_string() }))
        }
        Ok(Answer::Accepted(Some(id))) => {
            HttpResponse::Ok().json(json!({ "id": id.simple().to_string() }))
        }
        Ok(Answer::Accepted(None)) => HttpResponse::Ok().json(json!({})),
        Err(e) => {
            let mut response = e.error_response();
            if let Some(secs) = e.retry_after() {
                // Sentry SDKs back off per category from this header; empty categories = all.
                let scope = match e {
                    ApiError::RateLimited { .. } => "project",
                    _ => "organization",
                };
                let limits = format!("{secs}::{scope}");
                response.headers_mut().insert(
                    "x-sentry-rate-limits".parse().expect("valid header name"),
                    HeaderValue::from_str(&limits).expect("ascii"),
                );
            }
            response
        }
    };
    with_cors(response)
}

/// What a request came to: an event stored, or an envelope accepted (its id, if any).
enum Answer {
    Stored(Committed),
    Accepted(Option<uuid::Uuid>),
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    project_id: &str,
    kind: Kind,
    state: &AppState,
) -> Result<Answer, ApiError> {
    let received_at = Utc::now();
    let project_id: i64 = project_id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no project {project_id:?}")))?;
    let header_key = key_from_request(req);
    // With a key in the headers the project is known before the body is read.
    let mut admitted = match &header_key {
        Some(key) => Some(check_project(state, key, project_id).await?),
        None => None,
    };
    let limits = &state.config.ingest;
    // Envelopes may carry attachments, so they may be larger; one without attachments is
    // still held to the event limits below.
    let (body_limit, decoded_limit) = match kind {
        Kind::Store => (limits.max_body_bytes, limits.max_event_bytes),
        Kind::Envelope => {
            let envelope = state.config.attachments.max_envelope_bytes;
            (
                limits.max_body_bytes.max(envelope),
                limits.max_event_bytes.max(envelope),
            )
        }
    };
    let body = read_body(req, payload, body_limit).await?;
    let sent_bytes = body.len();
    let body = decode_body(content_encoding(req), &body, decoded_limit)?;
    let peer = req
        .connection_info()
        .realip_remote_addr()
        .map(str::to_owned);

    match kind {
        Kind::Store => {
            let admitted = admitted.ok_or_else(missing_key)?;
            let value: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| ApiError::BadRequest(format!("payload is not valid JSON: {e}")))?;
            if sentry::is_transaction(&value) {
                // Performance data: accepted and counted like envelope transactions.
                state.metrics.count_skipped_item("transaction");
                return Ok(Answer::Accepted(None));
            }
            let mut event = sentry::event_from_sentry_value(value).map_err(map_error)?;
            fill_client_ip(&mut event, peer.as_deref());
            let occurrence = prepare(
                project_id,
                &admitted.rules,
                event,
                "sentry",
                Some(&body),
                received_at,
            )?;
            Ok(Answer::Stored(state.writer.submit(occurrence).await?))
        }
        Kind::Envelope => {
            // Past the event limits an envelope must be carrying attachments to be read on.
            let oversized =
                sent_bytes > limits.max_body_bytes || body.len() > limits.max_event_bytes;
            let parsed = parse_envelope_lenient(&body);
            let carries_files = parsed
                .as_ref()
                .is_ok_and(|(e, _)| e.items.iter().any(|i| i.ty == ItemType::Attachment));
            if oversized && !carries_files {
                return Err(ApiError::TooLarge(format!(
                    "envelope exceeds {} bytes (larger envelopes must carry attachments)",
                    limits.max_body_bytes
                )));
            }
            let (envelope, skipped) =
                parsed.map_err(|e| ApiError::BadRequest(format!("invalid envelope: {e}")))?;
            let admitted = match admitted.take() {
                Some(a) => a,
                None => {
                    let (key, _) = envelope
                        .dsn()
                        .and_then(sentry::key_from_dsn)
                        .ok_or_else(missing_key)?;
                    check_project(state, &key, project_id).await?
                }
            };
            let outcome = super::envelope::ingest(
                state,
                &admitted,
                envelope,
                skipped,
                peer.as_deref(),
                received_at,
            )
            .await?;
            Ok(match outcome.committed {
                Some(committed) => Answer::Stored(committed),
                None => Answer::Accepted(outcome.event_id),
            })
        }
    }
}

fn missing_key() -> ApiError {
    ApiError::Unauthorized(
        "missing Sentry key: send X-Sentry-Auth with sentry_key, ?sentry_key=, or a dsn in the envelope header"
            .into(),
    )
}

/// The key from `X-Sentry-Auth`, `Authorization: Sentry ...` or `?sentry_key=`.
pub(super) fn key_from_request(req: &HttpRequest) -> Option<String> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let from_header = header("x-sentry-auth")
        .or_else(|| header(AUTHORIZATION.as_str()))
        .and_then(sentry::parse_sentry_auth)
        .map(|auth| auth.key);
    from_header.or_else(|| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .ok()?
            .into_iter()
            .find(|(k, v)| k == "sentry_key" && !v.is_empty())
            .map(|(_, v)| v)
    })
}

pub(super) async fn check_project(
    state: &AppState,
    key: &str,
    project_id: i64,
) -> Result<Admitted, ApiError> {
    let admitted = state.keys.admit(&state.store, key).await?;
    if admitted.project_id == project_id {
        Ok(admitted)
    } else {
        Err(ApiError::Forbidden(format!(
            "the key does not belong to project {project_id}"
        )))
    }
}
