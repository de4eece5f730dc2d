//! Services counted from OpenTelemetry spans: counts per hour, calls, open issues and last
//! error per service, and instances adding to the same rows, on both backends.

use bugle_server::store::services::SpanCounts;
use bugle_server::time::HOUR_MS;

use super::*;

fn counts(hour: i64, services: &[(&str, i64, i64)], edges: &[(&str, &str, i64)]) -> SpanCounts {
    SpanCounts {
        hour,
        services: services
            .iter()
            .map(|&(s, n, e)| (s.to_owned(), (n, e)))
            .collect(),
        edges: edges
            .iter()
            .map(|&(a, b, n)| ((a.to_owned(), b.to_owned()), n))
            .collect(),
    }
}

#[tokio::test]
async fn span_counts_add_up_per_service_within_the_window() {
    for (backend, store, project) in stores().await {
        let now = Utc::now().timestamp_millis();
        let hour = now - now.rem_euclid(HOUR_MS);
        let old = hour - 48 * HOUR_MS;
        store
            .add_span_counts(project, &counts(old, &[("checkout", 1000, 900)], &[]))
            .await
            .unwrap();
        for _ in 0..2 {
            store
                .add_span_counts(
                    project,
                    &counts(
                        hour,
                        &[("checkout", 10, 1), ("payments", 4, 2)],
                        &[("checkout", "payments", 3)],
                    ),
                )
                .await
                .unwrap();
        }
        store
            .add_span_counts(project, &counts(hour - HOUR_MS, &[("checkout", 5, 0)], &[]))
            .await
            .unwrap();

        let services = store.services(project, now - 24 * HOUR_MS).await.unwrap();
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["checkout", "payments"], "{}", backend.name);
        let checkout = &services[0];
        assert_eq!(
            (checkout.spans, checkout.error_spans),
            (25, 2),
            "{}",
            backend.name
        );
        assert_eq!(
            checkout.calls,
            [("payments".to_owned(), 6)],
            "{}",
            backend.name
        );
        assert_eq!(services[1].spans, 8);
        assert!((services[1].error_rate() - 0.5).abs() < 1e-9);
        assert!(services[1].calls.is_empty());

        // The current hour only; and a week, which reaches the old counts.
        let recent = store.services(project, hour).await.unwrap();
        assert_eq!(recent[0].spans, 20, "{}", backend.name);
        let week = store
            .services(project, now - 7 * 24 * HOUR_MS)
            .await
            .unwrap();
        assert_eq!(week[0].error_spans, 902, "{}", backend.name);
        // Another project sees none of it.
        let (other, _) = store.create_project("Other", None).await.unwrap();
        assert!(store.services(other.id, 0).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_service_shows_its_open_issues_and_last_error() {
    for (backend, store, project) in stores().await {
        let event = |ty: &str, service: &str| {
            let mut e = error_event(ty, 1, "web-1");
            e.tags.insert("service".into(), service.into());
            prepared(project, e)
        };
        let done = store
            .commit_batch(&[
                event("ValueError", "payments"),
                event("KeyError", "payments"),
                event("TypeError", "checkout"),
            ])
            .await
            .unwrap();
        store
            .set_issue_status(done[1].issue_id, "resolved")
            .await
            .unwrap();
        let services = store.services(project, 0).await.unwrap();
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["checkout", "payments"], "{}", backend.name);
        assert_eq!(services[0].open_issues, 1);
        assert_eq!(services[1].open_issues, 1, "{}: one resolved", backend.name);
        assert!(services[1].last_error.is_some());
        assert_eq!(services[1].spans, 0);
    }
}

/// Two stores on one database stand for two instances: every upsert of either adds up.
#[tokio::test]
async fn concurrent_upserts_from_two_instances_add_up_exactly() {
    for (backend, store, project) in stores().await {
        let config = Config {
            database_url: backend.database_url.clone(),
            ..Config::default()
        };
        let second = Store::open(&config).await.unwrap();
        let hour = 100 * HOUR_MS;
        let mut tasks = Vec::new();
        for (i, s) in [store.clone(), second.clone(), store.clone(), second]
            .into_iter()
            .enumerate()
        {
            tasks.push(tokio::spawn(async move {
                for _ in 0..25 {
                    let c = counts(
                        hour,
                        &[("checkout", 3, 1), ("payments", 2, (i % 2) as i64)],
                        &[("checkout", "payments", 2)],
                    );
                    loop {
                        match s.add_span_counts(project, &c).await {
                            Ok(()) => break,
                            Err(e) if e.is_transient() => continue,
                            Err(e) => panic!("{e:?}"),
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let services = store.services(project, hour).await.unwrap();
        assert_eq!(
            (services[0].spans, services[0].error_spans),
            (300, 100),
            "{}",
            backend.name
        );
        assert_eq!((services[1].spans, services[1].error_spans), (200, 50));
        assert_eq!(services[0].calls, [("payments".to_owned(), 200)]);
    }
}

/// Retention deletes the span counts of hours wholly past the project's max age, its own
/// setting or the server default, and leaves other projects' and recent ones alone.
#[tokio::test]
async fn retention_deletes_span_counts_older_than_the_bound() {
    use bugle_server::store::retention::RetentionPolicy;
    for (backend, store, project) in stores().await {
        let (other, _) = store.create_project("Other", None).await.unwrap();
        let now = Utc::now().timestamp_millis();
        let hour = now - now.rem_euclid(HOUR_MS);
        let day = 24 * HOUR_MS;
        // 100 and 95 days ago, the hour in which the 90-day bound falls, and now.
        for h in [hour - 100 * day, hour - 95 * day, hour - 90 * day, hour] {
            for p in [project, other.id] {
                let c = counts(
                    h,
                    &[("checkout", 10, 1), ("payments", 5, 0)],
                    &[("checkout", "payments", 4)],
                );
                store.add_span_counts(p, &c).await.unwrap();
            }
        }
        store
            .set_retention(other.id, Some(200), None)
            .await
            .unwrap();
        let policy = RetentionPolicy {
            max_age_days: 90,
            max_occurrences_per_issue: 100,
        };
        let swept = store.sweep_retention(policy).await.unwrap();
        assert_eq!(
            swept.span_counts, 6,
            "{}: two hours of two services and one edge",
            backend.name
        );
        let all = store.services(project, 0).await.unwrap();
        assert_eq!(
            (all[0].spans, all[0].calls.clone()),
            (20, vec![("payments".to_owned(), 8)]),
            "{}: the bound's own hour and now are kept",
            backend.name
        );
        let kept = store.services(other.id, 0).await.unwrap();
        assert_eq!(kept[0].spans, 40, "{}: 200 days keep all", backend.name);
        // Nothing left to delete; a shorter project setting reaches the bound's hour.
        assert_eq!(store.sweep_retention(policy).await.unwrap().span_counts, 0);
        store.set_retention(project, Some(1), None).await.unwrap();
        store.sweep_retention(policy).await.unwrap();
        let now_only = store.services(project, 0).await.unwrap();
        assert_eq!(now_only[0].spans, 10, "{}", backend.name);
        assert_eq!(now_only[0].calls, [("payments".to_owned(), 4)]);
    }
}
