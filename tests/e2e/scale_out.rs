use bugle_tests::server::{create_project, create_user_token, Backend, TestServer};
use serde_json::json;

/// Several stateless servers on one PostgreSQL must behave as one: the same fingerprints
/// ingested through both at once give one issue each and exact counts.
#[test]
fn two_servers_on_one_postgres_behave_as_one() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let db = &backend.database_url;
    let project = create_project(db, "Shared");
    let api = create_user_token(db, "ada@example.com", true);
    let servers = [TestServer::start(db), TestServer::start(db)];
    let kinds = [
        "KeyError",
        "ValueError",
        "TimeoutError",
        "OSError",
        "TypeError",
    ];
    std::thread::scope(|s| {
        for t in 0..8 {
            let (servers, project, kinds) = (&servers, &project, &kinds);
            s.spawn(move || {
                for i in 0..40 {
                    let kind = kinds[i % kinds.len()];
                    let event = json!({
                        "uuid": format!("00000000-0000-4000-8000-{:012}", t * 1000 + i),
                        "exceptions": [{"type": kind, "value": format!("order {i} failed"),
                            "frames": [{"module": "shop.orders", "function": "place", "lineno": i, "in_app": true}]}],
                        "server": {"host": format!("web-{t}")},
                    });
                    // Every event goes through both servers: once for real, once as a resend.
                    for server in [&servers[(t + i) % 2], &servers[(t + i + 1) % 2]] {
                        let reply = server.send_event(&project.token, &event);
                        assert_eq!(reply.status, 200, "{}", reply.body);
                    }
                }
            });
        }
    });
    let list = servers[0].get(
        &api,
        &format!(
            "/api/v1/projects/{}/issues?status=all&limit=500",
            project.slug
        ),
    );
    let issues = list.json()["issues"].as_array().unwrap().clone();
    assert_eq!(
        issues.len(),
        kinds.len(),
        "one issue per fingerprint: {issues:?}"
    );
    for issue in &issues {
        assert_eq!(issue["count"], 8 * 40 / kinds.len(), "exact count: {issue}");
    }
}
