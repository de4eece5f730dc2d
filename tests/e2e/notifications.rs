//! Notification mail through a real SMTP server (aiosmtpd) and the real binary.

use std::process::Command;
use std::time::Duration;

use bugle_tests::server::{
    binary, cli, create_project, create_user_token, request, Backend, TestServer,
};
use bugle_tests::smtp::{free_port, SmtpServer};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

pub(super) fn mail_env(smtp_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("BUGLE_SMTP_URL", smtp_url.to_owned()),
        ("BUGLE_MAIL_FROM", "Bugle <bugle@example.com>".to_owned()),
        ("BUGLE_BASE_URL", "http://bugle.example".to_owned()),
        ("BUGLE_MAIL_POLL_MS", "50".to_owned()),
        ("BUGLE_MAIL_RETRY_MS", "100".to_owned()),
    ]
}

pub(super) fn start(db: &str, env: &[(&'static str, String)]) -> TestServer {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestServer::start_with(db, &env)
}

fn error(ty: &str, value: &str) -> Value {
    json!({
        "environment": "production", "release": "2.0.1",
        "server": {"host": "web-7"},
        "exceptions": [{"type": ty, "value": value, "frames": [
            {"filename": "src/cart.rs", "module": "shop::cart", "function": "shop::cart::checkout", "lineno": 41, "in_app": true}
        ]}]
    })
}

/// Adds an extra address mailed about the project.
fn notify(db: &str, slug: &str, address: &str) {
    cli(db, &["project", "notify", slug, "--add", address], None);
}

fn to(message: &Value) -> String {
    message["to"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn new_issues_and_regressions_mail_members_and_extra_addresses_and_nothing_floods() {
    if bugle_tests::python::venv().is_none() {
        return;
    }
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Checkout <Shop>");
        let _ = create_user_token(db, "ada@example.com", false);
        let api = create_user_token(db, "root@example.com", true);
        cli(
            db,
            &["project", "add-member", &project.slug, "ada@example.com"],
            None,
        );
        notify(db, &project.slug, "ops@example.com");
        let smtp = SmtpServer::start(free_port()).unwrap();
        let server = start(db, &mail_env(&smtp.url()));

        let xss = "<script>alert('cart')</script><img src=x onerror=alert(1)>";
        let first = server.send_event(&project.token, &error("CheckoutError", xss));
        assert_eq!(first.status, 200, "{}", first.body);
        let issue = first.json()["issue_id"].as_i64().unwrap();
        let mails = smtp.wait_for(2, WAIT);
        let mut recipients: Vec<String> = mails.iter().map(to).collect();
        recipients.sort();
        assert_eq!(
            recipients,
            ["ada@example.com", "ops@example.com"],
            "{}",
            backend.name
        );
        let mail = &mails[0];
        let subject = mail["subject"].as_str().unwrap();
        assert!(
            subject.starts_with("[Checkout <Shop>] New issue error: CheckoutError"),
            "{subject}"
        );
        let text = mail["text"].as_str().unwrap();
        assert!(
            text.contains(xss),
            "the text part keeps the message literally: {text}"
        );
        assert!(
            text.contains("src/cart.rs:41 in shop::cart::checkout"),
            "{text}"
        );
        assert!(
            text.contains(&format!("http://bugle.example/issues/{issue}")),
            "{text}"
        );
        for fact in [
            "Host: web-7",
            "Environment: production",
            "Release: 2.0.1",
            "Occurrences: 1",
        ] {
            assert!(text.contains(fact), "{fact} in {text}");
        }
        let html = mail["html"].as_str().unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "escaped HTML: {html}"
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let unsubscribe = mail["headers"]["List-Unsubscribe"]
            .as_str()
            .unwrap()
            .trim()
            .to_owned();
        assert!(
            unsubscribe.starts_with("<http://bugle.example/unsubscribe/"),
            "{unsubscribe}"
        );

        // 100 more occurrences: the 10th and 100th are within the cool-down of the first mail.
        for i in 0..100 {
            let reply = server.send_event(
                &project.token,
                &error("CheckoutError", &format!("cart {i} failed")),
            );
            assert_eq!(reply.status, 200);
        }
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(smtp.messages().len(), 2, "{}: no flood", backend.name);

        // Resolve, recur: a regression mail to both.
        let resolved = server.send_json(
            "PATCH",
            &api,
            &format!("/api/v1/issues/{issue}"),
            &json!({"status": "resolved"}),
        );
        assert_eq!(resolved.status, 200);
        server.send_event(&project.token, &error("CheckoutError", "again"));
        let mails = smtp.wait_for(4, WAIT);
        let regressions = mails
            .iter()
            .filter(|m| m["subject"].as_str().unwrap().contains("Regression"))
            .count();
        assert_eq!(regressions, 2, "{}: {mails:#?}", backend.name);

        // ops unsubscribes (the one-click POST a mail client sends); the next issue mails ada only.
        let ops = mails.iter().find(|m| to(m) == "ops@example.com").unwrap();
        let link = ops["headers"]["List-Unsubscribe"]
            .as_str()
            .unwrap()
            .trim()
            .trim_matches(['<', '>']);
        let local = link.replace("http://bugle.example", &server.url);
        assert_eq!(request("GET", &local, &[], None).status, 200);
        let done = request(
            "POST",
            &local,
            &[],
            Some(b"List-Unsubscribe=One-Click".to_vec()),
        );
        assert_eq!(done.status, 200);
        assert!(done.body.contains("ops@example.com"));
        server.send_event(&project.token, &error("PaymentError", "declined"));
        let mails = smtp.wait_for(5, WAIT);
        std::thread::sleep(Duration::from_millis(500));
        let payment: Vec<String> = smtp
            .messages()
            .iter()
            .filter(|m| m["subject"].as_str().unwrap().contains("PaymentError"))
            .map(to)
            .collect();
        assert_eq!(payment, ["ada@example.com"], "{}: {mails:#?}", backend.name);

        // Ignored issues never mail.
        let payment = server
            .send_event(&project.token, &error("PaymentError", "declined"))
            .json()["issue_id"]
            .clone();
        server.send_json(
            "PATCH",
            &api,
            &format!("/api/v1/issues/{payment}"),
            &json!({"status": "ignored"}),
        );
        for _ in 0..12 {
            server.send_event(&project.token, &error("PaymentError", "declined"));
        }
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            smtp.messages().len(),
            5,
            "{}: ignored issues stay quiet",
            backend.name
        );
    }
}

#[test]
fn mail_held_while_smtp_is_down_arrives_once_it_is_back() {
    if bugle_tests::python::venv().is_none() {
        return;
    }
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Outage");
    notify(db, &project.slug, "oncall@example.com");
    let port = free_port();
    let server = start(db, &mail_env(&format!("smtp://127.0.0.1:{port}")));
    assert_eq!(
        server
            .send_event(&project.token, &error("DownError", "x"))
            .status,
        200
    );
    std::thread::sleep(Duration::from_millis(700));
    let metrics = request("GET", &format!("{}/metrics", server.url), &[], None).body;
    assert!(
        metrics.contains("bugle_mails_total{outcome=\"failed\"}"),
        "{metrics}"
    );
    assert!(metrics.contains("bugle_mails_pending 1"), "{metrics}");

    let smtp = SmtpServer::start(port).unwrap();
    let mails = smtp.wait_for(1, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(smtp.messages().len(), 1, "delivered once: {mails:#?}");
    assert_eq!(to(&mails[0]), "oncall@example.com");
}

#[test]
fn two_servers_on_one_postgres_send_each_mail_once() {
    if bugle_tests::python::venv().is_none() {
        return;
    }
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let db = &backend.database_url;
    let project = create_project(db, "Shared");
    notify(db, &project.slug, "team@example.com");
    let smtp = SmtpServer::start(free_port()).unwrap();
    let mut env = mail_env(&smtp.url());
    // One mail per issue here (no burst digest), to count them.
    env.push(("BUGLE_MAIL_BURST_DIGEST", "100".to_owned()));
    let servers = [start(db, &env), start(db, &env)];
    for (i, kind) in ["AError", "BError", "CError", "DError", "EError", "FError"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            servers[i % 2]
                .send_event(&project.token, &error(kind, "x"))
                .status,
            200
        );
    }
    smtp.wait_for(6, WAIT);
    std::thread::sleep(Duration::from_millis(800));
    let mut subjects: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 6, "each mail once: {subjects:#?}");
    assert_eq!(smtp.messages().len(), 6);
}

#[test]
fn send_test_email_says_what_works_and_what_is_wrong() {
    if bugle_tests::python::venv().is_none() {
        return;
    }
    let backend = Backend::sqlite();
    let smtp = SmtpServer::start(free_port()).unwrap();
    let run = |url: &str| {
        Command::new(binary())
            .args(["send-test-email", "admin@example.com"])
            .env("BUGLE_DATABASE_URL", &backend.database_url)
            .env("BUGLE_SMTP_URL", url)
            .output()
            .unwrap()
    };
    let ok = run(&smtp.url());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(to(&smtp.wait_for(1, WAIT)[0]), "admin@example.com");
    let refused = run(&format!("smtp://127.0.0.1:{}", free_port()));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("refused") || stderr.contains("connect"),
        "{stderr}"
    );
    let tls = run(&format!("smtps://127.0.0.1:{}", smtp.port));
    assert!(!tls.status.success());
    assert!(
        String::from_utf8_lossy(&tls.stderr).contains("TLS"),
        "{}",
        String::from_utf8_lossy(&tls.stderr)
    );
}

#[test]
fn bursts_become_one_digest_and_spikes_un_ignored_issues_and_preferences_are_honoured() {
    if bugle_tests::python::venv().is_none() {
        return;
    }
    for backend in Backend::all() {
        let db = &backend.database_url;
        let project = create_project(db, "Deploys");
        let api = create_user_token(db, "root@example.com", true);
        cli(
            db,
            &[
                "project",
                "notify",
                &project.slug,
                "--add",
                "dev@example.com",
                "--add",
                "lead@example.com",
            ],
            None,
        );
        cli(db, &["user", "mail", "lead@example.com", "new_issue"], None);
        let smtp = SmtpServer::start(free_port()).unwrap();
        let mut env = mail_env(&smtp.url());
        // The worker wakes every 1.5 s, so the burst below is all waiting when it looks.
        env.retain(|(k, _)| *k != "BUGLE_MAIL_POLL_MS");
        env.push(("BUGLE_MAIL_POLL_MS", "1500".to_owned()));
        env.push(("BUGLE_MAIL_COOLDOWN_MINUTES", "0".to_owned()));
        env.push(("BUGLE_MAIL_SPIKE_COUNT", "20".to_owned()));
        env.push(("BUGLE_MAIL_SPIKE_MINUTES", "5".to_owned()));
        let server = start(db, &env);

        // A bad deploy: six new issues at once make one digest per recipient.
        for kind in ["AError", "BError", "CError", "DError", "EError", "FError"] {
            assert_eq!(
                server.send_event(&project.token, &error(kind, "x")).status,
                200
            );
        }
        let mails = smtp.wait_for(2, WAIT);
        std::thread::sleep(Duration::from_millis(1800));
        let mails_now = smtp.messages();
        assert_eq!(
            mails_now.len(),
            2,
            "{}: one digest each: {mails:#?}",
            backend.name
        );
        assert!(
            mails_now
                .iter()
                .all(|m| m["subject"] == "[Deploys] 6 new issues"),
            "{mails_now:#?}"
        );

        // A spike: 20 occurrences within 5 minutes (the 10th is a milestone on the way).
        let issue = server
            .send_event(&project.token, &error("AError", "x"))
            .json()["issue_id"]
            .clone();
        for _ in 0..19 {
            server.send_event(&project.token, &error("AError", "x"));
        }
        let mails = smtp.wait_for(4, WAIT);
        std::thread::sleep(Duration::from_millis(1800));
        let subjects: Vec<String> = smtp
            .messages()
            .iter()
            .map(|m| m["subject"].as_str().unwrap().to_owned())
            .collect();
        let spikes: Vec<&String> = subjects
            .iter()
            .filter(|s| s.contains("Spike (20 in 5 minutes)"))
            .collect();
        assert_eq!(
            spikes.len(),
            1,
            "{}: only dev gets spikes: {subjects:#?} {mails:#?}",
            backend.name
        );
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.contains("10 occurrences"))
                .count(),
            1,
            "{subjects:#?}"
        );

        // Ignored, then un-ignored: the next occurrence mails "seen again".
        let path = format!("/api/v1/issues/{issue}");
        server.send_json("PATCH", &api, &path, &json!({"status": "ignored"}));
        server.send_event(&project.token, &error("AError", "x"));
        server.send_json("PATCH", &api, &path, &json!({"status": "unresolved"}));
        server.send_event(&project.token, &error("AError", "x"));
        let mails = smtp.wait_for(5, WAIT);
        let seen: Vec<String> = mails
            .iter()
            .filter(|m| m["subject"].as_str().unwrap().contains("Seen again"))
            .map(to)
            .collect();
        assert_eq!(seen, ["dev@example.com"], "{}: {mails:#?}", backend.name);
    }
}

#[test]
fn the_hourly_cap_sends_one_note_then_holds_mail_back() {
    if bugle_tests::python::venv().is_none() {
        return;
    }
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Capped");
    notify(db, &project.slug, "dev@example.com");
    let smtp = SmtpServer::start(free_port()).unwrap();
    let mut env = mail_env(&smtp.url());
    env.push(("BUGLE_MAIL_COOLDOWN_MINUTES", "0".to_owned()));
    env.push(("BUGLE_MAIL_HOURLY_CAP", "1".to_owned()));
    let server = start(db, &env);
    for _ in 0..100 {
        assert_eq!(
            server
                .send_event(&project.token, &error("CapError", "x"))
                .status,
            200
        );
    }
    let mails = smtp.wait_for(2, WAIT);
    std::thread::sleep(Duration::from_millis(800));
    let subjects: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        subjects.len(),
        2,
        "the new issue, then one note: {mails:#?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("New issue")),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("mail limit of 1 an hour reached")),
        "{subjects:?}"
    );
}
