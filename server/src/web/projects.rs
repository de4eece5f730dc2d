//! The projects page, creating a project, and a project's settings: setup snippets, ingest
//! keys, members, mail recipients, rate limit and retention.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::session::{Layout, Posted, SignedIn};
use super::view::{chart, hour_label, Chart};
use super::{redirect, render, WebError};
use crate::config::dsn;
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::projects::Project;
use crate::store::projects::{ProjectKey, ProjectSettings};
use crate::store::users::User;
use crate::time::now_ms;
use crate::time::{when, When};

pub fn routes(r: &mut Routes) {
    r.get("/projects", projects_page)
        .post("/projects", create_project)
        .get("/projects/{slug}/settings", settings_page)
        .post("/projects/{slug}/keys", create_key)
        .post("/projects/{slug}/keys/{id}/revoke", revoke_key)
        .post("/projects/{slug}/members", add_member)
        .post("/projects/{slug}/members/{id}/remove", remove_member)
        .post("/projects/{slug}/recipients", recipients)
        .post("/projects/{slug}/limits", limits);
}

/// The project, if this user may see it; 404 otherwise (ids of other teams stay hidden).
pub async fn visible_project(
    state: &AppState,
    user: &User,
    slug: &str,
) -> Result<Project, WebError> {
    let project = state.store.project_by_slug(slug).await?;
    if state.store.can_access(user, project.id).await? {
        Ok(project)
    } else {
        Err(WebError::NotFound)
    }
}

struct ProjectRow {
    project: Project,
    open_issues: i64,
    events_24h: i64,
    spark: Chart,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    layout: Layout,
    rows: Vec<ProjectRow>,
}

async fn projects_page(me: SignedIn, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let projects = state.store.projects_for_user(me.user()).await?;
    let now = now_ms();
    let rows = state
        .store
        .project_summaries(projects)
        .await?
        .into_iter()
        .map(|s| ProjectRow {
            events_24h: s.hourly.iter().sum(),
            spark: chart(&s.hourly, 120, 24, hour_label(now, 24)),
            open_issues: s.open_issues,
            project: s.project,
        })
        .collect();
    render(&ProjectsPage {
        layout: me.layout(),
        rows,
    })
}

async fn create_project(
    form: Posted,
    state: web::Data<AppState>,
) -> Result<HttpResponse, WebError> {
    if !form.user().is_admin {
        return Err(WebError::Forbidden(
            "only administrators create projects".into(),
        ));
    }
    let name = form
        .get("name")
        .ok_or_else(|| WebError::BadRequest("a project needs a name".into()))?;
    let (project, _) = state.store.create_project(name, form.get("slug")).await?;
    Ok(redirect(&format!(
        "/projects/{}/settings?created=1#setup",
        project.slug
    )))
}

struct KeyRow {
    key: ProjectKey,
    dsn: String,
    created: When,
}

#[derive(Template)]
#[template(path = "project_settings.html")]
struct SettingsPage {
    layout: Layout,
    project: Project,
    created: bool,
    base_url: String,
    dsn: String,
    token: String,
    keys: Vec<KeyRow>,
    members: Vec<User>,
    others: Vec<User>,
    recipients: Vec<String>,
    settings: ProjectSettings,
    has_ownership_rules: bool,
    default_retention_days: i64,
    default_max_occurrences: i64,
    /// Attachments kept: files, stored bytes, and the project's quota.
    attachment_files: i64,
    attachment_bytes: String,
    attachment_quota: String,
}

#[derive(serde::Deserialize)]
struct CreatedQuery {
    created: Option<String>,
}

async fn settings_page(
    me: SignedIn,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<CreatedQuery>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, me.user(), &slug).await?;
    let base_url = state.config.base_url();
    let now = now_ms();
    let keys: Vec<KeyRow> = state
        .store
        .project_key_list(project.id)
        .await?
        .into_iter()
        .map(|key| KeyRow {
            dsn: dsn(&base_url, &key.token, project.id),
            created: when(key.created_at, now),
            key,
        })
        .collect();
    let active = keys.iter().find(|k| k.key.revoked_at.is_none());
    let (token, dsn_text) = match active {
        Some(k) => (k.key.token.clone(), k.dsn.clone()),
        None => ("<create a key first>".into(), "<create a key first>".into()),
    };
    let members = state.store.project_members(project.id).await?;
    let others = if me.user().is_admin {
        state
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| !members.iter().any(|m| m.id == u.id))
            .collect()
    } else {
        Vec::new()
    };
    let (attachment_files, attachment_bytes) = state.store.attachment_usage(project.id).await?;
    render(&SettingsPage {
        layout: me.layout(),
        attachment_files,
        attachment_bytes: super::human_size(attachment_bytes),
        attachment_quota: super::human_size(state.config.attachments.max_project_bytes),
        created: query.created.is_some(),
        base_url,
        dsn: dsn_text,
        token,
        keys,
        members,
        others,
        recipients: state.store.project_recipients(project.id).await?,
        settings: state.store.project_settings(project.id).await?,
        has_ownership_rules: !state
            .store
            .ownership_rules(project.id)
            .await?
            .trim()
            .is_empty(),
        default_retention_days: state.config.retention.max_age_days,
        default_max_occurrences: state.config.retention.max_occurrences_per_issue,
        project,
    })
}

fn back(project: &Project, section: &str) -> HttpResponse {
    redirect(&format!("/projects/{}/settings#{section}", project.slug))
}

async fn create_key(
    form: Posted,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, form.user(), &slug).await?;
    state.store.create_project_key(project.id).await?;
    Ok(back(&project, "keys"))
}

async fn revoke_key(
    form: Posted,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, form.user(), &path.0).await?;
    state.store.revoke_project_key(project.id, path.1).await?;
    state.keys.forget_project(project.id);
    Ok(back(&project, "keys"))
}

async fn add_member(
    form: Posted,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    if !form.user().is_admin {
        return Err(WebError::Forbidden(
            "only administrators add members".into(),
        ));
    }
    let project = visible_project(&state, form.user(), &slug).await?;
    let email = form
        .get("email")
        .ok_or_else(|| WebError::BadRequest("choose a user to add".into()))?;
    let user = match state.store.user_by_email(email).await {
        Ok(user) => user,
        Err(crate::store::StoreError::NotFound) => {
            return Err(WebError::BadRequest(format!(
                "there is no user {email}; create the user first"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    state.store.add_member(project.id, user.id).await?;
    Ok(back(&project, "members"))
}

async fn remove_member(
    form: Posted,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, WebError> {
    if !form.user().is_admin {
        return Err(WebError::Forbidden(
            "only administrators remove members".into(),
        ));
    }
    let project = visible_project(&state, form.user(), &path.0).await?;
    state.store.remove_member(project.id, path.1).await?;
    Ok(back(&project, "members"))
}

async fn recipients(
    form: Posted,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, form.user(), &slug).await?;
    if let Some(email) = form.get("add") {
        if !email.contains('@') {
            return Err(WebError::BadRequest(format!(
                "{email:?} is not an email address"
            )));
        }
        state.store.add_recipient(project.id, email).await?;
    }
    if let Some(email) = form.get("remove") {
        state.store.remove_recipient(project.id, email).await?;
    }
    Ok(back(&project, "notifications"))
}

/// An optional positive whole number from a form field; empty means "none".
fn optional_number(form: &Posted, name: &str, what: &str) -> Result<Option<i64>, WebError> {
    match form.get(name) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .map(Some)
            .ok_or_else(|| {
                WebError::BadRequest(format!(
                    "{what} must be a whole number of 1 or more, not {v:?}"
                ))
            }),
    }
}

async fn limits(
    form: Posted,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, form.user(), &slug).await?;
    let rate = optional_number(&form, "rate_limit", "the rate limit")?;
    let days = optional_number(&form, "retention_days", "the retention in days")?;
    let max = optional_number(&form, "max_occurrences", "the occurrences kept per issue")?;
    state.store.set_rate_limit(project.id, rate).await?;
    state.store.set_retention(project.id, days, max).await?;
    state.keys.forget_project(project.id);
    Ok(back(&project, "limits"))
}
