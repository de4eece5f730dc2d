//! Bugle's own release API: `GET/POST /api/v1/projects/{slug}/releases`,
//! `GET .../releases/{version}` and `POST .../releases/{version}/deploys`.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ApiUser;
use crate::error::ApiError;
use crate::releases::health::Health;
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::release_health::overall;
use crate::store::release_list::ReleaseCounts;
use crate::store::releases::{Deploy, NewDeploy, Release, ReleaseChanges};
use crate::time;

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/projects/{slug}/releases", list_releases)
        .post("/api/v1/projects/{slug}/releases", create_release)
        .get("/api/v1/projects/{slug}/releases/{version}", get_release)
        .post(
            "/api/v1/projects/{slug}/releases/{version}/deploys",
            create_deploy,
        );
}

/// A release's session counts and crash-free rates (`null` without sessions), for all
/// environments together and per environment.
fn health_json(per_env: Option<&BTreeMap<String, Health>>) -> Value {
    let one = |h: &Health| {
        json!({
            "sessions": h.sessions,
            "crashed_sessions": h.crashed,
            "errored_sessions": h.errored,
            "abnormal_sessions": h.abnormal,
            "crash_free_sessions": h.crash_free_sessions(),
            "users": h.users,
            "crashed_users": h.crashed_users,
            "crash_free_users": h.crash_free_users(),
        })
    };
    let empty = BTreeMap::new();
    let per_env = per_env.unwrap_or(&empty);
    let mut body = one(&overall(per_env));
    body["environments"] = per_env
        .iter()
        .map(|(env, h)| (env.clone(), one(h)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    body
}

pub fn release_json(
    r: &Release,
    counts: ReleaseCounts,
    health: Option<&BTreeMap<String, Health>>,
) -> Value {
    json!({
        "version": r.version,
        "created_at": time::json(r.created_at),
        "date_started": r.date_started.map(time::json),
        "date_released": r.date_released.map(time::json),
        "url": r.url,
        "status": r.status,
        "commit_count": r.commit_count,
        "last_commit": r.last_commit_or_listed(),
        "events": counts.events,
        "issues": counts.issues,
        "new_issues": counts.new_issues,
        "health": health_json(health),
    })
}

pub fn deploy_json(d: &Deploy) -> Value {
    json!({
        "id": d.id,
        "release": d.version,
        "environment": d.environment,
        "name": d.name,
        "url": d.url,
        "date_started": d.date_started.map(time::json),
        "date_finished": time::json(d.date_finished),
        "created_by": d.created_by,
        "comment": d.comment,
        "status": d.status,
        "source": d.source,
    })
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

/// `?limit=` (1-100, default 100) releases from `?cursor=` (the `next_cursor` of the page
/// before), newest first.
async fn list_releases(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let limit = match query.limit.as_deref() {
        None => 100,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| ApiError::BadRequest(format!("limit must be 1-100, not {l:?}")))?,
    };
    let offset = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&o| o <= 10_000_000)
            .ok_or_else(|| ApiError::BadRequest(format!("invalid cursor {c:?}")))?,
    };
    let (releases, more) = state.store.releases_page(project.id, offset, limit).await?;
    let versions: Vec<&str> = releases.iter().map(|r| r.version.as_str()).collect();
    let counts = state.store.release_counts(project.id, &versions).await?;
    let health = state.store.health_of(project.id, &versions).await?;
    let list: Vec<Value> = releases
        .iter()
        .map(|r| {
            release_json(
                r,
                counts.get(&r.version).copied().unwrap_or_default(),
                health.get(&r.version),
            )
        })
        .collect();
    let next_cursor = more.then(|| (offset + releases.len()).to_string());
    Ok(HttpResponse::Ok().json(json!({ "releases": list, "next_cursor": next_cursor })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReleaseBody {
    version: String,
    #[serde(default)]
    url: Option<String>,
    /// Marks it released (finalized) now.
    #[serde(default)]
    finalize: bool,
}

async fn create_release(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let project = user.visible_project(&state, &slug).await?;
    let new: NewReleaseBody = crate::json::parse(&body, "request")?;
    let changes = ReleaseChanges {
        url: new.url,
        date_released: new.finalize.then(time::now_ms),
        ..ReleaseChanges::default()
    };
    let (release, created) = state
        .store
        .ensure_release(project.id, &new.version, &changes)
        .await?;
    let status = if created {
        actix_web::http::StatusCode::CREATED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(release_json(&release, ReleaseCounts::default(), None)))
}

async fn get_release(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (slug, version) = path.into_inner();
    let project = user.visible_project(&state, &slug).await?;
    let release = state.store.release(project.id, &version).await?;
    let counts = state
        .store
        .release_counts(project.id, &[&version])
        .await?
        .get(&version)
        .copied()
        .unwrap_or_default();
    let new = state
        .store
        .issues_first_seen_in(project.id, &version, 100)
        .await?;
    let deploys = state.store.release_deploys(release.id).await?;
    let health = state.store.health_of(project.id, &[&version]).await?;
    let mut body = release_json(&release, counts, health.get(&version));
    body["deploys"] = deploys.iter().map(deploy_json).collect();
    body["new_issue_ids"] = json!(new);
    body["commits"] = release.commits.clone();
    body["refs"] = release.refs.clone();
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewDeployBody {
    environment: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

async fn create_deploy(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (slug, version) = path.into_inner();
    let project = user.visible_project(&state, &slug).await?;
    let new: NewDeployBody = crate::json::parse(&body, "request")?;
    let deploy = NewDeploy {
        environment: new.environment,
        name: new.name,
        url: new.url,
        comment: new.comment,
        created_by: Some(user.0.email.clone()),
        source: "bugle",
        ..NewDeploy::default()
    };
    let deploy = state
        .store
        .add_deploy(project.id, &version, &deploy)
        .await?;
    Ok(HttpResponse::Created().json(deploy_json(&deploy)))
}
