//! Ownership rules end to end: managed with the API, the CLI and the settings page; a new
//! issue is assigned to its owner, an email owner is mailed first (real SMTP), a channel owner
//! gets the alert (real HTTP receiver) and its delivery log says the rule sent it.

use std::time::Duration;

use bugle_tests::receiver::Receiver;
use bugle_tests::server::{cli, cli_output, create_project, create_user_token, Backend};
use bugle_tests::smtp::{free_port, SmtpServer};
use bugle_tests::web::{create_user, WebUser, PASSWORD};
use serde_json::{json, Value};

use super::alerts::{cli_env, error, start, PRIVATE_OK, WAIT};

/// An error whose only in-app frame is in `file`.
fn error_in(ty: &str, file: &str) -> Value {
    let mut e = error(ty, "x");
    e["exceptions"][0]["frames"][0]["filename"] = json!(file);
    e
}

/// A page's text with `>` as typed (the templates escape it as `&#62;`).
fn unescaped(html: &str) -> String {
    html.replace("&#62;", ">").replace("&gt;", ">")
}

fn to(message: &Value) -> String {
    message["to"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn ownership_rules_assign_new_issues_and_show_which_rule_matched() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Owned");
    let api = create_user_token(db, "ada@example.com", true);
    let server = start(db, &[]);
    let path = format!("/api/v1/projects/{}/ownership", project.slug);
    let reply = server.send_json("PUT", &api, &path, &json!({"rules": "path:src/** ->"}));
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply.body.contains("line 1: the owner must be"),
        "{}",
        reply.body
    );
    let rules = "path:src/payments/** -> bob@example.com\npath:src/*.py -> ada@example.com\n";
    let reply = server.send_json("PUT", &api, &path, &json!({ "rules": rules }));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(server.get(&api, &path).json()["rules"], rules);

    let reply = server.send_event(&project.token, &error("CartError", "x"));
    let issue = reply.json()["issue_id"].as_i64().unwrap();
    let got = server.get(&api, &format!("/api/v1/issues/{issue}")).json();
    assert_eq!(
        got["owner_rule"], "path:src/*.py -> ada@example.com",
        "{got}"
    );
    assert!(got["assignee_id"].is_number(), "{got}");

    create_user(db, "admin@example.com", true);
    let web = WebUser::sign_in(&server.url, "admin@example.com", PASSWORD);
    let page = web.get(&format!("/issues/{issue}")).body;
    assert!(
        page.contains("by ownership rule <code>path:src/*.py"),
        "{page}"
    );
}

#[test]
fn ownership_rules_are_shown_and_set_with_the_cli_and_the_settings_page() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Owned Settings");
    let slug = project.slug.as_str();

    let out = cli(db, &["ownership", "show", slug], None);
    assert!(out.contains("has no ownership rules"), "{out}");
    let bad = cli_output(
        db,
        &["ownership", "set", slug],
        Some("path:src/** -> ada@example.com\nfile:x.py -> bob@example.com\n"),
    );
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("not saved: line 2: unknown matcher `file:`"),
        "{err}"
    );
    let rules = "# payments first\npath:src/payments/** -> ada@example.com\ntag:team=checkout -> #checkout\n";
    let out = cli(db, &["ownership", "set", slug], Some(rules));
    assert!(out.contains("saved 2 ownership rules"), "{out}");
    assert_eq!(cli(db, &["ownership", "show", slug], None), rules);
    let shown: Value =
        serde_json::from_str(&cli(db, &["ownership", "show", slug, "--json"], None)).unwrap();
    assert_eq!(shown["rules"], rules);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "service:payments -> ops@example.com\n").unwrap();
    let path = file.path().to_str().unwrap();
    let out = cli(db, &["ownership", "set", slug, "--file", path], None);
    assert!(out.contains("saved 1 ownership rules"), "{out}");

    create_user(db, "admin@example.com", true);
    let server = start(db, &[]);
    let web = WebUser::sign_in(&server.url, "admin@example.com", PASSWORD);
    let settings = web.get(&format!("/projects/{slug}/settings")).body;
    assert!(
        settings.contains("This project has ownership rules."),
        "{settings}"
    );
    assert!(settings.contains(&format!("href=\"/projects/{slug}/ownership\"")));
    let page = format!("/projects/{slug}/ownership");
    let editor = web.get(&page);
    assert_eq!(editor.status, 200);
    assert!(
        unescaped(&editor.body).contains("service:payments -> ops@example.com"),
        "{}",
        editor.body
    );

    // A rule that does not parse comes back as typed, with the line and the reason.
    let typed = "path:src/** -> ada@example.com\ntag:team -> #checkout";
    let reply = web.post(&page, &page, &[("rules", typed)]);
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(
        reply
            .body
            .contains("Not saved: line 2: tag: takes key=value"),
        "{}",
        reply.body
    );
    assert!(
        unescaped(&reply.body).contains("tag:team -> #checkout"),
        "typed text kept"
    );
    assert_eq!(
        cli(db, &["ownership", "show", slug], None),
        "service:payments -> ops@example.com\n",
        "nothing saved"
    );

    let reply = web.post(
        &page,
        &page,
        &[("rules", "function:charge_* -> #payments\r\n")],
    );
    assert_eq!(reply.status, 303, "{}", reply.body);
    let saved = web.get(&format!("{page}?saved=1")).body;
    assert!(saved.contains("id=\"ownership-saved\""), "{saved}");
    assert_eq!(
        cli(db, &["ownership", "show", slug], None),
        "function:charge_* -> #payments\n"
    );
    let reply = web.post(&page, &page, &[("rules", "")]);
    assert_eq!(reply.status, 303);
    let out = cli(db, &["ownership", "show", slug], None);
    assert!(out.contains("has no ownership rules"), "{out}");
}

#[test]
fn an_email_owner_is_mailed_first_and_only_once() {
    if bugle_tests::python::venv().is_none() {
        return;
    }
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Owned Mail");
        let _ = create_user_token(db, "ada@example.com", false);
        cli(
            db,
            &["project", "add-member", &project.slug, "ada@example.com"],
            None,
        );
        cli(
            db,
            &[
                "project",
                "notify",
                &project.slug,
                "--add",
                "ops@example.com",
            ],
            None,
        );
        // bob is no member and no recipient: owning the issue is what mails him.
        let rules =
            "path:src/payments/** -> Bob@Example.com\npath:src/cart.py -> ops@example.com\n";
        cli(db, &["ownership", "set", &project.slug], Some(rules));
        let smtp = SmtpServer::start(free_port()).unwrap();
        let server = super::notifications::start(db, &super::notifications::mail_env(&smtp.url()));

        let reply = server.send_event(
            &project.token,
            &error_in("ChargeError", "src/payments/charge.py"),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let mails = smtp.wait_for(3, WAIT);
        let order: Vec<String> = mails.iter().map(to).collect();
        assert_eq!(
            order[0], "bob@example.com",
            "{}: the owner first: {order:?}",
            backend.name
        );
        let mut rest = order[1..].to_vec();
        rest.sort();
        assert_eq!(
            rest,
            ["ada@example.com", "ops@example.com"],
            "{}",
            backend.name
        );
        let text = mails[0]["text"].as_str().unwrap();
        assert!(
            text.contains("Owner: path:src/payments/** -> bob@example.com"),
            "{text}"
        );
        assert!(mails[0]["subject"].as_str().unwrap().contains("New issue"));

        // An owner who is also a project recipient gets the owner's mail, not a second one.
        let reply = server.send_event(&project.token, &error_in("CartError", "src/cart.py"));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let mails = smtp.wait_for(5, WAIT);
        std::thread::sleep(Duration::from_millis(1000));
        let mails_now = smtp.messages();
        assert_eq!(mails_now.len(), 5, "{}: {mails_now:#?}", backend.name);
        let order: Vec<String> = mails[3..].iter().map(to).collect();
        assert_eq!(
            order,
            ["ops@example.com", "ada@example.com"],
            "{}",
            backend.name
        );
    }
}

#[test]
fn a_channel_owner_gets_the_alert_and_each_delivery_says_why_it_was_sent() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Owned Channel");
    let slug = project.slug.as_str();
    let checkout = Receiver::start("/checkout");
    let ops = Receiver::start("/ops");
    for (name, url) in [("checkout", &checkout.url), ("ops", &ops.url)] {
        let (ok, _, err) = cli_env(
            db,
            &[PRIVATE_OK],
            &[
                "channel", "add", slug, "--kind", "webhook", "--url", url, "--name", name,
            ],
        );
        assert!(ok, "{err}");
    }
    // With a rule the project's alerts go only where rules say: #checkout hears of the new
    // issue because it owns it.
    let (ok, out, err) = cli_env(
        db,
        &[],
        &[
            "rule",
            "add",
            slug,
            "--events",
            "new_issue",
            "--filter",
            "level:error",
            "--channel",
            "ops",
            "--json",
        ],
    );
    assert!(ok, "{err}");
    let rule: Value = serde_json::from_str(&out).unwrap();
    cli(
        db,
        &["ownership", "set", slug],
        Some("tag:team=checkout -> #checkout\n"),
    );
    let server = start(db, &[]);
    let mut event = error("CheckoutError", "x");
    event["tags"] = json!({"team": "checkout"});
    let reply = server.send_event(&project.token, &event);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let got = checkout.wait_for(1, WAIT);
    assert_eq!(got[0].json()["data"]["event"], "new_issue");
    ops.wait_for(1, WAIT);

    let (ok, out, err) = cli_env(db, &[], &["channel", "list", slug, "--json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    let reason = |name: &str| {
        let channel = listed["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone();
        channel["deliveries"][0]["reason"].clone()
    };
    assert_eq!(
        reason("checkout"),
        "ownership: tag:team=checkout -> #checkout"
    );
    assert_eq!(reason("ops"), format!("alert rule {}", rule["id"]).as_str());

    create_user(db, "admin@example.com", true);
    let web = WebUser::sign_in(&server.url, "admin@example.com", PASSWORD);
    let page = web.get(&format!("/projects/{slug}/channels")).body;
    assert!(
        unescaped(&page).contains("ownership: tag:team=checkout -> #checkout"),
        "{page}"
    );
    let issue = reply.json()["issue_id"].as_i64().unwrap();
    let shown = web.get(&format!("/issues/{issue}")).body;
    assert!(
        unescaped(&shown).contains("by ownership rule <code>tag:team=checkout -> #checkout</code>"),
        "{shown}"
    );
}
