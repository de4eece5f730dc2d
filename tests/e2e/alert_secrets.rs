//! Channel credentials stay out of the logs: a Slack URL (its path is the secret) and a
//! webhook's signing secret appear in no log line of the server or the CLI at debug level,
//! through deliveries that succeed, fail and are retried, give up, and a test message.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use bugle_tests::receiver::Receiver;
use bugle_tests::server::{binary, create_project, Backend};
use serde_json::Value;

use super::alerts::{add_channel, cli_env, error, PRIVATE_OK, WAIT};

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn channel_urls_and_signing_secrets_are_never_logged() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Quiet Logs");
    let slack = Receiver::start("/services/T0QUIET/B0QUIET/s3cretSlackToken");
    slack.answer_with(|n| match n {
        1 => (503, vec![], "busy".into()),
        _ => (200, vec![], "ok".into()),
    });
    let hook = Receiver::start("/hooks/s3cretHookPath");
    hook.answer_with(|_| (400, vec![], "no".into()));
    let (slack_id, _) = add_channel(db, &project.slug, "slack", &slack.url);
    let (_, secret) = add_channel(db, &project.slug, "webhook", &hook.url);
    let secret = secret.expect("a webhook secret");

    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("BUGLE_DATABASE_URL", db)
        .env("BUGLE_LOG", "debug")
        .env(PRIVATE_OK.0, PRIVATE_OK.1)
        .env("BUGLE_ALERTS_POLL_MS", "100")
        .env("BUGLE_ALERTS_RETRY_MS", "200")
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .expect("the server starts");
    let stdout = child.stdout.take().unwrap();
    let server = KillOnDrop(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("listening on ")
        .unwrap()
        .trim()
        .to_owned();
    std::thread::spawn(move || for _ in lines {});

    let reply = bugle_tests::server::request(
        "POST",
        &format!("{url}/api/v1/events"),
        &[
            ("Authorization", &format!("Bearer {}", project.token)),
            ("Content-Type", "application/json"),
        ],
        Some(error("LoudError", "x").to_string().into_bytes()),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    slack.wait_for(2, WAIT);
    hook.wait_for(1, WAIT);
    let (ok, out, cli_log) = cli_env(
        db,
        &[PRIVATE_OK, ("BUGLE_LOG", "debug")],
        &["channel", "test", &project.slug, &slack_id.to_string()],
    );
    assert!(ok && out.contains("delivered"), "{out} {cli_log}");
    let (ok, listed, list_log) = cli_env(
        db,
        &[("BUGLE_LOG", "debug")],
        &["channel", "list", &project.slug, "--json"],
    );
    assert!(ok);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    drop(server);

    let server_log = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        server_log.contains("alert not delivered"),
        "the retried delivery is logged: {server_log}"
    );
    let key = secret.trim_start_matches("whsec_");
    for text in [&server_log, &cli_log, &list_log, &listed.to_string()] {
        for secret in ["s3cretSlackToken", "T0QUIET", "s3cretHookPath", key] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}
