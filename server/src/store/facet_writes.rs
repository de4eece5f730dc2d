//! A batch's facet counts written to `issue_facets`, one row per (issue, facet, value): the
//! unbounded facets (host, environment, release ...) and the bounded ones (tags, trace, user,
//! URL; `store::search`), whose values past [`MAX_VALUES_PER_KEY`] per issue and key are
//! counted in the key's [`OTHER`] row, so counts stay exact and rows bounded.
//!
//! SQLite writes a row per statement, each seeing the one before, and bounds each value as it
//! goes. PostgreSQL pays a round trip per statement, so most bounded rows ride along with the
//! unbounded ones in one upsert, which reports the values it inserted (`xmax = 0`): only a key
//! of an issue that already existed and got a new value is then counted, and its values past
//! the bound are moved into its catch-all row. A key known to be full takes the statements
//! that bound values before writing them, as does a new issue with more values than the bound.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use super::batch_tx::{Arg, BatchTx, Col};
use super::multi_row::{rows_per_write, tuples, ROWS_PER_STATEMENT};
use super::search::{MAX_VALUES_PER_KEY, OTHER};
use super::{Backend, StoreResult};

/// Counts of an issue's unbounded facets in a batch: (count, last seen) by (facet, value).
pub(super) type FacetCounts = BTreeMap<(&'static str, String), (i64, i64)>;

/// Counts of an issue's bounded facets (tags, trace, user, URL), as [`FacetCounts`].
pub(super) type TagCounts = BTreeMap<(String, String), (i64, i64)>;

/// What a batch adds to one issue's facets.
pub(super) struct IssueFacets<'a> {
    pub(super) id: i64,
    pub(super) facets: &'a FacetCounts,
    pub(super) tags: &'a TagCounts,
}

/// (issue, facet, value, count, last seen).
type FacetRow<'a> = (i64, &'a str, &'a str, i64, i64);

/// (issue, facet) keys this process saw full: their new values go to the catch-all row, so
/// they take the statements that bound before writing. Keys only ever fill up; bounded (by
/// issues, cleared when past the bound). Looked up without allocating, once per batch locked.
#[derive(Clone, Default)]
pub struct FullKeys(Arc<Mutex<HashMap<i64, HashSet<String>>>>);

const FULL_KEYS_MAX_ISSUES: usize = 20_000;

impl FullKeys {
    /// The full keys of the batch's issues, copied so the lock is taken once and briefly.
    fn of(&self, issues: &[IssueFacets<'_>]) -> HashMap<i64, HashSet<String>> {
        let full = self.0.lock().expect("full keys lock");
        issues
            .iter()
            .filter_map(|d| Some((d.id, full.get(&d.id)?.clone())))
            .collect()
    }

    fn add(&self, keys: impl IntoIterator<Item = (i64, String)>) {
        let mut full = self.0.lock().expect("full keys lock");
        if full.len() > FULL_KEYS_MAX_ISSUES {
            full.clear();
        }
        for (issue, facet) in keys {
            full.entry(issue).or_default().insert(facet);
        }
    }
}

const UPSERT: &str = "ON CONFLICT (issue_id, facet, value) DO UPDATE \
     SET count = issue_facets.count + excluded.count, \
     last_seen = CASE WHEN issue_facets.last_seen < excluded.last_seen \
     THEN excluded.last_seen ELSE issue_facets.last_seen END";

fn args<'a>(rows: &[FacetRow<'a>]) -> Vec<Arg<'a>> {
    rows.iter()
        .flat_map(|&(id, facet, value, n, last)| {
            [id.into(), facet.into(), value.into(), n.into(), last.into()]
        })
        .collect()
}

/// Writes the batch's facet counts. `new_issues` were created by this batch (they hold no
/// values yet).
pub(super) async fn write_facets(
    tx: &mut impl BatchTx,
    backend: Backend,
    issues: &[IssueFacets<'_>],
    new_issues: &HashSet<i64>,
    full_keys: &FullKeys,
) -> StoreResult<()> {
    let mut plain: Vec<FacetRow> = issues
        .iter()
        .flat_map(|d| {
            d.facets
                .iter()
                .map(move |((facet, value), (n, last))| (d.id, *facet, value.as_str(), *n, *last))
        })
        .collect();
    let mut bounded: Vec<FacetRow> = Vec::new();
    // Keys whose new values the upsert reports: of issues that existed before the batch.
    let mut watched: HashSet<(i64, &str)> = HashSet::new();
    let full = full_keys.of(issues);
    for d in issues {
        let id = d.id;
        let is_new = new_issues.contains(&id);
        // A new issue's values per key (its keys' values are adjacent in the map).
        let mut per_key: HashMap<&str, i64> = HashMap::new();
        if is_new && backend == Backend::Postgres {
            for (facet, _) in d.tags.keys() {
                *per_key.entry(facet.as_str()).or_default() += 1;
            }
        }
        for ((facet, value), (n, last)) in d.tags {
            let row = (id, facet.as_str(), value.as_str(), *n, *last);
            let bound_first = match backend {
                Backend::Sqlite => true,
                Backend::Postgres if is_new => per_key[facet.as_str()] > MAX_VALUES_PER_KEY,
                Backend::Postgres => full
                    .get(&id)
                    .is_some_and(|keys| keys.contains(facet.as_str())),
            };
            if bound_first {
                bounded.push(row);
            } else {
                if !is_new {
                    watched.insert((id, facet.as_str()));
                }
                plain.push(row);
            }
        }
    }
    // The same (issue, facet, value) order in every batch, so two writers lock rows alike.
    plain.sort_unstable();
    let mut fresh: Vec<(i64, String, String)> = Vec::new();
    for chunk in plain.chunks(rows_per_write(backend, ROWS_PER_STATEMENT)) {
        let insert = format!(
            "INSERT INTO issue_facets (issue_id, facet, value, count, last_seen) VALUES {} {UPSERT}",
            tuples(backend, 1, chunk.len(), 5)
        );
        let watching = chunk.iter().any(|&(id, f, ..)| watched.contains(&(id, f)));
        if !watching {
            tx.run(&insert, &args(chunk)).await?;
            continue;
        }
        let sql = format!(
            "WITH w AS ({insert} RETURNING issue_id, facet, value, xmax = 0 AS inserted) \
             SELECT issue_id, facet, value FROM w WHERE inserted"
        );
        for row in tx
            .rows(&sql, &args(chunk), &[Col::Int, Col::Text, Col::Text])
            .await?
        {
            if watched.contains(&(row.int(0), row.text(1))) {
                fresh.push((row.int(0), row.text(1).to_owned(), row.text(2).to_owned()));
            }
        }
    }
    if !fresh.is_empty() {
        bound_new_values(tx, fresh, full_keys).await?;
    }
    let bounded = match backend {
        Backend::Postgres => count_known_values(tx, bounded).await?,
        Backend::Sqlite => bounded,
    };
    upsert_bounded(tx, backend, &bounded).await
}

/// PostgreSQL: keys that just got new values have their values counted; those past the bound
/// (of the ones this batch inserted, the last by value) move into the key's catch-all row. A
/// key at the bound is remembered as full. Two writers adding new values to one key at once
/// each count what is committed and their own, so the key can end a few values past the bound:
/// bounded still, and exact in its counts.
async fn bound_new_values(
    tx: &mut impl BatchTx,
    mut fresh: Vec<(i64, String, String)>,
    full_keys: &FullKeys,
) -> StoreResult<()> {
    fresh.sort_unstable();
    let mut keys: Vec<(i64, &str)> = fresh.iter().map(|(id, f, _)| (*id, f.as_str())).collect();
    keys.dedup();
    let mut stored: HashMap<(i64, String), i64> = HashMap::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT f.issue_id, f.facet, COUNT(*) FILTER (WHERE f.value <> '{OTHER}') FROM issue_facets f \
             JOIN (VALUES {}) AS k (issue_id, facet) ON f.issue_id = k.issue_id AND f.facet = k.facet \
             GROUP BY f.issue_id, f.facet",
            tuples(Backend::Postgres, 1, chunk.len(), 2)
        );
        let args: Vec<Arg> = chunk
            .iter()
            .flat_map(|&(id, facet)| [id.into(), facet.into()])
            .collect();
        for row in tx
            .rows(&sql, &args, &[Col::Int, Col::Text, Col::Int])
            .await?
        {
            stored.insert((row.int(0), row.text(1).to_owned()), row.int(2));
        }
    }
    let mut full = Vec::new();
    for ((id, facet), count) in stored {
        if count < MAX_VALUES_PER_KEY {
            continue;
        }
        let excess = (count - MAX_VALUES_PER_KEY) as usize;
        let mut ours: Vec<&str> = fresh
            .iter()
            .filter(|(i, f, v)| *i == id && *f == facet && v != OTHER)
            .map(|(_, _, v)| v.as_str())
            .collect();
        ours.sort_unstable_by(|a, b| b.cmp(a));
        ours.truncate(excess);
        if !ours.is_empty() {
            move_to_other(tx, id, &facet, &ours).await?;
        }
        full.push((id, facet));
    }
    full_keys.add(full);
    Ok(())
}

/// Deletes `values` of an issue's key and adds their counts to the key's catch-all row.
async fn move_to_other(
    tx: &mut impl BatchTx,
    issue: i64,
    facet: &str,
    values: &[&str],
) -> StoreResult<()> {
    let list = (0..values.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH moved AS (DELETE FROM issue_facets WHERE issue_id = $1 AND facet = $2 \
         AND value IN ({list}) RETURNING count, last_seen) \
         INSERT INTO issue_facets (issue_id, facet, value, count, last_seen) \
         SELECT $1, $2, '{OTHER}', CAST(SUM(count) AS BIGINT), MAX(last_seen) FROM moved \
         HAVING COUNT(*) > 0 {UPSERT}"
    );
    let args: Vec<Arg> = [issue.into(), facet.into()]
        .into_iter()
        .chain(values.iter().map(|&v| v.into()))
        .collect();
    tx.run(&sql, &args).await
}

/// Writes bounded rows, each value past its key's bound counted in the catch-all row. SQLite
/// writes a row per statement, each seeing the one before; a PostgreSQL statement of many rows
/// sees the table as it was before it, so it numbers its new values per key and sums those past
/// the bound into one catch-all row (a statement may not update a row twice).
async fn upsert_bounded(
    tx: &mut impl BatchTx,
    backend: Backend,
    rows: &[FacetRow<'_>],
) -> StoreResult<()> {
    for chunk in rows.chunks(rows_per_write(backend, ROWS_PER_STATEMENT)) {
        let sql = match backend {
            Backend::Sqlite => format!(
                "INSERT INTO issue_facets (issue_id, facet, value, count, last_seen) \
                 SELECT ?1, ?2, CASE WHEN EXISTS (SELECT 1 FROM issue_facets \
                 WHERE issue_id = ?1 AND facet = ?2 AND value = ?3) \
                 OR (SELECT COUNT(*) FROM issue_facets WHERE issue_id = ?1 AND facet = ?2) \
                 < {MAX_VALUES_PER_KEY} THEN ?3 ELSE '{OTHER}' END, ?4, ?5 WHERE 1 = 1 {UPSERT}"
            ),
            Backend::Postgres => format!(
                "WITH v AS (SELECT t.column1 AS issue, t.column2 AS facet, t.column3 AS value, \
                 t.column4 AS n, t.column5 AS last FROM (VALUES {}) AS t), \
                 k AS (SELECT v.*, EXISTS (SELECT 1 FROM issue_facets e WHERE e.issue_id = v.issue \
                 AND e.facet = v.facet AND e.value = v.value) AS known FROM v), \
                 r AS (SELECT k.*, ROW_NUMBER() OVER (PARTITION BY issue, facet, known ORDER BY value) AS nth, \
                 (SELECT COUNT(*) FROM issue_facets c WHERE c.issue_id = k.issue AND c.facet = k.facet) AS stored \
                 FROM k) \
                 INSERT INTO issue_facets (issue_id, facet, value, count, last_seen) \
                 SELECT issue, facet, CASE WHEN known OR stored + nth <= {MAX_VALUES_PER_KEY} \
                 THEN value ELSE '{OTHER}' END, CAST(SUM(n) AS BIGINT), MAX(last) FROM r \
                 GROUP BY 1, 2, 3 {UPSERT}",
                tuples(backend, 1, chunk.len(), 5)
            ),
        };
        tx.run(&sql, &args(chunk)).await?;
    }
    Ok(())
}

/// PostgreSQL: counts the rows whose value the issue already has in place (a cheap update by
/// primary key) and returns the others, for the bounded insert, which numbers and counts
/// values per key.
async fn count_known_values<'a>(
    tx: &mut impl BatchTx,
    rows: Vec<FacetRow<'a>>,
) -> StoreResult<Vec<FacetRow<'a>>> {
    let mut known: HashSet<(i64, String, String)> = HashSet::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE issue_facets SET count = issue_facets.count + v.column4, \
             last_seen = CASE WHEN issue_facets.last_seen < v.column5 THEN v.column5 \
             ELSE issue_facets.last_seen END FROM (VALUES {}) AS v \
             WHERE issue_facets.issue_id = v.column1 AND issue_facets.facet = v.column2 \
             AND issue_facets.value = v.column3 \
             RETURNING issue_facets.issue_id, issue_facets.facet, issue_facets.value",
            tuples(Backend::Postgres, 1, chunk.len(), 5)
        );
        for row in tx
            .rows(&sql, &args(chunk), &[Col::Int, Col::Text, Col::Text])
            .await?
        {
            known.insert((row.int(0), row.text(1).to_owned(), row.text(2).to_owned()));
        }
    }
    Ok(rows
        .into_iter()
        .filter(|&(id, facet, value, _, _)| {
            !known.contains(&(id, facet.to_owned(), value.to_owned()))
        })
        .collect())
}
