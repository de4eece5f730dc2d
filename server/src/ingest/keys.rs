//! Project ingest keys and per-project rate limits, checked on every ingest request.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;

use std::sync::Arc;

use crate::error::ApiError;
use crate::grouping::rules::{self, Rules};
use crate::store::Store;

/// Project ingest keys seen recently (so the hot path does not query the database per event),
/// and each rate-limited project's events in the current minute. A revoked key or a changed
/// limit takes effect within [`KEY_TTL`]. Limits are counted per server process.
#[derive(Default)]
pub struct KeyCache {
    keys: RwLock<HashMap<String, (Owner, Instant)>>,
    /// project id -> (unix minute, events admitted in it)
    windows: Mutex<HashMap<i64, (i64, u64)>>,
}

const KEY_TTL: Duration = Duration::from_secs(30);

/// An ingest request let in: its project, its grouping rules, and the state of the project's
/// rate limit if any.
#[derive(Debug, Clone)]
pub struct Admitted {
    pub project_id: i64,
    pub window: Option<RateWindow>,
    pub rules: Arc<Rules>,
}

/// What a key grants, with the project's grouping rules parsed once per cache entry.
#[derive(Debug, Clone)]
struct Owner {
    project_id: i64,
    rate_limit_per_minute: Option<i64>,
    rules: Arc<Rules>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateWindow {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window resets.
    pub reset_in: u64,
}

impl KeyCache {
    /// Checks an ingest key (403 when unknown or revoked) and counts the event against its
    /// project's rate limit (429 with the seconds until the next window when it is used up).
    pub async fn admit(&self, store: &Store, key: &str) -> Result<Admitted, ApiError> {
        let owner = self.owner(store, key).await?;
        let window = match owner.rate_limit_per_minute {
            Some(limit) => Some(self.count(owner.project_id, limit.max(1) as u64)?),
            None => None,
        };
        Ok(Admitted {
            project_id: owner.project_id,
            window,
            rules: owner.rules,
        })
    }

    /// Drops a project's cached keys, so a revoked key or a new rate limit applies on this
    /// instance at once (other instances within [`KEY_TTL`]).
    pub fn forget_project(&self, project_id: i64) {
        self.keys
            .write()
            .expect("not poisoned")
            .retain(|_, (owner, _)| owner.project_id != project_id);
    }

    async fn owner(&self, store: &Store, key: &str) -> Result<Owner, ApiError> {
        if let Some((owner, at)) = self.keys.read().expect("not poisoned").get(key) {
            if at.elapsed() < KEY_TTL {
                return Ok(owner.clone());
            }
        }
        match store.project_for_key(key).await? {
            Some(found) => {
                // Saved rules were parsed when saved; should they not parse now (written by
                // hand into the database), grouping goes on without them.
                let rules = found
                    .grouping_rules
                    .as_deref()
                    .and_then(|text| rules::parse(text).ok())
                    .unwrap_or_default();
                let owner = Owner {
                    project_id: found.project_id,
                    rate_limit_per_minute: found.rate_limit_per_minute,
                    rules: Arc::new(rules),
                };
                let mut keys = self.keys.write().expect("not poisoned");
                if keys.len() > 10_000 {
                    keys.clear();
                }
                keys.insert(key.to_owned(), (owner.clone(), Instant::now()));
                Ok(owner)
            }
            None => Err(ApiError::Forbidden(
                "unknown or revoked project token".into(),
            )),
        }
    }

    fn count(&self, project_id: i64, limit: u64) -> Result<RateWindow, ApiError> {
        let now = Utc::now().timestamp();
        let (minute, reset_in) = (now.div_euclid(60), (60 - now.rem_euclid(60)) as u64);
        let mut windows = self.windows.lock().expect("not poisoned");
        let window = windows.entry(project_id).or_insert((minute, 0));
        if window.0 != minute {
            *window = (minute, 0);
        }
        if window.1 >= limit {
            return Err(ApiError::RateLimited {
                limit,
                retry_after: reset_in,
            });
        }
        window.1 += 1;
        Ok(RateWindow {
            limit,
            remaining: limit - window.1,
            reset_in,
        })
    }
}
