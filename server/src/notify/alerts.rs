//! Delivering channel alerts from the outbox.
//!
//! The ingest commit writes one outbox row per enabled channel of the project (store::notify);
//! this worker claims them like the mail worker does, applies flood control per channel,
//! renders the channel's format and posts it. Outcomes:
//! - 2xx: delivered.
//! - timeout, connection failure, 408, 429, 5xx: retried with exponential backoff (or after
//!   `Retry-After` seconds), for as long as the alert is younger than `alerts.stale_after_secs`;
//! - 410 Gone: the channel is disabled (settings say why), its pending alerts dropped;
//! - other answers (3xx, other 4xx) and refused targets: given up, the reason recorded.
//!
//! Past the channel's hourly cap an alert is held for one digest (`notify::digest`).
//!
//! An alert older than the bound is not sent late: it and every other stale alert of the
//! channel become one "while alerts were off or failing" summary. Every attempt is logged
//! per channel (time, event, status, latency, error). URLs and secrets never reach the logs.

use std::time::Instant;

use super::channels::{self, webhook, Alert, AlertIssue, Kind, MAX_LISTED};
use super::outbound::{Client, SendError};
use super::ExecutionOutcome;
use crate::config::{AlertsConfig, MailConfig};
use crate::store::channels::{Attempt, Channel};
use crate::store::notify::Notification;
use crate::store::{Store, StoreError};
use crate::time::now_ms;

/// What the worker needs besides the store.
#[derive(Clone)]
pub struct Deliverer {
    pub client: Client,
    pub alerts: AlertsConfig,
    pub mail: MailConfig,
    pub base_url: String,
}

/// The most a `Retry-After` may delay a retry.
const MAX_RETRY_AFTER_MS: i64 = 6 * 3_600_000;

impl Deliverer {
    /// Handles one due channel alert, if there is one.
    pub async fn try_execute_task(&self, store: &Store) -> anyhow::Result<ExecutionOutcome> {
        Ok(self.next(store).await?.0)
    }

    /// As [`Deliverer::try_execute_task`], with the kind of the alert it handled (metrics).
    pub async fn next(&self, store: &Store) -> anyhow::Result<(ExecutionOutcome, String)> {
        let Some(n) = store.claim_channel_alert().await? else {
            return Ok((ExecutionOutcome::EmptyQueue, String::new()));
        };
        let kind = n.kind.clone();
        Ok((self.handle(store, n).await?, kind))
    }

    async fn handle(&self, store: &Store, mut n: Notification) -> anyhow::Result<ExecutionOutcome> {
        let channel_id = n.channel_id.expect("channel alerts have a channel");
        let channel = match store.channel(channel_id).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => {
                return suppress(store, &n, "dropped: channel removed").await;
            }
            Err(e) => return Err(e.into()),
        };
        if channel.disabled_at.is_some() {
            return suppress(store, &n, "dropped: channel disabled").await;
        }
        let now = now_ms();
        let stale_before = now - self.alerts.stale_after_secs.max(1) * 1000;
        if n.kind == "summary" || n.created_at < stale_before {
            self.fold_stale(store, &mut n, stale_before).await?;
        }
        let project = store.project(n.project_id).await?;
        if n.kind == "summary" {
            let (count, ids) = summary_of(&n);
            let mut alert = Alert::new(
                "summary",
                format!("{count} alerts while alerts were off or failing"),
                &project,
                &self.base_url,
            );
            alert.count = count;
            for id in ids {
                if let Ok(issue) = store.issue(id).await {
                    alert
                        .issues
                        .push(AlertIssue::new(&issue, None, &self.base_url));
                }
            }
            return self
                .deliver(store, &channel, &alert, std::slice::from_ref(&n))
                .await;
        }

        if n.kind == "digest" {
            return self.send_digest(store, &channel, &n, &project).await;
        }

        let issue = store.issue(n.issue_id).await?;
        if issue.status == "ignored" || issue.status == "merged" {
            return suppress(store, &n, "suppressed: issue ignored or merged").await;
        }
        let latest = store.latest_occurrence(n.issue_id).await?;
        let environment = latest
            .as_ref()
            .and_then(|o| o.event["environment"].as_str());
        // A rule's alert went to the channels the rule names, an owner's to the owning
        // channel; otherwise the channel's own filter decides.
        let asked = n.rule_id.is_some() || n.reason.is_some();
        if !asked && !channel.wants(&n.kind, &issue.level, environment) {
            return suppress(store, &n, "suppressed: not for this channel").await;
        }
        let always = matches!(n.kind.as_str(), "new_issue" | "regression");
        if n.kind == "new_issue" {
            // A burst of new issues (a bad deploy) is one message per channel, as for mail.
            let burst = store.claim_burst(&n, self.mail.burst_digest.max(2)).await?;
            if !burst.is_empty() {
                let mut rows = vec![n];
                rows.extend(burst);
                let mut alert = Alert::new(
                    "new_issue",
                    format!("{} new issues", rows.len()),
                    &project,
                    &self.base_url,
                );
                alert.count = rows.len();
                for row in rows.iter().take(MAX_LISTED) {
                    let issue = store.issue(row.issue_id).await?;
                    alert
                        .issues
                        .push(AlertIssue::new(&issue, None, &self.base_url));
                }
                return self.deliver(store, &channel, &alert, &rows).await;
            }
        }
        if !always {
            let cooldown = now - self.mail.cooldown_minutes * 60_000;
            if store
                .channel_alerts_sent_since(channel.id, Some(n.issue_id), cooldown)
                .await?
                > 0
            {
                return suppress(store, &n, "suppressed: cool-down").await;
            }
            if self.capped(store, &channel).await? {
                return self.hold(store, &channel, &n).await;
            }
        }
        let mut alert = Alert::new(
            &n.kind,
            super::templates::headline(&n.kind, n.detail.as_deref()),
            &project,
            &self.base_url,
        );
        alert.count = 1;
        alert.issues.push(AlertIssue::new(
            &issue,
            latest.as_ref().map(|o| &o.event),
            &self.base_url,
        ));
        self.deliver(store, &channel, &alert, std::slice::from_ref(&n))
            .await
    }

    /// Turns `n` (claimed) into the summary of every stale alert of its channel.
    async fn fold_stale(
        &self,
        store: &Store,
        n: &mut Notification,
        stale_before: i64,
    ) -> anyhow::Result<()> {
        let channel_id = n.channel_id.expect("channel alerts have a channel");
        let others = store
            .claim_stale_alerts(channel_id, n.id, stale_before)
            .await?;
        if n.kind == "summary" && others.is_empty() {
            return Ok(());
        }
        let (mut count, mut ids) = if n.kind == "summary" {
            summary_of(n)
        } else {
            (1, vec![n.issue_id])
        };
        count += others.len();
        for &(_, issue) in &others {
            if ids.len() < MAX_LISTED && !ids.contains(&issue) {
                ids.push(issue);
            }
        }
        let detail = serde_json::json!({"count": count, "issues": ids}).to_string();
        let folded: Vec<i64> = others.iter().map(|&(id, _)| id).collect();
        store.make_summary(n.id, &detail, &folded).await?;
        n.kind = "summary".into();
        n.detail = Some(detail);
        n.created_at = now_ms();
        tracing::info!(
            channel = channel_id,
            alerts = count,
            "stale alerts folded into a summary"
        );
        Ok(())
    }

    /// Posts `alert` to `channel` for `rows` and records what happened to them.
    pub(super) async fn deliver(
        &self,
        store: &Store,
        channel: &Channel,
        alert: &Alert,
        rows: &[Notification],
    ) -> anyhow::Result<ExecutionOutcome> {
        let first = &rows[0];
        // Stable across retries of this alert, so receivers can deduplicate.
        let message_id = match alert.event.as_str() {
            "summary" => format!("msg_bugle_{}_summary_{}", first.id, first.created_at),
            _ => format!("msg_bugle_{}", first.id),
        };
        let outcome = self
            .post(
                store,
                channel,
                alert,
                &message_id,
                Some(first.id),
                &why(first),
            )
            .await?;
        match outcome {
            Posted::Delivered => {
                for row in rows {
                    store.mark_notification_sent(row.id, None).await?;
                }
                Ok(ExecutionOutcome::Sent)
            }
            Posted::Retry { error, after_ms } => {
                for row in rows {
                    let retry_in =
                        after_ms.unwrap_or_else(|| backoff(self.alerts.retry_ms, row.attempts));
                    tracing::warn!(channel = channel.id, notification = row.id, error = %error, retry_in_ms = retry_in, "alert not delivered");
                    store
                        .mark_notification_failed(row.id, &error, retry_in)
                        .await?;
                }
                Ok(ExecutionOutcome::Retried)
            }
            Posted::GaveUp(reason) => {
                tracing::warn!(channel = channel.id, reason = %reason, "alert given up");
                for row in rows {
                    store
                        .mark_notification_sent(row.id, Some(&format!("gave up: {reason}")))
                        .await?;
                }
                Ok(ExecutionOutcome::Suppressed)
            }
        }
    }

    /// One attempt: renders, signs, posts, logs the delivery, and says what to do next.
    pub async fn post(
        &self,
        store: &Store,
        channel: &Channel,
        alert: &Alert,
        message_id: &str,
        outbox_id: Option<i64>,
        reason: &str,
    ) -> anyhow::Result<Posted> {
        let Some(kind) = Kind::parse(&channel.kind) else {
            return Ok(Posted::GaveUp(format!(
                "unknown channel kind {:?}",
                channel.kind
            )));
        };
        let body = serde_json::to_vec(&channels::render(kind, alert))?;
        let mut headers = Vec::new();
        if kind == Kind::Webhook {
            let timestamp = now_ms() / 1000;
            let secret = channel.secret.as_deref().unwrap_or_default();
            headers.push(("webhook-id", message_id.to_owned()));
            headers.push(("webhook-timestamp", timestamp.to_string()));
            headers.push((
                "webhook-signature",
                webhook::sign(secret, message_id, timestamp, &body)?,
            ));
        }
        let started = Instant::now();
        let result = self.client.post_json(&channel.url, &headers, &body).await;
        let latency = started.elapsed().as_millis() as i64;
        let (status, posted) = match result {
            Ok(r) => (
                Some(i64::from(r.status)),
                judge(r.status, r.retry_after, &r.body),
            ),
            Err(SendError::Refused(why)) => (None, Posted::GaveUp(why)),
            Err(SendError::Failed(why)) => (
                None,
                Posted::Retry {
                    error: why,
                    after_ms: None,
                },
            ),
        };
        let error = match &posted {
            Posted::Delivered => None,
            Posted::Retry { error, .. } => Some(error.as_str()),
            Posted::GaveUp(why) => Some(why.as_str()),
        };
        store
            .record_delivery(
                channel.id,
                &Attempt {
                    outbox_id,
                    event: &alert.event,
                    status,
                    latency_ms: latency,
                    error,
                    reason,
                },
            )
            .await?;
        if status == Some(410) {
            store
                .disable_channel(
                    channel.id,
                    "the receiver answered 410 Gone: the webhook was removed",
                )
                .await?;
        }
        Ok(posted)
    }
}

/// Runs the channel worker until `stopped` turns true.
pub async fn run_worker_until_stopped(
    store: Store,
    deliverer: Deliverer,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let idle = std::time::Duration::from_millis(deliverer.alerts.poll_ms.max(10));
    loop {
        if *stopped.borrow() {
            return;
        }
        let outcome = deliverer.next(&store).await.map(|(outcome, kind)| {
            let counted = match outcome {
                ExecutionOutcome::Sent => Some("delivered"),
                ExecutionOutcome::Retried => Some("failed"),
                ExecutionOutcome::Suppressed => Some("not_sent"),
                _ => None,
            };
            if let Some(counted) = counted {
                metrics.count_alert(&kind, counted);
            }
            outcome
        });
        let wait = match outcome {
            Ok(ExecutionOutcome::EmptyQueue | ExecutionOutcome::Retried) => idle,
            Ok(_) => std::time::Duration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "alert worker");
                idle
            }
        };
        if !wait.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stopped.wait_for(|&s| s) => return,
            }
        }
    }
}

/// What one attempt came to.
#[derive(Debug, PartialEq)]
pub enum Posted {
    Delivered,
    Retry {
        error: String,
        after_ms: Option<i64>,
    },
    GaveUp(String),
}

/// Standard Webhooks' reading of an answer: 2xx delivered; 408, 429 and 5xx worth a retry
/// (after `Retry-After` when given); anything else final.
pub fn judge(status: u16, retry_after: Option<u64>, body: &str) -> Posted {
    let snippet: String = body.trim().chars().take(300).collect();
    let said = if snippet.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {snippet}")
    };
    match status {
        200..=299 => Posted::Delivered,
        408 | 429 | 500..=599 => Posted::Retry {
            error: said,
            after_ms: retry_after.map(|s| (s as i64 * 1000).min(MAX_RETRY_AFTER_MS)),
        },
        300..=399 => Posted::GaveUp(format!("{said} (redirects are not followed)")),
        _ => Posted::GaveUp(said),
    }
}

/// Why an outbox row's alert is sent, for the delivery log.
fn why(n: &Notification) -> String {
    match (n.kind.as_str(), n.rule_id, &n.reason) {
        ("summary", ..) => "summary of alerts that could not go out in time".into(),
        ("digest", ..) => "hourly cap digest".into(),
        (_, Some(rule), _) => format!("alert rule {rule}"),
        (_, None, Some(reason)) => reason.clone(),
        (_, None, None) => "channel settings".into(),
    }
}

async fn suppress(store: &Store, n: &Notification, note: &str) -> anyhow::Result<ExecutionOutcome> {
    store.mark_notification_sent(n.id, Some(note)).await?;
    Ok(ExecutionOutcome::Suppressed)
}

/// (alerts counted, issues listed) of a summary row.
fn summary_of(n: &Notification) -> (usize, Vec<i64>) {
    let v: serde_json::Value = n
        .detail
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_default();
    let count = v["count"].as_u64().unwrap_or(1) as usize;
    let ids = v["issues"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i.as_i64()).collect())
        .unwrap_or_else(|| vec![n.issue_id]);
    (count, ids)
}

/// Doubles from `base_ms` per failed attempt, at most an hour: with the default 5 s, retries
/// go on for the whole stale bound (24 h) before the alert is summarized instead.
fn backoff(base_ms: u64, attempts: i64) -> i64 {
    let factor = 1u64 << attempts.clamp(0, 30);
    base_ms.saturating_mul(factor).min(3_600_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged_as_standard_webhooks_says() {
        assert_eq!(judge(204, None, ""), Posted::Delivered);
        assert_eq!(
            judge(429, Some(30), "slow"),
            Posted::Retry {
                error: "HTTP 429: slow".into(),
                after_ms: Some(30_000)
            }
        );
        assert!(matches!(
            judge(503, None, ""),
            Posted::Retry { after_ms: None, .. }
        ));
        assert!(matches!(judge(408, None, ""), Posted::Retry { .. }));
        assert_eq!(
            judge(400, None, "invalid_payload"),
            Posted::GaveUp("HTTP 400: invalid_payload".into())
        );
        assert!(matches!(judge(302, None, ""), Posted::GaveUp(r) if r.contains("redirects")));
        assert!(matches!(judge(410, None, ""), Posted::GaveUp(_)));
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff(5000, 0), 5000);
        assert_eq!(backoff(5000, 2), 20_000);
        assert_eq!(backoff(5000, 40), 3_600_000);
    }
}
