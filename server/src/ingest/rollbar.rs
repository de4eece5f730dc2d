//! Rollbar's item API, so every Rollbar SDK can report to Bugle: `POST /api/1/item/`.
//!
//! The project token comes from `X-Rollbar-Access-Token`, the body's `access_token`, or a
//! form-encoded `payload` field holding the JSON. Answers Rollbar's shapes: `200 {"err": 0,
//! "result": {"id": null, "uuid": ..}}` after the commit, `{"err": 1, "message": ..}` with
//! Rollbar's status codes otherwise. A resent `data.uuid` is stored once.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use chrono::Utc;
use serde_json::{json, Value};

use super::{content_encoding, decode_body, map_error, prepare, read_body, RateWindow};
use crate::error::ApiError;
use crate::protocol::{fill_client_ip, rollbar};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::Committed;

pub fn routes(r: &mut Routes) {
    for path in ["/api/1/item/", "/api/1/item"] {
        r.post(path, ingest);
    }
}

async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let result = handle(&req, payload, &state).await;
    let outcome = super::outcome(result.as_ref().map(|(c, _)| c));
    state.metrics.count_event("rollbar", &outcome);
    match result {
        Ok((committed, window)) => {
            let mut response = HttpResponse::Ok();
            if let Some(w) = window {
                rate_limit_headers(&mut response, w.limit, w.remaining, w.reset_in);
            }
            response.json(json!({
                "err": 0,
                "result": {"id": null, "uuid": committed.uuid.to_string()},
            }))
        }
        Err(e) => {
            let mut response = HttpResponse::build(e.status_code());
            if let Some(secs) = e.retry_after() {
                response.insert_header(("Retry-After", secs.to_string()));
            }
            if let ApiError::RateLimited { limit, retry_after } = e {
                rate_limit_headers(&mut response, limit, 0, retry_after);
            }
            // Log as the shared error type does, then answer in Rollbar's shape.
            let _ = e.error_response();
            response.json(json!({"err": 1, "message": e.detail()}))
        }
    }
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> Result<(Committed, Option<RateWindow>), ApiError> {
    let received_at = Utc::now();
    let header_token = req
        .headers()
        .get("x-rollbar-access-token")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    // With the token in a header, refuse before reading the body.
    let early = match &header_token {
        Some(token) => Some(state.keys.admit(&state.store, token).await?),
        None => None,
    };
    let limits = &state.config.ingest;
    let body = read_body(req, payload, limits.max_body_bytes).await?;
    let body = decode_body(content_encoding(req), &body, limits.max_event_bytes)?;
    let json = json_body(req, &body)?;
    let body: Value = serde_json::from_slice(&json)
        .map_err(|e| ApiError::BadRequest(format!("payload is not valid JSON: {e}")))?;
    let admitted = match early {
        Some(admitted) => admitted,
        None => {
            let token = rollbar::rollbar_token(&body).ok_or_else(|| {
                ApiError::Unauthorized(
                    "missing access token: send X-Rollbar-Access-Token or access_token".into(),
                )
            })?;
            state.keys.admit(&state.store, token).await?
        }
    };
    let data = rollbar::item_data(&body).map_err(map_error)?;
    let mut event = rollbar::event_from_rollbar(data).map_err(map_error)?;
    let peer = req
        .connection_info()
        .realip_remote_addr()
        .map(str::to_owned);
    fill_client_ip(&mut event, peer.as_deref());
    let occurrence = prepare(
        admitted.project_id,
        &admitted.rules,
        event,
        "rollbar",
        Some(&json),
        received_at,
    )?;
    Ok((state.writer.submit(occurrence).await?, admitted.window))
}

/// The headers Rollbar SDKs read to back off (rollbar.js waits `Remaining-Seconds` on a 429).
fn rate_limit_headers(
    response: &mut actix_web::HttpResponseBuilder,
    limit: u64,
    remaining: u64,
    reset_in: u64,
) {
    let reset = Utc::now().timestamp() + reset_in as i64;
    response
        .insert_header(("X-Rate-Limit-Limit", limit.to_string()))
        .insert_header(("X-Rate-Limit-Remaining", remaining.to_string()))
        .insert_header(("X-Rate-Limit-Reset", reset.to_string()))
        .insert_header(("X-Rate-Limit-Remaining-Seconds", reset_in.to_string()));
}

/// The JSON document: the body itself, or the `payload` field of a form-encoded body.
fn json_body(req: &HttpRequest, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Ok(body.to_vec());
    }
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("invalid form body: {e}")))?;
    fields
        .into_iter()
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_bytes())
        .ok_or_else(|| ApiError::BadRequest("form body has no `payload` field".into()))
}
