//! Per-project alert rules: which events (new issue, regression, seen again, spike,
//! milestones), an optional filter in the search language, and where to (channels, mail).
//!
//! A project without rules alerts as before (`notify::enqueue`: every enabled channel, with
//! its own filter, and mail). With rules, the ingest commit evaluates each rule against the
//! issue and its triggering event ([`crate::query::Query::matches`]) and queues one outbox
//! row per target in the same transaction. Spikes count stored per-minute occurrences of the
//! window, so every instance sees the same number; the row's `dedupe_key` (rule, issue,
//! window, target) lets only one of them queue it.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row as _;

use super::batch_tx::{Arg, BatchTx, Col};
use super::{Store, StoreError, StoreResult};
use crate::event::Level;
use crate::query::{MatchContext, Query, Subject};
use crate::time::now_ms;

/// The kinds of alert a rule can name, in the order one occurrence batch is judged: an issue
/// that is new and spiking gets the rule's `new_issue` alert if it names both.
pub const EVENTS: [&str; 5] = [
    "new_issue",
    "regression",
    "seen_again",
    "spike",
    "milestone",
];

/// The longest spike window: per-minute counts are kept a day (`retention`).
pub const MAX_SPIKE_MINUTES: i64 = 1440;

#[derive(Debug, Clone, serde::Serialize)]
pub struct AlertRule {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub events: Vec<String>,
    /// "`count` events in `minutes` minutes", for `spike`.
    pub spike: Option<Spike>,
    /// Counts that alert for `milestone` (None: 10, 100, 1000, ...).
    pub milestones: Option<Vec<i64>>,
    /// A query in the search language ("" matches every issue).
    pub filter: String,
    pub channels: Vec<i64>,
    pub mail: bool,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(skip)]
    pub query: Option<Query>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Spike {
    pub count: i64,
    pub minutes: i64,
}

/// A rule as the API, CLI and settings page ask for it, checked by `notify::rule_admin`.
#[derive(Debug, Clone)]
pub struct NewRule {
    pub name: String,
    pub events: Vec<String>,
    pub spike: Option<Spike>,
    pub milestones: Option<Vec<i64>>,
    pub filter: String,
    pub channels: Vec<i64>,
    pub mail: bool,
}

const COLUMNS: &str = "id, project_id, name, events, spike_count, spike_minutes, \
     COALESCE(milestones, ''), filter, channels, mail, created_at, updated_at";

const COLS: [Col; 12] = [
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::OptInt,
    Col::OptInt,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
];

fn ints(list: &str) -> Vec<i64> {
    list.split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

fn joined(values: &[i64]) -> String {
    values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// A stored row's values, in `COLUMNS` order.
struct Stored {
    id: i64,
    project_id: i64,
    name: String,
    events: String,
    spike_count: Option<i64>,
    spike_minutes: Option<i64>,
    milestones: String,
    filter: String,
    channels: String,
    mail: i64,
    created_at: i64,
    updated_at: i64,
}

impl AlertRule {
    fn from_stored(row: Stored) -> AlertRule {
        let query = crate::query::parse(&row.filter)
            .inspect_err(|e| {
                // Saved rules were checked; one the parser no longer accepts matches nothing.
                tracing::warn!(rule = row.id, error = %e, "alert rule filter does not parse")
            })
            .ok();
        AlertRule {
            id: row.id,
            project_id: row.project_id,
            name: row.name,
            events: row.events.split(',').map(str::to_owned).collect(),
            spike: row
                .spike_count
                .zip(row.spike_minutes)
                .map(|(count, minutes)| Spike { count, minutes }),
            milestones: Some(ints(&row.milestones)).filter(|m| !m.is_empty()),
            filter: row.filter,
            channels: ints(&row.channels),
            mail: row.mail != 0,
            created_at: row.created_at,
            updated_at: row.updated_at,
            query,
        }
    }

    fn from_batch_row(r: &super::batch_tx::Row) -> AlertRule {
        AlertRule::from_stored(Stored {
            id: r.int(0),
            project_id: r.int(1),
            name: r.text(2).to_owned(),
            events: r.text(3).to_owned(),
            spike_count: r.opt_int(4),
            spike_minutes: r.opt_int(5),
            milestones: r.text(6).to_owned(),
            filter: r.text(7).to_owned(),
            channels: r.text(8).to_owned(),
            mail: r.int(9),
            created_at: r.int(10),
            updated_at: r.int(11),
        })
    }

    fn from_row(r: &sqlx::any::AnyRow) -> StoreResult<AlertRule> {
        Ok(AlertRule::from_stored(Stored {
            id: r.try_get(0)?,
            project_id: r.try_get(1)?,
            name: r.try_get(2)?,
            events: r.try_get(3)?,
            spike_count: r.try_get(4)?,
            spike_minutes: r.try_get(5)?,
            milestones: r.try_get(6)?,
            filter: r.try_get(7)?,
            channels: r.try_get(8)?,
            mail: r.try_get(9)?,
            created_at: r.try_get(10)?,
            updated_at: r.try_get(11)?,
        }))
    }

    /// Whether the rule's filter holds for the issue (a filter that does not parse: never).
    pub fn matches(&self, subject: &Subject, ctx: &MatchContext) -> bool {
        self.query.as_ref().is_some_and(|q| q.matches(subject, ctx))
    }

    fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|e| e == kind)
    }

    /// The milestone the count passed with this batch (from `before` to `after`), if the rule
    /// counts it.
    pub fn milestone(&self, before: i64, after: i64) -> Option<i64> {
        match &self.milestones {
            Some(list) => list
                .iter()
                .copied()
                .filter(|&m| before < m && m <= after)
                .max(),
            None => {
                let mut passed = None;
                let mut m: i64 = 10;
                while m <= after {
                    if m > before {
                        passed = Some(m);
                    }
                    m = m.saturating_mul(10);
                }
                passed
            }
        }
    }
}

/// What one batch did to one issue, as ingest saw it.
pub(super) struct Happened {
    pub issue_id: i64,
    pub project_id: i64,
    pub new_issue: bool,
    /// Regressed with this batch (with the release detail, when there is one).
    pub regressed: Option<Option<String>>,
    pub seen_again: bool,
    pub count_before: i64,
    pub count_after: i64,
    /// The batch's newest occurrence time, unix ms.
    pub now: i64,
    /// The triggering occurrence's facets, as `issue_facets` names them.
    pub facets: Vec<(String, String)>,
    pub level: Option<Level>,
}

/// A project's rules, read in the ingest transaction (`project_rules` keeps them).
pub(super) async fn rules_in(tx: &mut impl BatchTx, project: i64) -> StoreResult<Vec<AlertRule>> {
    let rows = tx
        .rows(
            &format!("SELECT {COLUMNS} FROM alert_rules WHERE project_id = $1 ORDER BY id"),
            &[project.into()],
            &COLS,
        )
        .await?;
    Ok(rows.iter().map(AlertRule::from_batch_row).collect())
}

/// Queues what the project's rules ask for about one issue of the batch.
pub(super) async fn enqueue(
    tx: &mut impl BatchTx,
    mail: bool,
    rules: &[AlertRule],
    happened: &Happened,
) -> StoreResult<()> {
    let id = happened.issue_id;
    let issue = tx
        .rows(
            "SELECT status, title, COALESCE(culprit, ''), count, first_seen, last_seen, \
             COALESCE((SELECT email FROM users WHERE users.id = issues.assignee_id), '') \
             FROM issues WHERE id = $1",
            &[id.into()],
            &[
                Col::Text,
                Col::Text,
                Col::Text,
                Col::Int,
                Col::Int,
                Col::Int,
                Col::Text,
            ],
        )
        .await?;
    let Some(issue) = issue.first() else {
        return Ok(());
    };
    if issue.text(0) == "ignored" {
        return Ok(());
    }
    let mut subject = Subject {
        status: issue.text(0).to_owned(),
        level: happened.level,
        title: issue.text(1).to_owned(),
        culprit: Some(issue.text(2).to_owned()).filter(|c| !c.is_empty()),
        count: issue.int(3),
        first_seen: issue.int(4),
        last_seen: issue.int(5),
        assignee: Some(issue.text(6).to_owned()).filter(|e| !e.is_empty()),
        facets: happened.facets.clone(),
        latest_release: None,
    };
    if rules
        .iter()
        .filter_map(|r| r.query.as_ref())
        .any(super::search::wants_latest_release)
    {
        subject.latest_release = tx
            .rows(
                "SELECT release FROM occurrences WHERE project_id = $1 AND release IS NOT NULL \
                 ORDER BY received_at DESC LIMIT 1",
                &[happened.project_id.into()],
                &[Col::Text],
            )
            .await?
            .first()
            .map(|r| r.text(0).to_owned());
    }
    let ctx = MatchContext {
        now_ms: now_ms(),
        me: None,
    };
    // By (kind, detail): two rules sending the same
    // alert to one channel send it once.
    let mut queued: BTreeMap<(String, Option<String>), Targets> = BTreeMap::new();
    for rule in rules {
        let Some((kind, detail, dedupe)) = fired(tx, rule, happened).await? else {
            continue;
        };
        if !rule.matches(&subject, &ctx) {
            continue;
        }
        let entry = queued
            .entry((kind.to_owned(), detail))
            .or_insert_with(|| Targets {
                rule_id: rule.id,
                channels: BTreeSet::new(),
                mail: false,
                dedupe,
            });
        entry.channels.extend(rule.channels.iter().copied());
        entry.mail |= rule.mail;
    }
    let created = now_ms();
    for ((kind, detail), t) in queued {
        let Targets {
            rule_id,
            channels,
            mail: wants_mail,
            dedupe,
        } = t;
        let key = |target: &str| dedupe.as_ref().map(|d| format!("{d}:{target}"));
        if wants_mail && mail {
            let key = key("mail");
            tx.run(
                "INSERT INTO outbox (project_id, issue_id, kind, detail, created_at, next_attempt_at, \
                 rule_id, dedupe_key) VALUES ($1, $2, $3, $4, $5, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    happened.project_id.into(),
                    id.into(),
                    kind.as_str().into(),
                    detail.as_deref().into(),
                    created.into(),
                    rule_id.into(),
                    key.as_deref().into(),
                ],
            )
            .await?;
        }
        for channel in channels {
            let key = key(&format!("channel:{channel}"));
            tx.run(
                "INSERT INTO outbox (project_id, issue_id, kind, detail, created_at, next_attempt_at, \
                 rule_id, dedupe_key, channel_id) \
                 SELECT $1, $2, $3, $4, $5, $5, $6, $7, id FROM channels \
                 WHERE id = $8 AND project_id = $1 AND disabled_at IS NULL ON CONFLICT DO NOTHING",
                &[
                    happened.project_id.into(),
                    id.into(),
                    kind.as_str().into(),
                    detail.as_deref().into(),
                    created.into(),
                    rule_id.into(),
                    key.as_deref().into(),
                    channel.into(),
                ],
            )
            .await?;
        }
    }
    Ok(())
}

/// Where one alert of an issue goes: the first rule that sent it, the union of the rules'
/// channels and mail, and its dedupe key prefix (spikes).
struct Targets {
    rule_id: i64,
    channels: BTreeSet<i64>,
    mail: bool,
    dedupe: Option<String>,
}

/// The first of the rule's events this batch caused: (kind, detail, dedupe key prefix).
async fn fired(
    tx: &mut impl BatchTx,
    rule: &AlertRule,
    h: &Happened,
) -> StoreResult<Option<(&'static str, Option<String>, Option<String>)>> {
    if h.new_issue && rule.wants("new_issue") {
        return Ok(Some(("new_issue", None, None)));
    }
    if let Some(detail) = &h.regressed {
        if rule.wants("regression") {
            return Ok(Some(("regression", detail.clone(), None)));
        }
    }
    if h.seen_again && rule.wants("seen_again") {
        return Ok(Some(("seen_again", None, None)));
    }
    if let Some(spike) = rule.spike.filter(|_| rule.wants("spike")) {
        // The window's occurrences as stored (other instances' commits included), not this
        // batch's: the count every instance agrees on. Alerts once per window per rule.
        let minute = h.now.div_euclid(60_000);
        let recent = tx
            .rows(
                "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM issue_minutes \
                 WHERE issue_id = $1 AND minute > $2",
                &[h.issue_id.into(), Arg::Int(minute - spike.minutes)],
                &[Col::Int],
            )
            .await?
            .first()
            .map_or(0, |r| r.int(0));
        if recent >= spike.count {
            let window = minute.div_euclid(spike.minutes.max(1));
            let key = format!("spike:{}:{}:{window}", rule.id, h.issue_id);
            let detail = format!("{recent} in {} minutes", spike.minutes);
            return Ok(Some(("spike", Some(detail), Some(key))));
        }
    }
    if rule.wants("milestone") {
        if let Some(m) = rule.milestone(h.count_before, h.count_after) {
            return Ok(Some(("milestone", Some(m.to_string()), None)));
        }
    }
    Ok(None)
}

impl Store {
    pub async fn alert_rules(&self, project_id: i64) -> StoreResult<Vec<AlertRule>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM alert_rules WHERE project_id = $1 ORDER BY id"
        ))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(AlertRule::from_row).collect()
    }

    pub async fn alert_rule(&self, project_id: i64, id: i64) -> StoreResult<AlertRule> {
        self.alert_rules(project_id)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(StoreError::NotFound)
    }

    pub async fn add_alert_rule(&self, project_id: i64, rule: &NewRule) -> StoreResult<AlertRule> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO alert_rules (project_id, name, events, spike_count, spike_minutes, \
             milestones, filter, channels, mail, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(project_id)
        .bind(&rule.name)
        .bind(rule.events.join(","))
        .bind(rule.spike.map(|s| s.count))
        .bind(rule.spike.map(|s| s.minutes))
        .bind(rule.milestones.as_deref().map(joined))
        .bind(&rule.filter)
        .bind(joined(&rule.channels))
        .bind(i64::from(rule.mail))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        super::projects::bump_rules_version(&mut *tx, project_id).await?;
        tx.commit().await?;
        self.alert_rule(project_id, id).await
    }

    pub async fn update_alert_rule(
        &self,
        project_id: i64,
        id: i64,
        rule: &NewRule,
    ) -> StoreResult<AlertRule> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE alert_rules SET name = $3, events = $4, spike_count = $5, spike_minutes = $6, \
             milestones = $7, filter = $8, channels = $9, mail = $10, updated_at = $11 \
             WHERE id = $1 AND project_id = $2",
        )
        .bind(id)
        .bind(project_id)
        .bind(&rule.name)
        .bind(rule.events.join(","))
        .bind(rule.spike.map(|s| s.count))
        .bind(rule.spike.map(|s| s.minutes))
        .bind(rule.milestones.as_deref().map(joined))
        .bind(&rule.filter)
        .bind(joined(&rule.channels))
        .bind(i64::from(rule.mail))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        super::projects::bump_rules_version(&mut *tx, project_id).await?;
        tx.commit().await?;
        self.alert_rule(project_id, id).await
    }

    /// A stored issue with every facet value it has, as a rule's filter would see it (the
    /// store tests hold `Query::matches` on it to the issue list's answers).
    pub async fn issue_subject(&self, issue_id: i64) -> StoreResult<Subject> {
        let row = sqlx::query(
            "SELECT status, level, title, culprit, count, first_seen, last_seen, project_id, \
             (SELECT email FROM users WHERE users.id = issues.assignee_id) AS assignee \
             FROM issues WHERE id = $1",
        )
        .bind(issue_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let facets = sqlx::query("SELECT facet, value FROM issue_facets WHERE issue_id = $1")
            .bind(issue_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<StoreResult<_>>()?;
        let level: String = row.try_get("level")?;
        Ok(Subject {
            status: row.try_get("status")?,
            level: level.parse().ok(),
            title: row.try_get("title")?,
            culprit: row.try_get("culprit")?,
            count: row.try_get("count")?,
            first_seen: row.try_get("first_seen")?,
            last_seen: row.try_get("last_seen")?,
            assignee: row.try_get("assignee")?,
            facets,
            latest_release: self.latest_release(row.try_get("project_id")?).await?,
        })
    }

    pub async fn remove_alert_rule(&self, project_id: i64, id: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM alert_rules WHERE id = $1 AND project_id = $2")
            .bind(id)
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        super::projects::bump_rules_version(&mut *tx, project_id).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(milestones: Option<Vec<i64>>) -> AlertRule {
        AlertRule {
            id: 1,
            project_id: 1,
            name: "r".into(),
            events: vec!["milestone".into()],
            spike: None,
            milestones,
            filter: String::new(),
            channels: vec![],
            mail: false,
            created_at: 0,
            updated_at: 0,
            query: Some(Query::default()),
        }
    }

    #[test]
    fn milestones_are_powers_of_ten_unless_listed() {
        let r = rule(None);
        assert_eq!(r.milestone(9, 10), Some(10));
        assert_eq!(r.milestone(10, 99), None);
        assert_eq!(r.milestone(5, 1500), Some(1000), "the highest passed, once");
        let listed = rule(Some(vec![5, 50]));
        assert_eq!(listed.milestone(4, 5), Some(5));
        assert_eq!(listed.milestone(5, 10), None);
        assert_eq!(listed.milestone(49, 51), Some(50));
    }
}
