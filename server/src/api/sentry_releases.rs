//! The part of Sentry's web API that `sentry-cli releases` and `deploys` call
//! (`/api/0/organizations/{org}/releases/...`, `/api/0/projects/{org}/{project}/releases/`),
//! authenticated with a Bugle API token as `Authorization: Bearer`. One Bugle instance is one
//! organization: any org slug is accepted. Sentry's releases belong to the organization and
//! list projects; Bugle's belong to a project, so one Sentry release is the rows of that
//! version in the projects the user can see.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::DateTime;
use serde::Deserialize;
use serde_json::{json, Value};

use super::sentry_cursor::Page;
use super::ApiUser;
use crate::error::ApiError;
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::projects::Project;
use crate::store::releases::{Deploy, NewDeploy, Release, ReleaseChanges};
use crate::store::StoreError;
use crate::time;

pub fn routes(r: &mut Routes) {
    r.get("/api/0/", auth_probe)
        .get("/api/0/organizations/{org}/releases/", org_releases)
        .post("/api/0/organizations/{org}/releases/", new_release)
        .get(
            "/api/0/organizations/{org}/releases/{version}/",
            get_release,
        )
        .put(
            "/api/0/organizations/{org}/releases/{version}/",
            update_release,
        )
        .get(
            "/api/0/organizations/{org}/releases/{version}/commits/",
            release_commits,
        )
        .get(
            "/api/0/organizations/{org}/releases/{version}/previous-with-commits/",
            previous_with_commits,
        )
        .get(
            "/api/0/organizations/{org}/releases/{version}/deploys/",
            list_deploys,
        )
        .post(
            "/api/0/organizations/{org}/releases/{version}/deploys/",
            new_deploy,
        )
        .get(
            "/api/0/projects/{org}/{project}/releases/",
            project_releases,
        )
        .post(
            "/api/0/projects/{org}/{project}/releases/",
            new_project_release,
        )
        .put(
            "/api/0/projects/{org}/{project}/releases/{version}/",
            update_project_release,
        )
        .get("/api/0/organizations/{org}/repos/", repos);
}

/// `GET /api/0/`: sentry-cli's check of its token (`sentry-cli info`).
async fn auth_probe(user: ApiUser) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": "0",
        "auth": {"scopes": ["org:read", "project:read", "project:releases", "event:read"]},
        "user": {"id": user.0.id.to_string(), "email": user.0.email},
    }))
}

/// A release of one or more projects, as sentry-cli reads it (`ReleaseInfo`).
struct OrgRelease {
    rows: Vec<(Project, Release)>,
}

impl OrgRelease {
    async fn json(&self, state: &AppState) -> Result<Value, ApiError> {
        let (_, first) = &self.rows[0];
        let mut new_groups = 0;
        let mut deploys = Vec::new();
        for (project, release) in &self.rows {
            let counts = state
                .store
                .release_counts(project.id, &[&release.version])
                .await?;
            new_groups += counts.get(&release.version).map_or(0, |c| c.new_issues);
            deploys.extend(state.store.release_deploys(release.id).await?);
        }
        let released = self.rows.iter().filter_map(|(_, r)| r.date_released).max();
        let last_commit = self
            .rows
            .iter()
            .find_map(|(_, r)| r.last_commit_or_listed());
        Ok(json!({
            "id": first.id,
            "version": first.version,
            "shortVersion": first.version,
            "ref": null,
            "url": first.url,
            "status": first.status,
            "dateCreated": time::json(self.rows.iter().map(|(_, r)| r.created_at).min().unwrap_or(first.created_at)),
            "dateStarted": first.date_started.map(time::json),
            "dateReleased": released.map(time::json),
            "lastEvent": null,
            "firstEvent": null,
            "newGroups": new_groups,
            "commitCount": first.commit_count,
            "deployCount": deploys.len(),
            "lastDeploy": deploys.first().map(deploy_json),
            "lastCommit": last_commit.map(|id| json!({"id": id})),
            "authors": [],
            "owner": null,
            "data": {},
            "projects": self.rows.iter().map(|(p, _)| json!({"id": p.id, "slug": p.slug, "name": p.name})).collect::<Vec<_>>(),
        }))
    }
}

fn deploy_json(d: &Deploy) -> Value {
    json!({
        "id": d.id.to_string(),
        "environment": d.environment,
        "name": d.name,
        "url": d.url,
        "dateStarted": d.date_started.map(time::json),
        "dateFinished": time::json(d.date_finished),
    })
}

/// The version's rows in the projects the user can see; 404 when there are none.
async fn find_release(
    state: &AppState,
    user: &ApiUser,
    version: &str,
) -> Result<OrgRelease, ApiError> {
    let mut rows = Vec::new();
    for project in state.store.projects_for_user(&user.0).await? {
        match state.store.release(project.id, version).await {
            Ok(r) => rows.push((project, r)),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if rows.is_empty() {
        return Err(ApiError::NotFound(format!("release {version:?} not found")));
    }
    Ok(OrgRelease { rows })
}

/// Projects named by slug or id (sentry-cli sends numbers as numbers), among those visible.
async fn named_projects(
    state: &AppState,
    user: &ApiUser,
    names: &[Value],
) -> Result<Vec<Project>, ApiError> {
    let visible = state.store.projects_for_user(&user.0).await?;
    names
        .iter()
        .map(|name| {
            let found = visible.iter().find(|p| match name {
                Value::String(s) => p.slug == *s || p.id.to_string() == *s,
                Value::Number(n) => n.as_i64() == Some(p.id),
                _ => false,
            });
            found
                .cloned()
                .ok_or_else(|| ApiError::BadRequest(format!("unknown project {name}")))
        })
        .collect()
}

fn date(value: &Option<String>, field: &str) -> Result<Option<i64>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.timestamp_millis())
                .map_err(|e| {
                    ApiError::BadRequest(format!("{field}: {v:?} is not an RFC 3339 time: {e}"))
                })
        })
        .transpose()
}

#[derive(Deserialize, Default)]
struct ReleaseBody {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    projects: Option<Vec<Value>>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default, rename = "dateStarted")]
    date_started: Option<String>,
    #[serde(default, rename = "dateReleased")]
    date_released: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    refs: Option<Value>,
    #[serde(default)]
    commits: Option<Value>,
}

impl ReleaseBody {
    fn changes(&self) -> Result<ReleaseChanges, ApiError> {
        for (field, list) in [("refs", &self.refs), ("commits", &self.commits)] {
            if list.as_ref().is_some_and(|l| !l.is_array()) {
                return Err(ApiError::BadRequest(format!("{field} must be a list")));
            }
        }
        Ok(ReleaseChanges {
            url: self.url.clone(),
            date_started: date(&self.date_started, "dateStarted")?,
            date_released: date(&self.date_released, "dateReleased")?,
            status: self.status.clone(),
            refs: self.refs.clone(),
            commits: self.commits.clone(),
        })
    }
}

/// Creates (or, as sentry-cli's retries need, finds) a release in each named project, then
/// applies the body's changes.
async fn upsert(
    state: &AppState,
    user: &ApiUser,
    version: &str,
    body: &ReleaseBody,
) -> Result<(OrgRelease, bool), ApiError> {
    let changes = body.changes()?;
    let projects = match &body.projects {
        Some(names) if !names.is_empty() => named_projects(state, user, names).await?,
        _ => find_release(state, user, version)
            .await?
            .rows
            .into_iter()
            .map(|(p, _)| p)
            .collect(),
    };
    let mut rows = Vec::new();
    let mut any_new = false;
    for project in projects {
        let (release, created) = state
            .store
            .ensure_release(project.id, version, &changes)
            .await?;
        any_new |= created;
        rows.push((project, release));
    }
    Ok((OrgRelease { rows }, any_new))
}

/// The organization's releases, newest first: each project's in release order, a version
/// that several projects have listed once. A page at a time (`per_page`, `cursor`).
async fn org_releases(
    req: HttpRequest,
    user: ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let page = Page::from_request(&req)?;
    let mut versions = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for project in state.store.projects_for_user(&user.0).await? {
        let order = state.store.release_order(project.id).await?;
        for version in order.newest_first() {
            if seen.insert(version.to_owned()) {
                versions.push(version.to_owned());
            }
        }
    }
    let shown = versions.iter().skip(page.offset).take(page.per_page);
    let mut out = Vec::new();
    for version in shown {
        out.push(
            find_release(&state, &user, version)
                .await?
                .json(&state)
                .await?,
        );
    }
    let more = versions.len() > page.offset + page.per_page;
    Ok(HttpResponse::Ok()
        .insert_header(("Link", page.link(&req, more)))
        .json(out))
}

async fn new_release(
    user: ApiUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: ReleaseBody = crate::json::parse(&body, "release")?;
    create(&state, &user, body).await
}

/// A new release (201), or the one that exists updated (208, as Sentry answers a repeat).
async fn create(
    state: &AppState,
    user: &ApiUser,
    body: ReleaseBody,
) -> Result<HttpResponse, ApiError> {
    let Some(version) = body.version.clone() else {
        return Err(ApiError::BadRequest("version is required".into()));
    };
    // Without projects this updates the release where it exists (sentry-cli's archive and
    // restore post to the collection); a new release needs them.
    let (release, created) = upsert(state, user, &version, &body).await?;
    let status = if created { 201 } else { 208 };
    Ok(
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("valid"))
            .json(release.json(state).await?),
    )
}

/// sentry-cli 2.x creates releases under the project (`releases new`): the project in the
/// path is the release's.
async fn new_project_release(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let mut body: ReleaseBody = crate::json::parse(&body, "release")?;
    body.projects = Some(vec![Value::String(path.1.clone())]);
    create(&state, &user, body).await
}

/// sentry-cli 2.x finalizes (and updates) releases under the project.
async fn update_project_release(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let mut body: ReleaseBody = crate::json::parse(&body, "release")?;
    body.projects = Some(vec![Value::String(path.1.clone())]);
    let (release, _) = upsert(&state, &user, &path.2, &body).await?;
    Ok(HttpResponse::Ok().json(release.json(&state).await?))
}

async fn get_release(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let release = find_release(&state, &user, &path.1).await?;
    Ok(HttpResponse::Ok().json(release.json(&state).await?))
}

async fn update_release(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: ReleaseBody = crate::json::parse(&body, "release")?;
    let (release, _) = upsert(&state, &user, &path.1, &body).await?;
    Ok(HttpResponse::Ok().json(release.json(&state).await?))
}

async fn release_commits(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let release = find_release(&state, &user, &path.1).await?;
    let mut commits: Vec<Value> = Vec::new();
    for (_, r) in &release.rows {
        if let Some(list) = r.commits.as_array() {
            commits.extend(list.iter().cloned());
        }
        if let Some(refs) = r.refs.as_array() {
            commits.extend(
                refs.iter()
                    .map(|r| json!({"id": r["commit"], "repository": r["repository"]})),
            );
        }
    }
    Ok(HttpResponse::Ok().json(commits))
}

/// The newest release before this one that has commits, or `{}`: where `set-commits --local`
/// starts reading git history.
async fn previous_with_commits(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let version = &path.1;
    for project in state.store.projects_for_user(&user.0).await? {
        let releases = state.store.releases(project.id).await?;
        let Some(at) = releases.iter().position(|r| r.version == *version) else {
            continue;
        };
        if let Some(prev) = releases[at + 1..]
            .iter()
            .find(|r| r.last_commit_or_listed().is_some())
        {
            let info = OrgRelease {
                rows: vec![(project, prev.clone())],
            };
            return Ok(HttpResponse::Ok().json(info.json(&state).await?));
        }
    }
    Ok(HttpResponse::Ok().json(json!({})))
}

async fn list_deploys(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let release = find_release(&state, &user, &path.1).await?;
    let mut out = Vec::new();
    for (_, r) in &release.rows {
        out.extend(
            state
                .store
                .release_deploys(r.id)
                .await?
                .iter()
                .map(deploy_json),
        );
    }
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Deserialize)]
struct DeployBody {
    environment: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default, rename = "dateStarted")]
    date_started: Option<String>,
    #[serde(default, rename = "dateFinished")]
    date_finished: Option<String>,
    #[serde(default)]
    projects: Option<Vec<Value>>,
}

async fn new_deploy(
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: DeployBody = crate::json::parse(&body, "deploy")?;
    let version = &path.1;
    let projects = match &body.projects {
        Some(names) if !names.is_empty() => named_projects(&state, &user, names).await?,
        _ => find_release(&state, &user, version)
            .await?
            .rows
            .into_iter()
            .map(|(p, _)| p)
            .collect(),
    };
    let deploy = NewDeploy {
        environment: body.environment.clone(),
        name: body.name.clone().filter(|n| !n.is_empty()),
        url: body.url.clone(),
        date_started: date(&body.date_started, "dateStarted")?,
        date_finished: date(&body.date_finished, "dateFinished")?,
        created_by: Some(user.0.email.clone()),
        source: "sentry",
        ..NewDeploy::default()
    };
    let mut made = Vec::new();
    for project in projects {
        made.push(state.store.add_deploy(project.id, version, &deploy).await?);
    }
    Ok(HttpResponse::Created().json(deploy_json(&made[0])))
}

async fn project_releases(
    req: HttpRequest,
    user: ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let project = state.store.project_by_slug(&path.1).await?;
    user.check_project(&state, project.id).await?;
    let page = Page::from_request(&req)?;
    let (releases, more) = state
        .store
        .releases_page(project.id, page.offset, page.per_page)
        .await?;
    let mut out = Vec::new();
    for release in releases {
        let info = OrgRelease {
            rows: vec![(project.clone(), release)],
        };
        out.push(info.json(&state).await?);
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Link", page.link(&req, more)))
        .json(out))
}

/// Repositories named by stored commits: `set-commits --commit repo@a..b` checks the repo
/// is known, and `--local` (which needs none) makes it known.
async fn repos(_user: ApiUser, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let repos: Vec<Value> = state
        .store
        .release_repositories()
        .await?
        .into_iter()
        .map(|name| {
            json!({"id": name, "name": name, "url": null, "status": "active",
                "provider": {"id": "bugle", "name": "Bugle"},
                "dateCreated": time::json(0)})
        })
        .collect();
    Ok(HttpResponse::Ok().json(repos))
}
