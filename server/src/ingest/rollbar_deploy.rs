//! Rollbar's deploy API: `POST /api/1/deploy` records that `revision` (the release; items'
//! `code_version` name the same) reached `environment`, and `PATCH /api/1/deploy/{id}`
//! changes its `status` (started, succeeded, failed, timed_out) or `comment`.
//!
//! The project token is the body's `access_token` (JSON or form-encoded, as rollbar-gem and
//! curl send it), the `access_token` query parameter or `X-Rollbar-Access-Token`.

use std::collections::HashMap;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::releases::NewDeploy;

pub fn routes(r: &mut Routes) {
    for path in ["/api/1/deploy", "/api/1/deploy/"] {
        r.post(path, create);
    }
    r.patch("/api/1/deploy/{id}", update);
}

/// Rollbar's error shape.
fn answer(result: Result<Value, ApiError>) -> HttpResponse {
    match result {
        Ok(data) => HttpResponse::Ok().json(json!({"err": 0, "data": data})),
        Err(e) => {
            let _ = e.error_response();
            HttpResponse::build(e.status_code()).json(json!({"err": 1, "message": e.detail()}))
        }
    }
}

/// The fields of a JSON or form body.
fn fields(req: &HttpRequest, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if form {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|e| ApiError::BadRequest(format!("invalid form body: {e}")))?;
        return Ok(pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        )),
        Err(e) => Err(ApiError::BadRequest(format!("body is not valid JSON: {e}"))),
    }
}

fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

async fn project(
    req: &HttpRequest,
    state: &AppState,
    fields: &Map<String, Value>,
) -> Result<i64, ApiError> {
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let token = text(fields, "access_token")
        .or_else(|| query.get("access_token").cloned())
        .or_else(|| {
            req.headers()
                .get("x-rollbar-access-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "missing access token: send access_token or X-Rollbar-Access-Token".into(),
            )
        })?;
    let owner = state
        .store
        .project_for_key(token.trim())
        .await?
        .ok_or_else(|| ApiError::Forbidden("unknown or revoked access token".into()))?;
    Ok(owner.project_id)
}

async fn create(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    answer(
        async {
            let fields = fields(&req, &body)?;
            let project_id = project(&req, &state, &fields).await?;
            let required = |name: &str| {
                text(&fields, name)
                    .ok_or_else(|| ApiError::BadRequest(format!("{name} is required")))
            };
            let environment = required("environment")?;
            let revision = required("revision")?;
            let deploy = NewDeploy {
                environment,
                created_by: text(&fields, "rollbar_username").or(text(&fields, "local_username")),
                comment: text(&fields, "comment"),
                status: Some(text(&fields, "status").unwrap_or_else(|| "succeeded".into())),
                source: "rollbar",
                ..NewDeploy::default()
            };
            let deploy = state
                .store
                .add_deploy(project_id, &revision, &deploy)
                .await?;
            Ok(json!({"deploy_id": deploy.id}))
        }
        .await,
    )
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> HttpResponse {
    answer(
        async {
            let fields = fields(&req, &body)?;
            let project_id = project(&req, &state, &fields).await?;
            let deploy = state.store.deploy(*id).await?;
            if deploy.project_id != project_id {
                return Err(ApiError::NotFound("no such deploy".into()));
            }
            let deploy = state
                .store
                .update_deploy(
                    deploy.id,
                    text(&fields, "status").as_deref(),
                    text(&fields, "comment").as_deref(),
                )
                .await?;
            Ok(
                json!({"deploy_id": deploy.id, "status": deploy.status, "revision": deploy.version,
                "environment": deploy.environment, "comment": deploy.comment}),
            )
        }
        .await,
    )
}
