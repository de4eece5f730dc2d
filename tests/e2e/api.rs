use bugle_tests::server::{cli, create_project, create_user_token, Backend, TestServer};
use serde_json::{json, Value};

/// The example event of the protocol docs, with a uuid, host and line of our choosing.
fn config_error(uuid: &str, line: u64, host: &str) -> Value {
    json!({
        "uuid": uuid,
        "timestamp": "2026-11-23T21:00:00Z",
        "level": "error",
        "language": "rust", "platform": "linux",
        "environment": "production", "release": "1.4.2",
        "exceptions": [
            { "type": "app::ConfigError", "value": format!("cannot load /etc/app/{line}.toml"),
              "frames": [
                { "filename": "src/main.rs", "module": "app", "function": "app::main", "lineno": 12, "in_app": true },
                { "filename": "src/config.rs", "module": "app::config", "function": "app::config::load",
                  "lineno": line, "in_app": true, "context_line": "let text = fs::read_to_string(&path)?;" } ] },
            { "type": "std::io::Error", "value": "No such file or directory (os error 2)" }
        ],
        "server": { "host": host, "pid": 4242, "root": "/app" },
        "person": { "id": "42", "username": "ada" },
        "tags": { "region": "eu-west" },
        "custom": { "cart_items": 3 },
        "trace": { "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736" },
        "something_new": { "kept": true }
    })
}

#[test]
fn events_are_grouped_read_triaged_and_merged_through_the_api() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Checkout API");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let name = backend.name;

        // Same error from other lines, hosts and ids in the message: one issue.
        let uuids = [
            "0190c7c2-6a4e-7bb1-9a53-3f1d7e2b9c11",
            "0190c7c2-6a4e-7bb1-9a53-3f1d7e2b9c12",
            "0190c7c2-6a4e-7bb1-9a53-3f1d7e2b9c13",
        ];
        let mut issue_id = None;
        for (i, uuid) in uuids.iter().enumerate() {
            let reply = server.send_event(
                &project.token,
                &config_error(uuid, 40 + i as u64, &format!("web-{i}")),
            );
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            let body = reply.json();
            assert_eq!(body["uuid"], *uuid);
            issue_id.get_or_insert(body["issue_id"].as_i64().unwrap());
            assert_eq!(
                Some(body["issue_id"].as_i64().unwrap()),
                issue_id,
                "{name}: one issue"
            );
        }
        let issue_id = issue_id.unwrap();
        // A resent uuid is stored once and answered with the same issue.
        let resent = server.send_event(&project.token, &config_error(uuids[0], 40, "web-0"));
        assert_eq!(resent.status, 200);
        assert_eq!(resent.json()["issue_id"], issue_id);

        let other = server.send_event(
            &project.token,
            &json!({"message": "disk almost full: 91% used", "level": "warning"}),
        );
        let other_id = other.json()["issue_id"].as_i64().unwrap();
        assert_ne!(other_id, issue_id);

        let list = server.get(
            &api,
            &format!("/api/v1/projects/{}/issues?sort=count", project.slug),
        );
        assert_eq!(list.status, 200, "{}", list.body);
        let issues = list.json()["issues"].as_array().unwrap().clone();
        assert_eq!(issues.len(), 2, "{name}");
        assert_eq!(issues[0]["id"], issue_id);
        assert_eq!(issues[0]["count"], 3, "{name}: the resend is not counted");
        assert_eq!(
            issues[0]["title"],
            "app::ConfigError: cannot load /etc/app/40.toml"
        );
        assert_eq!(issues[0]["culprit"], "app::config in app::config::load");
        assert_eq!(issues[0]["status"], "unresolved");
        let filtered = server.get(
            &api,
            &format!(
                "/api/v1/projects/{}/issues?level=warning&q=DISK",
                project.slug
            ),
        );
        assert_eq!(
            filtered.json()["issues"].as_array().unwrap().len(),
            1,
            "{name}"
        );
        let none = server.get(
            &api,
            &format!(
                "/api/v1/projects/{}/issues?environment=staging",
                project.slug
            ),
        );
        assert_eq!(none.json()["issues"].as_array().unwrap().len(), 0, "{name}");

        let detail = server
            .get(&api, &format!("/api/v1/issues/{issue_id}"))
            .json();
        let components: Vec<String> =
            serde_json::from_value(detail["grouping"]["components"].clone()).unwrap();
        assert!(
            components.iter().any(|c| c.contains("app::ConfigError")),
            "{components:?}"
        );
        let latest = &detail["latest"];
        assert_eq!(latest["uuid"], uuids[2], "{name}");
        assert_eq!(latest["server"]["host"], "web-2");
        assert_eq!(latest["exceptions"][1]["type"], "std::io::Error");
        assert_eq!(
            latest["something_new"]["kept"], true,
            "{name}: unknown keys are kept"
        );
        assert_eq!(latest["issue_id"], issue_id);
        assert!(latest["received_at"].is_string());
        assert_eq!(detail["facets"]["host"].as_array().unwrap().len(), 3);

        for form in [uuids[1].to_owned(), uuids[1].replace('-', "")] {
            let occ = server.get(&api, &format!("/api/v1/occurrences/{form}"));
            assert_eq!(occ.status, 200, "{name}: {form}");
            assert_eq!(occ.json()["uuid"], uuids[1]);
        }
        assert_eq!(
            server.get(&api, "/api/v1/occurrences/not-a-uuid").status,
            400
        );
        assert_eq!(
            server
                .get(&api, "/api/v1/occurrences/00000000000000000000000000000000")
                .status,
            404
        );

        let page = server
            .get(
                &api,
                &format!("/api/v1/issues/{issue_id}/occurrences?limit=2"),
            )
            .json();
        assert_eq!(page["occurrences"].as_array().unwrap().len(), 2);
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let rest = server
            .get(
                &api,
                &format!("/api/v1/issues/{issue_id}/occurrences?limit=2&cursor={cursor}"),
            )
            .json();
        assert_eq!(rest["occurrences"].as_array().unwrap().len(), 1, "{name}");
        assert!(rest["next_cursor"].is_null());

        // Resolve, then a new occurrence regresses it.
        let resolved = server.send_json(
            "PATCH",
            &api,
            &format!("/api/v1/issues/{issue_id}"),
            &json!({"status": "resolved"}),
        );
        assert_eq!(resolved.json()["status"], "resolved", "{}", resolved.body);
        let unresolved = server
            .get(&api, &format!("/api/v1/projects/{}/issues", project.slug))
            .json();
        assert_eq!(unresolved["issues"].as_array().unwrap().len(), 1);
        server.send_event(
            &project.token,
            &config_error("0190c7c2-6a4e-7bb1-9a53-3f1d7e2b9c14", 77, "web-9"),
        );
        let regressed = server
            .get(&api, &format!("/api/v1/issues/{issue_id}"))
            .json();
        assert_eq!(regressed["status"], "regressed", "{name}");
        assert_eq!(regressed["count"], 4);
        let bad = server.send_json(
            "PATCH",
            &api,
            &format!("/api/v1/issues/{issue_id}"),
            &json!({"status": "gone"}),
        );
        assert_eq!(bad.status, 400);
        assert!(bad.json()["detail"]
            .as_str()
            .unwrap()
            .contains("unknown status"));

        // Merge the message issue in: later messages land in the target.
        let merged = server.send_json(
            "POST",
            &api,
            &format!("/api/v1/issues/{other_id}/merge"),
            &json!({"into": issue_id}),
        );
        assert_eq!(merged.status, 200, "{}", merged.body);
        assert_eq!(merged.json()["count"], 5);
        let later = server.send_event(
            &project.token,
            &json!({"message": "disk almost full: 97% used", "level": "warning"}),
        );
        assert_eq!(later.json()["issue_id"], issue_id, "{name}");
        assert_eq!(
            server
                .get(&api, &format!("/api/v1/issues/{other_id}"))
                .json()["status"],
            "merged"
        );
    }
}

#[test]
fn users_only_see_projects_they_are_members_of() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Payments");
        let outsider = create_user_token(db, "eve@example.com", false);
        let member = create_user_token(db, "bob@example.com", false);
        cli(
            db,
            &["project", "add-member", &project.slug, "bob@example.com"],
            None,
        );
        let server = TestServer::start(db);
        let issue = server
            .send_event(&project.token, &json!({"message": "boom"}))
            .json()["issue_id"]
            .as_i64()
            .unwrap();

        let paths = [
            format!("/api/v1/projects/{}/issues", project.slug),
            format!("/api/v1/issues/{issue}"),
            format!("/api/v1/issues/{issue}/occurrences"),
        ];
        for path in &paths {
            assert_eq!(
                server.get(&outsider, path).status,
                404,
                "{}: {path}",
                backend.name
            );
            assert_eq!(
                server.get(&member, path).status,
                200,
                "{}: {path}",
                backend.name
            );
        }
        let patch = server.send_json(
            "PATCH",
            &outsider,
            &format!("/api/v1/issues/{issue}"),
            &json!({"status": "resolved"}),
        );
        assert_eq!(patch.status, 404);
        assert_eq!(
            server.get(&outsider, "/api/v1/projects").json()["projects"],
            json!([])
        );
        assert_eq!(
            server.get(&member, "/api/v1/projects").json()["projects"][0]["slug"],
            project.slug
        );
        assert_eq!(server.get("bgl_wrong", "/api/v1/projects").status, 401);
        assert_eq!(
            server.get(&project.token, "/api/v1/projects").status,
            401,
            "an ingest token is not an API token"
        );
    }
}
