//! A channel's hourly cap, as mail has one: alerts past it (other than new issues and
//! regressions, which always go) are held in one digest per channel (`store::channel_digest`)
//! and sent as one message once the channel's last hour has room again, never dropped.

use super::alerts::Deliverer;
use super::channels::{Alert, AlertIssue, MAX_LISTED};
use super::ExecutionOutcome;
use crate::store::channel_digest::digest_of;
use crate::store::channels::Channel;
use crate::store::notify::Notification;
use crate::store::projects::Project;
use crate::store::Store;
use crate::time::now_ms;

impl Deliverer {
    /// Whether the channel delivered its hourly cap within the last hour.
    pub(super) async fn capped(&self, store: &Store, channel: &Channel) -> anyhow::Result<bool> {
        let sent = store
            .channel_alerts_sent_since(channel.id, None, now_ms() - 3_600_000)
            .await?;
        Ok(sent >= self.mail.hourly_cap)
    }

    /// Holds the claimed alert `n` for the channel's digest.
    pub(super) async fn hold(
        &self,
        store: &Store,
        channel: &Channel,
        n: &Notification,
    ) -> anyhow::Result<ExecutionOutcome> {
        let due = store.channel_window_frees_at(channel.id).await?;
        store
            .hold_for_digest(n.id, channel.id, n.issue_id, due, MAX_LISTED)
            .await?;
        tracing::info!(
            channel = channel.id,
            "alert held back by the hourly cap for the channel's digest"
        );
        Ok(ExecutionOutcome::Suppressed)
    }

    /// Sends the claimed digest `n` if the cap allows now; otherwise gives it back until then.
    pub(super) async fn send_digest(
        &self,
        store: &Store,
        channel: &Channel,
        n: &Notification,
        project: &Project,
    ) -> anyhow::Result<ExecutionOutcome> {
        if self.capped(store, channel).await? {
            let due = store.channel_window_frees_at(channel.id).await?;
            store
                .reschedule_alert(n.id, due.max(now_ms() + 1000))
                .await?;
            return Ok(ExecutionOutcome::EmptyQueue);
        }
        let (count, ids) = digest_of(n.detail.as_deref());
        let mut alert = Alert::new(
            "digest",
            format!(
                "{count} alerts held back by this channel's limit of {} an hour",
                self.mail.hourly_cap
            ),
            project,
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
        self.deliver(store, channel, &alert, std::slice::from_ref(n))
            .await
    }
}
