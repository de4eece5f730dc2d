//! Release health: session counts per release, environment, hour and status, and distinct
//! users per release, written in the ingest transaction with the events of the same batch
//! (so a 2xx means they are committed) and read for the releases pages and API.
//!
//! Exact with several writers and processes: counters are `count = count + n` upserts, users
//! and session marks are primary keys (`ON CONFLICT`), and rows are written in key order so
//! two batches lock alike. What counts when is `crate::releases::health`'s rule.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row as _;

use super::batch_tx::{BatchTx, Col};
use super::{Store, StoreResult};
use crate::releases::health::{Ending, Health, SessionUpdate, UpdateKind};

/// A session update for a project, as the writer queues it.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub project_id: i64,
    pub update: SessionUpdate,
}

/// Counter key: (project, release, environment, hour, status).
type Key<'a> = (i64, &'a str, &'a str, i64, &'static str);

/// Applies the batch's session updates inside the caller's transaction.
pub(super) async fn apply(
    tx: &mut impl BatchTx,
    sessions: &[NewSession],
    now: i64,
) -> StoreResult<()> {
    let mut counts: BTreeMap<Key, i64> = BTreeMap::new();
    // (project, release, environment, did) -> crashed
    let mut users: BTreeMap<(i64, &str, &str, &str), bool> = BTreeMap::new();
    // Marks first, in key order; an update counts only for a mark it is the first to set.
    let mut marks: Vec<(i64, &str, &'static str, usize)> = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        if let UpdateKind::Single { sid, init, ended } = &s.update.kind {
            if *init {
                marks.push((s.project_id, sid, "init", i));
            }
            if ended.is_some() {
                marks.push((s.project_id, sid, "end", i));
            }
        }
    }
    marks.sort_unstable();
    let mut first_time = vec![(false, false); sessions.len()];
    for &(project, sid, kind, i) in &marks {
        let new = !tx
            .rows(
                "INSERT INTO session_marks (project_id, sid, kind, at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (project_id, sid, kind) DO NOTHING RETURNING project_id",
                &[project.into(), sid.into(), kind.into(), now.into()],
                &[Col::Int],
            )
            .await?
            .is_empty();
        if kind == "init" {
            first_time[i].0 = new;
        } else {
            first_time[i].1 = new;
        }
    }
    for (s, &(started, ended_now)) in sessions.iter().zip(&first_time) {
        let u = &s.update;
        let key = |status| {
            (
                s.project_id,
                u.release.as_str(),
                u.environment.as_str(),
                u.hour,
                status,
            )
        };
        let mut crashed = false;
        let mut counted = false;
        match &u.kind {
            UpdateKind::Single { ended, .. } => {
                if started {
                    *counts.entry(key("started")).or_default() += 1;
                    counted = true;
                }
                if let (Some(ending), true) = (ended, ended_now) {
                    *counts.entry(key(ending.as_str())).or_default() += 1;
                    crashed = *ending == Ending::Crashed;
                    counted = true;
                }
            }
            UpdateKind::Aggregate { ended } => {
                for (n, ending) in ended.iter().zip(Ending::ALL) {
                    if *n > 0 {
                        *counts.entry(key(ending.as_str())).or_default() += n;
                        *counts.entry(key("started")).or_default() += n;
                        crashed |= ending == Ending::Crashed;
                        counted = true;
                    }
                }
            }
        }
        if let (Some(did), true) = (&u.did, counted) {
            let user = users
                .entry((s.project_id, &u.release, &u.environment, did))
                .or_default();
            *user |= crashed;
        }
    }
    for ((project, release, environment, hour, status), n) in counts {
        tx.run(
            "INSERT INTO release_sessions (project_id, release, environment, hour, status, count) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, release, environment, hour, status) \
             DO UPDATE SET count = release_sessions.count + excluded.count",
            &[
                project.into(),
                release.into(),
                environment.into(),
                hour.into(),
                status.into(),
                n.into(),
            ],
        )
        .await?;
    }
    for ((project, release, environment, did), crashed) in users {
        tx.run(
            "INSERT INTO release_users (project_id, release, environment, did, crashed) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, release, environment, did) \
             DO UPDATE SET crashed = CASE WHEN excluded.crashed > release_users.crashed \
             THEN excluded.crashed ELSE release_users.crashed END",
            &[
                project.into(),
                release.into(),
                environment.into(),
                did.into(),
                i64::from(crashed).into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Health per release, then per environment.
pub type ReleaseHealth = HashMap<String, BTreeMap<String, Health>>;

/// The health of all environments together.
pub fn overall(per_env: &BTreeMap<String, Health>) -> Health {
    let mut total = Health::default();
    for h in per_env.values() {
        total.add(h);
    }
    total
}

impl Store {
    /// Session and user counts of a project's releases (of one release with `version`).
    pub async fn release_health(
        &self,
        project_id: i64,
        version: Option<&str>,
    ) -> StoreResult<ReleaseHealth> {
        // Without a version, `$2 = ''` matches every release.
        let sessions = sqlx::query(
            "SELECT release, environment, status, CAST(SUM(count) AS BIGINT) AS n \
             FROM release_sessions WHERE project_id = $1 AND ($2 = '' OR release = $2) \
             GROUP BY release, environment, status",
        )
        .bind(project_id)
        .bind(version.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let users = sqlx::query(
            "SELECT release, environment, COUNT(*) AS n, CAST(SUM(crashed) AS BIGINT) AS crashed \
             FROM release_users WHERE project_id = $1 AND ($2 = '' OR release = $2) \
             GROUP BY release, environment",
        )
        .bind(project_id)
        .bind(version.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut out = ReleaseHealth::new();
        for row in sessions {
            let h = out
                .entry(row.try_get("release")?)
                .or_default()
                .entry(row.try_get("environment")?)
                .or_default();
            let n: i64 = row.try_get("n")?;
            match row.try_get::<String, _>("status")?.as_str() {
                "started" => h.sessions += n,
                "exited" => h.exited += n,
                "errored" => h.errored += n,
                "abnormal" => h.abnormal += n,
                "crashed" => h.crashed += n,
                _ => {}
            }
        }
        for row in users {
            let h = out
                .entry(row.try_get("release")?)
                .or_default()
                .entry(row.try_get("environment")?)
                .or_default();
            h.users += row.try_get::<i64, _>("n")?;
            h.crashed_users += row.try_get::<i64, _>("crashed")?;
        }
        Ok(out)
    }
}
