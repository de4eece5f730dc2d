//! A project's ownership rules in the dashboard: a text editor in project settings. Rules
//! that do not parse come back as typed with the line and the reason, and nothing is saved.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::projects::visible_project;
use super::session::{Layout, Posted, SignedIn};
use super::{redirect, render_with, WebError};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::projects::Project;
use crate::store::StoreError;

pub fn routes(r: &mut Routes) {
    r.get("/projects/{slug}/ownership", page)
        .post("/projects/{slug}/ownership", save);
}

#[derive(Template)]
#[template(path = "ownership.html")]
struct OwnershipPage {
    layout: Layout,
    project: Project,
    rules: String,
    saved: bool,
    error: Option<String>,
    /// Channel names a `#name` owner can use.
    channels: Vec<String>,
}

#[derive(serde::Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn channel_names(state: &AppState, project: &Project) -> Result<Vec<String>, WebError> {
    Ok(state
        .store
        .project_channels(project.id)
        .await?
        .into_iter()
        .map(|c| c.name)
        .collect())
}

async fn page(
    me: SignedIn,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, me.user(), &slug).await?;
    let rules = state.store.ownership_rules(project.id).await?;
    let channels = channel_names(&state, &project).await?;
    render_with(
        StatusCode::OK,
        &OwnershipPage {
            layout: me.layout(),
            project,
            rules,
            saved: query.saved.is_some(),
            error: None,
            channels,
        },
    )
}

async fn save(
    form: Posted,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, form.user(), &slug).await?;
    let rules = form.get("rules").unwrap_or_default().replace("\r\n", "\n");
    match state.store.set_ownership_rules(project.id, &rules).await {
        Ok(()) => Ok(redirect(&format!(
            "/projects/{}/ownership?saved=1",
            project.slug
        ))),
        Err(StoreError::Invalid(why)) => {
            let channels = channel_names(&state, &project).await?;
            render_with(
                StatusCode::BAD_REQUEST,
                &OwnershipPage {
                    layout: form.signed_in.layout(),
                    project,
                    rules,
                    saved: false,
                    error: Some(format!("Not saved: {why}")),
                    channels,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}
