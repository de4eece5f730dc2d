//! A project's ownership rules through the API: `GET`/`PUT .../ownership {"rules": "..."}`;
//! rules that do not parse are a 400 naming the line, and nothing is saved.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::ApiUser;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesBody {
    rules: String,
}

pub async fn get_ownership(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let rules = state.store.ownership_rules(project.id).await?;
    Ok(HttpResponse::Ok().json(json!({ "rules": rules })))
}

pub async fn put_ownership(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let body: RulesBody = crate::json::parse(&body, "request")?;
    state
        .store
        .set_ownership_rules(project.id, &body.rules)
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "rules": body.rules })))
}
