//! An issue's breakdowns: every facet and tag key indexed for it (see [`super::search`]),
//! with its top values, what the rest add up to, and the exact total.

use sqlx::Row;

use super::search::OTHER;
use super::{Store, StoreResult};

/// One key of an issue: its most frequent values, the occurrences with any other value
/// (those past [`super::search::MAX_VALUES_PER_KEY`] too), and their total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakdown {
    /// The facet as stored: `host`, `user.id`, `tag:region`...
    pub facet: String,
    pub values: Vec<(String, i64)>,
    pub other: i64,
    pub total: i64,
}

impl Breakdown {
    /// The key as a query writes it (`region`, `host`, `user.id`).
    pub fn key(&self) -> &str {
        self.facet.strip_prefix("tag:").unwrap_or(&self.facet)
    }

    pub fn is_tag(&self) -> bool {
        self.facet.starts_with("tag:")
    }
}

/// Built-in facets, in the order the issue page shows them; tags follow by name.
const BUILT_IN: [&str; 10] = [
    "host",
    "environment",
    "release",
    "os",
    "browser",
    "call_path",
    "trace",
    "user.id",
    "user.email",
    "url",
];

impl Store {
    /// Every key indexed for the issue with its `top` values (most frequent first).
    pub async fn issue_breakdowns(&self, issue_id: i64, top: usize) -> StoreResult<Vec<Breakdown>> {
        let rows = sqlx::query(
            "SELECT facet, value, count FROM issue_facets WHERE issue_id = $1 \
             ORDER BY facet, count DESC, value",
        )
        .bind(issue_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<Breakdown> = Vec::new();
        for row in &rows {
            let (facet, value, count): (String, String, i64) = (
                row.try_get("facet")?,
                row.try_get("value")?,
                row.try_get("count")?,
            );
            if out.last().is_none_or(|b| b.facet != facet) {
                out.push(Breakdown {
                    facet,
                    values: Vec::new(),
                    other: 0,
                    total: 0,
                });
            }
            let b = out.last_mut().expect("just pushed");
            b.total += count;
            if value == OTHER || b.values.len() >= top {
                b.other += count;
            } else {
                b.values.push((value, count));
            }
        }
        let rank = |b: &Breakdown| {
            let built_in = BUILT_IN.iter().position(|f| *f == b.facet);
            (built_in.unwrap_or(BUILT_IN.len()), b.facet.clone())
        };
        out.sort_by_key(rank);
        Ok(out)
    }
}
