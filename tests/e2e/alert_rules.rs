//! Alert rules end to end: made through the API, the CLI and the settings page, they decide
//! which real receivers on loopback get which alerts.

use std::time::Duration;

use bugle_tests::receiver::Receiver;
use bugle_tests::server::{create_project, create_user_token, request, Backend};
use bugle_tests::web::{create_user, WebUser, PASSWORD};
use serde_json::{json, Value};

use super::alerts::{add_channel, cli_env, error, start, WAIT};

#[test]
fn rules_made_through_the_api_route_alerts_by_filter() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let name = backend.name;
        let project = create_project(db, "Routed");
        let api = create_user_token(db, "ada@example.com", true);
        let ops = Receiver::start("/ops");
        let team = Receiver::start("/team");
        add_channel(db, &project.slug, "webhook", &ops.url);
        add_channel(db, &project.slug, "slack", &team.url);
        let server = start(db, &[("BUGLE_MAIL_BURST_DIGEST", "1000")]);
        let path = format!("/api/v1/projects/{}/alert-rules", project.slug);

        for (body, status, why) in [
            (
                json!({"events": ["new_issue"], "filter": "level:loud", "channels": ["webhook"]}),
                400,
                "filter: unknown level `loud`",
            ),
            (
                json!({"events": ["deploy"], "channels": ["webhook"]}),
                400,
                "unknown event",
            ),
            (
                json!({"events": ["spike"], "channels": ["webhook"]}),
                400,
                "needs spike",
            ),
            (
                json!({"events": ["new_issue"], "channels": ["#nope"]}),
                400,
                "no channel",
            ),
            (
                json!({"events": ["new_issue"]}),
                400,
                "at least one channel or mail",
            ),
            (json!({"events": "new_issue"}), 422, "events"),
        ] {
            let reply = server.send_json("POST", &api, &path, &body);
            assert_eq!(reply.status, status, "{name}: {body}: {}", reply.body);
            assert!(reply.body.contains(why), "{name}: {body}: {}", reply.body);
        }

        let reply = server.send_json(
            "POST",
            &api,
            &path,
            &json!({"name": "prod errors", "events": ["new_issue"],
                    "filter": "level:>=error environment:production", "channels": ["#webhook"]}),
        );
        assert_eq!(reply.status, 201, "{name}: {}", reply.body);
        let rule = reply.json();
        assert_eq!(rule["channels"][0]["name"], "webhook", "{name}");
        let id = rule["id"].as_i64().unwrap();

        let mut warning = error("QuietWarning", "x");
        warning["level"] = json!("warning");
        let mut staging = error("StagingError", "x");
        staging["environment"] = json!("staging");
        for event in [&warning, &staging, &error("LoudError", "x")] {
            assert_eq!(server.send_event(&project.token, event).status, 200);
        }
        let got = ops.wait_for(1, WAIT);
        std::thread::sleep(Duration::from_millis(1000));
        assert_eq!(ops.requests().len(), 1, "{name}: only the production error");
        assert_eq!(
            got[0].json()["data"]["issues"][0]["title"],
            "LoudError: x",
            "{name}"
        );
        assert!(team.requests().is_empty(), "{name}: no rule names Slack");

        // Replaced: now everything new goes to both.
        let reply = server.send_json(
            "PUT",
            &api,
            &format!("{path}/{id}"),
            &json!({"events": ["new_issue"], "channels": ["webhook", "slack"]}),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(reply.json()["filter"], "", "{name}");
        let listed = server.get(&api, &path).json();
        assert_eq!(listed["rules"].as_array().unwrap().len(), 1, "{name}");
        assert_eq!(
            server
                .send_event(&project.token, &warning_of("OtherWarning"))
                .status,
            200
        );
        ops.wait_for(2, WAIT);
        team.wait_for(1, WAIT);

        let reply = request(
            "DELETE",
            &format!("{}{path}/{id}", server.url),
            &[("Authorization", &format!("Bearer {api}"))],
            None,
        );
        assert_eq!(reply.status, 204, "{name}");
        let reply = request(
            "DELETE",
            &format!("{}{path}/{id}", server.url),
            &[("Authorization", &format!("Bearer {api}"))],
            None,
        );
        assert_eq!(reply.status, 404, "{name}: gone");
    }
}

fn warning_of(ty: &str) -> Value {
    let mut e = error(ty, "x");
    e["level"] = json!("warning");
    e
}

#[test]
fn rules_are_added_listed_and_removed_with_the_cli_and_the_settings_page() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Cli Rules");
    let ops = Receiver::start("/ops");
    add_channel(db, &project.slug, "webhook", &ops.url);
    let slug = project.slug.as_str();

    let (ok, _, err) = cli_env(
        db,
        &[],
        &[
            "rule",
            "add",
            slug,
            "--events",
            "spike",
            "--channel",
            "webhook",
        ],
    );
    assert!(!ok && err.contains("needs spike"), "{err}");
    let (ok, _, err) = cli_env(
        db,
        &[],
        &[
            "rule",
            "add",
            slug,
            "--events",
            "new_issue",
            "--filter",
            "level:",
            "--mail",
        ],
    );
    assert!(
        !ok && err.contains("filter: expected a value after `level:`"),
        "{err}"
    );
    let (ok, out, err) = cli_env(
        db,
        &[],
        &[
            "rule",
            "add",
            slug,
            "--events",
            "spike,milestone",
            "--spike",
            "50/10",
            "--milestones",
            "5,500",
            "--filter",
            "service:payments",
            "--channel",
            "webhook",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let rule: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rule["spike"], json!({"count": 50, "minutes": 10}));
    assert_eq!(rule["milestones"], json!([5, 500]));
    let (ok, out, _) = cli_env(db, &[], &["rule", "list", slug]);
    assert!(ok);
    assert!(
        out.contains("spike (50 in 10 min), milestone (5, 500), where service:payments → #webhook"),
        "{out}"
    );

    create_user(db, "admin@example.com", true);
    let server = start(db, &[]);
    let web = WebUser::sign_in(&server.url, "admin@example.com", PASSWORD);
    let page = format!("/projects/{slug}/channels");
    assert!(web.get(&page).body.contains("where service:payments"));
    let reply = web.post(
        &page,
        &format!("/projects/{slug}/alert-rules"),
        &[
            ("rule_name", "regressions"),
            ("rule_events", "regression"),
            ("rule_events", "seen_again"),
            ("filter", "release:1.*"),
            ("mail", "1"),
        ],
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("Added alert rule"), "{}", reply.body);
    let reply = web.post(
        &page,
        &format!("/projects/{slug}/alert-rules"),
        &[
            ("rule_events", "regression"),
            ("filter", "\"open"),
            ("mail", "1"),
        ],
    );
    assert_eq!(reply.status, 400);
    assert!(reply.body.contains("unterminated quote"), "{}", reply.body);

    let (_, out, _) = cli_env(db, &[], &["rule", "list", slug, "--json"]);
    let rules: Value = serde_json::from_str(&out).unwrap();
    let rules = rules["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1]["events"], json!(["regression", "seen_again"]));
    assert_eq!(rules[1]["mail"], true);
    let first = rules[0]["id"].as_i64().unwrap().to_string();
    let (ok, out, err) = cli_env(db, &[], &["rule", "remove", slug, &first]);
    assert!(ok && out.contains("removed rule"), "{err}");
    let (ok, _, err) = cli_env(db, &[], &["rule", "remove", slug, &first]);
    assert!(!ok && err.contains("no rule"), "{err}");
}

#[test]
fn two_servers_on_one_postgres_alert_a_spike_once() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let db = &backend.database_url;
    let project = create_project(db, "Spiky");
    let hook = Receiver::start("/hook");
    add_channel(db, &project.slug, "webhook", &hook.url);
    // A day-long window: its buckets start at UTC midnight, so the test stays in one.
    let (ok, _, err) = cli_env(
        db,
        &[],
        &[
            "rule",
            "add",
            &project.slug,
            "--events",
            "spike",
            "--spike",
            "5/1440",
            "--channel",
            "webhook",
        ],
    );
    assert!(ok, "{err}");
    let servers = [start(db, &[]), start(db, &[])];
    for i in 0..12 {
        let reply = servers[i % 2].send_event(&project.token, &error("SpikeError", "x"));
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let got = hook.wait_for(1, WAIT);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(hook.requests().len(), 1, "one spike alert from two servers");
    let data = &got[0].json()["data"];
    assert_eq!(data["event"], "spike");
    assert!(
        data["headline"]
            .as_str()
            .unwrap()
            .contains("in 1440 minutes"),
        "{data}"
    );
}
