//! Sentry's ingest endpoints, so every Sentry SDK can report to Bugle with a Bugle DSN:
//! `POST /api/{project_id}/envelope/` and the legacy `POST /api/{project_id}/store/`.
//!
//! The key (the DSN's public key) comes from `X-Sentry-Auth`, `Authorization: Sentry ...`,
//! `?sentry_key=`, or the envelope header's `dsn`, and must belong to the project in the URL.
//! Bodies may be gzip, deflate, br or zstd, with any or no Content-Type. An envelope's `event`
//! item is stored; every other item type is accepted, counted and skipped, never rejected.
//! Answers `200 {"id": "<event id>"}` after the commit. Browser SDKs get CORS headers.

use actix_web::http::header::{HeaderValue, AUTHORIZATION};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::Utc;
use serde_json::json;

use super::{content_encoding, decode_body, map_error, prepare, read_body};
use crate::error::ApiError;
use crate::event::Event;
use crate::ingest::Admitted;
use crate::protocol::envelope::{parse_envelope, ItemType};
use crate::protocol::{fill_client_ip, sentry};
use crate::state::AppState;
use crate::store::Committed;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, kind) in [
        ("/api/{project_id}/envelope/", Kind::Envelope),
        ("/api/{project_id}/envelope", Kind::Envelope),
        ("/api/{project_id}/store/", Kind::Store),
        ("/api/{project_id}/store", Kind::Store),
    ] {
        cfg.service(
            web::resource(path)
                .app_data(web::Data::new(kind))
                .route(web::post().to(ingest))
                .route(web::method(actix_web::http::Method::OPTIONS).to(preflight)),
        );
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
        Ok(None) => None,
        Ok(Some(committed)) => Some(super::outcome(Ok(committed))),
        Err(e) => Some(e.reason().to_owned()),
    };
    if let Some(outcome) = outcome {
        state.metrics.count_event("sentry", &outcome);
    }
    let response = match result {
        // The id is the event's, also when the uuid was already stored.
        Ok(Some(committed)) => {
            HttpResponse::Ok().json(json!({ "id": committed.uuid.simple().to_string() }))
        }
        Ok(None) => HttpResponse::Ok().json(json!({})),
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

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    project_id: &str,
    kind: Kind,
    state: &AppState,
) -> Result<Option<Committed>, ApiError> {
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
    let body = read_body(req, payload, limits.max_body_bytes).await?;
    let body = decode_body(content_encoding(req), &body, limits.max_event_bytes)?;

    let (event, raw): (Option<Event>, Vec<u8>) = match kind {
        Kind::Store => {
            let event = sentry::event_from_sentry(&body).map_err(map_error)?;
            (Some(event), body.into_owned())
        }
        Kind::Envelope => {
            let envelope = parse_envelope(&body)
                .map_err(|e| ApiError::BadRequest(format!("invalid envelope: {e}")))?;
            if header_key.is_none() {
                let (key, _) = envelope
                    .dsn()
                    .and_then(sentry::key_from_dsn)
                    .ok_or_else(missing_key)?;
                admitted = Some(check_project(state, &key, project_id).await?);
            }
            for item in &envelope.items {
                if item.ty != ItemType::Event {
                    state.metrics.count_skipped_item(item.ty.as_str());
                }
            }
            let raw = envelope
                .item(&ItemType::Event)
                .map(|item| item.payload.clone())
                .unwrap_or_default();
            let event = sentry::event_from_envelope(&envelope).map_err(map_error)?;
            if event.is_none() {
                // Sessions, transactions, client reports...: accepted, nothing to store.
                return Ok(None);
            }
            (event, raw)
        }
    };
    let Some(admitted) = admitted else {
        return Err(missing_key());
    };
    let mut event = event.expect("an event to store");
    let peer = req
        .connection_info()
        .realip_remote_addr()
        .map(str::to_owned);
    fill_client_ip(&mut event, peer.as_deref());
    let occurrence = prepare(
        project_id,
        &admitted.rules,
        event,
        "sentry",
        Some(&raw),
        received_at,
    )?;
    Ok(Some(state.writer.submit(occurrence).await?))
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
