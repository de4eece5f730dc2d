//! A project's grouping rules as a user sets them (JSON API, CLI, dashboard form), what they do
//! to new events, the preview, and splitting hashes off an issue.

use bugle_tests::server::{
    cli, cli_output, create_project, create_user_token, Backend, TestServer,
};
use bugle_tests::web::WebUser;
use serde_json::{json, Value};

fn error(ty: &str, function: &str, value: &str) -> Value {
    json!({
        "exceptions": [{"type": ty, "value": value, "frames": [
            {"module": "app.main", "function": "main", "in_app": true},
            {"module": "app.db", "function": function, "in_app": true}
        ]}]
    })
}

fn issue_titles(server: &TestServer, api: &str, slug: &str) -> Vec<(String, i64)> {
    let list = server.get(
        api,
        &format!("/api/v1/projects/{slug}/issues?status=all&sort=count"),
    );
    list.json()["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["title"].as_str().unwrap().to_owned(),
                i["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn rules_set_through_the_api_group_new_events_and_bad_rules_are_refused_with_their_position() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Rules");
        let api = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let path = format!("/api/v1/projects/{}/grouping", project.slug);

        let bad = server.send_json(
            "PUT",
            &api,
            &path,
            &json!({"rules": "error.type:X -> a\nstak.function:y -group"}),
        );
        assert_eq!(bad.status, 400, "{}", bad.body);
        let detail = bad.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("line 2, column 1"), "{detail}");
        assert_eq!(server.get(&api, &path).json()["rules"], "", "nothing saved");

        // Before any rule: two functions failing with DatabaseUnavailable are two issues.
        for function in ["load", "save"] {
            let reply = server.send_event(
                &project.token,
                &error("DatabaseUnavailable", function, "db down"),
            );
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        assert_eq!(issue_titles(&server, &api, &project.slug).len(), 2);

        let rules = "# one issue when the database is away\nerror.type:DatabaseUnavailable -> system-down title=\"Database unavailable\"\n";
        let preview = server.send_json(
            "POST",
            &api,
            &format!("{path}/preview"),
            &json!({"rules": rules}),
        );
        assert_eq!(preview.status, 200, "{}", preview.body);
        let p = preview.json();
        assert_eq!(
            (
                p["occurrences"].as_i64(),
                p["issues_now"].as_i64(),
                p["issues_with_rules"].as_i64()
            ),
            (Some(2), Some(2), Some(1))
        );
        assert_eq!(p["merges"][0]["issues"].as_array().unwrap().len(), 2);

        let saved = server.send_json("PUT", &api, &path, &json!({"rules": rules}));
        assert_eq!(saved.status, 200, "{}", saved.body);
        assert_eq!(server.get(&api, &path).json()["rules"], rules);
        for function in ["load", "save", "migrate"] {
            server.send_event(
                &project.token,
                &error("DatabaseUnavailable", function, "db down"),
            );
        }
        let titles = issue_titles(&server, &api, &project.slug);
        assert_eq!(titles.len(), 3, "{}: {titles:?}", backend.name);
        assert_eq!(
            titles[0],
            ("Database unavailable".to_owned(), 3),
            "{}",
            backend.name
        );
    }
}

#[test]
fn the_cli_sets_and_shows_rules_and_refuses_a_bad_file() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Cli rules");
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("rules.txt");
    std::fs::write(&good, "stack.module:vendor.* -app\n").unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "stack.module:vendor.* -ap\n").unwrap();

    let out = cli_output(
        db,
        &[
            "project",
            "grouping",
            &project.slug,
            "--set-file",
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 1, column 23"), "{stderr}");

    let saved = cli(
        db,
        &[
            "project",
            "grouping",
            &project.slug,
            "--set-file",
            good.to_str().unwrap(),
        ],
        None,
    );
    assert!(saved.contains("1 rules"), "{saved}");
    let shown = cli(db, &["project", "grouping", &project.slug], None);
    assert_eq!(shown, "stack.module:vendor.* -app\n");
}

fn hashes(server: &TestServer, api: &str, issue: i64) -> Vec<String> {
    server.get(api, &format!("/api/v1/issues/{issue}")).json()["grouping"]["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["hash"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn hashes_split_off_an_issue_take_their_occurrences_to_a_new_issue() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Unmerge");
    let api = create_user_token(db, "ada@example.com", true);
    let server = TestServer::start(db);
    let mut ids = Vec::new();
    for (ty, n) in [("KeyError", 4), ("TypeError", 2)] {
        for _ in 0..n {
            let reply = server.send_event(&project.token, &error(ty, "lookup", "x"));
            ids.push(reply.json()["issue_id"].as_i64().unwrap());
        }
    }
    let (keys, types) = (ids[0], ids[5]);
    let type_hashes = hashes(&server, &api, types);
    let merged = server.send_json(
        "POST",
        &api,
        &format!("/api/v1/issues/{types}/merge"),
        &json!({"into": keys}),
    );
    assert_eq!(merged.status, 200, "{}", merged.body);
    assert_eq!(
        server.get(&api, &format!("/api/v1/issues/{keys}")).json()["count"],
        6
    );
    let all = hashes(&server, &api, keys);
    assert!(
        type_hashes.iter().all(|h| all.contains(h)),
        "the merge moved the hashes"
    );
    // A later TypeError lands in the merged issue.
    let later = server.send_event(&project.token, &error("TypeError", "lookup", "y"));
    assert_eq!(later.json()["issue_id"], keys);

    bugle_tests::web::create_user(db, "web@example.com", true);
    let web = WebUser::sign_in(&server.url, "web@example.com", bugle_tests::web::PASSWORD);
    let page = web.get(&format!("/issues/{keys}"));
    assert!(
        page.body.contains("hashes point to this issue"),
        "the issue page lists them"
    );
    assert!(page.body.contains(&type_hashes[0]));

    let split = server.send_json(
        "POST",
        &api,
        &format!("/api/v1/issues/{keys}/unmerge"),
        &json!({"hashes": type_hashes}),
    );
    assert_eq!(split.status, 200, "{}", split.body);
    let new = split.json();
    assert_eq!(new["count"], 3, "the three TypeErrors moved: {new}");
    assert!(
        new["title"].as_str().unwrap().starts_with("TypeError"),
        "{new}"
    );
    assert_eq!(
        server.get(&api, &format!("/api/v1/issues/{keys}")).json()["count"],
        4
    );
    let next = server.send_event(&project.token, &error("TypeError", "lookup", "z"));
    assert_eq!(
        next.json()["issue_id"],
        new["id"],
        "later TypeErrors go to the new issue"
    );

    let none = server.send_json(
        "POST",
        &api,
        &format!("/api/v1/issues/{keys}/unmerge"),
        &json!({"hashes": ["nope"]}),
    );
    assert_eq!(none.status, 400, "{}", none.body);
}

#[test]
fn the_settings_form_previews_refuses_and_saves_rules() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Form rules");
    let server = TestServer::start(db);
    for function in ["load", "save"] {
        server.send_event(
            &project.token,
            &error("DatabaseUnavailable", function, "db down"),
        );
    }
    bugle_tests::web::create_user(db, "web@example.com", true);
    let web = WebUser::sign_in(&server.url, "web@example.com", bugle_tests::web::PASSWORD);
    let page = format!("/projects/{}/grouping", project.slug);
    let settings = web.get(&format!("/projects/{}/settings", project.slug));
    assert!(settings.body.contains(&page), "settings link to the rules");

    let bad = web.post(
        &page,
        &page,
        &[("rules", "message:\"unterminated -> x"), ("action", "save")],
    );
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("line 1, column 9"), "{}", bad.body);
    assert!(bad.body.contains("unterminated"), "the text is kept");

    let rules = "error.type:DatabaseUnavailable -> system-down";
    let preview = web.post(&page, &page, &[("rules", rules), ("action", "preview")]);
    assert_eq!(preview.status, 200);
    assert!(
        preview.body.contains("id=\"preview-groups\">1<"),
        "{}",
        preview.body
    );

    let saved = web.post(&page, &page, &[("rules", rules), ("action", "save")]);
    assert_eq!(saved.status, 303);
    let shown = web.get(&format!("{page}?saved=1"));
    assert!(shown.body.contains("rules-saved") && shown.body.contains("system-down"));
    assert_eq!(
        cli(db, &["project", "grouping", &project.slug], None),
        rules
    );
}
