//! Reading and triaging issues and their occurrences.

use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::search::{self, SearchContext};
use super::sql::{Arg, SqlBuilder};
use super::{Store, StoreError, StoreResult};
use crate::query::{Field, Filter, Pattern, Query, Status as QStatus, Term};
use crate::time::now_ms;
use crate::time::HOUR_MS;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Issue {
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    pub culprit: Option<String>,
    pub level: String,
    pub status: String,
    pub count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub resolved_at: Option<i64>,
    pub regressed_at: Option<i64>,
    pub merged_into: Option<i64>,
    pub grouping_version: i64,
    pub components: Vec<String>,
    pub assignee_id: Option<i64>,
    /// An ignored issue wakes up at this time (unix ms)...
    pub snooze_until: Option<i64>,
    /// ...or once its count reaches this.
    pub snooze_count: Option<i64>,
    /// The release of its first occurrence.
    pub first_release: Option<String>,
    /// Resolved in this release (older releases' events do not reopen it)...
    pub resolved_in_release: Option<String>,
    /// ...or in the next release, not created yet.
    pub resolved_next: bool,
    /// The ownership rule that assigned it when it was created, as written.
    pub owner_rule: Option<String>,
}

pub(super) const ISSUE_COLUMNS: &str =
    "id, project_id, title, culprit, level, status, count, first_seen, \
     last_seen, resolved_at, regressed_at, merged_into, grouping_version, components, \
     assignee_id, snooze_until, snooze_count, first_release, resolved_in_release, resolved_next, \
     owner_rule";

impl Issue {
    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        let components: String = row.try_get("components")?;
        Ok(Issue {
            id: row.try_get("id")?,
            project_id: row.try_get("project_id")?,
            title: row.try_get("title")?,
            culprit: row.try_get("culprit")?,
            level: row.try_get("level")?,
            status: row.try_get("status")?,
            count: row.try_get("count")?,
            first_seen: row.try_get("first_seen")?,
            last_seen: row.try_get("last_seen")?,
            resolved_at: row.try_get("resolved_at")?,
            regressed_at: row.try_get("regressed_at")?,
            merged_into: row.try_get("merged_into")?,
            grouping_version: row.try_get("grouping_version")?,
            components: serde_json::from_str(&components).unwrap_or_default(),
            assignee_id: row.try_get("assignee_id")?,
            snooze_until: row.try_get("snooze_until")?,
            snooze_count: row.try_get("snooze_count")?,
            first_release: row.try_get("first_release")?,
            resolved_in_release: row.try_get("resolved_in_release")?,
            resolved_next: row.try_get::<i64, _>("resolved_next")? != 0,
            owner_rule: row.try_get("owner_rule")?,
        })
    }
}

/// A stored occurrence: the normalized event plus where and when it was stored.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub id: i64,
    pub project_id: i64,
    pub issue_id: i64,
    pub received_at: i64,
    pub event: Value,
}

impl Occurrence {
    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        let blob: Vec<u8> = row.try_get("event")?;
        let json = zstd::bulk::decompress(&blob, 64 * 1024 * 1024)
            .map_err(|e| StoreError::Invalid(format!("stored event is corrupt: {e}")))?;
        Ok(Occurrence {
            id: row.try_get("id")?,
            project_id: row.try_get("project_id")?,
            issue_id: row.try_get("issue_id")?,
            received_at: row.try_get("received_at")?,
            event: serde_json::from_slice(&json)
                .map_err(|e| StoreError::Invalid(format!("stored event is corrupt: {e}")))?,
        })
    }
}

/// How long a trending ranking is reused, and how many issues it ranks at most.
const TRENDING_TTL: std::time::Duration = std::time::Duration::from_secs(30);
const TRENDING_MAX: i64 = 5_000;

/// A ranking of issue ids and when it was made.
type Ranking = (std::time::Instant, std::sync::Arc<Vec<i64>>);

/// Trending rankings by filter, each reused for [`TRENDING_TTL`]; a handful are kept.
#[derive(Clone, Default)]
pub struct TrendingCache(
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Ranking>>>,
);

impl TrendingCache {
    fn get(&self, key: &str) -> Option<std::sync::Arc<Vec<i64>>> {
        let map = self.0.lock().expect("not poisoned");
        map.get(key)
            .filter(|(at, _)| at.elapsed() < TRENDING_TTL)
            .map(|(_, ids)| ids.clone())
    }

    fn put(&self, key: String, ids: Vec<i64>) -> std::sync::Arc<Vec<i64>> {
        let ids = std::sync::Arc::new(ids);
        let mut map = self.0.lock().expect("not poisoned");
        map.retain(|_, (at, _)| at.elapsed() < TRENDING_TTL);
        if map.len() >= 64 {
            map.clear();
        }
        map.insert(key, (std::time::Instant::now(), ids.clone()));
        ids
    }
}

/// An occurrence's listing fields, without the stored body.
#[derive(Debug, Clone)]
pub struct OccurrenceRow {
    pub id: i64,
    pub uuid: String,
    pub received_at: i64,
    pub level: String,
    pub environment: Option<String>,
    pub release: Option<String>,
    pub host: Option<String>,
}

/// When an ignored issue comes back by itself: at a time, after N more occurrences, or both
/// (whichever comes first). Neither: ignored for good.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snooze {
    pub until: Option<i64>,
    pub more: Option<i64>,
}

const OCCURRENCE_COLUMNS: &str = "id, project_id, issue_id, received_at, event";

/// Which statuses a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Active issues: unresolved and regressed (the default view).
    Unresolved,
    Regressed,
    Resolved,
    Ignored,
    /// Everything but issues merged into others.
    All,
}

impl std::str::FromStr for StatusFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "unresolved" => Self::Unresolved,
            "regressed" => Self::Regressed,
            "resolved" => Self::Resolved,
            "ignored" => Self::Ignored,
            "all" => Self::All,
            _ => {
                return Err(format!(
                "unknown status {s:?} (expected unresolved, regressed, resolved, ignored or all)"
            ))
            }
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    LastSeen,
    FirstSeen,
    Count,
    /// Most occurrences in the last 24 hours.
    Trending,
}

impl std::str::FromStr for Sort {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "last_seen" => Self::LastSeen,
            "first_seen" => Self::FirstSeen,
            "count" => Self::Count,
            "trending" => Self::Trending,
            _ => {
                return Err(format!(
                    "unknown sort {s:?} (expected last_seen, first_seen, count or trending)"
                ))
            }
        })
    }
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastSeen => "last_seen",
            Self::FirstSeen => "first_seen",
            Self::Count => "count",
            Self::Trending => "trending",
        }
    }
    fn key(self, issue: &Issue) -> i64 {
        match self {
            Self::LastSeen => issue.last_seen,
            Self::FirstSeen => issue.first_seen,
            Self::Count | Self::Trending => issue.count,
        }
    }
}

#[derive(Debug, Clone)]
pub struct IssueFilter {
    pub status: StatusFilter,
    pub level: Option<String>,
    pub environment: Option<String>,
    pub release: Option<String>,
    pub host: Option<String>,
    /// Text searched in title and culprit, case-insensitively.
    pub q: Option<String>,
    /// A search in the query language; the fields above are added to it as its terms.
    pub query: Query,
    /// Who searches (`assigned:me`).
    pub user_id: Option<i64>,
    pub sort: Sort,
    /// Opaque position from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    pub limit: i64,
}

impl Default for IssueFilter {
    fn default() -> Self {
        Self {
            status: StatusFilter::Unresolved,
            level: None,
            environment: None,
            release: None,
            host: None,
            q: None,
            query: Query::default(),
            user_id: None,
            sort: Sort::LastSeen,
            cursor: None,
            limit: 50,
        }
    }
}

impl IssueFilter {
    /// The one query this filter means: [`IssueFilter::query`] and the other fields as its
    /// terms (`status` as `is:`, `q` as free text), so every way of filtering is one meaning.
    pub fn effective_query(&self) -> Query {
        let mut q = self.query.clone();
        let status = match self.status {
            StatusFilter::Unresolved => Some(QStatus::Unresolved),
            StatusFilter::Regressed => Some(QStatus::Regressed),
            StatusFilter::Resolved => Some(QStatus::Resolved),
            StatusFilter::Ignored => Some(QStatus::Ignored),
            StatusFilter::All => None,
        };
        q.terms
            .extend(status.map(|s| Term::from(Filter::Status(s))));
        if let Some(level) = self.level.as_deref().and_then(|l| l.parse().ok()) {
            q.terms.push(Filter::level(level).into());
        }
        for (field, value) in [
            (Field::Environment, &self.environment),
            (Field::Host, &self.host),
        ] {
            q.terms
                .extend(value.as_deref().map(|v| Filter::field(field, v).into()));
        }
        q.terms
            .extend(self.release.as_deref().map(|v| Filter::release(v).into()));
        if let Some(text) = self.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            q.terms.push(Filter::Text(Pattern::literal(text)).into());
        }
        q
    }
}

fn parse_offset(cursor: &str) -> StoreResult<i64> {
    cursor
        .strip_prefix('o')
        .and_then(|n| n.parse().ok())
        .filter(|n| (0..1_000_000).contains(n))
        .ok_or_else(|| StoreError::Invalid(format!("invalid cursor {cursor:?}")))
}

fn parse_cursor(cursor: &str) -> StoreResult<(i64, i64)> {
    cursor
        .split_once('.')
        .and_then(|(k, id)| Some((k.parse().ok()?, id.parse().ok()?)))
        .ok_or_else(|| StoreError::Invalid(format!("invalid cursor {cursor:?}")))
}

impl Store {
    /// One page of a project's issues and the cursor of the next page, if any.
    pub async fn list_issues(
        &self,
        project_id: i64,
        filter: &IssueFilter,
    ) -> StoreResult<(Vec<Issue>, Option<String>)> {
        self.list_issues_in(&[project_id], filter).await
    }

    /// One page of the issues of several projects (the dashboard's "all projects" list).
    pub async fn list_issues_in(
        &self,
        project_ids: &[i64],
        filter: &IssueFilter,
    ) -> StoreResult<(Vec<Issue>, Option<String>)> {
        if project_ids.is_empty() {
            return Ok((Vec::new(), None));
        }
        if project_ids.len() > 1 && filter.sort != Sort::Trending {
            return self.merged_pages(project_ids, filter).await;
        }
        let mut b = SqlBuilder::new(&format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE "));
        let list = vec!["?"; project_ids.len()].join(", ");
        b.push(
            &format!("project_id IN ({list})"),
            project_ids.iter().map(|&id| Arg::Int(id)).collect(),
        );
        let condition = self.search_condition(project_ids, filter).await?;
        b.push(" AND status <> 'merged' AND ", vec![]);
        b.push(&condition.text, condition.args);
        let limit = filter.limit.clamp(1, 500);
        if filter.sort == Sort::Trending {
            return self.trending_page(project_ids, filter, b, limit).await;
        }
        let col = filter.sort.as_str();
        if let Some(cursor) = &filter.cursor {
            let (key, id) = parse_cursor(cursor)?;
            b.push(
                &format!(" AND ({col} < ? OR ({col} = ? AND id < ?))"),
                vec![Arg::Int(key), Arg::Int(key), Arg::Int(id)],
            );
        }
        b.push(
            &format!(" ORDER BY {col} DESC, id DESC LIMIT ?"),
            vec![Arg::Int(limit + 1)],
        );
        let mut issues = self.fetch_issues(&b).await?;
        let next = if issues.len() as i64 > limit {
            issues.truncate(limit as usize);
            issues
                .last()
                .map(|last| format!("{}.{}", filter.sort.key(last), last.id))
        } else {
            None
        };
        Ok((issues, next))
    }

    /// Several projects: one page from each (each walks its own index in order, where one
    /// query over all of them would sort them all), merged. The cursor is a position in the
    /// common order, so it applies to every project alike.
    async fn merged_pages(
        &self,
        project_ids: &[i64],
        filter: &IssueFilter,
    ) -> StoreResult<(Vec<Issue>, Option<String>)> {
        let mut all = Vec::new();
        let mut more = false;
        for &id in project_ids {
            let (issues, next) = Box::pin(self.list_issues_in(&[id], filter)).await?;
            more |= next.is_some();
            all.extend(issues);
        }
        all.sort_by_key(|i| std::cmp::Reverse((filter.sort.key(i), i.id)));
        let limit = filter.limit.clamp(1, 500) as usize;
        more |= all.len() > limit;
        all.truncate(limit);
        let next = if more {
            all.last()
                .map(|last| format!("{}.{}", filter.sort.key(last), last.id))
        } else {
            None
        };
        Ok((all, next))
    }

    /// Trending: the filtered issues ranked by occurrences in the last 24 hours. Ranking means
    /// summing the recent hours of every candidate, so the ranking (ids only) is kept for
    /// [`TRENDING_TTL`] and pages are slices of it: fast, and pages do not shift under the reader.
    async fn trending_page(
        &self,
        project_ids: &[i64],
        filter: &IssueFilter,
        mut b: SqlBuilder,
        limit: i64,
    ) -> StoreResult<(Vec<Issue>, Option<String>)> {
        let offset = match &filter.cursor {
            Some(c) => parse_offset(c)?,
            None => 0,
        };
        let condition = self.search_condition(project_ids, filter).await?;
        let key = format!(
            "{project_ids:?}|{}|{:?}",
            filter.effective_query(),
            filter.user_id
        );
        let ranking = match self.trending.get(&key) {
            Some(ranking) => ranking,
            None => {
                let since = (now_ms() / HOUR_MS - 23) * HOUR_MS;
                b.sql =
                    b.sql
                        .replacen(&format!("SELECT {ISSUE_COLUMNS} FROM"), "SELECT id FROM", 1);
                b.push(
                    " ORDER BY (SELECT COALESCE(SUM(h.count), 0) FROM issue_hourly h \
                     WHERE h.issue_id = issues.id AND h.hour >= ?) DESC, last_seen DESC, id DESC \
                     LIMIT ?",
                    vec![Arg::Int(since), Arg::Int(TRENDING_MAX)],
                );
                let ids: Vec<i64> = b
                    .query()
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|r| r.try_get("id"))
                    .collect::<Result<_, _>>()?;
                self.trending.put(key, ids)
            }
        };
        let start = (offset as usize).min(ranking.len());
        let end = (start + limit as usize).min(ranking.len());
        let page_ids = &ranking[start..end];
        let mut issues = Vec::with_capacity(page_ids.len());
        if !page_ids.is_empty() {
            let mut q = SqlBuilder::new(&format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE "));
            let list = vec!["?"; page_ids.len()].join(", ");
            q.push(
                &format!("id IN ({list})"),
                page_ids.iter().map(|&id| Arg::Int(id)).collect(),
            );
            // An issue triaged since the ranking was made leaves the page at once.
            q.push(" AND status <> 'merged' AND ", vec![]);
            q.push(&condition.text, condition.args);
            let mut by_id: std::collections::HashMap<i64, Issue> = self
                .fetch_issues(&q)
                .await?
                .into_iter()
                .map(|i| (i.id, i))
                .collect();
            issues.extend(page_ids.iter().filter_map(|id| by_id.remove(id)));
        }
        let next = (end < ranking.len()).then(|| format!("o{end}"));
        Ok((issues, next))
    }

    /// The filter's query as a condition on `issues`, with what it needs looked up
    /// (`release:latest`).
    async fn search_condition(
        &self,
        project_ids: &[i64],
        filter: &IssueFilter,
    ) -> StoreResult<search::Sql> {
        let query = filter.effective_query();
        let mut ctx = SearchContext {
            now_ms: now_ms(),
            user_id: filter.user_id,
            latest_releases: Vec::new(),
        };
        if search::wants_latest_release(&query) {
            for &project in project_ids {
                if let Some(release) = self.latest_release(project).await? {
                    ctx.latest_releases.push((project, release));
                }
            }
        }
        Ok(search::compile(&query, self.backend, &ctx))
    }

    /// The release of a project's newest occurrence that has one (`release:latest`).
    pub async fn latest_release(&self, project_id: i64) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT release FROM occurrences WHERE project_id = $1 AND release IS NOT NULL \
             ORDER BY received_at DESC LIMIT 1",
        )
        .bind(project_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub(super) async fn fetch_issues(&self, b: &SqlBuilder) -> StoreResult<Vec<Issue>> {
        let rows = b.query().fetch_all(&self.pool).await?;
        rows.iter().map(Issue::from_row).collect()
    }

    pub async fn issue(&self, id: i64) -> StoreResult<Issue> {
        let row = sqlx::query(&format!("SELECT {ISSUE_COLUMNS} FROM issues WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Issue::from_row(&row)
    }

    /// Distinct values seen for a facet of an issue, most frequent first, with counts.
    pub async fn issue_facet(&self, id: i64, facet: &str) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT value, count FROM issue_facets WHERE issue_id = $1 AND facet = $2 \
             ORDER BY count DESC, value LIMIT 100",
        )
        .bind(id)
        .bind(facet)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("value")?, r.try_get("count")?)))
            .collect()
    }

    /// Occurrence counts per hour (unix ms of the hour start) since `since`, oldest first.
    pub async fn issue_hourly(&self, id: i64, since: i64) -> StoreResult<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT hour, count FROM issue_hourly WHERE issue_id = $1 AND hour >= $2 ORDER BY hour",
        )
        .bind(id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("hour")?, r.try_get("count")?)))
            .collect()
    }

    /// Status changes, regressions and merges, newest first.
    pub async fn issue_activity(&self, id: i64) -> StoreResult<Vec<(i64, String, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT at, kind, detail FROM issue_activity WHERE issue_id = $1 ORDER BY id DESC LIMIT 200",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("at")?, r.try_get("kind")?, r.try_get("detail")?)))
            .collect()
    }

    /// An issue's occurrences, newest first, after the `before` occurrence id if given.
    pub async fn occurrences(
        &self,
        issue_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Occurrence>> {
        let rows = sqlx::query(&format!(
            "SELECT {OCCURRENCE_COLUMNS} FROM occurrences WHERE issue_id = $1 AND id < $2 \
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(issue_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Occurrence::from_row).collect()
    }

    /// A project's newest retained occurrences, newest first (for grouping previews).
    pub async fn recent_occurrences(
        &self,
        project_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<Occurrence>> {
        let rows = sqlx::query(&format!(
            "SELECT {OCCURRENCE_COLUMNS} FROM occurrences WHERE project_id = $1 \
             ORDER BY received_at DESC LIMIT $2"
        ))
        .bind(project_id)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Occurrence::from_row).collect()
    }

    pub async fn latest_occurrence(&self, issue_id: i64) -> StoreResult<Option<Occurrence>> {
        Ok(self
            .occurrences(issue_id, None, 1)
            .await?
            .into_iter()
            .next())
    }

    /// The occurrence with this uuid in one of these projects (a uuid is unique per project;
    /// the (project, uuid) index answers, one probe per project).
    pub async fn occurrence_by_uuid(
        &self,
        uuid: uuid::Uuid,
        project_ids: &[i64],
    ) -> StoreResult<Option<Occurrence>> {
        let uuid = uuid.simple().to_string();
        for &project_id in project_ids {
            let row = sqlx::query(&format!(
                "SELECT {OCCURRENCE_COLUMNS} FROM occurrences WHERE project_id = $1 AND uuid = $2"
            ))
            .bind(project_id)
            .bind(&uuid)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                return Occurrence::from_row(&row).map(Some);
            }
        }
        Ok(None)
    }

    /// Sets an issue's status by hand (`resolved`, `ignored` or `unresolved`) and records it.
    pub async fn set_issue_status(&self, id: i64, status: &str) -> StoreResult<Issue> {
        self.change_status(id, status, Snooze::default(), None)
            .await
    }

    /// Sets an issue's status, with an optional wake-up for `ignored`, and records who did it.
    pub async fn change_status(
        &self,
        id: i64,
        status: &str,
        snooze: Snooze,
        actor: Option<&str>,
    ) -> StoreResult<Issue> {
        if !matches!(status, "resolved" | "ignored" | "unresolved") {
            return Err(StoreError::Invalid(format!(
                "unknown status {status:?} (expected resolved, ignored or unresolved)"
            )));
        }
        let snooze = if status == "ignored" {
            snooze
        } else {
            Snooze::default()
        };
        let now = now_ms();
        if snooze.until.is_some_and(|t| t <= now) {
            return Err(StoreError::Invalid(
                "the wake-up date must be in the future".into(),
            ));
        }
        if snooze.more.is_some_and(|n| n < 1) {
            return Err(StoreError::Invalid(
                "the number of occurrences must be at least 1".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let current = sqlx::query("SELECT status, count FROM issues WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(current) = current else {
            return Err(StoreError::NotFound);
        };
        let (current, count): (String, i64) =
            (current.try_get("status")?, current.try_get("count")?);
        if current == "merged" {
            return Err(StoreError::Conflict(
                "the issue was merged into another; change that one".into(),
            ));
        }
        let snooze_count = snooze.more.map(|n| count.saturating_add(n));
        if current != status || snooze != Snooze::default() {
            // Un-ignoring: the next occurrence mails "seen again".
            sqlx::query(
                "UPDATE issues SET status = $2, \
                 resolved_at = CASE WHEN $2 = 'resolved' THEN $3 ELSE NULL END, \
                 notify_next = CASE WHEN status = 'ignored' AND $2 = 'unresolved' THEN 1 ELSE 0 END, \
                 snooze_until = $4, snooze_count = $5, resolved_in_release = NULL, \
                 resolved_next = 0, resolved_after = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(status)
            .bind(now)
            .bind(snooze.until)
            .bind(snooze_count)
            .execute(&mut *tx)
            .await?;
            let mut detail = Vec::new();
            if let Some(n) = snooze.more {
                detail.push(format!("until {n} more occurrences"));
            }
            if let Some(until) = snooze.until {
                detail.push(format!("until {}", crate::time::format_ms(until)));
            }
            if let Some(actor) = actor {
                detail.push(format!("by {actor}"));
            }
            sqlx::query(
                "INSERT INTO issue_activity (issue_id, at, kind, detail) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(now)
            .bind(status)
            .bind((!detail.is_empty()).then(|| detail.join(", ")))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.issue(id).await
    }

    /// Assigns an issue to a member (or nobody) and records it.
    pub async fn assign_issue(
        &self,
        id: i64,
        assignee: Option<&super::users::User>,
        actor: &str,
    ) -> StoreResult<Issue> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query("UPDATE issues SET assignee_id = $2 WHERE id = $1")
            .bind(id)
            .bind(assignee.map(|u| u.id))
            .execute(&mut *tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let detail = match assignee {
            Some(u) => format!("to {} by {actor}", u.email),
            None => format!("to nobody by {actor}"),
        };
        sqlx::query(
            "INSERT INTO issue_activity (issue_id, at, kind, detail) VALUES ($1, $2, 'assigned', $3)",
        )
        .bind(id)
        .bind(now_ms())
        .bind(detail)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.issue(id).await
    }

    /// Per-issue occurrence counts in `buckets` equal slots of `bucket_ms` ending now, for the
    /// list's sparklines; one query for the whole page.
    pub async fn issue_series(
        &self,
        ids: &[i64],
        bucket_ms: i64,
        buckets: usize,
    ) -> StoreResult<std::collections::HashMap<i64, Vec<i64>>> {
        let mut out: std::collections::HashMap<i64, Vec<i64>> =
            ids.iter().map(|&id| (id, vec![0; buckets])).collect();
        if ids.is_empty() {
            return Ok(out);
        }
        let end = (now_ms() / HOUR_MS + 1) * HOUR_MS;
        let start = end - bucket_ms * buckets as i64;
        let mut b = SqlBuilder::new("SELECT issue_id, hour, count FROM issue_hourly WHERE ");
        let list = vec!["?"; ids.len()].join(", ");
        b.push(
            &format!("issue_id IN ({list})"),
            ids.iter().map(|&id| Arg::Int(id)).collect(),
        );
        b.push(" AND hour >= ?", vec![Arg::Int(start)]);
        for row in b.query().fetch_all(&self.pool).await? {
            let (id, hour, count): (i64, i64, i64) = (
                row.try_get("issue_id")?,
                row.try_get("hour")?,
                row.try_get("count")?,
            );
            let slot = ((hour - start) / bucket_ms) as usize;
            if let Some(v) = out.get_mut(&id).and_then(|s| s.get_mut(slot)) {
                *v += count;
            }
        }
        Ok(out)
    }

    /// How many distinct hosts each issue was seen on.
    pub async fn host_counts(
        &self,
        ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, i64>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let mut b = SqlBuilder::new("SELECT issue_id, COUNT(*) AS n FROM issue_facets WHERE ");
        let list = vec!["?"; ids.len()].join(", ");
        b.push(
            &format!("facet = 'host' AND issue_id IN ({list}) GROUP BY issue_id"),
            ids.iter().map(|&id| Arg::Int(id)).collect(),
        );
        b.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("issue_id")?, r.try_get("n")?)))
            .collect()
    }

    /// A page of an issue's occurrences without their bodies (the issue page's list).
    pub async fn occurrence_rows(
        &self,
        issue_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<OccurrenceRow>> {
        let rows = sqlx::query(
            "SELECT id, uuid, received_at, level, environment, release, host FROM occurrences \
             WHERE issue_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(issue_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OccurrenceRow {
                    id: r.try_get("id")?,
                    uuid: r.try_get("uuid")?,
                    received_at: r.try_get("received_at")?,
                    level: r.try_get("level")?,
                    environment: r.try_get("environment")?,
                    release: r.try_get("release")?,
                    host: r.try_get("host")?,
                })
            })
            .collect()
    }

    /// The uuids of the occurrences just older and just newer than `id` in its issue.
    pub async fn occurrence_neighbours(
        &self,
        issue_id: i64,
        id: i64,
    ) -> StoreResult<(Option<String>, Option<String>)> {
        let older = sqlx::query_scalar(
            "SELECT uuid FROM occurrences WHERE issue_id = $1 AND id < $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(issue_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let newer = sqlx::query_scalar(
            "SELECT uuid FROM occurrences WHERE issue_id = $1 AND id > $2 ORDER BY id LIMIT 1",
        )
        .bind(issue_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok((older, newer))
    }

    /// Mails sent about an issue (kind, sent at), for its activity history.
    pub async fn issue_mails(&self, issue_id: i64) -> StoreResult<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT sent_at, kind FROM outbox WHERE issue_id = $1 AND sent_at IS NOT NULL AND channel_id IS NULL \
             ORDER BY sent_at DESC LIMIT 100",
        )
        .bind(issue_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("sent_at")?, r.try_get("kind")?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(
            parse_cursor("1700000000000.42").unwrap(),
            (1_700_000_000_000, 42)
        );
        assert!(parse_cursor("abc").is_err());
    }
}
