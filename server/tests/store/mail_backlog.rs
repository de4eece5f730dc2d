//! Mail that could not go out in time is claimed together, per project and recipient, once.

use super::*;

#[tokio::test]
async fn stale_mail_is_claimed_together_per_project_and_recipient() {
    for (backend, store, project) in stores_mailing().await {
        let name = backend.name;
        for ty in ["AError", "BError", "CError"] {
            store
                .commit_batch(&[prepared(project, error_event(ty, 1, "web-1"))])
                .await
                .unwrap();
        }
        let first = store.claim_notification().await.unwrap().expect("a row");
        let now = bugle_server::time::now_ms();
        assert!(
            store
                .claim_stale_mail(&first, now - 60_000)
                .await
                .unwrap()
                .is_empty(),
            "{name}: nothing older than a minute"
        );
        let rest = store.claim_stale_mail(&first, now + 1).await.unwrap();
        assert_eq!(rest.len(), 2, "{name}: the project's other mails");
        assert!(
            store.claim_notification().await.unwrap().is_none(),
            "{name}: all claimed once"
        );
    }
}
