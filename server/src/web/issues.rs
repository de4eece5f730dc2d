//! Issue lists (per project and across projects), the issue page, the occurrence permalink,
//! and triage: resolve, ignore (with a wake-up), reopen, merge, assign, bulk actions.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;

use super::projects::visible_project;
use super::search::{BadQuery, ListQuery, Search, Shortcuts};
use super::session::{Layout, Posted, SignedIn};
use super::view::trace::{trace_lines, TraceLine};
use super::view::{chart, day_label, event_view, hour_label, url_encode, Chart, EventView};
use super::{redirect, render, WebError};
use crate::routes::Routes;
use crate::state::AppState;
use crate::store::attachments::AttachmentInfo;
use crate::store::feedback::Feedback;
use crate::store::issues::{Issue, Occurrence, Snooze};
use crate::store::merges::IssueHash;
use crate::store::projects::Project;
use crate::store::saved_searches::SavedSearch;
use crate::store::users::User;
use crate::time::now_ms;
use crate::time::HOUR_MS;
use crate::time::{when, When};

pub fn routes(r: &mut Routes) {
    r.get("/issues", all_issues)
        .post("/issues/bulk", bulk)
        .get("/projects/{slug}/issues", project_issues)
        .get("/issues/{id}", issue_page)
        .post("/issues/{id}/status", change_status)
        .post("/issues/{id}/assign", assign)
        .post("/issues/{id}/merge", merge)
        .get("/occurrences/{uuid}/json", occurrence_json)
        .get("/occurrences/{uuid}", occurrence_page);
}

const DAY_MS: i64 = 24 * HOUR_MS;

struct IssueRow {
    issue: Issue,
    project_slug: String,
    is_new: bool,
    hosts: i64,
    /// User reports about it.
    feedback: i64,
    first_seen: When,
    last_seen: When,
    spark: Chart,
}

#[derive(Template)]
#[template(path = "issues.html")]
struct IssuesPage {
    layout: Layout,
    /// None: the list across all the user's projects.
    project: Option<Project>,
    search: Search,
    shortcuts: Shortcuts,
    /// The user's saved searches for this list, then those shared in the project.
    saved: Vec<SavedSearch>,
    me_id: i64,
    sort: String,
    spark_14d: bool,
    rows: Vec<IssueRow>,
    next_page: Option<String>,
    first_page: Option<String>,
    list_path: String,
}

impl IssuesPage {
    fn is(&self, current: &str, option: &str) -> bool {
        current == option
    }
    /// A saved search's link.
    fn saved_link(&self, s: &SavedSearch) -> String {
        format!("{}?query={}", self.list_path, url_encode(&s.query))
    }
    fn mine(&self, s: &SavedSearch) -> bool {
        s.user_id == self.me_id
    }
    /// `?query=...` of this list (where bulk actions come back to).
    fn here(&self) -> String {
        format!("?query={}", url_encode(&self.search.text))
    }
    fn error(&self) -> Option<&BadQuery> {
        self.search.error.as_ref()
    }
    /// This list's address with `term` written into the query (a shortcut link).
    fn with_term(&self, term: &str) -> String {
        let mut q = self.search.query.clone();
        if let Ok(t) = crate::query::parse(term) {
            for t in t.terms {
                q.set(t);
            }
        }
        format!("{}?query={}", self.list_path, url_encode(&q.to_string()))
    }
}

async fn project_issues(
    me: SignedIn,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let project = visible_project(&state, me.user(), &slug).await?;
    issue_list(
        me,
        &state,
        vec![project.clone()],
        Some(project),
        query.into_inner(),
    )
    .await
}

async fn all_issues(
    me: SignedIn,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let projects = state.store.projects_for_user(me.user()).await?;
    issue_list(me, &state, projects, None, query.into_inner()).await
}

async fn issue_list(
    me: SignedIn,
    state: &AppState,
    projects: Vec<Project>,
    project: Option<Project>,
    query: ListQuery,
) -> Result<HttpResponse, WebError> {
    let project_id = project.as_ref().map(|p| p.id);
    let default = state.store.default_search(me.user().id, project_id).await?;
    let search = query.search(default.as_deref().unwrap_or(super::search::DEFAULT_QUERY))?;
    let saved = state.store.saved_searches(me.user().id, project_id).await?;
    let filter = query.filter(&search, me.user().id)?;
    let list_path = match &project {
        Some(p) => format!("/projects/{}/issues", p.slug),
        None => "/issues".to_owned(),
    };
    if search.error.is_some() {
        return super::render_with(
            actix_web::http::StatusCode::BAD_REQUEST,
            &IssuesPage {
                layout: me.layout(),
                shortcuts: Shortcuts::of(&search.query),
                saved,
                me_id: me.user().id,
                sort: filter.sort.as_str().to_owned(),
                spark_14d: false,
                next_page: None,
                first_page: None,
                rows: Vec::new(),
                project,
                search,
                list_path,
            },
        );
    }
    let ids: Vec<i64> = projects.iter().map(|p| p.id).collect();
    let slugs: HashMap<i64, String> = projects.into_iter().map(|p| (p.id, p.slug)).collect();
    let (issues, next) = state.store.list_issues_in(&ids, &filter).await?;
    let issue_ids: Vec<i64> = issues.iter().map(|i| i.id).collect();
    let spark_14d = query.spark.as_deref() == Some("14d");
    let now = now_ms();
    let (bucket, buckets) = if spark_14d {
        (DAY_MS, 14)
    } else {
        (HOUR_MS, 24)
    };
    let mut series = state
        .store
        .issue_series(&issue_ids, bucket, buckets)
        .await?;
    let hosts = state.store.host_counts(&issue_ids).await?;
    let feedback = state.store.feedback_counts(&issue_ids).await?;
    let rows = issues
        .into_iter()
        .map(|issue| {
            let counts = series.remove(&issue.id).unwrap_or_default();
            let spark = if spark_14d {
                chart(&counts, 84, 20, day_label(now, 14))
            } else {
                chart(&counts, 84, 20, hour_label(now, 24))
            };
            IssueRow {
                project_slug: slugs.get(&issue.project_id).cloned().unwrap_or_default(),
                is_new: now - issue.first_seen < DAY_MS && issue.status == "unresolved",
                hosts: hosts.get(&issue.id).copied().unwrap_or(0),
                feedback: feedback.get(&issue.id).copied().unwrap_or(0),
                first_seen: when(issue.first_seen, now),
                last_seen: when(issue.last_seen, now),
                spark,
                issue,
            }
        })
        .collect();
    render(&IssuesPage {
        layout: me.layout(),
        shortcuts: Shortcuts::of(&search.query),
        saved,
        me_id: me.user().id,
        sort: filter.sort.as_str().to_owned(),
        spark_14d,
        next_page: next.map(|c| query.link(&search, Some(&c))),
        first_page: filter.cursor.is_some().then(|| query.link(&search, None)),
        rows,
        project,
        search,
        list_path,
    })
}

/// The issue, if the user may see its project.
pub(super) async fn visible_issue(
    state: &AppState,
    user: &User,
    id: i64,
) -> Result<Issue, WebError> {
    let issue = state.store.issue(id).await?;
    if state.store.can_access(user, issue.project_id).await? {
        Ok(issue)
    } else {
        Err(WebError::NotFound)
    }
}

struct Facet {
    name: String,
    values: Vec<(String, i64)>,
    /// Occurrences with any other value.
    other: i64,
    total: i64,
}

struct ActivityRow {
    at: When,
    kind: String,
    detail: String,
}

struct OccurrenceLine {
    uuid: String,
    received: When,
    host: String,
    release: String,
    environment: String,
}

/// What the issue page and the occurrence page show of one occurrence.
struct Shown {
    uuid: String,
    received: When,
    older: Option<String>,
    newer: Option<String>,
    event: EventView,
    attachments: Vec<AttachmentInfo>,
    feedback: Vec<Feedback>,
    /// The other errors of its trace the user may see, oldest first.
    trace: Vec<TraceLine>,
}

async fn shown(state: &AppState, user: &User, occ: &Occurrence) -> Result<Shown, WebError> {
    let (older, newer) = state
        .store
        .occurrence_neighbours(occ.issue_id, occ.id)
        .await?;
    let event = event_view(&occ.event, state.config.trace_url.as_deref());
    let uuid = occ
        .event
        .get("uuid")
        .and_then(|u| u.as_str())
        .unwrap_or_default()
        .to_owned();
    let feedback = match uuid::Uuid::parse_str(&uuid) {
        Ok(id) => state.store.event_feedback(occ.project_id, id).await?,
        Err(_) => Vec::new(),
    };
    let trace = match occ.event["trace"]["trace_id"]
        .as_str()
        .and_then(crate::event::trace_key)
    {
        Some(trace_id) => {
            let projects: Vec<i64> = state
                .store
                .projects_for_user(user)
                .await?
                .iter()
                .map(|p| p.id)
                .collect();
            let all = state.store.trace_occurrences(&trace_id, &projects).await?;
            let shown_at = all
                .iter()
                .find(|o| o.id == occ.id)
                .map(|o| o.timestamp)
                .or_else(|| {
                    let t = occ.event["timestamp"].as_str()?;
                    Some(
                        chrono::DateTime::parse_from_rfc3339(t)
                            .ok()?
                            .timestamp_millis(),
                    )
                })
                .unwrap_or(occ.received_at);
            trace_lines(&all, occ.id, shown_at)
        }
        None => Vec::new(),
    };
    Ok(Shown {
        uuid,
        trace,
        received: when(occ.received_at, now_ms()),
        older,
        newer,
        event,
        attachments: state.store.attachments_of(occ.id).await?,
        feedback,
    })
}

#[derive(Template)]
#[template(path = "issue.html")]
struct IssuePage {
    layout: Layout,
    project: Project,
    issue: Issue,
    merged_into: Option<i64>,
    first_seen: When,
    last_seen: When,
    snooze: Option<String>,
    hosts: i64,
    assignee: Option<String>,
    members: Vec<User>,
    range_30d: bool,
    chart: Chart,
    facets: Vec<Facet>,
    hashes: Vec<IssueHash>,
    issue_feedback: Vec<Feedback>,
    shown: Option<Shown>,
    occurrences: Vec<OccurrenceLine>,
    older_page: Option<String>,
    activity: Vec<ActivityRow>,
    /// First and last seen release, and what the resolution waits for.
    releases: crate::store::releases::IssueReleases,
    /// The deploy after which it appeared and the commits that touched its frames' files.
    suspects: crate::store::suspects::Suspects,
    suspect_deployed: Option<When>,
}

#[derive(serde::Deserialize)]
struct IssueQuery {
    range: Option<String>,
    before: Option<i64>,
}

async fn issue_page(
    me: SignedIn,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<IssueQuery>,
) -> Result<HttpResponse, WebError> {
    let issue = visible_issue(&state, me.user(), *id).await?;
    let store = &state.store;
    let project = store.project(issue.project_id).await?;
    let now = now_ms();
    let range_30d = query.range.as_deref() == Some("30d");
    let chart = if range_30d {
        let counts = store.issue_series(&[issue.id], DAY_MS, 30).await?;
        super::view::chart(&counts[&issue.id], 720, 120, day_label(now, 30))
    } else {
        let counts = store.issue_series(&[issue.id], HOUR_MS, 24).await?;
        super::view::chart(&counts[&issue.id], 720, 120, hour_label(now, 24))
    };
    // Every indexed key: the built-in facets, then each tag.
    let facets = store
        .issue_breakdowns(issue.id, 10)
        .await?
        .into_iter()
        .map(|b| Facet {
            // The outer paths that led to the failing site, which grouping does not hash.
            name: match b.facet.as_str() {
                "call_path" => "call paths".to_owned(),
                _ => b.key().to_owned(),
            },
            values: b.values,
            other: b.other,
            total: b.total,
        })
        .collect();
    let hosts = store.host_counts(&[issue.id]).await?;
    let latest = store.latest_occurrence(issue.id).await?;
    let suspects = store
        .suspects(&issue, latest.as_ref().map(|o| &o.event))
        .await?;
    let suspect_deployed = suspects.deploy.as_ref().map(|d| when(d.date_finished, now));
    let shown = match latest {
        Some(occ) => Some(shown(&state, me.user(), &occ).await?),
        None => None,
    };
    let page = store.occurrence_rows(issue.id, query.before, 21).await?;
    let older_page = (page.len() > 20).then(|| format!("?before={}#occurrences", page[19].id));
    let occurrences = page
        .into_iter()
        .take(20)
        .map(|o| OccurrenceLine {
            uuid: o.uuid,
            received: when(o.received_at, now),
            host: o.host.unwrap_or_default(),
            release: o.release.unwrap_or_default(),
            environment: o.environment.unwrap_or_default(),
        })
        .collect();
    let mut activity: Vec<(i64, ActivityRow)> = store
        .issue_activity(issue.id)
        .await?
        .into_iter()
        .map(|(at, kind, detail)| {
            (
                at,
                ActivityRow {
                    at: when(at, now),
                    kind,
                    detail: detail.unwrap_or_default(),
                },
            )
        })
        .collect();
    for (at, kind) in store.issue_mails(issue.id).await? {
        activity.push((
            at,
            ActivityRow {
                at: when(at, now),
                kind: "mailed".into(),
                detail: kind.replace('_', " "),
            },
        ));
    }
    activity.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let assignee = match issue.assignee_id {
        Some(uid) => Some(store.user(uid).await?.email),
        None => None,
    };
    let mut members = store.project_members(project.id).await?;
    if me.user().is_admin && !members.iter().any(|m| m.id == me.user().id) {
        members.push(me.user().clone());
    }
    let snooze = snooze_text(&issue);
    render(&IssuePage {
        layout: me.layout(),
        merged_into: issue.merged_into.filter(|_| issue.status == "merged"),
        first_seen: when(issue.first_seen, now),
        last_seen: when(issue.last_seen, now),
        hosts: hosts.get(&issue.id).copied().unwrap_or(0),
        snooze,
        assignee,
        members,
        range_30d,
        chart,
        facets,
        hashes: store.issue_hashes(issue.id).await?,
        issue_feedback: store.issue_feedback(issue.id).await?,
        shown,
        occurrences,
        older_page,
        activity: activity.into_iter().map(|(_, a)| a).collect(),
        releases: store.issue_release_state(issue.id).await?,
        suspects,
        suspect_deployed,
        project,
        issue,
    })
}

impl IssuePage {
    fn is_assignee(&self, user: &User) -> bool {
        self.issue.assignee_id == Some(user.id)
    }

    fn release_url(&self, version: &str) -> String {
        super::releases::release_url(&self.project.slug, version)
    }

    fn short_commit<'a>(&self, id: &'a str) -> &'a str {
        id.get(..12).unwrap_or(id)
    }

    /// The release the issue appeared in, when its suspect deploy is of another one.
    fn appeared_in_other_release(&self) -> Option<&str> {
        let deployed = self.suspects.deploy.as_ref()?;
        self.suspects
            .release
            .as_deref()
            .filter(|r| *r != deployed.version)
    }
}

fn snooze_text(issue: &Issue) -> Option<String> {
    if issue.status != "ignored" {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(n) = issue.snooze_count {
        parts.push(format!("until it reaches {n} occurrences"));
    }
    if let Some(t) = issue.snooze_until {
        parts.push(format!("until {}", crate::time::format_ms(t)));
    }
    Some(if parts.is_empty() {
        "for good".into()
    } else {
        parts.join(" or ")
    })
}

#[derive(Template)]
#[template(path = "occurrence.html")]
struct OccurrencePage {
    layout: Layout,
    project: Project,
    issue: Issue,
    shown: Shown,
}

/// The whole stored event as JSON, for the signed-in (the page cuts long events); its
/// secrets were filtered when it was stored.
async fn occurrence_json(
    me: SignedIn,
    state: web::Data<AppState>,
    uuid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let occ = visible_occurrence(&state, me.user(), &uuid).await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .json(crate::api::occurrence_json(&occ)))
}

async fn occurrence_page(
    me: SignedIn,
    state: web::Data<AppState>,
    uuid: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let occ = visible_occurrence(&state, me.user(), &uuid).await?;
    let issue = state.store.issue(occ.issue_id).await?;
    let project = state.store.project(issue.project_id).await?;
    let shown = shown(&state, me.user(), &occ).await?;
    render(&OccurrencePage {
        layout: me.layout(),
        project,
        issue,
        shown,
    })
}

/// An occurrence by uuid (dashed or 32-hex), if it is in a project the user may see.
async fn visible_occurrence(
    state: &AppState,
    user: &User,
    uuid: &str,
) -> Result<Occurrence, WebError> {
    let uuid = uuid::Uuid::parse_str(uuid).map_err(|_| WebError::NotFound)?;
    let projects: Vec<i64> = state
        .store
        .projects_for_user(user)
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    state
        .store
        .occurrence_by_uuid(uuid, &projects)
        .await?
        .ok_or(WebError::NotFound)
}

fn issue_url(id: i64) -> String {
    format!("/issues/{id}")
}

/// "Ignore" with its wake-up: `until_count` more occurrences, or `until_date` (YYYY-MM-DD,
/// midnight UTC), or `for_hours`.
fn snooze_from(form: &Posted) -> Result<Snooze, WebError> {
    let mut snooze = Snooze::default();
    if let Some(n) = form.get("until_count") {
        snooze.more = Some(n.parse::<i64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            WebError::BadRequest(format!("{n:?} is not a number of occurrences"))
        })?);
    }
    if let Some(date) = form.get("until_date") {
        let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| WebError::BadRequest(format!("{date:?} is not a date (YYYY-MM-DD)")))?;
        let at = day
            .and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_millis();
        snooze.until = Some(at);
    }
    if let Some(hours) = form.get("for_hours") {
        let h = hours
            .parse::<i64>()
            .ok()
            .filter(|h| (1..=24 * 365).contains(h))
            .ok_or_else(|| WebError::BadRequest(format!("{hours:?} is not a number of hours")))?;
        snooze.until = Some(now_ms() + h * HOUR_MS);
    }
    Ok(snooze)
}

async fn change_status(
    form: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let issue = visible_issue(&state, form.user(), *id).await?;
    let status = form
        .get("status")
        .ok_or_else(|| WebError::BadRequest("which status?".into()))?;
    let snooze = if status == "ignored" {
        snooze_from(&form)?
    } else {
        Snooze::default()
    };
    // "Resolve in next release" / "in current release (Y)".
    if let Some(release) = form.get("in_release").filter(|r| !r.is_empty()) {
        if status != "resolved" {
            return Err(WebError::BadRequest("in_release goes with resolved".into()));
        }
        let in_release = crate::store::releases::InRelease::parse(release);
        state
            .store
            .resolve_in_release(issue.id, &in_release, Some(&form.user().email))
            .await?;
        return Ok(redirect(&issue_url(issue.id)));
    }
    state
        .store
        .change_status(issue.id, status, snooze, Some(&form.user().email))
        .await?;
    Ok(redirect(&issue_url(issue.id)))
}

async fn assign(
    form: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let issue = visible_issue(&state, form.user(), *id).await?;
    let assignee = match form.get("user") {
        None => None,
        Some(uid) => {
            let uid: i64 = uid
                .parse()
                .map_err(|_| WebError::BadRequest(format!("{uid:?} is not a user id")))?;
            let user = state.store.user(uid).await?;
            if !state.store.can_access(&user, issue.project_id).await? {
                return Err(WebError::BadRequest(format!(
                    "{} is not a member of this project",
                    user.email
                )));
            }
            Some(user)
        }
    };
    state
        .store
        .assign_issue(issue.id, assignee.as_ref(), &form.user().email)
        .await?;
    Ok(redirect(&issue_url(issue.id)))
}

async fn merge(
    form: Posted,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let issue = visible_issue(&state, form.user(), *id).await?;
    let into = form
        .get("into")
        .map(|v| v.trim_start_matches('#'))
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| WebError::BadRequest("give the number of the issue to merge into".into()))?;
    let target = visible_issue(&state, form.user(), into).await?;
    let merged = state.store.merge_issues(issue.id, target.id).await?;
    Ok(redirect(&issue_url(merged.id)))
}

/// Resolve, ignore, reopen or merge the checked issues of a list.
async fn bulk(form: Posted, state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let mut issues = Vec::new();
    for id in form.all("issue") {
        let id: i64 = id
            .parse()
            .map_err(|_| WebError::BadRequest(format!("{id:?} is not an issue id")))?;
        issues.push(visible_issue(&state, form.user(), id).await?);
    }
    if issues.is_empty() {
        return Err(WebError::BadRequest("tick at least one issue first".into()));
    }
    let actor = form.user().email.clone();
    match form.get("action") {
        Some(status @ ("resolved" | "ignored" | "unresolved")) => {
            for issue in &issues {
                state
                    .store
                    .change_status(issue.id, status, Snooze::default(), Some(&actor))
                    .await?;
            }
        }
        Some("merge") => {
            if issues.len() < 2 {
                return Err(WebError::BadRequest(
                    "tick two or more issues to merge".into(),
                ));
            }
            // Into the biggest, as people expect: its number and history stay.
            issues.sort_by_key(|i| (std::cmp::Reverse(i.count), i.id));
            let target = issues[0].id;
            for issue in &issues[1..] {
                state.store.merge_issues(issue.id, target).await?;
            }
        }
        other => {
            return Err(WebError::BadRequest(format!(
                "unknown action {:?}",
                other.unwrap_or_default()
            )))
        }
    }
    Ok(redirect(super::session::local_path(
        form.get("back").unwrap_or("/issues"),
    )))
}
