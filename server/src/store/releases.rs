//! Releases and deploys per project, and resolving issues in a release.
//!
//! Creation is idempotent (sentry-cli retries; events name releases over and over): a release
//! is one row per (project, version), a deploy resent with the same fields is one row. The
//! order of releases is `releases::order`, computed from the versions in creation order.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::batch_tx::{BatchTx, Col};
use super::issues::Issue;
use super::{Store, StoreError, StoreResult};
use crate::releases::order::ReleaseOrder;
use crate::releases::{validate_environment, validate_version};
use crate::time::now_ms;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Release {
    pub id: i64,
    pub project_id: i64,
    pub version: String,
    pub created_at: i64,
    pub date_started: Option<i64>,
    /// When it was finalized (released).
    pub date_released: Option<i64>,
    pub url: Option<String>,
    /// `open` or `archived`.
    pub status: String,
    /// `[{repository, commit, previousCommit}]` as sentry-cli sends them.
    pub refs: Value,
    /// `[{id, repository, author_name, author_email, timestamp, message, patch_set}]`.
    pub commits: Value,
    pub commit_count: i64,
}

pub(super) const RELEASE_COLUMNS: &str =
    "id, project_id, version, created_at, date_started, date_released, \
     url, status, refs, commits, commit_count";

fn json_column(row: &AnyRow, name: &str) -> StoreResult<Value> {
    let text: Option<String> = row.try_get(name)?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| Value::Array(Vec::new())))
}

impl Release {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Release {
            id: row.try_get("id")?,
            project_id: row.try_get("project_id")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            date_started: row.try_get("date_started")?,
            date_released: row.try_get("date_released")?,
            url: row.try_get("url")?,
            status: row.try_get("status")?,
            refs: json_column(row, "refs")?,
            commits: json_column(row, "commits")?,
            commit_count: row.try_get("commit_count")?,
        })
    }

    /// The newest commit: the last ref's head, else the first commit listed.
    pub fn last_commit(&self) -> Option<&str> {
        let from_refs = self.refs.as_array().and_then(|r| r.last())?;
        from_refs["commit"].as_str()
    }

    pub fn last_commit_or_listed(&self) -> Option<&str> {
        self.last_commit()
            .or_else(|| self.commits.as_array()?.first()?["id"].as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deploy {
    pub id: i64,
    pub project_id: i64,
    pub release_id: i64,
    pub version: String,
    pub environment: String,
    pub name: Option<String>,
    pub url: Option<String>,
    pub date_started: Option<i64>,
    pub date_finished: i64,
    pub created_at: i64,
    pub created_by: Option<String>,
    pub comment: Option<String>,
    /// succeeded, started, failed or timed_out (Rollbar's states; Sentry's are succeeded).
    pub status: String,
    /// Which API made it: sentry, rollbar or bugle.
    pub source: String,
}

pub(super) const DEPLOY_COLUMNS: &str = "d.id, d.project_id, d.release_id, r.version, d.environment, d.name, \
     d.url, d.date_started, d.date_finished, d.created_at, d.created_by, d.comment, d.status, d.source";

impl Deploy {
    pub(super) fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Deploy {
            id: row.try_get("id")?,
            project_id: row.try_get("project_id")?,
            release_id: row.try_get("release_id")?,
            version: row.try_get("version")?,
            environment: row.try_get("environment")?,
            name: row.try_get("name")?,
            url: row.try_get("url")?,
            date_started: row.try_get("date_started")?,
            date_finished: row.try_get("date_finished")?,
            created_at: row.try_get("created_at")?,
            created_by: row.try_get("created_by")?,
            comment: row.try_get("comment")?,
            status: row.try_get("status")?,
            source: row.try_get("source")?,
        })
    }
}

/// Fields of a release a request sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ReleaseChanges {
    pub url: Option<String>,
    pub date_started: Option<i64>,
    pub date_released: Option<i64>,
    pub status: Option<String>,
    pub refs: Option<Value>,
    pub commits: Option<Value>,
}

#[derive(Debug, Clone, Default)]
pub struct NewDeploy {
    pub environment: String,
    pub name: Option<String>,
    pub url: Option<String>,
    pub date_started: Option<i64>,
    /// Now when not given.
    pub date_finished: Option<i64>,
    pub created_by: Option<String>,
    pub comment: Option<String>,
    pub status: Option<String>,
    pub source: &'static str,
}

/// A resend of a deploy without its own finish time still matches within this window.
const DEPLOY_RESEND_MS: i64 = 120_000;

/// What resolves an issue besides a plain "resolved".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InRelease {
    /// The next release created (newer than today's latest).
    Next,
    /// This release: events of older releases do not reopen the issue.
    Version(String),
}

impl InRelease {
    /// `next` is the next release; anything else names one.
    pub fn parse(text: &str) -> Self {
        match text {
            "next" => InRelease::Next,
            v => InRelease::Version(v.to_owned()),
        }
    }
}

/// Releases this process knows are stored, so ingest writes a release row only the first
/// time a version is seen. Shared by the store's clones; bounded.
#[derive(Clone, Default)]
pub struct KnownReleases(Arc<Mutex<HashSet<(i64, String)>>>);

const KNOWN_RELEASES_MAX: usize = 20_000;

impl KnownReleases {
    pub(super) fn contains(&self, project_id: i64, version: &str) -> bool {
        let known = self.0.lock().expect("known releases lock");
        known.contains(&(project_id, version.to_owned()))
    }

    pub(super) fn add(&self, releases: impl IntoIterator<Item = (i64, String)>) {
        let mut known = self.0.lock().expect("known releases lock");
        if known.len() > KNOWN_RELEASES_MAX {
            known.clear();
        }
        known.extend(releases);
    }
}

/// Each project's release order with the release set it was computed from: (how many
/// releases, highest id). Releases are only added (or go with their project), so an unchanged
/// key means an unchanged set, in this process or any other on the same database. Ordering
/// 1,000 versions costs ~100 ms in a debug build; a list or page then pays it once.
#[derive(Clone, Default)]
pub struct ReleaseOrders(Arc<Mutex<HashMap<i64, CachedOrder>>>);

/// (release count, highest release id) and the order computed for them.
type CachedOrder = ((usize, i64), Arc<ReleaseOrder>);

const CACHED_ORDERS_MAX: usize = 1_000;

impl ReleaseOrders {
    /// The order of `versions` (oldest first, as stored), from the cache when its key matches.
    fn get<'a>(
        &self,
        project_id: i64,
        key: (usize, i64),
        versions: impl IntoIterator<Item = &'a str>,
    ) -> Arc<ReleaseOrder> {
        if let Some((k, order)) = self.0.lock().expect("release orders lock").get(&project_id) {
            if *k == key {
                return order.clone();
            }
        }
        let order = Arc::new(ReleaseOrder::new(versions));
        let mut cache = self.0.lock().expect("release orders lock");
        if cache.len() >= CACHED_ORDERS_MAX {
            cache.clear();
        }
        cache.insert(project_id, (key, order.clone()));
        order
    }
}

/// The release order of a project, inside a transaction. (Statements run over [`BatchTx`]
/// number their parameters in order of first use: SQLite binds them by position.)
pub(super) async fn order_in(tx: &mut impl BatchTx, project_id: i64) -> StoreResult<ReleaseOrder> {
    let rows = tx
        .rows(
            "SELECT version FROM releases WHERE project_id = $1 ORDER BY id",
            &[project_id.into()],
            &[Col::Text],
        )
        .await?;
    Ok(ReleaseOrder::new(rows.iter().map(|r| r.text(0))))
}

/// A release was just created: issues resolved "in the next release" (newer than the latest
/// release when they were resolved) are now resolved in this one.
pub(super) async fn materialize_next(
    tx: &mut impl BatchTx,
    project_id: i64,
    version: &str,
    now: i64,
) -> StoreResult<()> {
    let pending = tx
        .rows(
            "SELECT id, COALESCE(resolved_after, '') FROM issues \
             WHERE project_id = $1 AND resolved_next = 1",
            &[project_id.into()],
            &[Col::Int, Col::Text],
        )
        .await?;
    if pending.is_empty() {
        return Ok(());
    }
    let order = order_in(tx, project_id).await?;
    for row in pending {
        let after = row.text(1);
        if !after.is_empty() && order.cmp(version, after) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        let id = row.int(0);
        tx.run(
            "UPDATE issues SET resolved_in_release = $1, resolved_next = 0 WHERE id = $2",
            &[version.into(), id.into()],
        )
        .await?;
        let detail = format!("the next release is {version}");
        tx.run(
            "INSERT INTO issue_activity (issue_id, at, kind, detail) VALUES ($1, $2, 'next_release', $3)",
            &[id.into(), now.into(), detail.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// Records releases named by events (valid names only), once each; returns those new.
pub(super) async fn record_seen(
    tx: &mut impl BatchTx,
    releases: &[(i64, &str)],
    now: i64,
) -> StoreResult<()> {
    for &(project_id, version) in releases {
        if validate_version(version).is_err() {
            continue;
        }
        let created = tx
            .rows(
                "INSERT INTO releases (project_id, version, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (project_id, version) DO NOTHING RETURNING id",
                &[project_id.into(), version.into(), now.into()],
                &[Col::Int],
            )
            .await?;
        if !created.is_empty() {
            materialize_next(tx, project_id, version, now).await?;
        }
    }
    Ok(())
}

fn invalid(e: String) -> StoreError {
    StoreError::Invalid(e)
}

impl Store {
    /// Creates the release unless it exists, then applies `changes`; says whether it was new.
    pub async fn ensure_release(
        &self,
        project_id: i64,
        version: &str,
        changes: &ReleaseChanges,
    ) -> StoreResult<(Release, bool)> {
        validate_version(version).map_err(invalid)?;
        if let Some(status) = &changes.status {
            if !matches!(status.as_str(), "open" | "archived") {
                return Err(invalid(format!(
                    "unknown release status {status:?} (expected open or archived)"
                )));
            }
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let created = sqlx::query(
            "INSERT INTO releases (project_id, version, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id, version) DO NOTHING RETURNING id",
        )
        .bind(project_id)
        .bind(version)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if created {
            materialize_next(&mut tx, project_id, version, now).await?;
        }
        let json = |v: &Option<Value>| v.as_ref().map(|v| v.to_string());
        let commit_count = changes
            .commits
            .as_ref()
            .and_then(Value::as_array)
            .map(|c| c.len() as i64);
        sqlx::query(
            "UPDATE releases SET url = COALESCE($3, url), date_started = COALESCE($4, date_started), \
             date_released = COALESCE($5, date_released), status = COALESCE($6, status), \
             refs = COALESCE($7, refs), commits = COALESCE($8, commits), \
             commit_count = COALESCE($9, commit_count) WHERE project_id = $1 AND version = $2",
        )
        .bind(project_id)
        .bind(version)
        .bind(changes.url.as_deref())
        .bind(changes.date_started)
        .bind(changes.date_released)
        .bind(changes.status.as_deref())
        .bind(json(&changes.refs))
        .bind(json(&changes.commits))
        .bind(commit_count)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.known_releases.add([(project_id, version.to_owned())]);
        Ok((self.release(project_id, version).await?, created))
    }

    pub async fn release(&self, project_id: i64, version: &str) -> StoreResult<Release> {
        let row = sqlx::query(&format!(
            "SELECT {RELEASE_COLUMNS} FROM releases WHERE project_id = $1 AND version = $2"
        ))
        .bind(project_id)
        .bind(version)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Release::from_row(&row)
    }

    /// A project's releases, newest first in release order.
    pub async fn releases(&self, project_id: i64) -> StoreResult<Vec<Release>> {
        let rows = sqlx::query(&format!(
            "SELECT {RELEASE_COLUMNS} FROM releases WHERE project_id = $1 ORDER BY id"
        ))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        let mut releases: Vec<Release> = rows
            .iter()
            .map(Release::from_row)
            .collect::<StoreResult<_>>()?;
        let key = (releases.len(), releases.last().map_or(0, |r| r.id));
        let order =
            self.release_orders
                .get(project_id, key, releases.iter().map(|r| r.version.as_str()));
        releases.sort_by_key(|r| std::cmp::Reverse(order.rank(&r.version).unwrap_or(0)));
        Ok(releases)
    }

    pub async fn release_order(&self, project_id: i64) -> StoreResult<Arc<ReleaseOrder>> {
        let rows =
            sqlx::query("SELECT id, version FROM releases WHERE project_id = $1 ORDER BY id")
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?;
        let versions: Vec<(i64, String)> = rows
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("version")?)))
            .collect::<StoreResult<_>>()?;
        let key = (versions.len(), versions.last().map_or(0, |v| v.0));
        Ok(self
            .release_orders
            .get(project_id, key, versions.iter().map(|v| v.1.as_str())))
    }

    /// Records a deploy of a release (created if missing). A resend (same environment,
    /// name, url and times; without a finish time, within two minutes) is the same deploy.
    pub async fn add_deploy(
        &self,
        project_id: i64,
        version: &str,
        deploy: &NewDeploy,
    ) -> StoreResult<Deploy> {
        validate_environment(&deploy.environment).map_err(invalid)?;
        let status = deploy.status.as_deref().unwrap_or("succeeded");
        if !matches!(status, "succeeded" | "started" | "failed" | "timed_out") {
            return Err(invalid(format!(
                "unknown deploy status {status:?} (expected started, succeeded, failed or timed_out)"
            )));
        }
        let (release, _) = self
            .ensure_release(project_id, version, &ReleaseChanges::default())
            .await?;
        let now = now_ms();
        let existing = sqlx::query(&format!(
            "SELECT {DEPLOY_COLUMNS} FROM deploys d JOIN releases r ON r.id = d.release_id \
             WHERE d.release_id = $1 AND d.environment = $2 AND COALESCE(d.name, '') = $3 \
             AND COALESCE(d.url, '') = $4 AND COALESCE(d.date_started, -1) = $5 \
             AND (d.date_finished = $6 OR ($6 = -1 AND d.created_at > $7)) \
             AND d.source = $8 ORDER BY d.id DESC LIMIT 1"
        ))
        .bind(release.id)
        .bind(&deploy.environment)
        .bind(deploy.name.as_deref().unwrap_or(""))
        .bind(deploy.url.as_deref().unwrap_or(""))
        .bind(deploy.date_started.unwrap_or(-1))
        .bind(deploy.date_finished.unwrap_or(-1))
        .bind(now - DEPLOY_RESEND_MS)
        .bind(deploy.source)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = existing {
            return Deploy::from_row(&row);
        }
        let id: i64 = sqlx::query(
            "INSERT INTO deploys (project_id, release_id, environment, name, url, date_started, \
             date_finished, created_at, created_by, comment, status, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(project_id)
        .bind(release.id)
        .bind(&deploy.environment)
        .bind(deploy.name.as_deref())
        .bind(deploy.url.as_deref())
        .bind(deploy.date_started)
        .bind(deploy.date_finished.unwrap_or(now))
        .bind(now)
        .bind(deploy.created_by.as_deref())
        .bind(deploy.comment.as_deref())
        .bind(status)
        .bind(deploy.source)
        .fetch_one(&self.pool)
        .await?
        .try_get("id")?;
        self.deploy(id).await
    }

    pub async fn deploy(&self, id: i64) -> StoreResult<Deploy> {
        let row = sqlx::query(&format!(
            "SELECT {DEPLOY_COLUMNS} FROM deploys d JOIN releases r ON r.id = d.release_id WHERE d.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Deploy::from_row(&row)
    }

    /// Changes a deploy's status or comment (Rollbar's `PATCH /api/1/deploy/{id}`).
    pub async fn update_deploy(
        &self,
        id: i64,
        status: Option<&str>,
        comment: Option<&str>,
    ) -> StoreResult<Deploy> {
        if let Some(s) = status {
            if !matches!(s, "succeeded" | "started" | "failed" | "timed_out") {
                return Err(invalid(format!(
                    "unknown deploy status {s:?} (expected started, succeeded, failed or timed_out)"
                )));
            }
        }
        sqlx::query(
            "UPDATE deploys SET status = COALESCE($2, status), comment = COALESCE($3, comment), \
             date_finished = CASE WHEN $2 IS NOT NULL AND $2 <> 'started' THEN $4 ELSE date_finished END \
             WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(comment)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        self.deploy(id).await
    }

    /// A release's deploys, newest first.
    pub async fn release_deploys(&self, release_id: i64) -> StoreResult<Vec<Deploy>> {
        let rows = sqlx::query(&format!(
            "SELECT {DEPLOY_COLUMNS} FROM deploys d JOIN releases r ON r.id = d.release_id \
             WHERE d.release_id = $1 ORDER BY d.date_finished DESC, d.id DESC"
        ))
        .bind(release_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Deploy::from_row).collect()
    }

    /// A project's newest deploys.
    pub async fn project_deploys(&self, project_id: i64, limit: i64) -> StoreResult<Vec<Deploy>> {
        let rows = sqlx::query(&format!(
            "SELECT {DEPLOY_COLUMNS} FROM deploys d JOIN releases r ON r.id = d.release_id \
             WHERE d.project_id = $1 ORDER BY d.date_finished DESC, d.id DESC LIMIT $2"
        ))
        .bind(project_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Deploy::from_row).collect()
    }

    /// Issues first seen in a release, most events first.
    pub async fn issues_first_seen_in(
        &self,
        project_id: i64,
        version: &str,
        limit: i64,
    ) -> StoreResult<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM issues WHERE project_id = $1 AND first_release = $2 \
             AND status <> 'merged' ORDER BY count DESC, id LIMIT $3",
        )
        .bind(project_id)
        .bind(version)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Repository names of every release's refs and commits, for sentry-cli's repo list.
    pub async fn release_repositories(&self) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT refs, commits FROM releases WHERE refs IS NOT NULL OR commits IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut names = std::collections::BTreeSet::new();
        for row in rows {
            for col in ["refs", "commits"] {
                if let Value::Array(items) = json_column(&row, col)? {
                    for item in items {
                        if let Some(name) = item["repository"].as_str() {
                            names.insert(name.to_owned());
                        }
                    }
                }
            }
        }
        Ok(names.into_iter().collect())
    }

    /// Where an issue's resolution stands: (resolved in release, waiting for the next one,
    /// newest release when it was resolved) and the release it was first seen in.
    pub async fn issue_release_state(&self, id: i64) -> StoreResult<IssueReleases> {
        let row = sqlx::query(
            "SELECT first_release, resolved_in_release, resolved_next, resolved_after \
             FROM issues WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let last: Option<String> = sqlx::query_scalar(
            "SELECT value FROM issue_facets WHERE issue_id = $1 AND facet = 'release' \
             ORDER BY last_seen DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(IssueReleases {
            first_release: row.try_get("first_release")?,
            last_release: last,
            resolved_in_release: row.try_get("resolved_in_release")?,
            resolved_next: row.try_get::<i64, _>("resolved_next")? != 0,
        })
    }

    /// Resolves an issue in a release: events of older releases are counted but do not
    /// reopen it. `Next`: in the first release created after today's newest.
    pub async fn resolve_in_release(
        &self,
        id: i64,
        in_release: &InRelease,
        actor: Option<&str>,
    ) -> StoreResult<Issue> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT project_id, status FROM issues WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let (project_id, status): (i64, String) =
            (row.try_get("project_id")?, row.try_get("status")?);
        if status == "merged" {
            return Err(StoreError::Conflict(
                "the issue was merged into another; change that one".into(),
            ));
        }
        let order = order_in(&mut tx, project_id).await?;
        let (in_version, next, after, what) = match in_release {
            InRelease::Version(v) => {
                validate_version(v).map_err(invalid)?;
                if order.rank(v).is_none() {
                    return Err(invalid(format!("the project has no release {v:?}")));
                }
                (Some(v.clone()), 0i64, None, format!("in release {v}"))
            }
            InRelease::Next => {
                let after = order.latest().map(str::to_owned);
                let what = match &after {
                    Some(a) => format!("in the next release (after {a})"),
                    None => "in the next release".to_owned(),
                };
                (None, 1, after, what)
            }
        };
        sqlx::query(
            "UPDATE issues SET status = 'resolved', resolved_at = $2, notify_next = 0, \
             snooze_until = NULL, snooze_count = NULL, resolved_in_release = $3, \
             resolved_next = $4, resolved_after = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .bind(in_version.as_deref())
        .bind(next)
        .bind(after.as_deref())
        .execute(&mut *tx)
        .await?;
        let detail = match actor {
            Some(a) => format!("{what}, by {a}"),
            None => what,
        };
        sqlx::query(
            "INSERT INTO issue_activity (issue_id, at, kind, detail) VALUES ($1, $2, 'resolved', $3)",
        )
        .bind(id)
        .bind(now)
        .bind(detail)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.issue(id).await
    }
}

/// An issue's releases, for its page and API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssueReleases {
    pub first_release: Option<String>,
    pub last_release: Option<String>,
    pub resolved_in_release: Option<String>,
    pub resolved_next: bool,
}
