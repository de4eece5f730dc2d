//! Occurrences found by trace id across projects and protocols, on both backends.

use bugle_server::event::Trace;
use chrono::{Duration, TimeZone};

use super::*;

fn in_trace(
    project: i64,
    ty: &str,
    trace: &str,
    at_ms: i64,
    service: Option<&str>,
) -> NewOccurrence {
    let mut e = error_event(ty, 1, "web-1");
    e.timestamp = Some(Utc.timestamp_millis_opt(at_ms).unwrap());
    e.trace = Some(Trace {
        trace_id: Some(trace.into()),
        ..Trace::default()
    });
    if let Some(s) = service {
        e.tags.insert("service".into(), s.into());
    }
    prepared(project, e)
}

#[tokio::test]
async fn a_traces_occurrences_are_found_in_time_order_in_visible_projects() {
    for (backend, store, shop) in stores().await {
        let (payments, _) = store.create_project("Payments", None).await.unwrap();
        let (hidden, _) = store.create_project("Hidden", None).await.unwrap();
        let t = "4bf92f3577b34da6a3ce929d0e0e4736";
        let base = (Utc::now() - Duration::minutes(5)).timestamp_millis();
        store
            .commit_batch(&[
                in_trace(shop, "RuntimeError", t, base + 40, Some("checkout")),
                // Upper case (as some SDKs send it) is the same trace.
                in_trace(
                    payments.id,
                    "CardDeclined",
                    &t.to_uppercase(),
                    base,
                    Some("payments"),
                ),
                in_trace(hidden.id, "Secret", t, base + 10, None),
                in_trace(
                    shop,
                    "Other",
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                    base,
                    None,
                ),
            ])
            .await
            .unwrap();
        let found = store
            .trace_occurrences(t, &[shop, payments.id])
            .await
            .unwrap();
        let seen: Vec<(&str, Option<&str>, i64)> = found
            .iter()
            .map(|o| (o.title.as_str(), o.service.as_deref(), o.timestamp - base))
            .collect();
        assert_eq!(
            seen,
            [
                ("CardDeclined: cart 1 is empty", Some("payments"), 0),
                ("RuntimeError: cart 1 is empty", Some("checkout"), 40),
            ],
            "{}",
            backend.name
        );
        assert_eq!(found[0].project_name, "Payments");
        assert!(store
            .trace_occurrences("ffff", &[shop])
            .await
            .unwrap()
            .is_empty());
    }
}

/// The bound on a trace's occurrences counts the visible ones: a trace with more than that in
/// a project the viewer may not see still shows the viewer's own.
#[tokio::test]
async fn hidden_occurrences_do_not_use_up_the_bound_of_a_trace() {
    use bugle_server::store::traces::MAX_TRACE_OCCURRENCES;
    for (backend, store, shop) in stores().await {
        let (hidden, _) = store.create_project("Hidden", None).await.unwrap();
        let t = "5b8efff798038103d269b633813fc60c";
        let base = (Utc::now() - Duration::minutes(5)).timestamp_millis();
        let mut batch: Vec<NewOccurrence> = (0..MAX_TRACE_OCCURRENCES)
            .map(|i| in_trace(hidden.id, "Secret", t, base + i, None))
            .collect();
        batch.push(in_trace(shop, "RuntimeError", t, base + 1000, None));
        store.commit_batch(&batch).await.unwrap();
        let found = store.trace_occurrences(t, &[shop]).await.unwrap();
        assert_eq!(found.len(), 1, "{}", backend.name);
        assert_eq!(found[0].project_id, shop);
        assert!(store.trace_occurrences(t, &[]).await.unwrap().is_empty());
        let both = store
            .trace_occurrences(t, &[shop, hidden.id])
            .await
            .unwrap();
        assert_eq!(both.len() as i64, MAX_TRACE_OCCURRENCES, "{}", backend.name);
    }
}
