//! A project's alert rules in the dashboard, on the alert channels page: add one from the
//! form, remove one. Checked by `notify::rule_admin` as the API and CLI are.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::Value;

use super::channels::show;
use super::projects::visible_project;
use super::session::Posted;
use super::{redirect, WebError};
use crate::notify::rule_admin::{self, RuleRequest};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::alert_rules::Spike;

pub fn routes(r: &mut Routes) {
    r.post("/projects/{slug}/alert-rules", add)
        .post("/projects/{slug}/alert-rules/{id}/remove", remove);
}

/// The form as a rule request; a number that does not parse is said so.
fn request(form: &Posted) -> Result<RuleRequest, String> {
    let text = |name: &str| form.get(name).map(str::trim).filter(|v| !v.is_empty());
    let number = |name: &str| -> Result<Option<i64>, String> {
        text(name)
            .map(|v| {
                v.parse()
                    .map_err(|_| format!("{name} must be a number, not {v:?}"))
            })
            .transpose()
    };
    let spike = match (number("spike_count")?, number("spike_minutes")?) {
        (Some(count), Some(minutes)) => Some(Spike { count, minutes }),
        _ => None,
    };
    let events: Vec<String> = form.all("rule_events").map(str::to_owned).collect();
    let milestones = text("milestones")
        .map(|list| {
            list.split(',')
                .map(|m| {
                    m.trim()
                        .parse()
                        .map_err(|_| format!("milestones must be counts, not {m:?}"))
                })
                .collect::<Result<Vec<i64>, String>>()
        })
        .transpose()?;
    Ok(RuleRequest {
        name: text("rule_name").map(str::to_owned),
        spike: spike.filter(|_| events.iter().any(|e| e == "spike")),
        milestones: milestones.filter(|_| events.iter().any(|e| e == "milestone")),
        events,
        filter: form.get("filter").unwrap_or_default().to_owned(),
        channels: form
            .all("rule_channels")
            .map(|c| Value::String(c.to_owned()))
            .collect(),
        mail: form.get("mail").is_some(),
    })
}

async fn add(
    form: Posted,
    state: web::Data<AppState>,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, form.user(), &slug).await?;
    let channels = state.store.project_channels(project.id).await?;
    let checked = request(&form).and_then(|r| rule_admin::check(&r, &channels));
    let layout = form.signed_in.layout();
    match checked {
        Ok(rule) => {
            let rule = state.store.add_alert_rule(project.id, &rule).await?;
            let notice = format!("Added alert rule \"{}\".", rule.name);
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
        }
        Err(why) => {
            let error = format!("Alert rule not added: {why}");
            show(
                &state,
                layout,
                project,
                StatusCode::BAD_REQUEST,
                None,
                Some(error),
                None,
            )
            .await
        }
    }
}

async fn remove(
    form: Posted,
    state: web::Data<AppState>,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, WebError> {
    let (slug, id) = path.into_inner();
    let project = visible_project(&state, form.user(), &slug).await?;
    state.store.remove_alert_rule(project.id, id).await?;
    Ok(redirect(&format!("/projects/{}/channels", project.slug)))
}
