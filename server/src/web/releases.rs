//! A project's releases (newest first, in release order) and one release's page: created,
//! finalized, deploys per environment, release health (sessions, crashes, crash-free rates per
//! environment), commits, events and the issues first seen in it.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::projects::visible_project;
use super::session::{Layout, SignedIn};
use super::{render, WebError};
use crate::releases::health::{percent, Health};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::issues::Issue;
use crate::store::projects::Project;
use crate::store::release_health::overall;
use crate::store::releases::{Deploy, Release};
use crate::time::{now_ms, when, When};

pub fn routes(r: &mut Routes) {
    r.get("/projects/{slug}/releases", releases_page)
        .get("/projects/{slug}/releases/{version}", release_page);
}

/// `/projects/{slug}/releases/{version}`, the version percent-encoded (`+`, `@`, `#`...).
pub fn release_url(slug: &str, version: &str) -> String {
    let mut out = format!("/projects/{slug}/releases/");
    for b in version.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Row {
    release: Release,
    url: String,
    created: When,
    released: Option<When>,
    events: i64,
    issues: i64,
    new_issues: i64,
    /// Latest deploy per environment: (environment, when).
    environments: Vec<(String, When)>,
    /// All environments, then each (when there is more than one).
    health: HealthRow,
    health_by_env: Vec<HealthRow>,
}

/// Release health as a page shows it.
struct HealthRow {
    environment: String,
    sessions: i64,
    crashed: i64,
    errored: i64,
    abnormal: i64,
    users: i64,
    crash_free: String,
    crash_free_users: String,
}

impl HealthRow {
    fn new(environment: &str, h: &Health) -> Self {
        HealthRow {
            environment: environment.to_owned(),
            sessions: h.sessions,
            crashed: h.crashed,
            errored: h.errored,
            abnormal: h.abnormal,
            users: h.users,
            crash_free: percent(h.crash_free_sessions()),
            crash_free_users: percent(h.crash_free_users()),
        }
    }
}

/// (all environments, each environment) of one release.
fn health_rows(
    per_env: Option<&std::collections::BTreeMap<String, Health>>,
) -> (HealthRow, Vec<HealthRow>) {
    let Some(per_env) = per_env else {
        return (HealthRow::new("all", &Health::default()), Vec::new());
    };
    let envs = per_env
        .iter()
        .map(|(env, h)| HealthRow::new(env, h))
        .collect();
    (HealthRow::new("all", &overall(per_env)), envs)
}

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesPage {
    layout: Layout,
    project: Project,
    rows: Vec<Row>,
    /// Neighbouring page numbers, when there are such pages.
    newer: Option<usize>,
    older: Option<usize>,
}

/// Releases per page of the list.
const PAGE_SIZE: usize = 50;

#[derive(serde::Deserialize)]
struct ListQuery {
    page: Option<String>,
}

async fn releases_page(
    me: SignedIn,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, me.user(), &slug).await?;
    // A page number that does not read is the first page, as a hand-edited URL expects.
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|&p| (1..=100_000).contains(&p))
        .unwrap_or(1);
    let store = &state.store;
    let (releases, more) = store
        .releases_page(project.id, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        .await?;
    let versions: Vec<&str> = releases.iter().map(|r| r.version.as_str()).collect();
    let counts = store.release_counts(project.id, &versions).await?;
    let ids: Vec<i64> = releases.iter().map(|r| r.id).collect();
    let deploys = store.deploys_of(&ids).await?;
    let health = store.health_of(project.id, &versions).await?;
    let now = now_ms();
    let rows = releases
        .into_iter()
        .map(|release| {
            let c = counts.get(&release.version).copied().unwrap_or_default();
            let mut environments: Vec<(String, When)> = Vec::new();
            for d in deploys.iter().filter(|d| d.release_id == release.id) {
                if !environments.iter().any(|(e, _)| *e == d.environment) {
                    environments.push((d.environment.clone(), when(d.date_finished, now)));
                }
            }
            let (health, mut health_by_env) = health_rows(health.get(&release.version));
            if health_by_env.len() < 2 {
                health_by_env.clear();
            }
            Row {
                health,
                health_by_env,
                url: release_url(&project.slug, &release.version),
                created: when(release.created_at, now),
                released: release.date_released.map(|t| when(t, now)),
                events: c.events,
                issues: c.issues,
                new_issues: c.new_issues,
                environments,
                release,
            }
        })
        .collect();
    render(&ReleasesPage {
        layout: me.layout(),
        project,
        rows,
        newer: (page > 1).then(|| page - 1),
        older: more.then_some(page + 1),
    })
}

struct DeployRow {
    deploy: Deploy,
    finished: When,
}

struct CommitRow {
    id: String,
    repository: String,
    author: String,
    message: String,
}

#[derive(Template)]
#[template(path = "release.html")]
struct ReleasePage {
    layout: Layout,
    project: Project,
    release: Release,
    created: When,
    released: Option<When>,
    events: i64,
    issues: i64,
    deploys: Vec<DeployRow>,
    commits: Vec<CommitRow>,
    new_issues: Vec<Issue>,
    health: HealthRow,
    health_by_env: Vec<HealthRow>,
}

async fn release_page(
    me: SignedIn,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let (slug, version) = path.into_inner();
    let project = visible_project(&state, me.user(), &slug).await?;
    let store = &state.store;
    let release = store.release(project.id, &version).await?;
    let counts = store
        .release_counts(project.id, &[&version])
        .await?
        .get(&version)
        .copied()
        .unwrap_or_default();
    let (events, issues) = (counts.events, counts.issues);
    let (health, health_by_env) = health_rows(
        store
            .health_of(project.id, &[&version])
            .await?
            .get(&version),
    );
    let now = now_ms();
    let deploys = store
        .release_deploys(release.id)
        .await?
        .into_iter()
        .map(|deploy| DeployRow {
            finished: when(deploy.date_finished, now),
            deploy,
        })
        .collect();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let mut commits: Vec<CommitRow> = release
        .commits
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| CommitRow {
            id: text(&c["id"]).chars().take(12).collect(),
            repository: text(&c["repository"]),
            author: text(&c["author_name"]),
            message: text(&c["message"])
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        })
        .collect();
    for r in release.refs.as_array().into_iter().flatten() {
        let previous = text(&r["previousCommit"]);
        commits.push(CommitRow {
            id: text(&r["commit"]).chars().take(12).collect(),
            repository: text(&r["repository"]),
            author: String::new(),
            message: if previous.is_empty() {
                "head".into()
            } else {
                format!("since {}", previous.chars().take(12).collect::<String>())
            },
        });
    }
    let new_issues = store.new_issues_of(project.id, &version, 50).await?;
    render(&ReleasePage {
        layout: me.layout(),
        created: when(release.created_at, now),
        released: release.date_released.map(|t| when(t, now)),
        project,
        release,
        events,
        issues,
        deploys,
        commits,
        new_issues,
        health,
        health_by_env,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn release_urls_encode_what_a_path_cannot_hold() {
        assert_eq!(
            super::release_url("web", "shop@1.2.3+b#7"),
            "/projects/web/releases/shop%401.2.3%2Bb%237"
        );
    }
}
