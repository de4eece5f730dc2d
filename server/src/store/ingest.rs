//! Committing a batch of occurrences in one transaction: issue lookup or creation by hash,
//! idempotent occurrence insert, exact counters, regressions.
//!
//! Safe with several server processes on one PostgreSQL: issues are found through the
//! `issue_hashes` primary key (a racing creator loses `ON CONFLICT DO NOTHING` and adopts the
//! winner's issue), occurrences through `UNIQUE (project_id, uuid)`, and counters are
//! arithmetic updates. Work is done in a fixed order (hash, then issue id) so two batches lock
//! rows in the same order; a deadlock that still happens is retried by [`Store::commit_batch`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use uuid::Uuid;

use super::attachments::{NewAttachment, INSERT_ATTACHMENT};
use super::batch_tx::{Arg, BatchTx, Col};
use super::facet_writes::{FacetCounts, FullKeys, IssueFacets, TagCounts};
use super::multi_row::{placeholder, rows_per_write, tuples, ROWS_PER_STATEMENT};
use super::project_rules::RulesCache;
use super::release_health::NewSession;
use super::{Backend, Spike, Store, StoreResult};
use crate::event::Level;
use crate::grouping::{GroupHash, Grouping, GROUPING_VERSION};

/// An occurrence ready to store: validated, grouped and compressed by the ingest pipeline.
#[derive(Debug, Clone)]
pub struct NewOccurrence {
    pub project_id: i64,
    pub uuid: Uuid,
    /// Client time and server receive time, unix ms.
    pub timestamp: i64,
    pub received_at: i64,
    pub level: Level,
    /// Facets: filters and breakdowns (host, environment, release, os, browser).
    pub environment: Option<String>,
    pub release: Option<String>,
    pub host: Option<String>,
    pub os: Option<String>,
    pub browser: Option<String>,
    /// Bounded facets (`store::search`): (facet, value) for trace, user, URL and tags.
    pub tags: Vec<(String, String)>,
    /// Lowercase hex, whichever protocol carried it: the occurrence page's "errors in this
    /// trace" (`store::traces`).
    pub trace_id: Option<String>,
    /// Which API brought it: native, sentry, rollbar.
    pub protocol: &'static str,
    pub grouping: Grouping,
    /// zstd of the normalized event JSON.
    pub event: Vec<u8>,
    /// zstd of the body as received, when that is not the native JSON.
    pub raw: Option<Vec<u8>>,
    /// Files sent with the event, stored in the same transaction.
    pub attachments: Vec<NewAttachment>,
}

/// What happened to one occurrence of a committed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub uuid: Uuid,
    pub issue_id: i64,
    /// The uuid was already stored: nothing was written or counted.
    pub duplicate: bool,
    /// This occurrence opened a new issue.
    pub new_issue: bool,
    /// This occurrence turned a resolved issue into a regressed one.
    pub regressed: bool,
}

/// What a batch adds to one issue.
#[derive(Default)]
pub(super) struct IssueDelta {
    pub(super) count: i64,
    pub(super) first_seen: i64,
    pub(super) last_seen: i64,
    pub(super) level: Option<Level>,
    pub(super) hours: BTreeMap<i64, i64>,
    /// Occurrences per minute (unix minute), for spike detection.
    pub(super) minutes: BTreeMap<i64, i64>,
    pub(super) facets: FacetCounts,
    /// Bounded facets (tags, trace, user, URL): (count, last seen) by (facet, value).
    pub(super) tags: TagCounts,
    /// Index (in the batch) of the first occurrence, which a regression is attributed to.
    pub(super) first_index: usize,
    /// The releases of its occurrences (`None`: an occurrence without one), which decide
    /// whether an issue resolved in a release regressed.
    pub(super) releases: BTreeSet<Option<String>>,
}

const HOUR_MS: i64 = 3_600_000;

impl IssueDelta {
    pub(super) fn add(&mut self, occ: &NewOccurrence) {
        if self.count == 0 {
            self.first_seen = occ.received_at;
        }
        self.count += 1;
        self.first_seen = self.first_seen.min(occ.received_at);
        self.last_seen = self.last_seen.max(occ.received_at);
        self.level = Some(occ.level);
        if !self.releases.contains(&occ.release) {
            self.releases.insert(occ.release.clone());
        }
        *self
            .hours
            .entry(occ.received_at.div_euclid(HOUR_MS) * HOUR_MS)
            .or_default() += 1;
        *self
            .minutes
            .entry(occ.received_at.div_euclid(60_000))
            .or_default() += 1;
        let facets = [
            ("host", &occ.host),
            ("environment", &occ.environment),
            ("release", &occ.release),
            ("os", &occ.os),
            ("browser", &occ.browser),
            // How the failing site was reached: the issue page's "call paths" breakdown.
            ("call_path", &occ.grouping.call_path),
        ];
        for (facet, value) in facets {
            if let Some(value) = value {
                let entry = self.facets.entry((facet, value.clone())).or_default();
                entry.0 += 1;
                entry.1 = entry.1.max(occ.received_at);
            }
        }
        for (facet, value) in &occ.tags {
            let entry = self.tags.entry((facet.clone(), value.clone())).or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(occ.received_at);
        }
    }
}

impl Store {
    /// Commits every occurrence of `batch` in one transaction and says, in the same order, what
    /// became of each. Resent uuids (in the batch or already stored) are stored once.
    pub async fn commit_batch(&self, batch: &[NewOccurrence]) -> StoreResult<Vec<Committed>> {
        self.commit_ingest(batch, &[]).await
    }

    /// [`Store::commit_batch`] with session updates (release health) in the same transaction.
    pub async fn commit_ingest(
        &self,
        batch: &[NewOccurrence],
        sessions: &[NewSession],
    ) -> StoreResult<Vec<Committed>> {
        let mut attempt = 0u32;
        loop {
            match self.try_commit_batch(batch, sessions).await {
                Err(e) if e.is_transient() && attempt < 8 => {
                    attempt += 1;
                    tracing::debug!(attempt, error = %e, "retrying batch");
                    tokio::time::sleep(Duration::from_millis(5 << attempt.min(6))).await;
                }
                other => return other,
            }
        }
    }

    async fn try_commit_batch(
        &self,
        batch: &[NewOccurrence],
        sessions: &[NewSession],
    ) -> StoreResult<Vec<Committed>> {
        // Releases this process has not stored yet: written once, not per batch.
        let mut unknown: Vec<(i64, &str)> = batch
            .iter()
            .filter_map(|o| Some((o.project_id, o.release.as_deref()?)))
            .chain(
                sessions
                    .iter()
                    .map(|s| (s.project_id, s.update.release.as_str())),
            )
            .filter(|&(p, r)| !self.known_releases.contains(p, r))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        let now = batch
            .iter()
            .map(|o| o.received_at)
            .max()
            .unwrap_or_else(crate::time::now_ms);
        let inputs = BatchInputs {
            full_keys: &self.full_keys,
            rules_cache: &self.rules,
            spike: self.spike,
            mail: self.mail,
            batch,
            new_releases: &unknown,
            now,
        };
        let results = if let Some(sqlite) = &self.sqlite_writer {
            let committed = sqlite.transaction(async |tx| {
                let results = commit_in(tx, Backend::Sqlite, &inputs).await?;
                super::release_health::apply(tx, sessions, now).await?;
                Ok(results)
            });
            if let Err(e) = &committed {
                if e.needs_new_connection() && self.disk_problem().is_none() {
                    // Read-only although the folder is writable again: the pool's connections
                    // keep the process's view of the file read-only (`sqlite_disk`).
                    super::sqlite_disk::close_idle(&self.pool).await;
                }
            }
            committed?
        } else {
            let mut tx = self.begin_write().await?;
            let results = commit_in(&mut tx, self.backend(), &inputs).await?;
            super::release_health::apply(&mut tx, sessions, now).await?;
            tx.commit().await?;
            results
        };
        self.known_releases
            .add(unknown.iter().map(|&(p, r)| (p, r.to_owned())));
        Ok(results)
    }
}

/// What a batch's commit reads besides its transaction.
struct BatchInputs<'a> {
    full_keys: &'a FullKeys,
    rules_cache: &'a RulesCache,
    spike: Spike,
    /// Whether mail is on: mail rows are only queued then.
    mail: bool,
    batch: &'a [NewOccurrence],
    /// Releases named by the batch that this process has not stored yet.
    new_releases: &'a [(i64, &'a str)],
    now: i64,
}

/// Everything a batch writes, inside the caller's transaction.
async fn commit_in(
    tx: &mut impl BatchTx,
    backend: Backend,
    inputs: &BatchInputs<'_>,
) -> StoreResult<Vec<Committed>> {
    let &BatchInputs {
        full_keys,
        rules_cache,
        spike,
        mail,
        batch,
        new_releases,
        now,
    } = inputs;
    if !new_releases.is_empty() {
        super::releases::record_seen(tx, new_releases, now).await?;
    }
    if batch.is_empty() {
        // Session updates only.
        return Ok(Vec::new());
    }
    let mut results: Vec<Option<Committed>> = vec![None; batch.len()];

    // A uuid resent within the batch is answered like its first copy.
    let mut first_copy: HashMap<(i64, Uuid), usize> = HashMap::new();
    let mut copies = Vec::new();
    let mut order = Vec::with_capacity(batch.len());
    for (i, occ) in batch.iter().enumerate() {
        match first_copy.get(&(occ.project_id, occ.uuid)) {
            Some(&first) => copies.push((i, first)),
            None => {
                first_copy.insert((occ.project_id, occ.uuid), i);
                order.push(i);
            }
        }
    }
    order.sort_by(|&a, &b| {
        let (a, b) = (&batch[a], &batch[b]);
        (a.project_id, &a.grouping.hashes[0].hash).cmp(&(b.project_id, &b.grouping.hashes[0].hash))
    });

    // Round trips, not rows, are what a batch costs on PostgreSQL: every hash of the batch
    // is looked up at once, and occurrences are inserted many rows per statement.
    let mut issue_by_hash = known_hashes(tx, backend, batch, &order).await?;
    let mut assigned = Vec::with_capacity(order.len());
    for &i in &order {
        let (issue_id, new_issue) =
            resolve_issue(tx, backend, &batch[i], &mut issue_by_hash).await?;
        assigned.push((i, issue_id, new_issue));
    }
    // The insert itself detects resent uuids: those are not counted, and the stored copy's
    // issue answers. Rows go in uuid order so concurrent batches lock keys alike.
    let mut rows: Vec<(&NewOccurrence, i64)> = assigned
        .iter()
        .map(|&(i, issue, _)| (&batch[i], issue))
        .collect();
    rows.sort_by_key(|(occ, _)| (occ.project_id, occ.uuid));
    let inserted = insert_occurrences(tx, backend, &rows).await?;
    for (occ, _) in &rows {
        if let Some(&id) = inserted.get(&(occ.project_id, occ.uuid)) {
            insert_attachments(tx, occ, id).await?;
        }
    }

    let new_issues: HashSet<i64> = assigned
        .iter()
        .filter(|&&(_, _, new)| new)
        .map(|&(_, id, _)| id)
        .collect();
    let mut deltas: BTreeMap<i64, IssueDelta> = BTreeMap::new();
    for (i, issue_id, new_issue) in assigned {
        let occ = &batch[i];
        if !inserted.contains_key(&(occ.project_id, occ.uuid)) {
            if new_issue {
                // Only possible when the stored copy was grouped differently (an older
                // grouping version): drop the issue made for the resend if it stayed empty.
                drop_empty_issue(tx, issue_id, &mut issue_by_hash).await?;
            }
            let issue_id = stored_issue_of(tx, occ).await?.unwrap_or(issue_id);
            results[i] = Some(duplicate(occ, issue_id));
            continue;
        }
        let delta = deltas.entry(issue_id).or_insert_with(|| IssueDelta {
            first_index: i,
            ..IssueDelta::default()
        });
        delta.add(occ);
        results[i] = Some(Committed {
            uuid: occ.uuid,
            issue_id,
            duplicate: false,
            new_issue,
            regressed: false,
        });
    }

    let (mut applied, rules_versions) =
        apply_deltas(tx, backend, &deltas, &new_issues, full_keys).await?;
    let rules = rules_cache.at(tx, &rules_versions).await?;
    let rule_spikes = rules
        .values()
        .any(|r| r.alerts.iter().any(|a| a.spike.is_some()));
    spike_windows(tx, backend, &deltas, spike, rule_spikes, &mut applied).await?;
    for (&issue_id, delta) in &deltas {
        let applied = &applied[&issue_id];
        let first = results[delta.first_index]
            .as_mut()
            .expect("counted occurrences have results");
        first.regressed = applied.regressed;
        let occ = &batch[delta.first_index];
        // Ownership first, so rules' filters (`is:assigned`) see the owner.
        let project_rules = rules.get(&occ.project_id);
        let mut owned_by = None;
        if first.new_issue {
            if let Some(own) = project_rules.and_then(|r| r.ownership.as_deref()) {
                owned_by =
                    super::ownership::assign_new_issue(tx, own, issue_id, &occ.event).await?;
            }
        }
        // The owner's mail goes whatever the alert rules say: naming an owner asks for it.
        if let Some(rule) = owned_by.as_ref().filter(|_| mail) {
            super::ownership::mail_owner(tx, occ.project_id, issue_id, rule).await?;
        }
        if let Some(alerts) = project_rules.map(|r| &r.alerts).filter(|a| !a.is_empty()) {
            let happened = super::alert_rules::Happened {
                issue_id,
                project_id: occ.project_id,
                new_issue: first.new_issue,
                regressed: applied.regressed.then(|| applied.regressed_in.clone()),
                seen_again: applied.seen_again,
                count_before: applied.count - delta.count,
                count_after: applied.count,
                now: delta.last_seen,
                facets: occurrence_facets(occ),
                level: Some(occ.level),
            };
            super::alert_rules::enqueue(tx, mail, alerts, &happened).await?;
        } else if let Some((kind, detail)) = notification_for(first.new_issue, applied, delta.count)
        {
            super::notify::enqueue(tx, mail, occ.project_id, issue_id, kind, detail.as_deref())
                .await?;
        }
        if let Some(rule) = &owned_by {
            super::ownership::alert_owner_channel(tx, occ.project_id, issue_id, rule).await?;
        }
    }
    for (copy, first) in copies {
        let first = results[first].expect("first copy was processed");
        results[copy] = Some(Committed {
            duplicate: true,
            new_issue: false,
            regressed: false,
            ..first
        });
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every occurrence has a result"))
        .collect())
}

/// An occurrence's values as `issue_facets` names them (what an alert rule's filter sees).
fn occurrence_facets(occ: &NewOccurrence) -> Vec<(String, String)> {
    let builtin = [
        ("host", &occ.host),
        ("environment", &occ.environment),
        ("release", &occ.release),
        ("os", &occ.os),
        ("browser", &occ.browser),
    ];
    builtin
        .into_iter()
        .filter_map(|(f, v)| Some((f.to_owned(), v.clone()?)))
        .chain(occ.tags.iter().cloned())
        .collect()
}

fn duplicate(occ: &NewOccurrence, issue_id: i64) -> Committed {
    Committed {
        uuid: occ.uuid,
        issue_id,
        duplicate: true,
        new_issue: false,
        regressed: false,
    }
}

async fn drop_empty_issue(
    tx: &mut impl BatchTx,
    issue_id: i64,
    cache: &mut HashMap<(i64, String), i64>,
) -> StoreResult<()> {
    // Later occurrences of the batch may have joined it: then it stays.
    let id = [Arg::Int(issue_id)];
    let used = tx
        .rows(
            "SELECT 1 FROM occurrences WHERE issue_id = $1 LIMIT 1",
            &id,
            &[Col::Int],
        )
        .await?;
    if !used.is_empty() {
        return Ok(());
    }
    tx.run("DELETE FROM issue_hashes WHERE issue_id = $1", &id)
        .await?;
    tx.run("DELETE FROM issues WHERE id = $1 AND count = 0", &id)
        .await?;
    cache.retain(|_, id| *id != issue_id);
    Ok(())
}

async fn stored_issue_of(tx: &mut impl BatchTx, occ: &NewOccurrence) -> StoreResult<Option<i64>> {
    let uuid = occ.uuid.simple().to_string();
    let rows = tx
        .rows(
            "SELECT issue_id FROM occurrences WHERE project_id = $1 AND uuid = $2",
            &[occ.project_id.into(), uuid.as_str().into()],
            &[Col::Int],
        )
        .await?;
    Ok(rows.first().map(|r| r.int(0)))
}

/// Finds the issue one of the occurrence's hashes points to, or creates it. Returns the issue
/// and whether it is new. Every hash of the occurrence ends up pointing at the issue. `cache`
/// starts with every stored hash of the batch ([`known_hashes`]), so a miss means unknown.
async fn resolve_issue(
    tx: &mut impl BatchTx,
    backend: Backend,
    occ: &NewOccurrence,
    cache: &mut HashMap<(i64, String), i64>,
) -> StoreResult<(i64, bool)> {
    let hashes = &occ.grouping.hashes;
    let found = hashes.iter().find_map(|h| {
        let id = cache.get(&(occ.project_id, h.hash.clone())).copied()?;
        Some((id, h.version))
    });
    let (issue_id, new_issue) = match found {
        Some((id, _)) => (id, false),
        None => {
            let created = create_issue(tx, backend, occ).await?;
            // Linked to the first hash by its creation (or that hash's issue won).
            cache.insert((occ.project_id, hashes[0].hash.clone()), created.0);
            created
        }
    };
    // Unknown hashes learn the issue (an upgraded algorithm's new hashes, a rule's); a hash
    // that points elsewhere keeps pointing there, as it does in the table. Older versions'
    // hashes lead only to issues made under those versions: linked to an issue made now, they
    // would pull in events the current version tells apart (version 1 did not hash a
    // message when there were frames).
    let found_by_old = found.is_some_and(|(_, v)| v < GROUPING_VERSION);
    for h in hashes {
        if h.version < GROUPING_VERSION && !found_by_old {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) =
            cache.entry((occ.project_id, h.hash.clone()))
        {
            slot.insert(issue_id);
            link_hash(tx, occ.project_id, h, issue_id).await?;
        }
    }
    Ok((issue_id, new_issue))
}

/// The issues every hash of the batch already points to, in one query per project and chunk.
async fn known_hashes(
    tx: &mut impl BatchTx,
    backend: Backend,
    batch: &[NewOccurrence],
    order: &[usize],
) -> StoreResult<HashMap<(i64, String), i64>> {
    let mut wanted: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
    for &i in order {
        let occ = &batch[i];
        let set = wanted.entry(occ.project_id).or_default();
        set.extend(occ.grouping.hashes.iter().map(|h| h.hash.as_str()));
    }
    let mut known = HashMap::new();
    for (project, hashes) in wanted {
        let hashes: Vec<&str> = hashes.into_iter().collect();
        for chunk in hashes.chunks(500) {
            let placeholders = (0..chunk.len())
                .map(|n| placeholder(backend, n + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT hash, issue_id FROM issue_hashes WHERE project_id = {} AND hash IN ({placeholders})",
                placeholder(backend, 1)
            );
            let args: Vec<Arg> = std::iter::once(Arg::Int(project))
                .chain(chunk.iter().map(|&h| h.into()))
                .collect();
            for row in tx.rows(&sql, &args, &[Col::Text, Col::Int]).await? {
                known.insert((project, row.text(0).to_owned()), row.int(1));
            }
        }
    }
    Ok(known)
}

/// Makes the occurrence's issue and links its first hash to it, unless a concurrent batch
/// linked that hash first: then the issue made is dropped and the winner answers (false).
async fn create_issue(
    tx: &mut impl BatchTx,
    backend: Backend,
    occ: &NewOccurrence,
) -> StoreResult<(i64, bool)> {
    let g = &occ.grouping;
    let components = serde_json::to_string(&g.components).expect("strings serialize");
    const INSERT_ISSUE: &str =
        "INSERT INTO issues (project_id, title, culprit, level, status, count, first_seen, \
         last_seen, grouping_version, components, first_release) \
         VALUES ($1, $2, $3, $4, 'unresolved', 0, $5, $5, $6, $7, $8) RETURNING id";
    let issue_args = [
        occ.project_id.into(),
        g.title.as_str().into(),
        g.culprit.as_deref().into(),
        occ.level.as_str().into(),
        occ.received_at.into(),
        i64::from(GROUPING_VERSION).into(),
        components.as_str().into(),
        occ.release.as_deref().into(),
    ];
    let hash = [occ.project_id.into(), g.hashes[0].hash.as_str().into()];
    let version = i64::from(g.hashes[0].version).into();
    let (id, linked) = match backend {
        // One round trip: the issue and its hash in one statement.
        Backend::Postgres => {
            let sql = format!(
                "WITH i AS ({INSERT_ISSUE}), h AS (INSERT INTO issue_hashes \
                 (project_id, hash, grouping_version, issue_id) SELECT $9, $10, $11, id FROM i \
                 ON CONFLICT (project_id, hash) DO NOTHING RETURNING issue_id) \
                 SELECT i.id, (SELECT COUNT(*) FROM h) FROM i"
            );
            let args: Vec<Arg> = issue_args
                .into_iter()
                .chain([hash[0], hash[1], version])
                .collect();
            let row = &tx.rows(&sql, &args, &[Col::Int, Col::Int]).await?[0];
            (row.int(0), row.int(1) > 0)
        }
        Backend::Sqlite => {
            let id = tx.rows(INSERT_ISSUE, &issue_args, &[Col::Int]).await?[0].int(0);
            let linked = tx
                .rows(
                    "INSERT INTO issue_hashes (project_id, hash, grouping_version, issue_id) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, hash) DO NOTHING \
                     RETURNING issue_id",
                    &[hash[0], hash[1], version, id.into()],
                    &[Col::Int],
                )
                .await?;
            (id, !linked.is_empty())
        }
    };
    if linked {
        return Ok((id, true));
    }
    tx.run("DELETE FROM issues WHERE id = $1", &[id.into()])
        .await?;
    let winner = tx
        .rows(
            "SELECT issue_id FROM issue_hashes WHERE project_id = $1 AND hash = $2",
            &hash,
            &[Col::Int],
        )
        .await?;
    Ok((winner[0].int(0), false))
}

async fn link_hash(
    tx: &mut impl BatchTx,
    project_id: i64,
    hash: &GroupHash,
    issue_id: i64,
) -> StoreResult<()> {
    tx.run(
        "INSERT INTO issue_hashes (project_id, hash, grouping_version, issue_id) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, hash) DO NOTHING",
        &[
            project_id.into(),
            hash.hash.as_str().into(),
            i64::from(hash.version).into(),
            issue_id.into(),
        ],
    )
    .await
}

/// Columns of one occurrence row, in the order [`insert_occurrences`] binds them.
const OCCURRENCE_COLUMNS: usize = 13;

/// Rows per INSERT on PostgreSQL: far below its limit on bound parameters.
const ROWS_PER_INSERT: usize = 200;

/// Inserts the occurrences; returns the row id of each that was new, by (project, uuid). A
/// uuid already stored is skipped by `ON CONFLICT DO NOTHING`.
async fn insert_occurrences(
    tx: &mut impl BatchTx,
    backend: Backend,
    rows: &[(&NewOccurrence, i64)],
) -> StoreResult<HashMap<(i64, Uuid), i64>> {
    let mut inserted = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(rows_per_write(backend, ROWS_PER_INSERT)) {
        let values = (0..chunk.len())
            .map(|r| {
                let params: Vec<String> = (1..=OCCURRENCE_COLUMNS)
                    .map(|c| placeholder(backend, r * OCCURRENCE_COLUMNS + c))
                    .collect();
                format!("({})", params.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO occurrences (project_id, issue_id, uuid, timestamp, received_at, level, \
             environment, release, host, protocol, event, raw, trace_id) VALUES {values} \
             ON CONFLICT (project_id, uuid) DO NOTHING RETURNING project_id, uuid, id"
        );
        let uuids: Vec<String> = chunk
            .iter()
            .map(|(occ, _)| occ.uuid.simple().to_string())
            .collect();
        let mut args = Vec::with_capacity(chunk.len() * OCCURRENCE_COLUMNS);
        for ((occ, issue_id), uuid) in chunk.iter().zip(&uuids) {
            args.extend([
                Arg::Int(occ.project_id),
                Arg::Int(*issue_id),
                uuid.as_str().into(),
                Arg::Int(occ.timestamp),
                Arg::Int(occ.received_at),
                occ.level.as_str().into(),
                occ.environment.as_deref().into(),
                occ.release.as_deref().into(),
                occ.host.as_deref().into(),
                occ.protocol.into(),
                occ.event.as_slice().into(),
                occ.raw.as_deref().into(),
                occ.trace_id.as_deref().into(),
            ]);
        }
        for row in tx
            .rows(&sql, &args, &[Col::Int, Col::Text, Col::Int])
            .await?
        {
            let uuid = Uuid::parse_str(row.text(1)).map_err(|e| {
                super::StoreError::Invalid(format!("stored uuid {:?}: {e}", row.text(1)))
            })?;
            inserted.insert((row.int(0), uuid), row.int(2));
        }
    }
    Ok(inserted)
}

/// Stores a new occurrence's attachments (most events have none: no statement then).
async fn insert_attachments(
    tx: &mut impl BatchTx,
    occ: &NewOccurrence,
    occurrence_id: i64,
) -> StoreResult<()> {
    for a in &occ.attachments {
        tx.run(
            INSERT_ATTACHMENT,
            &[
                occ.project_id.into(),
                occurrence_id.into(),
                a.name.as_str().into(),
                a.content_type.as_deref().into(),
                a.attachment_type.as_str().into(),
                a.size.into(),
                (a.data.len() as i64).into(),
                a.data.as_slice().into(),
                occ.received_at.into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// An ignored issue's snooze ran out (its date passed or its count was reached): it is
/// unresolved again, and the occurrence that woke it mails "seen again".
async fn wake(tx: &mut impl BatchTx, id: i64, now: i64) -> StoreResult<()> {
    tx.run(
        "UPDATE issues SET status = 'unresolved', snooze_until = NULL, snooze_count = NULL \
         WHERE id = $1",
        &[id.into()],
    )
    .await?;
    tx.run(
        "INSERT INTO issue_activity (issue_id, at, kind, detail) \
         VALUES ($1, $2, 'unresolved', 'the ignore period ended')",
        &[id.into(), now.into()],
    )
    .await
}

/// What a batch did to an issue.
struct Applied {
    regressed: bool,
    count: i64,
    status: String,
    /// The issue was un-ignored and this is its first occurrence since.
    seen_again: bool,
    /// The occurrences in the spike window reached the spike threshold with this batch.
    spiked: Option<String>,
    /// A regression past a resolving release: which release reopened it.
    regressed_in: Option<String>,
}

/// Which mail, if any, the batch's occurrences of an issue call for: a new issue and a
/// regression always; otherwise the 10th, 100th, 1,000th... occurrence. Ignored issues never.
fn notification_for(
    new_issue: bool,
    applied: &Applied,
    added: i64,
) -> Option<(&'static str, Option<String>)> {
    if applied.status == "ignored" {
        return None;
    }
    if new_issue {
        return Some(("new_issue", None));
    }
    if applied.regressed {
        return Some(("regression", applied.regressed_in.clone()));
    }
    if applied.seen_again {
        return Some(("seen_again", None));
    }
    if let Some(spike) = &applied.spiked {
        return Some(("spike", Some(spike.clone())));
    }
    let before = applied.count - added;
    let mut milestone = 10;
    while milestone <= applied.count {
        if milestone > before {
            return Some(("milestone", Some(milestone.to_string())));
        }
        milestone *= 10;
    }
    None
}

/// Adds a batch's counts to its issues with a handful of statements for the whole batch (not
/// per issue): regressions, counters, hourly, per-minute and facet counts, spike windows.
async fn apply_deltas(
    tx: &mut impl BatchTx,
    backend: Backend,
    deltas: &BTreeMap<i64, IssueDelta>,
    new_issues: &HashSet<i64>,
    full_keys: &FullKeys,
) -> StoreResult<(HashMap<i64, Applied>, BTreeMap<i64, i64>)> {
    let ids: Vec<i64> = deltas.keys().copied().collect();
    let now = newest(deltas);
    let mut regressed = HashSet::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE issues SET status = 'regressed', regressed_at = {}, resolved_at = NULL \
             WHERE status = 'resolved' AND resolved_in_release IS NULL AND resolved_next = 0 \
             AND id IN ({}) RETURNING id",
            placeholder(backend, 1),
            (0..chunk.len())
                .map(|i| placeholder(backend, i + 2))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let args: Vec<Arg> = std::iter::once(now)
            .chain(chunk.iter().copied())
            .map(Arg::Int)
            .collect();
        let rows = tx.rows(&sql, &args, &[Col::Int]).await?;
        regressed.extend(rows.iter().map(|r| r.int(0)));
    }
    for &id in &regressed {
        tx.run(
            "INSERT INTO issue_activity (issue_id, at, kind, detail) \
             VALUES ($1, $2, 'regressed', NULL)",
            &[id.into(), deltas[&id].first_seen.into()],
        )
        .await?;
    }

    let mut applied = HashMap::with_capacity(deltas.len());
    // The version of each project's rules, read with its issues' counts (`project_rules`).
    let mut rules_versions = BTreeMap::new();
    let mut in_release = Vec::new();
    let entries: Vec<(&i64, &IssueDelta)> = deltas.iter().collect();
    for chunk in entries.chunks(rows_per_write(backend, ROWS_PER_STATEMENT)) {
        let sql = format!(
            "UPDATE issues SET count = issues.count + v.column2, \
             first_seen = CASE WHEN issues.first_seen > v.column3 THEN v.column3 ELSE issues.first_seen END, \
             last_seen = CASE WHEN issues.last_seen < v.column4 THEN v.column4 ELSE issues.last_seen END, \
             level = v.column5 FROM (VALUES {}) AS v WHERE issues.id = v.column1 \
             RETURNING issues.id, issues.count, issues.status, issues.notify_next, \
             issues.snooze_until, issues.snooze_count, issues.project_id, \
             COALESCE(issues.resolved_in_release, ''), issues.resolved_next, \
             COALESCE(issues.resolved_after, ''), \
             (SELECT rules_version FROM projects WHERE projects.id = issues.project_id)",
            tuples(backend, 1, chunk.len(), 5)
        );
        let args: Vec<Arg> = chunk
            .iter()
            .flat_map(|(id, d)| {
                [
                    Arg::Int(**id),
                    Arg::Int(d.count),
                    Arg::Int(d.first_seen),
                    Arg::Int(d.last_seen),
                    d.level.unwrap_or(Level::Error).as_str().into(),
                ]
            })
            .collect();
        let cols = [
            Col::Int,
            Col::Int,
            Col::Text,
            Col::Int,
            Col::OptInt,
            Col::OptInt,
            Col::Int,
            Col::Text,
            Col::Int,
            Col::Text,
            Col::Int,
        ];
        for row in tx.rows(&sql, &args, &cols).await? {
            let id = row.int(0);
            let count = row.int(1);
            rules_versions.insert(row.int(6), row.int(10));
            let mut status = row.text(2).to_owned();
            let mut seen_again = row.int(3) != 0;
            if status == "ignored" {
                let until = row.opt_int(4);
                let at_count = row.opt_int(5);
                if until.is_some_and(|t| t <= now) || at_count.is_some_and(|n| count >= n) {
                    wake(tx, id, now).await?;
                    status = "unresolved".into();
                    seen_again = true;
                }
            }
            if status == "resolved" {
                // Resolved in a release: the batch's releases decide (the rare path).
                let resolution = ReleaseResolution {
                    project_id: row.int(6),
                    in_release: row.text(7).to_owned(),
                    next: row.int(8) != 0,
                    after: row.text(9).to_owned(),
                };
                if resolution.next || !resolution.in_release.is_empty() {
                    in_release.push((id, resolution));
                }
            }
            applied.insert(
                id,
                Applied {
                    regressed: regressed.contains(&id),
                    count,
                    status,
                    seen_again,
                    spiked: None,
                    regressed_in: None,
                },
            );
        }
    }
    regress_in_release(tx, deltas, &in_release, &mut applied).await?;
    let seen_again: Vec<i64> = applied
        .iter()
        .filter(|(_, a)| a.seen_again)
        .map(|(id, _)| *id)
        .collect();
    for id in seen_again {
        tx.run(
            "UPDATE issues SET notify_next = 0 WHERE id = $1",
            &[id.into()],
        )
        .await?;
    }

    let hours: Vec<(i64, i64, i64)> = deltas
        .iter()
        .flat_map(|(id, d)| d.hours.iter().map(move |(h, n)| (*id, *h, *n)))
        .collect();
    upsert_counts(tx, backend, "issue_hourly", "hour", &hours).await?;

    let issues: Vec<IssueFacets> = deltas
        .iter()
        .map(|(&id, d)| IssueFacets {
            id,
            facets: &d.facets,
            tags: &d.tags,
        })
        .collect();
    super::facet_writes::write_facets(tx, backend, &issues, new_issues, full_keys).await?;
    Ok((applied, rules_versions))
}

/// When the batch's newest occurrence was received.
fn newest(deltas: &BTreeMap<i64, IssueDelta>) -> i64 {
    deltas
        .values()
        .map(|d| d.last_seen)
        .max()
        .unwrap_or_default()
}

/// Per-minute counts, kept for the windows of the global spike and of rules' spikes, and
/// the issues the batch made reach the global spike.
async fn spike_windows(
    tx: &mut impl BatchTx,
    backend: Backend,
    deltas: &BTreeMap<i64, IssueDelta>,
    spike: Spike,
    rule_spikes: bool,
    applied: &mut HashMap<i64, Applied>,
) -> StoreResult<()> {
    let global_spike = spike.count > 0 && spike.minutes > 0;
    if global_spike || rule_spikes {
        let minutes: Vec<(i64, i64, i64)> = deltas
            .iter()
            .flat_map(|(id, d)| d.minutes.iter().map(move |(m, n)| (*id, *m, *n)))
            .collect();
        upsert_counts(tx, backend, "issue_minutes", "minute", &minutes).await?;
    }
    if global_spike {
        let ids: Vec<i64> = deltas.keys().copied().collect();
        let cutoff = newest(deltas).div_euclid(60_000) - spike.minutes;
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT issue_id, CAST(SUM(count) AS BIGINT) AS total FROM issue_minutes \
                 WHERE minute > {} AND issue_id IN ({}) GROUP BY issue_id",
                placeholder(backend, 1),
                (0..chunk.len())
                    .map(|i| placeholder(backend, i + 2))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let args: Vec<Arg> = std::iter::once(cutoff)
                .chain(chunk.iter().copied())
                .map(Arg::Int)
                .collect();
            for row in tx.rows(&sql, &args, &[Col::Int, Col::Int]).await? {
                let (id, recent) = (row.int(0), row.int(1));
                let added = deltas[&id].count;
                // Reached with this batch: the window held less before it.
                if recent >= spike.count && recent - added < spike.count {
                    if let Some(a) = applied.get_mut(&id) {
                        a.spiked = Some(format!("{recent} in {} minutes", spike.minutes));
                    }
                }
            }
        }
    }
    Ok(())
}

/// How a resolved issue in a batch was resolved in a release (read back by the counter
/// update, so the common path costs no statement of its own).
struct ReleaseResolution {
    project_id: i64,
    /// Resolved in this release (empty: not known yet)...
    in_release: String,
    /// ...or in the next release after `after` (empty: there was no release yet).
    next: bool,
    after: String,
}

/// Issues resolved in a release regress when an occurrence of the batch is of that release
/// or newer, or has no release; occurrences of older releases are counted and leave it
/// resolved. One query per project for its release order, only when such issues got events.
async fn regress_in_release(
    tx: &mut impl BatchTx,
    deltas: &BTreeMap<i64, IssueDelta>,
    pending: &[(i64, ReleaseResolution)],
    applied: &mut HashMap<i64, Applied>,
) -> StoreResult<()> {
    let mut orders: HashMap<i64, crate::releases::order::ReleaseOrder> = HashMap::new();
    for (id, r) in pending {
        if let std::collections::hash_map::Entry::Vacant(slot) = orders.entry(r.project_id) {
            slot.insert(super::releases::order_in(tx, r.project_id).await?);
        }
        let order = &orders[&r.project_id];
        let delta = &deltas[id];
        let reopens = |release: &Option<String>| match release {
            None => true,
            Some(v) if !r.in_release.is_empty() => order.at_least(v, &r.in_release),
            Some(v) => {
                order.rank(v).is_none()
                    || (!r.after.is_empty()
                        && order.cmp(v, &r.after) == Some(std::cmp::Ordering::Greater))
            }
        };
        let Some(reopening) = delta.releases.iter().find(|rel| reopens(rel)) else {
            continue;
        };
        let resolved = if r.in_release.is_empty() {
            "the next release".to_owned()
        } else {
            r.in_release.clone()
        };
        let detail = match reopening {
            Some(v) => format!("in release {v} (resolved in {resolved})"),
            None => format!("without a release (resolved in {resolved})"),
        };
        tx.run(
            "UPDATE issues SET status = 'regressed', regressed_at = $1, resolved_at = NULL, \
             resolved_in_release = NULL, resolved_next = 0, resolved_after = NULL WHERE id = $2",
            &[delta.last_seen.into(), (*id).into()],
        )
        .await?;
        tx.run(
            "INSERT INTO issue_activity (issue_id, at, kind, detail) VALUES ($1, $2, 'regressed', $3)",
            &[(*id).into(), delta.first_seen.into(), detail.as_str().into()],
        )
        .await?;
        if let Some(a) = applied.get_mut(id) {
            a.regressed = true;
            a.status = "regressed".into();
            a.regressed_in = Some(detail);
        }
    }
    Ok(())
}

/// Adds (issue, bucket, count) rows to a per-issue counter table (`issue_hourly`, `issue_minutes`).
async fn upsert_counts(
    tx: &mut impl BatchTx,
    backend: Backend,
    table: &str,
    bucket: &str,
    rows: &[(i64, i64, i64)],
) -> StoreResult<()> {
    for chunk in rows.chunks(rows_per_write(backend, ROWS_PER_STATEMENT)) {
        let sql = format!(
            "INSERT INTO {table} (issue_id, {bucket}, count) VALUES {} \
             ON CONFLICT (issue_id, {bucket}) DO UPDATE SET count = {table}.count + excluded.count",
            tuples(backend, 1, chunk.len(), 3)
        );
        let args: Vec<Arg> = chunk
            .iter()
            .flat_map(|&(id, b, n)| [Arg::Int(id), Arg::Int(b), Arg::Int(n)])
            .collect();
        tx.run(&sql, &args).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(count: i64, status: &str, regressed: bool) -> Applied {
        Applied {
            regressed,
            count,
            status: status.into(),
            seen_again: false,
            spiked: None,
            regressed_in: None,
        }
    }

    #[test]
    fn new_issues_regressions_and_powers_of_ten_notify_and_ignored_issues_never() {
        let kind = |new, a: &Applied, added| notification_for(new, a, added).map(|k| k.0);
        assert_eq!(
            kind(true, &applied(1, "unresolved", false), 1),
            Some("new_issue")
        );
        assert_eq!(
            kind(false, &applied(5, "regressed", true), 1),
            Some("regression")
        );
        assert_eq!(
            notification_for(false, &applied(12, "unresolved", false), 5)
                .unwrap()
                .1
                .as_deref(),
            Some("10")
        );
        assert_eq!(kind(false, &applied(11, "unresolved", false), 1), None);
        assert_eq!(
            notification_for(false, &applied(1000, "unresolved", false), 1)
                .unwrap()
                .1
                .as_deref(),
            Some("1000")
        );
        assert_eq!(kind(false, &applied(99, "unresolved", false), 1), None);
        assert_eq!(kind(true, &applied(1, "ignored", false), 1), None);
        assert_eq!(kind(false, &applied(100, "ignored", false), 1), None);
    }
}
