//! Attachments and feedback in the store: stored with their occurrence, removed with it, and
//! feedback finding its issue whichever arrives first.

use super::*;
use bugle_server::store::attachments::NewAttachment;
use bugle_server::store::feedback::NewFeedback;
use bugle_server::store::retention::RetentionPolicy;

fn with_file(project: i64, line: u32, name: &str) -> NewOccurrence {
    let mut occ = prepared(project, error_event("KeyError", line, "web-1"));
    let bytes = format!("{name} contents ").repeat(100).into_bytes();
    occ.attachments.push(NewAttachment {
        name: name.into(),
        content_type: Some("text/plain".into()),
        attachment_type: "event.attachment".into(),
        size: bytes.len() as i64,
        data: zstd::bulk::compress(&bytes, 3).unwrap(),
    });
    occ
}

#[tokio::test]
async fn attachments_are_committed_with_their_event_and_removed_with_it() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let first = with_file(project, 1, "first.log");
        let resend = first.clone();
        let committed = store.commit_batch(&[first, resend]).await.unwrap();
        assert!(committed[1].duplicate);
        store
            .commit_batch(&[with_file(project, 2, "second.log")])
            .await
            .unwrap();
        let (files, bytes) = store.attachment_usage(project).await.unwrap();
        assert_eq!(files, 2, "{name}: a resend stores its files once");
        assert!(
            bytes > 0 && bytes < 2 * 1_600,
            "{name}: stored compressed ({bytes})"
        );

        let occ = store
            .occurrence_by_uuid(committed[0].uuid, &[project])
            .await
            .unwrap()
            .unwrap();
        let listed = store.attachments_of(occ.id).await.unwrap();
        assert_eq!(listed[0].name, "first.log");
        let (_, data) = store.attachment(listed[0].id).await.unwrap();
        assert!(data.starts_with(b"first.log contents"), "{name}");

        // Retention keeps the newest occurrence of the issue: the older one's file goes too.
        let policy = RetentionPolicy {
            max_age_days: 90,
            max_occurrences_per_issue: 1,
        };
        store.sweep_retention(policy).await.unwrap();
        assert_eq!(
            store.attachment_usage(project).await.unwrap().0,
            1,
            "{name}"
        );
        assert!(
            store.attachments_of(occ.id).await.unwrap().is_empty(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn feedback_finds_its_issue_whether_it_comes_before_or_after_the_event() {
    for (backend, store, project) in stores().await {
        let name = backend.name;
        let event = prepared(project, error_event("ValueError", 3, "web-1"));
        let early = NewFeedback {
            project_id: project,
            event: Some(event.uuid),
            name: Some("Ada".into()),
            email: Some("ada@example.com".into()),
            comments: "Sent before its event".into(),
            url: None,
            source: "user_report",
        };
        store.add_feedback(&early).await.unwrap();
        let issue = store.commit_batch(&[event]).await.unwrap()[0].issue_id;
        let late = NewFeedback {
            comments: "Sent after".into(),
            ..early.clone()
        };
        store.add_feedback(&late).await.unwrap();
        let about: Vec<_> = store
            .issue_feedback(issue)
            .await
            .unwrap()
            .into_iter()
            .map(|f| (f.comments, f.issue_id))
            .collect();
        assert_eq!(about.len(), 2, "{name}: {about:?}");
        assert!(about.iter().all(|(_, i)| *i == Some(issue)), "{name}");
        assert_eq!(
            store.feedback_counts(&[issue]).await.unwrap()[&issue],
            2,
            "{name}"
        );
        let empty = NewFeedback {
            comments: " ".into(),
            ..early
        };
        assert!(store.add_feedback(&empty).await.is_err());
    }
}
