//! A project's alert rules and ownership rules as the ingest commit uses them, kept per
//! process with the version they were read at (`projects.rules_version`).
//!
//! Every change of either kind of rule bumps the project's version in the same transaction
//! (`projects::bump_rules_version`), and the commit reads the version with its counter
//! update, a statement it runs anyway. So a batch costs no statement for rules unless they
//! changed since this process last read them, and every instance on one database still
//! routes a batch by the rules committed when it counted it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::alert_rules::AlertRule;
use super::batch_tx::BatchTx;
use super::StoreResult;
use crate::ownership;

/// One project's rules at one version.
#[derive(Debug, Default)]
pub(super) struct ProjectRules {
    version: i64,
    /// Empty: the project alerts as without rules (`notify::enqueue`).
    pub(super) alerts: Vec<AlertRule>,
    pub(super) ownership: Option<Vec<ownership::Rule>>,
}

/// Rules by project, shared by this process's clones of the store.
#[derive(Clone, Default)]
pub struct RulesCache(Arc<Mutex<HashMap<i64, Arc<ProjectRules>>>>);

/// Projects whose rules a process keeps before it starts over: bounds memory on a server
/// with very many projects (one that starts over reads each project's rules once again).
const MAX_PROJECTS: usize = 10_000;

impl RulesCache {
    /// The rules of each project at the version the batch read (project -> version), read
    /// in the batch's transaction for the projects whose version this process has not seen.
    pub(super) async fn at(
        &self,
        tx: &mut impl BatchTx,
        versions: &BTreeMap<i64, i64>,
    ) -> StoreResult<BTreeMap<i64, Arc<ProjectRules>>> {
        let mut out = BTreeMap::new();
        let mut stale = Vec::new();
        {
            let cached = self.0.lock().expect("rules cache lock");
            for (&project, &version) in versions {
                match cached.get(&project) {
                    Some(rules) if rules.version == version => {
                        out.insert(project, Arc::clone(rules));
                    }
                    _ => stale.push((project, version)),
                }
            }
        }
        for (project, version) in stale {
            let rules = Arc::new(ProjectRules {
                version,
                alerts: super::alert_rules::rules_in(tx, project).await?,
                ownership: super::ownership::rules_in(tx, project).await?,
            });
            let mut cached = self.0.lock().expect("rules cache lock");
            if cached.len() >= MAX_PROJECTS {
                cached.clear();
            }
            cached.insert(project, Arc::clone(&rules));
            out.insert(project, rules);
        }
        Ok(out)
    }
}
