//! Alert channels end to end: the real server posts to real HTTP receivers on loopback.

use std::process::Command;
use std::time::{Duration, Instant};

use bugle_tests::receiver::{Received, Receiver};
use bugle_tests::server::{binary, create_project, request, Backend, TestServer};
use serde_json::{json, Value};

pub(super) const WAIT: Duration = Duration::from_secs(20);
const HOSTILE: &str = "<!channel> @everyone @here <@123> **bold** [x](http://evil) & done";

/// `bugle-server ARGS` with extra settings; (success, stdout, stderr).
pub(super) fn cli_env(db: &str, env: &[(&str, &str)], args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary())
        .args(args)
        .env("BUGLE_DATABASE_URL", db)
        .env("BUGLE_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("bugle-server runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub(super) const PRIVATE_OK: (&str, &str) = ("BUGLE_ALERTS_ALLOW_PRIVATE_TARGETS", "true");

/// Adds a channel; returns (id, secret).
pub(super) fn add_channel(db: &str, slug: &str, kind: &str, url: &str) -> (i64, Option<String>) {
    let (ok, out, err) = cli_env(
        db,
        &[PRIVATE_OK],
        &[
            "channel", "add", slug, "--kind", kind, "--url", url, "--json",
        ],
    );
    assert!(ok, "channel add failed: {err}");
    let v: Value = serde_json::from_str(&out).expect("JSON");
    (
        v["id"].as_i64().unwrap(),
        v["secret"].as_str().map(str::to_owned),
    )
}

pub(super) fn start(db: &str, extra: &[(&str, &str)]) -> TestServer {
    let mut env = vec![
        PRIVATE_OK,
        ("BUGLE_ALERTS_POLL_MS", "100"),
        ("BUGLE_ALERTS_RETRY_MS", "200"),
    ];
    env.extend_from_slice(extra);
    TestServer::start_with(db, &env)
}

pub(super) fn error(ty: &str, value: &str) -> Value {
    json!({
        "exceptions": [{"type": ty, "value": value, "frames": [
            {"filename": "src/cart.py", "function": "add", "lineno": 42, "in_app": true}]}],
        "environment": "production", "release": "1.4.2", "level": "error",
    })
}

fn channels(db: &str, slug: &str) -> Vec<Value> {
    let (ok, out, err) = cli_env(db, &[], &["channel", "list", slug, "--json"]);
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["channels"].as_array().unwrap().clone()
}

/// Verifies a Standard Webhooks signature with Python's hmac, independently of the server.
fn python_verifies(secret: &str, r: &Received) -> bool {
    let script = r#"
import base64, hashlib, hmac, sys
secret, msg_id, ts, sig, body = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.stdin.buffer.read()
key = base64.b64decode(secret.removeprefix("whsec_"))
want = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
ok = any(hmac.compare_digest(s.split(",", 1)[1], want) for s in sig.split(" ") if s.startswith("v1,"))
sys.exit(0 if ok else 1)
"#;
    let mut child = Command::new("python3")
        .args([
            "-c",
            script,
            secret,
            r.header("webhook-id").unwrap(),
            r.header("webhook-timestamp").unwrap(),
            r.header("webhook-signature").unwrap(),
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&r.body).unwrap();
    child.wait().unwrap().success()
}

#[test]
fn each_kind_gets_its_documented_payload_with_a_hostile_message_escaped() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Checkout");
    let kinds = ["slack", "discord", "mattermost", "teams", "webhook"];
    let receivers: Vec<Receiver> = kinds
        .iter()
        .map(|k| Receiver::start(&format!("/{k}/T0/secret-part")))
        .collect();
    let mut secret = None;
    for (kind, r) in kinds.iter().zip(&receivers) {
        let (_, s) = add_channel(db, &project.slug, kind, &r.url);
        assert_eq!(
            s.is_some(),
            *kind == "webhook",
            "{kind}: a secret only for webhooks"
        );
        secret = secret.or(s);
    }
    let secret = secret.unwrap();
    assert!(secret.starts_with("whsec_"), "{secret}");
    for c in channels(db, &project.slug) {
        let url = c["url"].as_str().unwrap();
        assert!(!url.contains("secret-part"), "shown masked: {url}");
    }

    let server = start(db, &[]);
    let reply = server.send_event(&project.token, &error("CartError", HOSTILE));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let issue = reply.json()["issue_id"].as_i64().unwrap();
    let link = format!("{}/issues/{issue}", server.url);
    let got: Vec<Received> = receivers
        .iter()
        .map(|r| r.wait_for(1, WAIT).remove(0))
        .collect();

    for (kind, r) in kinds.iter().zip(&got) {
        assert_eq!(r.method, "POST", "{kind}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{kind}");
        let text = String::from_utf8_lossy(&r.body);
        if *kind != "webhook" {
            for ping in ["<!channel>", "@everyone", "@here", "<@123>", "**bold**"] {
                assert!(!text.contains(ping), "{kind} carries {ping}: {text}");
            }
        }
        assert!(text.contains(&link), "{kind} links the issue: {text}");
        assert!(
            text.contains("production") && text.contains("1.4.2"),
            "{kind}: {text}"
        );
        assert!(
            text.contains("src/cart.py:42 in add"),
            "{kind}: top frame: {text}"
        );
    }
    let slack = got[0].json();
    assert_eq!(slack["blocks"][0]["type"], "header");
    assert!(
        slack["text"].as_str().unwrap().contains("&lt;!channel&gt;"),
        "{slack}"
    );
    let discord = got[1].json();
    assert_eq!(discord["allowed_mentions"], json!({"parse": []}));
    assert_eq!(discord["embeds"][0]["url"], link.as_str());
    let mattermost = got[2].json();
    assert!(
        mattermost["text"]
            .as_str()
            .unwrap()
            .starts_with("### CartError"),
        "{mattermost}"
    );
    let teams = got[3].json();
    assert_eq!(teams["type"], "message");
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["actions"][0]["url"], link.as_str());

    let hook = &got[4];
    let body = hook.json();
    assert_eq!(body["type"], "alert.new_issue");
    assert_eq!(body["version"], 1);
    let sent = &body["data"]["issues"][0];
    assert_eq!(sent["id"], issue);
    assert_eq!(
        sent["title"],
        format!("CartError: {HOSTILE}"),
        "values as sent"
    );
    assert_eq!(sent["environment"], "production");
    assert_eq!(sent["release"], "1.4.2");
    assert_eq!(sent["count"], 1);
    assert_eq!(sent["url"], link.as_str());
    assert!(hook.header("webhook-id").unwrap().starts_with("msg_"));
    let ts: i64 = hook.header("webhook-timestamp").unwrap().parse().unwrap();
    assert!((ts - chrono_now()).abs() < 60, "timestamp in unix seconds");
    assert!(
        python_verifies(&secret, hook),
        "Python's hmac verifies the signature"
    );
    assert!(
        !python_verifies("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", hook),
        "and only with the secret"
    );

    // Delivered once each, logged per channel; no mail row waits while SMTP is unset.
    std::thread::sleep(Duration::from_millis(500));
    for r in &receivers {
        assert_eq!(r.requests().len(), 1, "{}", r.url);
    }
    for c in channels(db, &project.slug) {
        assert_eq!(c["deliveries"][0]["status"], 200, "{c}");
        assert_eq!(c["deliveries"][0]["event"], "new_issue", "{c}");
    }
    let metrics = request("GET", &format!("{}/metrics", server.url), &[], None).body;
    assert!(metrics.contains("bugle_mails_pending 0"), "{metrics}");
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn a_private_address_is_refused_without_the_setting() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Private");
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/x",
        "http://169.254.169.254/latest",
        "http://[::1]:9/",
    ] {
        let (ok, _, err) = cli_env(
            db,
            &[],
            &[
                "channel",
                "add",
                &project.slug,
                "--kind",
                "slack",
                "--url",
                url,
            ],
        );
        assert!(!ok, "{url} accepted");
        assert!(err.contains("alerts.allow_private_targets"), "{url}: {err}");
    }
    let (ok, _, err) = cli_env(
        db,
        &[],
        &[
            "channel",
            "add",
            &project.slug,
            "--kind",
            "slack",
            "--url",
            "file:///etc/passwd",
        ],
    );
    assert!(!ok && err.contains("http"), "{err}");
    let (ok, _, err) = cli_env(
        db,
        &[],
        &[
            "channel",
            "add",
            &project.slug,
            "--kind",
            "irc",
            "--url",
            "https://example.com/",
        ],
    );
    assert!(!ok && err.contains("kind must be one of"), "{err}");

    // Saved while allowed, then the server without the setting refuses to post there.
    let receiver = Receiver::start("/hook");
    add_channel(db, &project.slug, "webhook", &receiver.url);
    let server = TestServer::start_with(db, &[("BUGLE_ALERTS_POLL_MS", "100")]);
    assert_eq!(
        server
            .send_event(&project.token, &error("PrivateError", "x"))
            .status,
        200
    );
    let start = Instant::now();
    loop {
        let c = &channels(db, &project.slug)[0];
        if let Some(e) = c["deliveries"][0]["error"].as_str() {
            assert!(e.contains("private"), "{e}");
            break;
        }
        assert!(start.elapsed() < WAIT, "no delivery recorded: {c}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(receiver.requests().is_empty());
}

#[test]
fn a_receiver_failing_for_a_while_gets_the_alert_exactly_once() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Flaky");
    let receiver = Receiver::start("/hook");
    receiver.answer_with(|n| match n {
        1 => (503, vec![], "down".into()),
        2 => (
            429,
            vec![("Retry-After".into(), "1".into())],
            "slow down".into(),
        ),
        _ => (200, vec![], "ok".into()),
    });
    add_channel(db, &project.slug, "webhook", &receiver.url);
    let server = start(db, &[]);
    assert_eq!(
        server
            .send_event(&project.token, &error("FlakyError", "x"))
            .status,
        200
    );
    let got = receiver.wait_for(3, WAIT);
    std::thread::sleep(Duration::from_millis(1500));
    let got_after = receiver.requests();
    assert_eq!(
        got_after.len(),
        3,
        "two failures, one success, nothing more: {got:?}"
    );
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one webhook-id across retries: {ids:?}"
    );
    let log = &channels(db, &project.slug)[0]["deliveries"];
    let statuses: Vec<i64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 429, 503], "newest first");
    assert_eq!(log[1]["error"], "HTTP 429: slow down");
}

#[test]
fn gone_disables_the_channel_and_other_4xx_give_up() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Gone");
    let gone = Receiver::start("/gone");
    gone.answer_with(|_| (410, vec![], "".into()));
    let bad = Receiver::start("/bad");
    bad.answer_with(|_| (400, vec![], "invalid_payload".into()));
    add_channel(db, &project.slug, "slack", &gone.url);
    add_channel(db, &project.slug, "discord", &bad.url);
    let server = start(db, &[]);
    assert_eq!(
        server
            .send_event(&project.token, &error("GoneError", "x"))
            .status,
        200
    );
    gone.wait_for(1, WAIT);
    bad.wait_for(1, WAIT);
    std::thread::sleep(Duration::from_millis(800));
    let list = channels(db, &project.slug);
    assert_eq!(list[0]["disabled"], true, "{}", list[0]);
    assert!(list[0]["disabled_reason"].as_str().unwrap().contains("410"));
    bugle_tests::web::create_user(db, "admin@example.com", true);
    let web = bugle_tests::web::WebUser::sign_in(
        &server.url,
        "admin@example.com",
        bugle_tests::web::PASSWORD,
    );
    let settings = web
        .get(&format!("/projects/{}/channels", project.slug))
        .body;
    assert!(
        settings.contains("Disabled: the receiver answered 410 Gone"),
        "settings say why: {settings}"
    );
    assert_eq!(list[1]["disabled"], false);
    assert_eq!(
        list[1]["deliveries"][0]["error"],
        "HTTP 400: invalid_payload"
    );
    // Neither retries; the disabled channel gets nothing more.
    assert_eq!(
        server
            .send_event(&project.token, &error("LaterError", "y"))
            .status,
        200
    );
    bad.wait_for(2, WAIT);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(gone.requests().len(), 1);
    assert_eq!(bad.requests().len(), 2);
}

#[test]
fn alerts_that_could_not_go_out_in_time_become_one_summary() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Outage");
    let receiver = Receiver::start("/hook");
    let started = Instant::now();
    receiver.answer_with(move |_| {
        if started.elapsed() < Duration::from_secs(4) {
            (503, vec![], "down".into())
        } else {
            (200, vec![], "ok".into())
        }
    });
    add_channel(db, &project.slug, "webhook", &receiver.url);
    let server = start(db, &[("BUGLE_ALERTS_STALE_AFTER_SECS", "2")]);
    for ty in ["OneError", "TwoError", "ThreeError"] {
        assert_eq!(
            server.send_event(&project.token, &error(ty, "x")).status,
            200
        );
    }
    let deadline = Instant::now() + WAIT;
    let delivered = loop {
        std::thread::sleep(Duration::from_millis(200));
        let ok: Vec<Received> = receiver
            .requests()
            .into_iter()
            .filter(|_| started.elapsed() >= Duration::from_secs(4))
            .collect();
        let log = &channels(db, &project.slug)[0]["deliveries"];
        if log[0]["status"] == 200 {
            break ok;
        }
        assert!(Instant::now() < deadline, "never delivered: {log}");
    };
    std::thread::sleep(Duration::from_millis(1000));
    let log = channels(db, &project.slug)[0]["deliveries"].clone();
    let successes: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == 200)
        .collect();
    assert_eq!(successes.len(), 1, "one message after the outage: {log}");
    assert_eq!(successes[0]["event"], "summary", "{log}");
    let last = delivered.last().unwrap().json();
    assert_eq!(last["type"], "alert.summary", "{last}");
    assert_eq!(last["data"]["count"], 3, "{last}");
    assert_eq!(last["data"]["issues"].as_array().unwrap().len(), 3);
    assert!(last["data"]["headline"]
        .as_str()
        .unwrap()
        .contains("while alerts were off or failing"));
}

#[test]
fn two_servers_on_one_postgres_deliver_each_alert_once() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let db = &backend.database_url;
    let project = create_project(db, "Shared");
    let receiver = Receiver::start("/hook");
    add_channel(db, &project.slug, "webhook", &receiver.url);
    let env = [("BUGLE_MAIL_BURST_DIGEST", "1000")];
    let servers = [start(db, &env), start(db, &env)];
    for i in 0..12 {
        let server = &servers[i % 2];
        let reply = server.send_event(&project.token, &error(&format!("Shared{i}Error"), "x"));
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    receiver.wait_for(12, WAIT);
    std::thread::sleep(Duration::from_millis(1500));
    let got = receiver.requests();
    let mut ids: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-id").unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        (got.len(), ids.len()),
        (12, 12),
        "each alert delivered once"
    );
}

#[test]
fn channel_test_posts_now_and_remove_stops_alerts() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Testing");
    let receiver = Receiver::start("/hook");
    let (id, _) = add_channel(db, &project.slug, "slack", &receiver.url);
    let (ok, out, err) = cli_env(
        db,
        &[PRIVATE_OK],
        &["channel", "test", &project.slug, &id.to_string()],
    );
    assert!(ok, "{err}");
    assert!(out.contains("delivered"), "{out}");
    let got = receiver.wait_for(1, WAIT);
    assert!(got[0].json()["text"]
        .as_str()
        .unwrap()
        .contains("Test message"));
    let (ok, _, err) = cli_env(
        db,
        &[],
        &["channel", "remove", &project.slug, &id.to_string()],
    );
    assert!(ok, "{err}");
    assert!(channels(db, &project.slug).is_empty());
}

#[test]
fn a_channel_is_added_and_tested_in_the_browser() {
    use bugle_tests::browser::{artifacts_dir, Browser};
    use bugle_tests::web::{create_user, PASSWORD};
    let Some(browser) = Browser::start() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Browser Alerts");
    create_user(db, "ada@example.com", true);
    let receiver = Receiver::start("/T0/B0/secret-token");
    let server = start(db, &[]);
    let base = &server.url;
    browser.goto(&format!("{base}/projects"));
    browser.wait_for("the login page", |b| b.current_url().contains("/login"));
    browser
        .find("input[name=email]")
        .send_keys("ada@example.com");
    browser.find("input[name=password]").send_keys(PASSWORD);
    browser.find("#sign-in").click();
    browser.wait_for("the projects page", |b| {
        b.current_url().ends_with("/projects")
    });

    browser.goto(&format!("{base}/projects/{}/settings", project.slug));
    browser.find("#edit-channels").click();
    browser.wait_for("the channels page", |b| b.exists("#add-channel"));
    browser.find("#channel-url").send_keys(&receiver.url);
    browser.find("#channel-name").send_keys("#checkout");
    browser.find("#add-channel-button").click();
    browser.wait_for("the added channel", |b| b.exists("#channel-notice"));
    let page = browser.page_source();
    assert!(!page.contains("secret-token"), "the URL is shown masked");
    assert!(page.contains("#checkout"));

    browser.find(".send-test").click();
    browser.wait_for("the test result", |b| {
        b.exists("#channel-notice") || b.exists("#channel-error")
    });
    let notice = browser.find("#channel-notice").text();
    assert!(notice.contains("delivered"), "{notice}");
    let got = receiver.wait_for(1, WAIT);
    assert!(got[0].json()["text"]
        .as_str()
        .unwrap()
        .contains("Test message"));
    assert!(browser.find(".deliveries").text().contains("200"));
    browser.screenshot(&artifacts_dir().join("channels.png"));
}

#[test]
fn channels_through_the_api_get_only_the_alerts_they_ask_for() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Api Alerts");
    let api = bugle_tests::server::create_user_token(db, "ada@example.com", true);
    let server = start(db, &[]);
    let path = format!("/api/v1/projects/{}/channels", project.slug);
    let all = Receiver::start("/all");
    let regressions = Receiver::start("/regressions");
    let critical = Receiver::start("/critical");

    let reply = server.send_json(
        "POST",
        &api,
        &path,
        &json!({"kind": "webhook", "url": all.url}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(reply.json()["secret"]
        .as_str()
        .unwrap()
        .starts_with("whsec_"));
    assert!(
        !reply.body.contains(all.url.as_str()),
        "URL masked: {}",
        reply.body
    );
    let reply = server.send_json(
        "POST",
        &api,
        &path,
        &json!({"kind": "slack", "url": regressions.url, "events": "regression"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.json()["secret"], Value::Null, "no secret for Slack");
    let reply = server.send_json(
        "POST",
        &api,
        &path,
        &json!({"kind": "discord", "url": critical.url, "min_level": "critical", "environment": "production"}),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    for (body, why) in [
        (
            json!({"kind": "irc", "url": "https://example.com/"}),
            "kind must be one of",
        ),
        (
            json!({"kind": "slack", "url": "ftp://example.com/"}),
            "http",
        ),
        (
            json!({"kind": "slack", "url": all.url, "events": "deploy"}),
            "unknown event",
        ),
        (
            json!({"kind": "slack", "url": all.url, "min_level": "loud"}),
            "unknown level",
        ),
    ] {
        let reply = server.send_json("POST", &api, &path, &body);
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        assert!(
            reply.json()["detail"].as_str().unwrap().contains(why),
            "{body}: {}",
            reply.body
        );
    }

    // A body that is not a channel at all: the API's usual 422 naming the field.
    let reply = server.send_json("POST", &api, &path, &json!({"kind": "slack"}));
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("url"), "{}", reply.body);

    assert_eq!(
        server
            .send_event(&project.token, &error("PlainError", "x"))
            .status,
        200
    );
    all.wait_for(1, WAIT);
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        regressions.requests().is_empty(),
        "a new issue is not a regression"
    );
    assert!(critical.requests().is_empty(), "an error is below critical");
    let mut staging = error("StagingError", "x");
    staging["level"] = json!("critical");
    staging["environment"] = json!("staging");
    assert_eq!(server.send_event(&project.token, &staging).status, 200);
    all.wait_for(2, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    assert!(critical.requests().is_empty(), "staging is not production");
    let mut fatal = error("FatalError", "x");
    fatal["level"] = json!("critical");
    assert_eq!(server.send_event(&project.token, &fatal).status, 200);
    critical.wait_for(1, WAIT);

    let list = server.get(&api, &path).json();
    let channels = list["channels"].as_array().unwrap();
    assert_eq!(channels.len(), 3);
    assert_eq!(channels[1]["events"], "regression");
    let id = channels[1]["id"].as_i64().unwrap();
    let reply = server.send_json("POST", &api, &format!("{path}/{id}/test"), &json!({}));
    assert_eq!(reply.json()["delivered"], true, "{}", reply.body);
    regressions.wait_for(1, WAIT);
    let reply = request(
        "DELETE",
        &format!("{}{path}/{id}", server.url),
        &[("Authorization", &format!("Bearer {api}"))],
        None,
    );
    assert_eq!(reply.status, 204);
    assert_eq!(
        server.get(&api, &path).json()["channels"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
