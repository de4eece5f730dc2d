//! Mail about issues: the outbox worker.
//!
//! The commit that stores an event also writes its notification to the outbox (store::notify),
//! so a 2xx means the mail will go out. This worker claims one row at a time (PostgreSQL:
//! `FOR UPDATE SKIP LOCKED`, plus a lease so a crashed instance's claims come back), applies the
//! flood rules, renders, sends to every recipient, and marks the row sent. A failed send is
//! retried with exponential backoff; SMTP being down delays mail, never loses it.
//!
//! A new issue an ownership rule gives to an email owner has a row of its own for the owner,
//! queued before the project's, so the owner hears first and the others do not mail them again.
//!
//! Flood rules: new-issue and regression mails always go. Other mails (occurrence milestones)
//! go at most once per issue per cool-down window and only while the hourly cap allows.

pub mod alerts;
pub mod channel_admin;
pub mod channels;
pub mod digest;
pub mod mail;
pub mod outbound;
pub mod rule_admin;
pub mod templates;
pub mod unsubscribe;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::config::MailConfig;
use crate::metrics::Metrics;
use crate::store::notify::Notification;
use crate::store::Store;
use crate::time::now_ms;
use mail::Mailer;

#[derive(Debug, PartialEq, Eq)]
pub enum ExecutionOutcome {
    Sent,
    /// Dropped by a flood rule, or nobody to tell: marked done without mail.
    Suppressed,
    /// Sending failed; the row comes back later.
    Retried,
    EmptyQueue,
}

/// Handles one outbox row, if one is due.
pub async fn try_execute_task(
    store: &Store,
    mailer: &Mailer,
    config: &MailConfig,
    base_url: &str,
) -> anyhow::Result<ExecutionOutcome> {
    let Some(n) = store.claim_notification().await? else {
        // Idle: if the hourly cap held mail back and allows mail again, say what was held.
        if store.has_held(HELD).await? && store.mails_sent_in_last_hour().await? < config.hourly_cap
        {
            return send_held_digests(store, mailer, base_url).await;
        }
        return Ok(ExecutionOutcome::EmptyQueue);
    };
    let always = matches!(n.kind.as_str(), "new_issue" | "regression");
    let issue = store.issue(n.issue_id).await?;
    if issue.status == "ignored" || issue.status == "merged" {
        store
            .mark_notification_sent(n.id, Some("suppressed: issue ignored or merged"))
            .await?;
        return Ok(ExecutionOutcome::Suppressed);
    }
    let project = store.project(n.project_id).await?;
    let stale_before = now_ms() - config.stale_after_secs.max(1) * 1000;
    if n.created_at < stale_before {
        return send_backlog(store, mailer, config, n, &project, stale_before, base_url).await;
    }
    if n.kind == "new_issue" {
        // Many new issues at once (a bad deploy) make one mail, not a flood.
        let burst = store.claim_burst(&n, config.burst_digest.max(2)).await?;
        if !burst.is_empty() {
            let mut rows = vec![n];
            rows.extend(burst);
            let mut issues = Vec::new();
            for row in &rows {
                issues.push(store.issue(row.issue_id).await?);
            }
            let headline = format!("{} new issues", issues.len());
            let render = |unsubscribe: &str| {
                templates::render_digest(&project, &headline, &issues, base_url, unsubscribe)
            };
            return deliver(
                store,
                mailer,
                config,
                &rows,
                "new_issue",
                None,
                render,
                base_url,
            )
            .await;
        }
    }
    if !always {
        let now = now_ms();
        let cooldown = now - config.cooldown_minutes * 60_000;
        if store.mails_sent_since(n.issue_id, cooldown).await? > 0 {
            store
                .mark_notification_sent(n.id, Some("suppressed: cool-down"))
                .await?;
            return Ok(ExecutionOutcome::Suppressed);
        }
        if store.mails_sent_in_last_hour().await? >= config.hourly_cap {
            if store.cap_note_sent_recently(n.project_id).await? {
                store.mark_notification_sent(n.id, Some(HELD)).await?;
                return Ok(ExecutionOutcome::Suppressed);
            }
            // Once an hour, say that mail is being held back, with the issue that hit the cap.
            let headline = format!(
                "mail limit of {} an hour reached: further mails this hour are held back",
                config.hourly_cap
            );
            let issues = [issue];
            let render = |unsubscribe: &str| {
                templates::render_digest(&project, &headline, &issues, base_url, unsubscribe)
            };
            return deliver(
                store,
                mailer,
                config,
                std::slice::from_ref(&n),
                &n.kind,
                Some("cap note"),
                render,
                base_url,
            )
            .await;
        }
    }
    let latest = store.latest_occurrence(n.issue_id).await?;
    let ctx = templates::Context {
        kind: &n.kind,
        detail: n.detail.as_deref(),
        project: &project,
        issue: &issue,
        event: latest.as_ref().map(|o| &o.event),
        base_url,
    };
    let render = |unsubscribe: &str| templates::render(&ctx, unsubscribe);
    deliver(
        store,
        mailer,
        config,
        std::slice::from_ref(&n),
        &n.kind,
        None,
        render,
        base_url,
    )
    .await
}

/// Mail that could not go out within `mail.stale_after_secs` is not sent late one by one:
/// `n` and every other such mail of its project and recipient become one digest.
async fn send_backlog(
    store: &Store,
    mailer: &Mailer,
    config: &MailConfig,
    n: Notification,
    project: &crate::store::projects::Project,
    stale_before: i64,
    base_url: &str,
) -> anyhow::Result<ExecutionOutcome> {
    let mut rows = vec![n];
    rows.extend(store.claim_stale_mail(&rows[0], stale_before).await?);
    let mut issues = Vec::new();
    for row in &rows {
        let listed = issues.len() >= channels::MAX_LISTED;
        if !listed
            && issues
                .iter()
                .all(|i: &crate::store::issues::Issue| i.id != row.issue_id)
        {
            if let Ok(issue) = store.issue(row.issue_id).await {
                issues.push(issue);
            }
        }
    }
    let headline = format!("{} mails while mail was off or failing", rows.len());
    tracing::info!(mails = rows.len(), "stale mail folded into one digest");
    let kind = rows[0].kind.clone();
    let render = |unsubscribe: &str| {
        templates::render_digest(project, &headline, &issues, base_url, unsubscribe)
    };
    deliver(
        store,
        mailer,
        config,
        &rows,
        &kind,
        Some("stale: sent as one digest"),
        render,
        base_url,
    )
    .await
}

/// What a notification held back by the hourly cap is marked with until a digest lists it.
const HELD: &str = "held: hourly cap";

/// One digest per project listing the issues whose mail the hourly cap held back.
async fn send_held_digests(
    store: &Store,
    mailer: &Mailer,
    base_url: &str,
) -> anyhow::Result<ExecutionOutcome> {
    let held = store.take_held(HELD).await?;
    if held.is_empty() {
        return Ok(ExecutionOutcome::EmptyQueue);
    }
    let mut by_project: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    for (project, issue) in held {
        let issues = by_project.entry(project).or_default();
        if !issues.contains(&issue) {
            issues.push(issue);
        }
    }
    for (project_id, issue_ids) in by_project {
        let project = store.project(project_id).await?;
        let mut issues = Vec::new();
        for id in issue_ids {
            issues.push(store.issue(id).await?);
        }
        let headline = format!(
            "{} issues had mail held back by the hourly limit",
            issues.len()
        );
        for (email, token) in store.recipients(project_id, "milestone").await? {
            let unsubscribe = format!("{base_url}/unsubscribe/{token}");
            let mail =
                templates::render_digest(&project, &headline, &issues, base_url, &unsubscribe);
            if let Err(e) = mailer.send(&email, &mail).await {
                tracing::warn!(error = %e, "held-mail digest not sent");
            }
        }
    }
    Ok(ExecutionOutcome::Sent)
}

/// Sends one mail per recipient (each with its own unsubscribe link) for `rows`, then marks
/// them sent (with `note` as their record), or gives them all back for a retry.
#[allow(clippy::too_many_arguments)]
async fn deliver(
    store: &Store,
    mailer: &Mailer,
    config: &MailConfig,
    rows: &[Notification],
    kind: &str,
    note: Option<&str>,
    render: impl Fn(&str) -> mail::Mail,
    base_url: &str,
) -> anyhow::Result<ExecutionOutcome> {
    let recipients = recipients_of(store, rows, kind).await?;
    if recipients.is_empty() {
        for row in rows {
            store
                .mark_notification_sent(row.id, Some("no recipients"))
                .await?;
        }
        return Ok(ExecutionOutcome::Suppressed);
    }
    for (email, token) in &recipients {
        let mail = render(&format!("{base_url}/unsubscribe/{token}"));
        if let Err(e) = mailer.send(email, &mail).await {
            for row in rows {
                let retry_in = backoff(config.retry_ms, row.attempts);
                tracing::warn!(notification = row.id, error = %e, retry_in_ms = retry_in, "mail not sent");
                store.mark_notification_failed(row.id, &e, retry_in).await?;
            }
            return Ok(ExecutionOutcome::Retried);
        }
    }
    for row in rows {
        store.mark_notification_sent(row.id, note).await?;
    }
    tracing::info!(
        kind,
        rows = rows.len(),
        recipients = recipients.len(),
        "mail sent"
    );
    Ok(ExecutionOutcome::Sent)
}

/// Who gets the mail of `rows`: the owner alone for an owner's row; otherwise the project's
/// recipients, minus the owner of a single issue who is mailed on their own (no second copy).
async fn recipients_of(
    store: &Store,
    rows: &[Notification],
    kind: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let first = &rows[0];
    if let Some(owner) = &first.recipient {
        let token = store.subscribed(owner, kind).await?;
        return Ok(token.map(|t| vec![(owner.clone(), t)]).unwrap_or_default());
    }
    let mut all = store.recipients(first.project_id, kind).await?;
    if let [row] = rows {
        let owners = store.owner_recipients(row.issue_id, kind).await?;
        all.retain(|(email, _)| !owners.iter().any(|o| o.eq_ignore_ascii_case(email)));
    }
    Ok(all)
}

/// Doubles from `base_ms` per failed attempt, at most 10 minutes.
fn backoff(base_ms: u64, attempts: i64) -> i64 {
    let factor = 1u64 << attempts.clamp(0, 20);
    base_ms.saturating_mul(factor).min(600_000) as i64
}

/// Runs the worker until `stopped` turns true; finishes the mail in hand first.
pub async fn run_worker_until_stopped(
    store: Store,
    mailer: Mailer,
    config: MailConfig,
    base_url: String,
    metrics: Arc<Metrics>,
    mut stopped: watch::Receiver<bool>,
) {
    let idle = Duration::from_millis(config.poll_ms.max(10));
    loop {
        if *stopped.borrow() {
            return;
        }
        let outcome = try_execute_task(&store, &mailer, &config, &base_url).await;
        match &outcome {
            Ok(ExecutionOutcome::Sent) => metrics.count_mail("sent"),
            Ok(ExecutionOutcome::Retried) => metrics.count_mail("failed"),
            Ok(ExecutionOutcome::Suppressed) => metrics.count_mail("suppressed"),
            _ => {}
        }
        let wait = match outcome {
            Ok(ExecutionOutcome::EmptyQueue | ExecutionOutcome::Retried) => idle,
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::warn!(error = %e, "mail worker");
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

#[cfg(test)]
mod tests {
    #[test]
    fn retries_back_off_exponentially_up_to_ten_minutes() {
        assert_eq!(super::backoff(1000, 0), 1000);
        assert_eq!(super::backoff(1000, 3), 8000);
        assert_eq!(super::backoff(1000, 30), 600_000);
    }
}
