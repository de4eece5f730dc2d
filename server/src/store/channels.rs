//! Alert channels, their outbox rows and their delivery log.
//!
//! A channel's alerts live in the one outbox (store::notify) with `channel_id` set; they are
//! claimed like mail (PostgreSQL: `FOR UPDATE SKIP LOCKED` plus a lease), so with several
//! instances each alert goes to each channel once.

use sqlx::Row;

use super::notify::Notification;
use super::{Store, StoreError, StoreResult};
use crate::time::now_ms;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Channel {
    pub id: i64,
    pub project_id: i64,
    pub kind: String,
    pub name: String,
    #[serde(skip)]
    pub url: String,
    #[serde(skip)]
    pub secret: Option<String>,
    /// Kinds of alert it gets (None: all).
    pub events: Option<String>,
    /// Lowest issue level it gets (None: all).
    pub min_level: Option<String>,
    /// Only alerts whose latest occurrence has this environment (None: any).
    pub environment: Option<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub disabled_reason: Option<String>,
}

impl Channel {
    fn from_row(row: &sqlx::any::AnyRow) -> StoreResult<Self> {
        Ok(Channel {
            id: row.try_get("id")?,
            project_id: row.try_get("project_id")?,
            kind: row.try_get("kind")?,
            name: row.try_get("name")?,
            url: row.try_get("url")?,
            secret: row.try_get("secret")?,
            events: row.try_get("events")?,
            min_level: row.try_get("min_level")?,
            environment: row.try_get("environment")?,
            created_at: row.try_get("created_at")?,
            disabled_at: row.try_get("disabled_at")?,
            disabled_reason: row.try_get("disabled_reason")?,
        })
    }

    /// The URL as the dashboard and CLI show it once saved: scheme and host, the rest hidden
    /// (a Slack or Discord URL's path is its credential).
    pub fn masked_url(&self) -> String {
        mask_url(&self.url)
    }

    /// Whether an alert of `kind` about an issue at `level`, seen last in `environment`, is
    /// for this channel.
    pub fn wants(&self, kind: &str, level: &str, environment: Option<&str>) -> bool {
        let environment_ok = self
            .environment
            .as_deref()
            .is_none_or(|want| environment == Some(want));
        let kind_ok = kind == "summary"
            || kind == "test"
            || self
                .events
                .as_deref()
                .is_none_or(|e| e.split(',').any(|k| k.trim() == kind));
        let level_ok = self
            .min_level
            .as_deref()
            .is_none_or(|min| level_rank(level) >= level_rank(min));
        kind_ok && level_ok && environment_ok
    }
}

pub fn level_rank(level: &str) -> u8 {
    match level {
        "debug" => 0,
        "info" => 1,
        "warning" => 2,
        "error" => 3,
        "critical" | "fatal" => 4,
        _ => 3,
    }
}

pub fn mask_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or(host);
    format!("{scheme}://{host}/…")
}

/// A new channel as `channel add` or the API asks for it.
pub struct NewChannel<'a> {
    pub project_id: i64,
    pub kind: &'a str,
    pub name: &'a str,
    pub url: &'a str,
    pub secret: Option<&'a str>,
    pub events: Option<&'a str>,
    pub min_level: Option<&'a str>,
    pub environment: Option<&'a str>,
}

/// One delivery attempt, as the channel's log shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub at: i64,
    pub event: String,
    pub status: Option<i64>,
    pub latency_ms: Option<i64>,
    pub error: Option<String>,
    /// Why it was sent: `alert rule 3`, `ownership: <rule>`, `channel settings`, `test`, ...
    pub reason: Option<String>,
}

/// One delivery attempt to record: which outbox row, what the receiver answered (status None:
/// no answer), how fast, and why the alert was sent.
pub struct Attempt<'a> {
    pub outbox_id: Option<i64>,
    pub event: &'a str,
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<&'a str>,
    pub reason: &'a str,
}

const COLUMNS: &str = "id, project_id, kind, name, url, secret, events, min_level, environment, \
     created_at, disabled_at, disabled_reason";

/// Deliveries kept per channel.
const DELIVERY_LOG: i64 = 100;

impl Store {
    pub async fn add_channel(&self, new: &NewChannel<'_>) -> StoreResult<Channel> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO channels (project_id, kind, name, url, secret, events, min_level, \
             environment, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(new.project_id)
        .bind(new.kind)
        .bind(new.name)
        .bind(new.url)
        .bind(new.secret)
        .bind(new.events)
        .bind(new.min_level)
        .bind(new.environment)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        self.channel(id).await
    }

    pub async fn channel(&self, id: i64) -> StoreResult<Channel> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM channels WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Channel::from_row(&row)
    }

    pub async fn project_channels(&self, project_id: i64) -> StoreResult<Vec<Channel>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM channels WHERE project_id = $1 ORDER BY id"
        ))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Channel::from_row).collect()
    }

    /// Removes a channel with its pending alerts and its log.
    pub async fn remove_channel(&self, project_id: i64, id: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM outbox WHERE channel_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM channel_deliveries WHERE channel_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM channels WHERE id = $1 AND project_id = $2")
            .bind(id)
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stops alerts to a channel (its receiver said 410 Gone); pending ones are dropped.
    pub async fn disable_channel(&self, id: i64, reason: &str) -> StoreResult<()> {
        let now = now_ms();
        sqlx::query("UPDATE channels SET disabled_at = $2, disabled_reason = $3 WHERE id = $1")
            .bind(id)
            .bind(now)
            .bind(reason)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "UPDATE outbox SET sent_at = $2, claimed_until = NULL, last_error = 'dropped: channel disabled' \
             WHERE channel_id = $1 AND sent_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes the oldest due channel alert for this worker, or `None`.
    pub async fn claim_channel_alert(&self) -> StoreResult<Option<Notification>> {
        self.claim_outbox_row("channel_id IS NOT NULL").await
    }

    /// Every other unsent alert of the channel created before `before`, claimed for this
    /// worker (to fold into one summary).
    pub async fn claim_stale_alerts(
        &self,
        channel_id: i64,
        except: i64,
        before: i64,
    ) -> StoreResult<Vec<(i64, i64)>> {
        let now = now_ms();
        let lock = super::notify::skip_locked(self.backend);
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(&format!(
            "SELECT id, issue_id FROM outbox WHERE channel_id = $1 AND sent_at IS NULL AND id <> $2 \
             AND created_at < $3 AND (claimed_until IS NULL OR claimed_until < $4) ORDER BY id {lock}"
        ))
        .bind(channel_id)
        .bind(except)
        .bind(before)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("id")?;
            super::notify::lease(&mut tx, id, now).await?;
            out.push((id, row.try_get("issue_id")?));
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Turns a claimed row into the summary of `folded` (marked as folded into it); the summary
    /// counts as new, so it is not folded again at once.
    pub async fn make_summary(&self, id: i64, detail: &str, folded: &[i64]) -> StoreResult<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for row in folded {
            sqlx::query(
                "UPDATE outbox SET sent_at = $2, claimed_until = NULL, last_error = 'folded into a summary' WHERE id = $1",
            )
            .bind(row)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE outbox SET kind = 'summary', detail = $2, created_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(detail)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Alerts of an issue delivered to a channel since `since`, for the cool-down.
    pub async fn channel_alerts_sent_since(
        &self,
        channel_id: i64,
        issue_id: Option<i64>,
        since: i64,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE channel_id = $1 AND ($2 IS NULL OR issue_id = $2) \
             AND sent_at >= $3 AND last_error IS NULL",
        )
        .bind(channel_id)
        .bind(issue_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn record_delivery(&self, channel_id: i64, a: &Attempt<'_>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO channel_deliveries (channel_id, outbox_id, event, at, status, latency_ms, error, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(channel_id)
        .bind(a.outbox_id)
        .bind(a.event)
        .bind(now_ms())
        .bind(a.status)
        .bind(a.latency_ms)
        .bind(a.error)
        .bind(a.reason)
        .execute(&self.pool)
        .await?;
        // The log is for people: the newest deliveries per channel are kept, not all of them.
        sqlx::query(
            "DELETE FROM channel_deliveries WHERE channel_id = $1 AND id < \
             (SELECT MIN(id) FROM (SELECT id FROM channel_deliveries WHERE channel_id = $1 \
              ORDER BY id DESC LIMIT $2) newest)",
        )
        .bind(channel_id)
        .bind(DELIVERY_LOG)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest deliveries of a channel, newest first.
    pub async fn channel_deliveries(
        &self,
        channel_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT at, event, status, latency_ms, error, reason FROM channel_deliveries \
             WHERE channel_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(channel_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    at: r.try_get("at")?,
                    event: r.try_get("event")?,
                    status: r.try_get("status")?,
                    latency_ms: r.try_get("latency_ms")?,
                    error: r.try_get("error")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    /// (kind, rows, unsent rows) of the channel alerts in the outbox, for metrics.
    pub async fn channel_alerts_by_kind(&self) -> StoreResult<Vec<(String, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT kind, COUNT(*) AS queued, \
             CAST(SUM(CASE WHEN sent_at IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS pending \
             FROM outbox WHERE channel_id IS NOT NULL GROUP BY kind ORDER BY kind",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("kind")?,
                    r.try_get("queued")?,
                    r.try_get("pending")?,
                ))
            })
            .collect()
    }

    /// Channel alerts not delivered yet, for metrics.
    pub async fn pending_channel_alerts(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE channel_id IS NOT NULL AND sent_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(
        events: Option<&str>,
        min_level: Option<&str>,
        environment: Option<&str>,
    ) -> Channel {
        Channel {
            id: 1,
            project_id: 1,
            kind: "slack".into(),
            name: "slack".into(),
            url: "https://hooks.slack.com/services/T/B/secret".into(),
            secret: None,
            events: events.map(Into::into),
            min_level: min_level.map(Into::into),
            environment: environment.map(Into::into),
            created_at: 0,
            disabled_at: None,
            disabled_reason: None,
        }
    }

    #[test]
    fn a_channel_gets_only_the_alerts_its_rule_names() {
        let all = channel(None, None, None);
        assert!(all.wants("milestone", "debug", None));
        let narrow = channel(
            Some("new_issue,regression"),
            Some("error"),
            Some("production"),
        );
        assert!(narrow.wants("regression", "critical", Some("production")));
        assert!(
            !narrow.wants("spike", "critical", Some("production")),
            "kind"
        );
        assert!(
            !narrow.wants("new_issue", "warning", Some("production")),
            "level"
        );
        assert!(
            !narrow.wants("new_issue", "error", Some("staging")),
            "environment"
        );
        assert!(!narrow.wants("new_issue", "error", None), "no environment");
        assert!(
            narrow.wants("summary", "error", Some("production")),
            "summaries always"
        );
    }

    #[test]
    fn urls_are_masked_to_scheme_and_host() {
        assert_eq!(
            mask_url("https://hooks.slack.com/services/T/B/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            mask_url("http://u:p@10.0.0.1:8080/x?token=1"),
            "http://10.0.0.1:8080/…"
        );
    }
}
