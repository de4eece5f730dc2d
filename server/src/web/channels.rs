//! A project's alert channels in the dashboard: add one (a webhook's secret shown once), send
//! a test message, remove, and see each channel's last deliveries. URLs are shown masked.
//! The page lists the project's alert rules too (`alert_rules` adds and removes them).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::projects::visible_project;
use super::session::{Layout, Posted, SignedIn};
use super::{redirect, render_with, WebError};
use crate::notify::channel_admin::{self, Request};
use crate::notify::rule_admin;
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::channels::{Channel, Delivery};
use crate::store::projects::Project;
use crate::time;

pub fn routes(r: &mut Routes) {
    r.get("/projects/{slug}/channels", page)
        .post("/projects/{slug}/channels", add)
        .post("/projects/{slug}/channels/{id}/test", test)
        .post("/projects/{slug}/channels/{id}/remove", remove);
}

struct Row {
    channel: Channel,
    url: String,
    deliveries: Vec<(String, Delivery)>,
}

#[derive(Template)]
#[template(path = "channels.html")]
struct ChannelsPage {
    layout: Layout,
    project: Project,
    rows: Vec<Row>,
    /// A notice (test result, saved) and an error.
    notice: Option<String>,
    error: Option<String>,
    secret: Option<String>,
    /// Alert rules: (id, name, what it does).
    rules: Vec<(i64, String, String)>,
    events: [&'static str; 5],
}

async fn rows(state: &AppState, project: &Project) -> Result<Vec<Row>, WebError> {
    let mut rows = Vec::new();
    for channel in state.store.project_channels(project.id).await? {
        let deliveries = state
            .store
            .channel_deliveries(channel.id, 5)
            .await?
            .into_iter()
            .map(|d| (time::format_ms(d.at), d))
            .collect();
        rows.push(Row {
            url: channel.masked_url(),
            channel,
            deliveries,
        });
    }
    Ok(rows)
}

pub(super) async fn show(
    state: &AppState,
    layout: Layout,
    project: Project,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    secret: Option<String>,
) -> Result<HttpResponse, WebError> {
    let rows = rows(state, &project).await?;
    let channels: Vec<Channel> = rows.iter().map(|r| r.channel.clone()).collect();
    let rules = state
        .store
        .alert_rules(project.id)
        .await?
        .iter()
        .map(|r| (r.id, r.name.clone(), rule_admin::describe(r, &channels)))
        .collect();
    render_with(
        status,
        &ChannelsPage {
            layout,
            project,
            rows,
            notice,
            error,
            secret,
            rules,
            events: crate::store::alert_rules::EVENTS,
        },
    )
}

async fn page(
    me: SignedIn,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, me.user(), &slug).await?;
    show(
        &state,
        me.layout(),
        project,
        StatusCode::OK,
        None,
        None,
        None,
    )
    .await
}

async fn add(
    form: Posted,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, form.user(), &slug).await?;
    let req = Request {
        kind: form.get("kind").unwrap_or_default(),
        url: form.get("url").unwrap_or_default(),
        name: form.get("name"),
        events: form.get("events"),
        min_level: form.get("min_level"),
        environment: form.get("environment"),
    };
    let layout = form.signed_in.layout();
    match channel_admin::add(&state.store, &state.config, project.id, &req).await {
        Ok(added) => {
            let notice = format!(
                "Added {} channel \"{}\".",
                added.channel.kind, added.channel.name
            );
            show(
                &state,
                layout,
                project,
                StatusCode::OK,
                Some(notice),
                None,
                added.secret,
            )
            .await
        }
        Err(why) => {
            show(
                &state,
                layout,
                project,
                StatusCode::BAD_REQUEST,
                None,
                Some(why),
                None,
            )
            .await
        }
    }
}

async fn channel_of(state: &AppState, project: &Project, id: i64) -> Result<Channel, WebError> {
    let channel = state.store.channel(id).await?;
    if channel.project_id != project.id {
        return Err(WebError::NotFound);
    }
    Ok(channel)
}

async fn test(
    form: Posted,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, WebError> {
    let (slug, id) = path.into_inner();
    let project = visible_project(&state, form.user(), &slug).await?;
    let channel = channel_of(&state, &project, id).await?;
    let result = channel_admin::send_test(&state.store, &state.config, &channel)
        .await
        .map_err(WebError::Internal)?;
    let layout = form.signed_in.layout();
    if result["delivered"] == true {
        let notice = format!(
            "Test message delivered to \"{}\" (HTTP {}).",
            channel.name, result["status"]
        );
        show(
            &state,
            layout,
            project,
            StatusCode::OK,
            Some(notice),
            None,
            None,
        )
        .await
    } else {
        let error = format!(
            "Test message to \"{}\" not delivered: {}",
            channel.name,
            result["error"].as_str().unwrap_or("?")
        );
        show(
            &state,
            layout,
            project,
            StatusCode::OK,
            None,
            Some(error),
            None,
        )
        .await
    }
}

async fn remove(
    form: Posted,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, WebError> {
    let (slug, id) = path.into_inner();
    let project = visible_project(&state, form.user(), &slug).await?;
    state.store.remove_channel(project.id, id).await?;
    Ok(redirect(&format!("/projects/{}/channels", project.slug)))
}
