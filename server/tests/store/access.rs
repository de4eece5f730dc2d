//! Who sees what, sessions, one-time links and login throttling.

use super::*;

#[tokio::test]
async fn users_see_only_their_projects() {
    for (backend, store, project) in stores().await {
        let admin = store
            .create_user("root@example.com", None, true)
            .await
            .unwrap();
        let ada = store
            .create_user("Ada@Example.com", None, false)
            .await
            .unwrap();
        assert_eq!(ada.email, "ada@example.com");
        assert!(store
            .create_user("ada@example.com", None, false)
            .await
            .is_err());
        let (other, key) = store.create_project("Other", None).await.unwrap();
        let owner = store.project_for_key(&key).await.unwrap().unwrap();
        assert_eq!(owner.project_id, other.id);
        assert_eq!(owner.rate_limit_per_minute, None);
        store.set_rate_limit(other.id, Some(100)).await.unwrap();
        let owner = store.project_for_key(&key).await.unwrap().unwrap();
        assert_eq!(owner.rate_limit_per_minute, Some(100), "{}", backend.name);
        assert!(store.set_rate_limit(other.id, Some(0)).await.is_err());
        assert_eq!(store.project_for_key("nope").await.unwrap(), None);
        assert!(store.can_access(&admin, project).await.unwrap());
        assert!(
            !store.can_access(&ada, project).await.unwrap(),
            "{}",
            backend.name
        );
        store.add_member(project, ada.id).await.unwrap();
        store.add_member(project, ada.id).await.unwrap();
        assert!(store.can_access(&ada, project).await.unwrap());
        let visible = store.projects_for_user(&ada).await.unwrap();
        assert_eq!(visible.len(), 1, "{}", backend.name);
        let token = store.create_api_token(ada.id, Some("ci")).await.unwrap();
        let found = store.user_for_api_token(&token).await.unwrap().unwrap();
        assert_eq!(found.id, ada.id);
        assert!(store
            .user_for_api_token("bgl_nope")
            .await
            .unwrap()
            .is_none());
        let (second, _) = store.create_project("Checkout API", None).await.unwrap();
        assert_eq!(second.slug, "checkout-api-2", "{}", backend.name);
    }
}

#[tokio::test]
async fn sessions_links_and_login_failures() {
    use bugle_server::store::sessions::LinkPurpose;
    for (backend, store, _) in stores().await {
        let name = backend.name;
        // The first start's link creates one admin, once.
        let link = store
            .create_password_link(LinkPurpose::FirstAdmin, 60_000)
            .await
            .unwrap();
        let admin = store
            .redeem_password_link(&link, Some("Root@Example.com"), "hash")
            .await
            .unwrap();
        assert!(
            admin.is_admin && admin.email == "root@example.com",
            "{name}"
        );
        assert!(store
            .redeem_password_link(&link, Some("x@example.com"), "hash")
            .await
            .is_err());
        let late = store
            .create_password_link(LinkPurpose::FirstAdmin, 60_000)
            .await
            .unwrap();
        assert!(
            store
                .redeem_password_link(&late, Some("y@example.com"), "h")
                .await
                .is_err(),
            "{name}: no second admin through a setup link"
        );

        let token = store.create_session(admin.id, 60_000).await.unwrap();
        let session = store.session(&token).await.unwrap().expect("a session");
        assert_eq!(session.user.id, admin.id);
        assert_eq!(session.csrf.len(), 64);
        assert!(store.session("nope").await.unwrap().is_none());
        let expired = store.create_session(admin.id, -1).await.unwrap();
        assert!(store.session(&expired).await.unwrap().is_none(), "{name}");
        // A password change ends the other sessions.
        let other = store.create_session(admin.id, 60_000).await.unwrap();
        store.set_password(admin.id, "new", &token).await.unwrap();
        assert!(store.session(&other).await.unwrap().is_none(), "{name}");
        assert!(store.session(&token).await.unwrap().is_some());
        store.delete_session(&token).await.unwrap();
        assert!(store.session(&token).await.unwrap().is_none());

        store
            .record_login_failure(&["email:a", "ip:1"])
            .await
            .unwrap();
        store.record_login_failure(&["email:a"]).await.unwrap();
        assert_eq!(store.login_failures_since("email:a", 0).await.unwrap(), 2);
        assert_eq!(store.login_failures_since("ip:1", 0).await.unwrap(), 1);
        store.clear_login_failures("email:a").await.unwrap();
        assert_eq!(store.login_failures_since("email:a", 0).await.unwrap(), 0);
    }
}
