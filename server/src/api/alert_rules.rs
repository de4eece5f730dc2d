//! A project's alert rules through the API: list, add, replace, remove. The body is
//! `notify::rule_admin::RuleRequest`; a rule that does not check is a 400 saying why.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::ApiUser;
use crate::error::ApiError;
use crate::notify::rule_admin::{self, RuleRequest};
use crate::state::AppState;

pub async fn list_rules(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let channels = state.store.project_channels(project.id).await?;
    let rules: Vec<_> = state
        .store
        .alert_rules(project.id)
        .await?
        .iter()
        .map(|r| rule_admin::to_json(r, &channels))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "rules": rules })))
}

pub async fn add_rule(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let body: RuleRequest = crate::json::parse(&body, "request")?;
    let channels = state.store.project_channels(project.id).await?;
    let rule = rule_admin::check(&body, &channels).map_err(ApiError::BadRequest)?;
    let rule = state.store.add_alert_rule(project.id, &rule).await?;
    Ok(HttpResponse::Created().json(rule_admin::to_json(&rule, &channels)))
}

pub async fn update_rule(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let project = user.visible_project(&state, &slug).await?;
    let body: RuleRequest = crate::json::parse(&body, "request")?;
    let channels = state.store.project_channels(project.id).await?;
    let rule = rule_admin::check(&body, &channels).map_err(ApiError::BadRequest)?;
    let rule = state.store.update_alert_rule(project.id, id, &rule).await?;
    Ok(HttpResponse::Ok().json(rule_admin::to_json(&rule, &channels)))
}

pub async fn remove_rule(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let project = user.visible_project(&state, &slug).await?;
    state.store.remove_alert_rule(project.id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}
