//! Alert channels: saved and listed, alerts queued in the ingest commit only for channels that
//! exist (and mail only when SMTP is on), each claimed once, a disabled channel's alerts dropped.

use super::*;
use bugle_server::store::channels::{Attempt, NewChannel};

fn channel<'a>(project: i64, kind: &'a str, url: &'a str) -> NewChannel<'a> {
    NewChannel {
        project_id: project,
        kind,
        name: kind,
        url,
        secret: None,
        events: None,
        min_level: None,
        environment: None,
    }
}

/// Rows waiting in the outbox: (mail rows, channel rows).
async fn pending(store: &Store) -> (i64, i64) {
    (
        store.pending_notifications().await.unwrap(),
        store.pending_channel_alerts().await.unwrap(),
    )
}

#[tokio::test]
async fn alerts_are_queued_once_per_channel_and_never_for_mail_while_smtp_is_off() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        store
            .commit_batch(&[prepared(project, error_event("NoChannelError", 1, "web-1"))])
            .await
            .unwrap();
        assert_eq!(
            pending(&store).await,
            (0, 0),
            "{name}: nothing to tell anyone"
        );

        let slack = store
            .add_channel(&channel(
                project,
                "slack",
                "https://hooks.slack.com/services/T/B/secret",
            ))
            .await
            .unwrap();
        let hook = store
            .add_channel(&channel(project, "webhook", "https://example.com/hook"))
            .await
            .unwrap();
        assert_eq!(slack.masked_url(), "https://hooks.slack.com/…", "{name}");
        let listed = store.project_channels(project).await.unwrap();
        assert_eq!(listed.len(), 2, "{name}");

        store
            .commit_batch(&[prepared(
                project,
                error_event("TwoChannelsError", 1, "web-1"),
            )])
            .await
            .unwrap();
        assert_eq!(pending(&store).await, (0, 2), "{name}: one row per channel");

        let a = store.claim_channel_alert().await.unwrap().expect("a row");
        let b = store
            .claim_channel_alert()
            .await
            .unwrap()
            .expect("another row");
        assert!(
            store.claim_channel_alert().await.unwrap().is_none(),
            "{name}: claimed once"
        );
        assert!(
            store.claim_notification().await.unwrap().is_none(),
            "{name}: no mail row"
        );
        let mut channels = [a.channel_id.unwrap(), b.channel_id.unwrap()];
        channels.sort();
        assert_eq!(channels, [slack.id, hook.id], "{name}");

        store.disable_channel(hook.id, "410 Gone").await.unwrap();
        assert_eq!(
            pending(&store).await,
            (0, 1),
            "{name}: the disabled one's alert dropped"
        );
        store
            .commit_batch(&[prepared(
                project,
                error_event("AfterDisableError", 1, "web-1"),
            )])
            .await
            .unwrap();
        assert_eq!(
            pending(&store).await,
            (0, 2),
            "{name}: only the enabled channel gets it"
        );
        let hook = store.channel(hook.id).await.unwrap();
        assert_eq!(hook.disabled_reason.as_deref(), Some("410 Gone"), "{name}");

        store
            .record_delivery(
                slack.id,
                &Attempt {
                    outbox_id: Some(a.id),
                    event: "new_issue",
                    status: Some(200),
                    latency_ms: 12,
                    error: None,
                    reason: "channel settings",
                },
            )
            .await
            .unwrap();
        let log = store.channel_deliveries(slack.id, 10).await.unwrap();
        assert_eq!((log.len(), log[0].status), (1, Some(200)), "{name}");
        assert_eq!(log[0].reason.as_deref(), Some("channel settings"), "{name}");

        store.remove_channel(project, slack.id).await.unwrap();
        assert_eq!(
            pending(&store).await,
            (0, 0),
            "{name}: removed with its alerts"
        );
    }
}

#[tokio::test]
async fn mail_is_queued_when_smtp_is_set() {
    for backend in Backend::all() {
        let mut config = Config {
            database_url: backend.database_url.clone(),
            ..Config::default()
        };
        config.mail.smtp_url = Some("smtp://127.0.0.1:2525".into());
        let store = Store::open(&config).await.unwrap();
        let (project, _) = store.create_project("Mail", None).await.unwrap();
        store
            .commit_batch(&[prepared(project.id, error_event("MailError", 1, "web-1"))])
            .await
            .unwrap();
        assert_eq!(pending(&store).await, (1, 0), "{}", backend.name);
    }
}

#[tokio::test]
async fn alerts_past_the_hourly_cap_gather_in_one_digest_per_channel() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let hook = store
            .add_channel(&NewChannel {
                project_id: project,
                kind: "webhook",
                name: "hook",
                url: "https://example.com/hook",
                secret: None,
                events: None,
                min_level: None,
                environment: None,
            })
            .await
            .unwrap();
        for ty in ["AError", "BError", "AError"] {
            store
                .commit_batch(&[prepared(project, error_event(ty, 1, "web-1"))])
                .await
                .unwrap();
        }
        let now = bugle_server::time::now_ms();
        assert_eq!(
            store.channel_window_frees_at(hook.id).await.unwrap() / 1000,
            now / 1000
        );
        let due = now + 3_600_000;
        let mut first = None;
        while let Some(n) = store.claim_channel_alert().await.unwrap() {
            first.get_or_insert(n.id);
            store
                .hold_for_digest(n.id, hook.id, n.issue_id, due, 10)
                .await
                .unwrap();
        }
        let rows = bugle_server::store::channel_digest::digest_of;
        let digest = store.claim_channel_alert().await.unwrap();
        assert!(digest.is_none(), "{name}: the digest waits for the window");
        // The window frees: the first held alert became the digest.
        store.reschedule_alert(first.unwrap(), 0).await.unwrap();
        let digest = store
            .claim_channel_alert()
            .await
            .unwrap()
            .expect("the digest");
        assert_eq!(digest.kind, "digest", "{name}");
        let (count, issues) = rows(digest.detail.as_deref());
        assert_eq!(
            count, 2,
            "{name}: the two new issues' alerts (the third was no new issue)"
        );
        assert_eq!(issues.len(), 2, "{name}");
        assert!(
            store.claim_channel_alert().await.unwrap().is_none(),
            "{name}: one digest"
        );
    }
}
