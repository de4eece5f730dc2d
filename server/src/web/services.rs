//! A project's services, from its OpenTelemetry spans: the graph of calls between them drawn
//! as SVG on the server, and a table with each one's error rate, open issues and last error.
//! Every service links to the issue list filtered by `service:"name"`.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::projects::visible_project;
use super::session::{Layout, SignedIn};
use super::view::graph::{self, Graph};
use super::view::url_encode;
use super::{render, WebError};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::projects::Project;
use crate::store::services::ServiceSummary;
use crate::time::{now_ms, when, When, HOUR_MS};

pub fn routes(r: &mut Routes) {
    r.get("/projects/{slug}/services", services_page);
}

/// The search-language filter for one service, quoted so any name reads as itself.
pub fn service_query(name: &str) -> String {
    let mut out = String::from("service:\"");
    for c in name.chars() {
        if matches!(c, '"' | '\\' | '*') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The project's issue list filtered to one service.
pub fn service_issues_url(slug: &str, name: &str) -> String {
    format!(
        "/projects/{slug}/issues?query={}",
        url_encode(&service_query(name))
    )
}

struct Row {
    service: ServiceSummary,
    href: String,
    rate: String,
    health: &'static str,
    last_error: Option<When>,
    /// "payments (40)", the calls it makes.
    calls: String,
}

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    layout: Layout,
    project: Project,
    /// The windows offered, (hours, whether shown).
    windows: Vec<(i64, bool)>,
    graph: Graph,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct Window {
    hours: Option<i64>,
}

async fn services_page(
    me: SignedIn,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    window: web::Query<Window>,
) -> Result<HttpResponse, WebError> {
    let hours = window.hours.unwrap_or(24).clamp(1, 720);
    let project = visible_project(&state, me.user(), &slug).await?;
    let now = now_ms();
    let services = state
        .store
        .services(project.id, now - hours * HOUR_MS)
        .await?;
    let graph = graph::layout(&services, |name| service_issues_url(&project.slug, name));
    let rows = services
        .into_iter()
        .map(|s| Row {
            href: service_issues_url(&project.slug, &s.name),
            rate: graph::percent(s.error_rate()),
            health: graph::health(s.error_rate()),
            last_error: s.last_error.map(|t| when(t, now)),
            calls: s
                .calls
                .iter()
                .map(|(to, n)| format!("{to} ({n})"))
                .collect::<Vec<_>>()
                .join(", "),
            service: s,
        })
        .collect();
    render(&ServicesPage {
        layout: me.layout(),
        project,
        windows: [24, 168, 720].map(|h| (h, h == hours)).to_vec(),
        graph,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_filter_parses_back_to_the_name() {
        for name in ["checkout", "my \"odd\" svc*", "a\\b", "x y:z"] {
            let q = service_query(name);
            crate::query::parse(&q).unwrap_or_else(|e| panic!("{q}: {e:?}"));
        }
        assert_eq!(
            service_issues_url("shop", "pay ments"),
            "/projects/shop/issues?query=service%3A%22pay%20ments%22"
        );
    }
}
