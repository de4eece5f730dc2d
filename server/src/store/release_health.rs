//! Release health: session counts per release, environment, hour and status, and distinct
//! users per release, written in the ingest transaction with the events of the same batch
//! (so a 2xx means they are committed) and read for the releases pages and API.
//!
//! Exact with several writers and processes: counters are `count = count + n` upserts, users
//! and session marks are primary keys (`ON CONFLICT`), and rows are written in key order so
//! two batches lock alike. What counts when is `crate::releases::health`'s rule.

use std::collections::{BTreeMap, HashMap};

use sqlx::any::AnyRow;
use sqlx::Row as _;

use super::batch_tx::{BatchTx, Col};
use super::StoreResult;
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
    // Marks first, in key order; an update counts only for a mark it is the first to set, or
    // (an end) for one it makes worse.
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
    let mut first_time = vec![(false, EndCount::None); sessions.len()];
    for &(project, sid, kind, i) in &marks {
        if kind == "init" {
            first_time[i].0 = set_mark(tx, project, sid, "init", None, now).await?;
            continue;
        }
        let UpdateKind::Single {
            ended: Some(ending),
            ..
        } = &sessions[i].update.kind
        else {
            continue;
        };
        first_time[i].1 = if set_mark(tx, project, sid, "end", Some(*ending), now).await? {
            EndCount::New
        } else {
            worsen_end(tx, project, sid, *ending).await?
        };
    }
    for (s, &(started, end_count)) in sessions.iter().zip(&first_time) {
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
                if let (Some(ending), true) = (ended, end_count != EndCount::None) {
                    *counts.entry(key(ending.as_str())).or_default() += 1;
                    if let EndCount::Moved(from) = end_count {
                        *counts.entry(key(from.as_str())).or_default() -= 1;
                    }
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

/// What an update's end adds to the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndCount {
    /// Nothing: no end, or one already counted as bad or worse.
    None,
    /// The session's first end.
    New,
    /// Worse than the end counted before, which it replaces.
    Moved(Ending),
}

/// Sets a session's mark; whether this call set it.
async fn set_mark(
    tx: &mut impl BatchTx,
    project: i64,
    sid: &str,
    kind: &str,
    state: Option<Ending>,
    now: i64,
) -> StoreResult<bool> {
    let state = state.map(Ending::as_str);
    Ok(!tx
        .rows(
            "INSERT INTO session_marks (project_id, sid, kind, at, state) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (project_id, sid, kind) DO NOTHING RETURNING project_id",
            &[project.into(), sid.into(), kind.into(), now.into(), state.into()],
            &[Col::Int],
        )
        .await?
        .is_empty())
}

/// A session already ended ends worse (`exited`, then `errored`, `abnormal`, `crashed`: an
/// error, then a crash): its end mark moves to `ending` from the milder state it had. One
/// guarded UPDATE per milder state, so two writers moving the same session move it once.
async fn worsen_end(
    tx: &mut impl BatchTx,
    project: i64,
    sid: &str,
    ending: Ending,
) -> StoreResult<EndCount> {
    for milder in Ending::ALL.into_iter().filter(|&e| e < ending) {
        let moved = tx
            .rows(
                "UPDATE session_marks SET state = $1 WHERE project_id = $2 AND sid = $3 \
                 AND kind = 'end' AND state = $4 RETURNING project_id",
                &[
                    ending.as_str().into(),
                    project.into(),
                    sid.into(),
                    milder.as_str().into(),
                ],
                &[Col::Int],
            )
            .await?;
        if !moved.is_empty() {
            return Ok(EndCount::Moved(milder));
        }
    }
    Ok(EndCount::None)
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

/// Health from the rows of the session counts (release, environment, status, n) and distinct
/// users (release, environment, n, crashed) queries of `Store::health_of`.
pub(super) fn health_from_rows(
    sessions: &[AnyRow],
    users: &[AnyRow],
) -> StoreResult<ReleaseHealth> {
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
