use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::{issue_json, occurrence_json, ApiUser};
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::issues::{Issue, IssueFilter, StatusFilter};

type Params = web::Query<HashMap<String, String>>;

fn param<T: std::str::FromStr<Err = String>>(
    params: &Params,
    name: &str,
) -> Result<Option<T>, ApiError> {
    params
        .get(name)
        .filter(|v| !v.is_empty())
        .map(|v| v.parse().map_err(ApiError::BadRequest))
        .transpose()
}

fn limit(params: &Params, default: i64) -> Result<i64, ApiError> {
    match params.get("limit") {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError::BadRequest(format!("limit must be 1 to 500, not {v:?}"))),
    }
}

/// The issue, if the user may see its project; 404 otherwise.
pub(super) async fn visible_issue(
    state: &AppState,
    user: &ApiUser,
    id: i64,
) -> Result<Issue, ApiError> {
    let issue = state.store.issue(id).await?;
    user.check_project(state, issue.project_id).await?;
    Ok(issue)
}

/// A query that does not parse: 400 `{"error", "position", "end", "detail"}` (positions are
/// 0-based characters; `detail` says it in words, with the column).
fn bad_query(e: &crate::query::QueryError) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "error": e.reason,
        "position": e.start,
        "end": e.end,
        "detail": e.to_string(),
    }))
}

/// The list's filter from `?query=` (the search language) and the older parameters, which
/// become terms of it. With `query` and no `status`, every status is searched (as Sentry
/// does): the query says which.
fn list_filter(
    user: &ApiUser,
    params: &Params,
) -> Result<Result<IssueFilter, HttpResponse>, ApiError> {
    let text = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
    let defaults = IssueFilter::default();
    let query = match params.get("query") {
        Some(q) => match crate::query::parse(q) {
            Ok(q) => Some(q),
            Err(e) => return Ok(Err(bad_query(&e))),
        },
        None => None,
    };
    let status = match (param(params, "status")?, &query) {
        (Some(s), _) => s,
        (None, Some(_)) => StatusFilter::All,
        (None, None) => defaults.status,
    };
    Ok(Ok(IssueFilter {
        status,
        level: match text("level") {
            Some(l) => Some(
                l.parse::<crate::event::Level>()
                    .map_err(|e| ApiError::BadRequest(e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
            None => None,
        },
        environment: text("environment"),
        release: text("release"),
        host: text("host"),
        q: text("q"),
        query: query.unwrap_or_default(),
        user_id: Some(user.0.id),
        sort: param(params, "sort")?.unwrap_or(defaults.sort),
        cursor: text("cursor"),
        limit: limit(params, defaults.limit)?,
    }))
}

pub async fn list_issues(
    user: ApiUser,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let project = state.store.project_by_slug(&slug).await?;
    user.check_project(&state, project.id).await?;
    let filter = match list_filter(&user, &params)? {
        Ok(f) => f,
        Err(bad) => return Ok(bad),
    };
    let (issues, next_cursor) = state.store.list_issues(project.id, &filter).await?;
    Ok(HttpResponse::Ok().json(json!({
        "issues": issues.iter().map(issue_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

/// The same list across every project the user may see.
pub async fn list_all_issues(
    user: ApiUser,
    state: web::Data<AppState>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let filter = match list_filter(&user, &params)? {
        Ok(f) => f,
        Err(bad) => return Ok(bad),
    };
    let ids: Vec<i64> = state
        .store
        .projects_for_user(&user.0)
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    let (issues, next_cursor) = state.store.list_issues_in(&ids, &filter).await?;
    Ok(HttpResponse::Ok().json(json!({
        "issues": issues.iter().map(issue_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

pub async fn get_issue(
    user: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let issue = visible_issue(&state, &user, *id).await?;
    let latest = state.store.latest_occurrence(issue.id).await?;
    let mut facets = serde_json::Map::new();
    for facet in [
        "host",
        "environment",
        "release",
        "os",
        "browser",
        "call_path",
    ] {
        let values = state.store.issue_facet(issue.id, facet).await?;
        let values: Vec<_> = values
            .into_iter()
            .map(|(value, count)| json!({"value": value, "count": count}))
            .collect();
        facets.insert(facet.to_owned(), json!(values));
    }
    let mut body = issue_json(&issue);
    let map = body.as_object_mut().expect("issue is an object");
    let hashes = state.store.issue_hashes(issue.id).await?;
    map.insert(
        "grouping".into(),
        json!({"version": issue.grouping_version, "components": issue.components, "hashes": hashes}),
    );
    map.insert("latest".into(), json!(latest.as_ref().map(occurrence_json)));
    map.insert("facets".into(), facets.into());
    let suspects = state
        .store
        .suspects(&issue, latest.as_ref().map(|o| &o.event))
        .await?;
    map.insert(
        "suspects".into(),
        json!({
            "appeared_at": crate::time::json(suspects.appeared_at),
            "release": suspects.release,
            "deploy": suspects.deploy.as_ref().map(super::releases::deploy_json),
            "commits": suspects.commits,
        }),
    );
    // Every key indexed for the issue (built-in facets and tags), top 10 values each.
    let mut tags = serde_json::Map::new();
    for b in state.store.issue_breakdowns(issue.id, 10).await? {
        let values: Vec<_> = b
            .values
            .iter()
            .map(|(value, count)| json!({"value": value, "count": count}))
            .collect();
        tags.insert(
            b.key().to_owned(),
            json!({"total": b.total, "other": b.other, "values": values}),
        );
    }
    map.insert("tags".into(), tags.into());
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: String,
    /// With `resolved`: `"next"` or a version (see `store::releases::InRelease`).
    #[serde(default)]
    in_release: Option<String>,
}

pub async fn update_issue(
    user: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let change: StatusChange = crate::json::parse(&body, "request")?;
    visible_issue(&state, &user, *id).await?;
    let issue = match change.in_release {
        Some(release) => {
            if change.status != "resolved" {
                return Err(ApiError::BadRequest(
                    "in_release goes with status \"resolved\"".into(),
                ));
            }
            let in_release = crate::store::releases::InRelease::parse(&release);
            state
                .store
                .resolve_in_release(*id, &in_release, Some(&user.0.email))
                .await?
        }
        None => {
            state
                .store
                .change_status(*id, &change.status, Default::default(), Some(&user.0.email))
                .await?
        }
    };
    Ok(HttpResponse::Ok().json(issue_json(&issue)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    into: i64,
}

pub async fn merge_issue(
    user: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let merge: Merge = crate::json::parse(&body, "request")?;
    visible_issue(&state, &user, *id).await?;
    visible_issue(&state, &user, merge.into).await?;
    let target = state.store.merge_issues(*id, merge.into).await?;
    Ok(HttpResponse::Ok().json(issue_json(&target)))
}

pub async fn list_occurrences(
    user: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    params: Params,
) -> Result<HttpResponse, ApiError> {
    let issue = visible_issue(&state, &user, *id).await?;
    let before = match params.get("cursor").filter(|c| !c.is_empty()) {
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| ApiError::BadRequest(format!("invalid cursor {c:?}")))?,
        ),
        None => None,
    };
    let limit = limit(&params, 50)?;
    let mut occurrences = state.store.occurrences(issue.id, before, limit + 1).await?;
    let next_cursor = if occurrences.len() as i64 > limit {
        occurrences.truncate(limit as usize);
        occurrences.last().map(|o| o.id.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(json!({
        "occurrences": occurrences.iter().map(occurrence_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

pub async fn get_occurrence(
    user: ApiUser,
    state: web::Data<AppState>,
    uuid: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // Dashed and 32-hex forms both parse.
    let uuid = uuid::Uuid::parse_str(&uuid)
        .map_err(|_| ApiError::BadRequest(format!("{:?} is not a uuid", uuid.as_str())))?;
    let projects: Vec<i64> = state
        .store
        .projects_for_user(&user.0)
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    let Some(occ) = state.store.occurrence_by_uuid(uuid, &projects).await? else {
        return Err(ApiError::NotFound("not found".into()));
    };
    let mut body = occurrence_json(&occ);
    let attachments: Vec<_> = state
        .store
        .attachments_of(occ.id)
        .await?
        .into_iter()
        .map(|a| {
            let mut v = json!(a);
            v["download"] = json!(format!("/api/v1/attachments/{}", a.id));
            v
        })
        .collect();
    if let Some(map) = body.as_object_mut() {
        map.insert("attachments".into(), json!(attachments));
        map.insert(
            "feedback".into(),
            json!(state.store.event_feedback(occ.project_id, uuid).await?),
        );
    }
    Ok(HttpResponse::Ok().json(body))
}
