//! Releases and deploys: idempotent creation, validation, the order, releases recorded from
//! events, and issues resolved in a release regressing only on that release or newer.

use super::*;
use bugle_server::store::release_list::ReleaseCounts;
use bugle_server::store::releases::{InRelease, NewDeploy, ReleaseChanges};
use bugle_server::store::StoreError;

fn in_release(release: Option<&str>, env: &str, line: u32) -> NewOccurrence {
    let mut event = error_event("KeyError", line, "web-1");
    event.release = release.map(str::to_owned);
    event.environment = Some(env.into());
    event
        .exceptions
        .iter_mut()
        .for_each(|e| e.value = Some("the cart is empty".into()));
    prepared(0, event)
}

async fn send(
    store: &Store,
    project: i64,
    release: Option<&str>,
    env: &str,
) -> bugle_server::store::Committed {
    let mut occ = in_release(release, env, 7);
    occ.project_id = project;
    store.commit_batch(&[occ]).await.unwrap()[0]
}

#[tokio::test]
async fn releases_and_deploys_are_created_once_and_listed_in_release_order() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        for v in ["8.0.0", "8.1.0", "8.0.1", "8.1.0"] {
            store
                .ensure_release(project, v, &ReleaseChanges::default())
                .await
                .unwrap();
        }
        let (finalized, created) = store
            .ensure_release(
                project,
                "8.1.0",
                &ReleaseChanges {
                    date_released: Some(1_700_000_000_000),
                    ..ReleaseChanges::default()
                },
            )
            .await
            .unwrap();
        assert!(!created, "{name}");
        assert_eq!(finalized.date_released, Some(1_700_000_000_000), "{name}");
        let versions: Vec<String> = store
            .releases(project)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.version)
            .collect();
        assert_eq!(versions, ["8.1.0", "8.0.1", "8.0.0"], "{name}");

        for bad in ["a/b", "..", "x\ty", &"v".repeat(201)] {
            let err = store
                .ensure_release(project, bad, &ReleaseChanges::default())
                .await
                .unwrap_err();
            assert!(
                matches!(err, StoreError::Invalid(_)),
                "{name}: {bad:?}: {err:?}"
            );
        }

        let deploy = NewDeploy {
            environment: "production".into(),
            name: Some("deploy 1".into()),
            created_by: Some("ada".into()),
            source: "sentry",
            ..NewDeploy::default()
        };
        let first = store.add_deploy(project, "8.1.0", &deploy).await.unwrap();
        let again = store.add_deploy(project, "8.1.0", &deploy).await.unwrap();
        assert_eq!(first.id, again.id, "{name}: a resent deploy is one deploy");
        let staging = NewDeploy {
            environment: "staging".into(),
            ..deploy.clone()
        };
        store.add_deploy(project, "8.1.0", &staging).await.unwrap();
        // A deploy of an unknown release creates it.
        store.add_deploy(project, "9.0.0", &deploy).await.unwrap();
        let release = store.release(project, "8.1.0").await.unwrap();
        let deploys = store.release_deploys(release.id).await.unwrap();
        assert_eq!(deploys.len(), 2, "{name}");
        assert_eq!(store.releases(project).await.unwrap()[0].version, "9.0.0");
        let bad_env = NewDeploy {
            environment: "a/b".into(),
            ..deploy.clone()
        };
        assert!(store.add_deploy(project, "8.1.0", &bad_env).await.is_err());
        let failed = NewDeploy {
            status: Some("exploded".into()),
            ..deploy
        };
        assert!(store.add_deploy(project, "8.1.0", &failed).await.is_err());
    }
}

#[tokio::test]
async fn events_record_their_release_and_the_issue_its_first_release() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let c = send(&store, project, Some("shop@1.0.0"), "production").await;
        send(&store, project, Some("shop@1.0.0"), "production").await;
        send(&store, project, Some("shop@1.1.0"), "production").await;
        // A name no release may have is kept on the event, but makes no release.
        send(&store, project, Some("refs/heads/main"), "production").await;
        let versions: Vec<String> = store
            .releases(project)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.version)
            .collect();
        assert_eq!(versions, ["shop@1.1.0", "shop@1.0.0"], "{name}");
        let state = store.issue_release_state(c.issue_id).await.unwrap();
        assert_eq!(state.first_release.as_deref(), Some("shop@1.0.0"), "{name}");
        let counts = store
            .release_counts(project, &["shop@1.0.0", "shop@1.1.0", "9.9"])
            .await
            .unwrap();
        let c10 = ReleaseCounts {
            events: 2,
            issues: 1,
            new_issues: 1,
        };
        assert_eq!(counts["shop@1.0.0"], c10, "{name}");
        let c11 = ReleaseCounts {
            events: 1,
            issues: 1,
            new_issues: 0,
        };
        assert_eq!(counts["shop@1.1.0"], c11, "{name}");
        assert!(!counts.contains_key("9.9"), "{name}");
        // A page at a time, newest first.
        let (first, more) = store.releases_page(project, 0, 1).await.unwrap();
        assert_eq!(
            (first[0].version.as_str(), more),
            ("shop@1.1.0", true),
            "{name}"
        );
        let (second, more) = store.releases_page(project, 1, 1).await.unwrap();
        assert_eq!(
            (second[0].version.as_str(), more),
            ("shop@1.0.0", false),
            "{name}"
        );
        assert!(store
            .releases_page(project, 2, 1)
            .await
            .unwrap()
            .0
            .is_empty());
        assert_eq!(
            store
                .issues_first_seen_in(project, "shop@1.0.0", 10)
                .await
                .unwrap(),
            [c.issue_id]
        );
    }
}

#[tokio::test]
async fn an_issue_resolved_in_the_next_release_stays_resolved_for_the_old_build() {
    for (backend, store, project) in stores_mailing().await {
        let name = backend.name;
        let c = send(&store, project, Some("1.0.0"), "production").await;
        store
            .resolve_in_release(c.issue_id, &InRelease::Next, Some("ada@example.com"))
            .await
            .unwrap();
        // The old build still runs: counted, still resolved.
        let old = send(&store, project, Some("1.0.0"), "production").await;
        assert!(!old.regressed, "{name}");
        let issue = store.issue(c.issue_id).await.unwrap();
        assert_eq!(
            (issue.status.as_str(), issue.count),
            ("resolved", 2),
            "{name}"
        );

        // The fix ships to staging only: production's old build is no regression.
        store
            .add_deploy(
                project,
                "1.1.0",
                &NewDeploy {
                    environment: "staging".into(),
                    source: "bugle",
                    ..NewDeploy::default()
                },
            )
            .await
            .unwrap();
        let state = store.issue_release_state(c.issue_id).await.unwrap();
        assert_eq!(
            state.resolved_in_release.as_deref(),
            Some("1.1.0"),
            "{name}"
        );
        assert!(
            !send(&store, project, Some("1.0.0"), "production")
                .await
                .regressed
        );
        // A backport made later, older than the fix, does not reopen it either.
        assert!(
            !send(&store, project, Some("1.0.1"), "production")
                .await
                .regressed
        );
        assert_eq!(store.issue(c.issue_id).await.unwrap().status, "resolved");

        // The new release has the bug after all.
        let new = send(&store, project, Some("1.1.0"), "staging").await;
        assert!(new.regressed, "{name}");
        let issue = store.issue(c.issue_id).await.unwrap();
        assert_eq!(
            (issue.status.as_str(), issue.count),
            ("regressed", 5),
            "{name}"
        );
        let activity = store.issue_activity(c.issue_id).await.unwrap();
        let details: Vec<String> = activity
            .iter()
            .map(|a| format!("{} {}", a.1, a.2.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            details,
            [
                "regressed in release 1.1.0 (resolved in 1.1.0)",
                "next_release the next release is 1.1.0",
                "resolved in the next release (after 1.0.0), by ada@example.com",
            ],
            "{name}"
        );
        let mail: Vec<String> = sqlx::query_scalar(
            "SELECT COALESCE(detail, '') FROM outbox WHERE issue_id = $1 AND kind = 'regression'",
        )
        .bind(c.issue_id)
        .fetch_all(store.pool())
        .await
        .unwrap_or_default();
        assert_eq!(mail, ["in release 1.1.0 (resolved in 1.1.0)"], "{name}");
    }
}

#[tokio::test]
async fn an_issue_resolved_in_a_release_reopens_on_it_on_newer_ones_and_without_a_release() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        for v in ["2.0.0", "2.1.0", "3.0.0"] {
            store
                .ensure_release(project, v, &ReleaseChanges::default())
                .await
                .unwrap();
        }
        let c = send(&store, project, Some("2.0.0"), "production").await;
        let unknown = store
            .resolve_in_release(c.issue_id, &InRelease::Version("9.9.9".into()), None)
            .await
            .unwrap_err();
        assert!(matches!(unknown, StoreError::Invalid(_)), "{name}");
        for (release, reopens) in [
            (Some("2.0.0"), false),
            (Some("2.1.0"), true),
            (Some("3.0.0"), true),
            (None, true),
        ] {
            store
                .resolve_in_release(c.issue_id, &InRelease::Version("2.1.0".into()), None)
                .await
                .unwrap();
            let got = send(&store, project, release, "production").await;
            assert_eq!(got.regressed, reopens, "{name}: {release:?}");
            let status = store.issue(c.issue_id).await.unwrap().status;
            assert_eq!(status == "regressed", reopens, "{name}: {release:?}");
        }
        // A plain resolve forgets the release: any event reopens.
        store
            .resolve_in_release(c.issue_id, &InRelease::Version("3.0.0".into()), None)
            .await
            .unwrap();
        store
            .set_issue_status(c.issue_id, "unresolved")
            .await
            .unwrap();
        store
            .set_issue_status(c.issue_id, "resolved")
            .await
            .unwrap();
        assert!(
            send(&store, project, Some("2.0.0"), "production")
                .await
                .regressed
        );
    }
}
