//! Grouping in the dashboard: a project's rules (edit, preview, save) and splitting hashes off
//! an issue.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::issues::visible_issue;
use super::projects::visible_project;
use super::session::{Layout, Posted, SignedIn};
use super::{redirect, render_with, WebError};
use crate::grouping::rules;
use crate::regroup::{self, Preview, PREVIEW_OCCURRENCES};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::projects::Project;

pub fn routes(r: &mut Routes) {
    r.get("/projects/{slug}/grouping", rules_page)
        .post("/projects/{slug}/grouping", post_rules)
        .post("/issues/{id}/unmerge", unmerge);
}

#[derive(Template)]
#[template(path = "grouping.html")]
struct RulesPage {
    layout: Layout,
    project: Project,
    rules: String,
    saved: bool,
    error: Option<String>,
    preview: Option<Preview>,
    preview_size: i64,
}

#[derive(serde::Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn rules_page(
    me: SignedIn,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, me.user(), &slug).await?;
    let rules = state
        .store
        .project_settings(project.id)
        .await?
        .grouping_rules
        .unwrap_or_default();
    render_with(
        StatusCode::OK,
        &RulesPage {
            layout: me.layout(),
            project,
            rules,
            saved: query.saved.is_some(),
            error: None,
            preview: None,
            preview_size: PREVIEW_OCCURRENCES,
        },
    )
}

/// `action=preview` shows what the typed rules would do; `action=save` saves them. Rules that
/// do not parse come back with the line and column of the error, and nothing is saved.
async fn post_rules(
    form: Posted,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, form.user(), &slug).await?;
    let text = form.get("rules").unwrap_or_default().replace("\r\n", "\n");
    let page = |error: Option<String>, preview: Option<Preview>| RulesPage {
        layout: form.signed_in.layout(),
        project: project.clone(),
        rules: text.clone(),
        saved: false,
        error,
        preview,
        preview_size: PREVIEW_OCCURRENCES,
    };
    let parsed = match rules::parse(&text) {
        Ok(parsed) => parsed,
        Err(e) => return render_with(StatusCode::BAD_REQUEST, &page(Some(e.to_string()), None)),
    };
    if form.get("action") == Some("preview") {
        let preview = regroup::preview_project(&state.store, project.id, &parsed).await?;
        return render_with(StatusCode::OK, &page(None, Some(preview)));
    }
    state
        .store
        .set_grouping_rules(project.id, Some(&text))
        .await?;
    state.keys.forget_project(project.id);
    Ok(redirect(&format!(
        "/projects/{}/grouping?saved=1",
        project.slug
    )))
}

async fn unmerge(
    form: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let issue = visible_issue(&state, form.user(), *id).await?;
    let hashes: Vec<String> = form
        .all("hash")
        .map(str::to_owned)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if hashes.is_empty() {
        return Err(WebError::BadRequest(
            "tick the hashes to split off into a new issue".into(),
        ));
    }
    let new = regroup::split_off(&state.store, &issue, &hashes, &form.user().email).await?;
    Ok(redirect(&format!("/issues/{}", new.id)))
}
