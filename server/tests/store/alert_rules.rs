//! Alert rules: a rule's filter means what the issue list means; rules decide which alerts
//! go where (queued in the ingest commit); spikes count stored data once per window, also
//! with two instances on one database.

use bugle_server::event::Level;
use bugle_server::query::{parse, MatchContext};
use bugle_server::store::alert_rules::{NewRule, Spike};
use bugle_server::store::channels::NewChannel;
use bugle_server::time::now_ms;

use super::search::{found, seeded, CASES};
use super::*;

fn rule(events: &[&str], filter: &str, channels: &[i64]) -> NewRule {
    NewRule {
        name: events.join(","),
        events: events.iter().map(|e| e.to_string()).collect(),
        spike: None,
        milestones: None,
        filter: filter.into(),
        channels: channels.to_vec(),
        mail: false,
    }
}

async fn add_channel(store: &Store, project: i64, name: &str) -> i64 {
    store
        .add_channel(&NewChannel {
            project_id: project,
            kind: "webhook",
            name,
            url: "https://example.com/hook",
            secret: None,
            events: None,
            min_level: None,
            environment: None,
        })
        .await
        .unwrap()
        .id
}

/// Where the queued channel alerts went: (channel, rule), claimed, sorted.
async fn routes(store: &Store) -> Vec<(i64, Option<i64>)> {
    drain(store).await.iter().map(|r| (r.2, r.3)).collect()
}

/// Every queued channel alert, claimed: (kind, detail, channel, rule), sorted.
async fn drain(store: &Store) -> Vec<(String, Option<String>, i64, Option<i64>)> {
    let mut out = Vec::new();
    while let Some(n) = store.claim_channel_alert().await.unwrap() {
        store.mark_notification_sent(n.id, None).await.unwrap();
        out.push((n.kind, n.detail, n.channel_id.unwrap(), n.rule_id));
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_rules_filter_matches_in_memory_what_the_issue_list_finds() {
    for (backend, store, project) in stores().await {
        let (ids, ada) = seeded(&store, project).await;
        let mut subjects = Vec::new();
        for id in ids {
            subjects.push(store.issue_subject(id).await.unwrap());
        }
        let ctx = MatchContext {
            now_ms: now_ms(),
            me: Some(&ada.email),
        };
        for (query, want) in CASES {
            let parsed = parse(query).unwrap();
            let matched: String = subjects
                .iter()
                .zip(["A", "B", "C"])
                .filter(|(s, _)| parsed.matches(s, &ctx))
                .map(|(_, name)| name)
                .collect();
            assert_eq!(matched, *want, "{}: {query} in memory", backend.name);
            let listed = found(&store, project, &ids, query, Some(ada.id)).await;
            assert_eq!(matched, listed, "{}: {query}", backend.name);
        }
    }
}

#[tokio::test]
async fn rules_decide_which_alerts_go_to_which_channel() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let ops = add_channel(&store, project, "ops").await;
        let team = add_channel(&store, project, "team").await;
        store
            .commit_batch(&[prepared(project, error_event("NoRuleError", 1, "web-1"))])
            .await
            .unwrap();
        assert_eq!(
            routes(&store).await,
            [(ops, None), (team, None)],
            "{name}: without rules every channel gets it"
        );

        let prod_errors = store
            .add_alert_rule(
                project,
                &rule(
                    &["new_issue", "regression"],
                    "level:>=error environment:production",
                    &[ops],
                ),
            )
            .await
            .unwrap();
        let mut milestones = rule(&["milestone"], "", &[team, ops]);
        milestones.milestones = Some(vec![3]);
        let milestones = store.add_alert_rule(project, &milestones).await.unwrap();
        assert_eq!(store.alert_rules(project).await.unwrap().len(), 2);

        let mut warning = error_event("WarnError", 1, "web-1");
        warning.level = Some(Level::Warning);
        let mut staging = error_event("StagingError", 1, "web-1");
        staging.environment = Some("staging".into());
        store
            .commit_batch(&[
                prepared(project, error_event("ProdError", 1, "web-1")),
                prepared(project, warning),
                prepared(project, staging),
            ])
            .await
            .unwrap();
        let got = drain(&store).await;
        assert_eq!(
            got,
            [("new_issue".into(), None, ops, Some(prod_errors.id))],
            "{name}: only the production error, only to ops"
        );

        // The third occurrence passes the milestone 3: both channels, once each.
        let again: Vec<_> = (2..=3)
            .map(|line| prepared(project, error_event("ProdError", line, "web-1")))
            .collect();
        store.commit_batch(&again).await.unwrap();
        let got = drain(&store).await;
        assert_eq!(
            got.iter()
                .map(|r| (r.0.as_str(), r.1.as_deref(), r.2, r.3))
                .collect::<Vec<_>>(),
            [
                ("milestone", Some("3"), ops, Some(milestones.id)),
                ("milestone", Some("3"), team, Some(milestones.id))
            ],
            "{name}"
        );
        store
            .commit_batch(&[prepared(project, error_event("ProdError", 4, "web-1"))])
            .await
            .unwrap();
        assert!(drain(&store).await.is_empty(), "{name}: passed once");

        store
            .remove_alert_rule(project, prod_errors.id)
            .await
            .unwrap();
        store
            .remove_alert_rule(project, milestones.id)
            .await
            .unwrap();
        store
            .commit_batch(&[prepared(project, error_event("BackToAllError", 1, "web-1"))])
            .await
            .unwrap();
        assert_eq!(drain(&store).await.len(), 2, "{name}: no rules, as before");
    }
}

#[tokio::test]
async fn a_spike_alerts_once_per_window_across_instances() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        // Two instances on one database (SQLite: one, twice as the same process would).
        let other = if backend.name == "postgres" {
            second_instance(&backend).await
        } else {
            store.clone()
        };
        let hook = add_channel(&store, project, "hook").await;
        let mut spike = rule(&["spike"], "level:error", &[hook]);
        // A day-long window (its buckets start at UTC midnight), so the test never straddles two.
        spike.spike = Some(Spike {
            count: 5,
            minutes: 1440,
        });
        let spike = store.add_alert_rule(project, &spike).await.unwrap();
        let batch = |from: u32| -> Vec<NewOccurrence> {
            (from..from + 3)
                .map(|line| prepared(project, error_event("SpikyError", line, "web-1")))
                .collect()
        };
        store.commit_batch(&batch(0)).await.unwrap();
        assert!(drain(&store).await.is_empty(), "{name}: 3 is no spike");
        // Both instances commit at once, then again: every commit from here on sees at
        // least 5 in the window, and the window alerts once.
        let (first, second) = (batch(3), batch(6));
        let (a, b) = tokio::join!(store.commit_batch(&first), other.commit_batch(&second));
        a.unwrap();
        b.unwrap();
        other.commit_batch(&batch(9)).await.unwrap();
        let got = drain(&store).await;
        assert_eq!(got.len(), 1, "{name}: one spike alert: {got:?}");
        let (kind, detail, channel, rule_id) = &got[0];
        assert_eq!(
            (kind.as_str(), *channel, *rule_id),
            ("spike", hook, Some(spike.id)),
            "{name}"
        );
        let detail = detail.as_deref().unwrap();
        assert!(detail.ends_with(" in 1440 minutes"), "{name}: {detail}");
        let counted: i64 = detail.split(' ').next().unwrap().parse().unwrap();
        assert!((6..=12).contains(&counted), "{name}: {detail}");
    }
}

/// Rules are kept per process at their version: a change made through one instance routes
/// the other instance's next batch, alert rules and ownership rules alike.
#[tokio::test]
async fn rules_changed_on_one_instance_route_the_next_batch_of_another() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let other = second_instance(&backend).await;
        let ops = add_channel(&store, project, "ops").await;
        let team = add_channel(&store, project, "team").await;
        let commit = |store: &Store, title: &str| {
            let occ = prepared(project, error_event(title, 1, "web-1"));
            let store = store.clone();
            async move { store.commit_batch(&[occ]).await.unwrap()[0].issue_id }
        };
        // The other instance reads the project's rules (none) at their first version.
        commit(&other, "BeforeRulesError").await;
        assert_eq!(drain(&store).await.len(), 2, "{name}: every channel");

        let to_ops = store
            .add_alert_rule(project, &rule(&["new_issue"], "", &[ops]))
            .await
            .unwrap();
        commit(&other, "AfterAddError").await;
        assert_eq!(
            routes(&store).await,
            [(ops, Some(to_ops.id))],
            "{name}: the added rule"
        );

        store
            .update_alert_rule(project, to_ops.id, &rule(&["new_issue"], "", &[team]))
            .await
            .unwrap();
        commit(&other, "AfterUpdateError").await;
        assert_eq!(
            routes(&store).await,
            [(team, Some(to_ops.id))],
            "{name}: the updated rule"
        );

        store
            .set_ownership_rules(project, "module:shop.* -> #ops\n")
            .await
            .unwrap();
        let owned = commit(&other, "AfterOwnersError").await;
        let issue = store.issue(owned).await.unwrap();
        assert_eq!(
            issue.owner_rule.as_deref(),
            Some("module:shop.* -> #ops"),
            "{name}: the ownership rules set"
        );
        drain(&store).await;

        store.remove_alert_rule(project, to_ops.id).await.unwrap();
        store.set_ownership_rules(project, "").await.unwrap();
        let unowned = commit(&other, "AfterRemoveError").await;
        assert_eq!(
            store.issue(unowned).await.unwrap().owner_rule,
            None,
            "{name}"
        );
        assert_eq!(
            drain(&store).await.len(),
            2,
            "{name}: no rules, every channel"
        );
    }
}
