//! The JSON API (PROTOCOLS.md §1 "Read"), authenticated with a user's API token.
//!
//! Permission rule, everywhere: admins see every project, other users the projects they are
//! members of; anything else answers 404, so ids of other teams' issues are not revealed.

mod alert_rules;
mod channels;
mod feedback;
mod grouping;
mod issues;
mod ownership;
mod projects;
mod releases;
mod saved_searches;
mod sentry_cursor;
mod sentry_releases;
mod services;

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::issues::{Issue, Occurrence};
use crate::store::users::{TokenScope, User};
use crate::time;

pub fn routes(r: &mut Routes) {
    r.get("/api/v1/projects", projects::list_projects)
        .get("/api/v1/projects/{slug}/issues", issues::list_issues)
        .get("/api/v1/issues", issues::list_all_issues)
        .get("/api/v1/issues/{id}", issues::get_issue)
        .patch("/api/v1/issues/{id}", issues::update_issue)
        .post("/api/v1/issues/{id}/merge", issues::merge_issue)
        .get("/api/v1/issues/{id}/occurrences", issues::list_occurrences)
        .get("/api/v1/occurrences/{uuid}", issues::get_occurrence)
        .get("/api/v1/projects/{slug}/grouping", grouping::get_rules)
        .put("/api/v1/projects/{slug}/grouping", grouping::put_rules)
        .post(
            "/api/v1/projects/{slug}/grouping/preview",
            grouping::preview_rules,
        )
        .post("/api/v1/issues/{id}/unmerge", grouping::unmerge)
        .get(
            "/api/v1/projects/{slug}/feedback",
            feedback::project_feedback,
        )
        .get("/api/v1/attachments/{id}", feedback::download_attachment)
        .get("/api/v1/projects/{slug}/channels", channels::list_channels)
        .post("/api/v1/projects/{slug}/channels", channels::add_channel)
        .delete(
            "/api/v1/projects/{slug}/channels/{id}",
            channels::remove_channel,
        )
        .post(
            "/api/v1/projects/{slug}/channels/{id}/test",
            channels::test_channel,
        )
        .get(
            "/api/v1/projects/{slug}/searches",
            saved_searches::project_searches,
        )
        .post(
            "/api/v1/projects/{slug}/searches",
            saved_searches::save_project_search,
        )
        .get("/api/v1/searches", saved_searches::all_searches)
        .post("/api/v1/searches", saved_searches::save_search)
        .delete("/api/v1/searches/{id}", saved_searches::delete_search);
    r.get(
        "/api/v1/projects/{slug}/alert-rules",
        alert_rules::list_rules,
    )
    .post("/api/v1/projects/{slug}/alert-rules", alert_rules::add_rule)
    .put(
        "/api/v1/projects/{slug}/alert-rules/{id}",
        alert_rules::update_rule,
    )
    .delete(
        "/api/v1/projects/{slug}/alert-rules/{id}",
        alert_rules::remove_rule,
    )
    .get(
        "/api/v1/projects/{slug}/ownership",
        ownership::get_ownership,
    )
    .put(
        "/api/v1/projects/{slug}/ownership",
        ownership::put_ownership,
    );
    r.get("/api/v1/projects/{slug}/services", services::list_services);
    releases::routes(r);
    sentry_releases::routes(r);
}

/// The user behind the request's API token, and what the token may do.
pub struct ApiUser(pub User, pub TokenScope);

impl FromRequest for ApiUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let token = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let reads = matches!(req.method().as_str(), "GET" | "HEAD");
        Box::pin(async move {
            let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
                ApiError::Unauthorized(
                    "missing API token: send `Authorization: Bearer <API token>`".into(),
                )
            })?;
            let state = state.expect("AppState is registered");
            let (user, scope) = state
                .store
                .api_token_user(&token)
                .await?
                .ok_or_else(|| ApiError::Unauthorized("unknown API token".into()))?;
            if !reads && !scope.write {
                return Err(ApiError::Forbidden(
                    "this API token is read-only: create one with `--scope write`".into(),
                ));
            }
            Ok(ApiUser(user, scope))
        })
    }
}

impl ApiUser {
    /// False when the token is limited to other projects (the user's own rights aside).
    pub fn may_see(&self, project_id: i64) -> bool {
        self.1
            .projects
            .as_ref()
            .is_none_or(|ids| ids.contains(&project_id))
    }

    /// Fails with 404 unless the user may see the project.
    pub async fn check_project(&self, state: &AppState, project_id: i64) -> Result<(), ApiError> {
        if self.may_see(project_id) && state.store.can_access(&self.0, project_id).await? {
            Ok(())
        } else {
            Err(ApiError::NotFound("not found".into()))
        }
    }

    /// The project named by `slug`, or 404 unless the user may see it.
    pub async fn visible_project(
        &self,
        state: &AppState,
        slug: &str,
    ) -> Result<crate::store::projects::Project, ApiError> {
        let project = state.store.project_by_slug(slug).await?;
        self.check_project(state, project.id).await?;
        Ok(project)
    }
}

pub fn issue_json(issue: &Issue) -> Value {
    json!({
        "id": issue.id,
        "project_id": issue.project_id,
        "title": issue.title,
        "culprit": issue.culprit,
        "owner_rule": issue.owner_rule,
        "level": issue.level,
        "status": issue.status,
        "count": issue.count,
        "first_seen": time::json(issue.first_seen),
        "last_seen": time::json(issue.last_seen),
        "resolved_at": issue.resolved_at.map(time::json),
        "regressed_at": issue.regressed_at.map(time::json),
        "merged_into": issue.merged_into,
        "assignee_id": issue.assignee_id,
        "ignored_until": issue.snooze_until.map(time::json),
        "ignored_until_count": issue.snooze_count,
        "first_release": issue.first_release,
        "resolved_in_release": issue.resolved_in_release,
        "resolved_in_next_release": issue.resolved_next,
    })
}

/// The stored event as sent (normalized), plus where and when it was stored.
pub fn occurrence_json(occ: &Occurrence) -> Value {
    let mut event = occ.event.clone();
    if let Some(map) = event.as_object_mut() {
        map.insert("issue_id".into(), json!(occ.issue_id));
        map.insert("project_id".into(), json!(occ.project_id));
        map.insert("received_at".into(), time::json(occ.received_at));
    }
    event
}
