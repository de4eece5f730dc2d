//! Ownership rules: saved only when they parse; a new issue is assigned to the first
//! matching rule's owner in the ingest commit, and a channel owner gets its alert once.

use bugle_server::store::alert_rules::NewRule;
use bugle_server::store::channels::NewChannel;
use bugle_server::store::StoreError;

use super::*;

#[tokio::test]
async fn a_new_issue_is_assigned_to_its_owner_by_the_first_matching_rule() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let bad = store
            .set_ownership_rules(project, "module:shop.* -> ada@example.com\nfile:x -> a@b.c")
            .await;
        assert!(
            matches!(&bad, Err(StoreError::Invalid(m)) if m.starts_with("line 2: unknown matcher")),
            "{name}: {bad:?}"
        );
        assert_eq!(store.ownership_rules(project).await.unwrap(), "", "{name}");

        let ada = store
            .create_user("ada@example.com", None, false)
            .await
            .unwrap();
        let ops = store
            .add_channel(&NewChannel {
                project_id: project,
                kind: "webhook",
                name: "ops",
                url: "https://example.com/hook",
                secret: None,
                events: None,
                min_level: None,
                environment: None,
            })
            .await
            .unwrap();
        let rules = "# narrow first\n\
                     tag:team=checkout -> #ops\n\
                     path:billing/** -> bob@example.com\n\
                     module:shop.* -> ADA@example.com\n\
                     module:* -> nobody@example.com\n";
        store.set_ownership_rules(project, rules).await.unwrap();
        assert_eq!(store.ownership_rules(project).await.unwrap(), rules);

        let done = store
            .commit_batch(&[prepared(project, error_event("OwnedError", 1, "web-1"))])
            .await
            .unwrap();
        let issue = store.issue(done[0].issue_id).await.unwrap();
        assert_eq!(issue.assignee_id, Some(ada.id), "{name}");
        assert_eq!(
            issue.owner_rule.as_deref(),
            Some("module:shop.* -> ada@example.com"),
            "{name}"
        );

        // A channel owner: the new-issue alert reaches it once (routing queued it already).
        let mut tagged = error_event("TeamError", 1, "web-1");
        tagged.tags.insert("team".into(), "checkout".into());
        let done = store
            .commit_batch(&[prepared(project, tagged)])
            .await
            .unwrap();
        let issue = store.issue(done[0].issue_id).await.unwrap();
        assert_eq!(
            (issue.assignee_id, issue.owner_rule.as_deref()),
            (None, Some("tag:team=checkout -> #ops")),
            "{name}"
        );
        let mut to_ops = 0;
        while let Some(n) = store.claim_channel_alert().await.unwrap() {
            store.mark_notification_sent(n.id, None).await.unwrap();
            if n.issue_id == issue.id {
                assert_eq!(n.channel_id, Some(ops.id), "{name}");
                to_ops += 1;
            }
        }
        assert_eq!(to_ops, 1, "{name}: once");

        // With alert rules that do not name it, the owning channel still gets it.
        store
            .add_alert_rule(
                project,
                &NewRule {
                    name: "mail only".into(),
                    events: vec!["new_issue".into()],
                    spike: None,
                    milestones: None,
                    filter: String::new(),
                    channels: vec![],
                    mail: true,
                },
            )
            .await
            .unwrap();
        let mut tagged = error_event("OtherTeamError", 1, "web-1");
        tagged.tags.insert("team".into(), "checkout".into());
        store
            .commit_batch(&[prepared(project, tagged)])
            .await
            .unwrap();
        let n = store.claim_channel_alert().await.unwrap().expect("a row");
        assert_eq!(
            (n.kind.as_str(), n.channel_id),
            ("new_issue", Some(ops.id)),
            "{name}"
        );
        assert_eq!(
            n.reason.as_deref(),
            Some("ownership: tag:team=checkout -> #ops"),
            "{name}: the delivery says why"
        );
        assert!(
            store.claim_channel_alert().await.unwrap().is_none(),
            "{name}"
        );

        // Old issues keep their assignment; rules apply to new issues only.
        store.set_ownership_rules(project, "").await.unwrap();
        assert_eq!(store.ownership_rules(project).await.unwrap(), "", "{name}");
    }
}

#[tokio::test]
async fn an_email_owner_has_a_mail_row_of_its_own_queued_before_the_projects() {
    for (backend, store, project) in stores_mailing().await {
        let name = backend.name;
        store
            .set_ownership_rules(project, "module:shop.* -> Bob@Example.com")
            .await
            .unwrap();
        let done = store
            .commit_batch(&[prepared(project, error_event("OwnedError", 1, "web-1"))])
            .await
            .unwrap();
        let issue = done[0].issue_id;
        let first = store.claim_notification().await.unwrap().expect("a row");
        assert_eq!(
            (
                first.issue_id,
                first.kind.as_str(),
                first.recipient.as_deref()
            ),
            (issue, "new_issue", Some("bob@example.com")),
            "{name}: the owner's row first"
        );
        store.mark_notification_sent(first.id, None).await.unwrap();
        let second = store.claim_notification().await.unwrap().expect("a row");
        assert_eq!(
            (second.issue_id, second.recipient.as_deref()),
            (issue, None),
            "{name}: then the project's"
        );
        assert_eq!(
            store.owner_recipients(issue, "new_issue").await.unwrap(),
            ["bob@example.com"],
            "{name}"
        );
        assert!(store
            .subscribed("bob@example.com", "new_issue")
            .await
            .unwrap()
            .is_some());
    }
}
