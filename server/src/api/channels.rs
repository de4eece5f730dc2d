//! A project's alert channels through the API: list (URLs masked, last deliveries), add (a
//! webhook's secret in the answer, once), remove, and send a test message.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::ApiUser;
use crate::error::ApiError;
use crate::notify::channel_admin::{self, Request};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewChannelBody {
    kind: String,
    url: String,
    name: Option<String>,
    events: Option<String>,
    min_level: Option<String>,
    environment: Option<String>,
}

pub async fn list_channels(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let mut list = Vec::new();
    for c in state.store.project_channels(project.id).await? {
        let mut v = channel_admin::to_json(&c);
        v["deliveries"] = json!(state.store.channel_deliveries(c.id, 20).await?);
        list.push(v);
    }
    Ok(HttpResponse::Ok().json(json!({ "channels": list })))
}

pub async fn add_channel(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let body: NewChannelBody = crate::json::parse(&body, "request")?;
    let req = Request {
        kind: &body.kind,
        url: &body.url,
        name: body.name.as_deref(),
        events: body.events.as_deref(),
        min_level: body.min_level.as_deref(),
        environment: body.environment.as_deref(),
    };
    let added = channel_admin::add(&state.store, &state.config, project.id, &req)
        .await
        .map_err(ApiError::BadRequest)?;
    let mut v = channel_admin::to_json(&added.channel);
    v["secret"] = json!(added.secret);
    Ok(HttpResponse::Created().json(v))
}

pub async fn remove_channel(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let project = user.visible_project(&state, &slug).await?;
    state.store.remove_channel(project.id, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn test_channel(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let project = user.visible_project(&state, &slug).await?;
    let channel = state.store.channel(id).await?;
    if channel.project_id != project.id {
        return Err(ApiError::NotFound("no such channel".into()));
    }
    let result = channel_admin::send_test(&state.store, &state.config, &channel)
        .await
        .map_err(ApiError::Internal)?;
    Ok(HttpResponse::Ok().json(result))
}
