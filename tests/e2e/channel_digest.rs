//! A channel's hourly cap end to end with a real HTTP receiver: alerts past it are not dropped
//! but come as one digest for the channel once its last hour has room again.

use std::time::Duration;

use bugle_tests::db;
use bugle_tests::receiver::Receiver;
use bugle_tests::server::{create_project, Backend};
use serde_json::Value;

use super::alerts::{add_channel, cli_env, error, start, WAIT};

#[test]
fn alerts_past_a_channels_hourly_cap_come_as_one_digest() {
    for backend in Backend::all() {
        let db_url = &backend.database_url;
        let name = backend.name;
        let project = create_project(db_url, "Capped Channel");
        let hook = Receiver::start("/hook");
        add_channel(db_url, &project.slug, "webhook", &hook.url);
        let server = start(
            db_url,
            &[
                ("BUGLE_MAIL_HOURLY_CAP", "1"),
                ("BUGLE_MAIL_COOLDOWN_MINUTES", "0"),
                ("BUGLE_MAIL_SPIKE_COUNT", "100000"),
            ],
        );
        // The new issue always goes; its milestones at 10 and 100 are past the cap of 1.
        for _ in 0..100 {
            let reply = server.send_event(&project.token, &error("CapError", "x"));
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        let got = hook.wait_for(1, WAIT);
        assert_eq!(got[0].json()["data"]["event"], "new_issue", "{name}");
        let held = |sql: &str| db::rows(db_url, sql);
        let wait = std::time::Instant::now();
        while held("SELECT detail FROM outbox WHERE kind = 'digest' AND sent_at IS NULL")
            .first()
            .is_none_or(|r| !r[0].contains("\"count\":2"))
        {
            assert!(wait.elapsed() < WAIT, "{name}: both milestones held");
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            hook.requests().len(),
            1,
            "{name}: nothing more while capped"
        );

        // An hour passes: the delivered alert leaves the window, the digest comes due.
        held("UPDATE outbox SET sent_at = sent_at - 3600001 WHERE channel_id IS NOT NULL AND sent_at IS NOT NULL");
        held("UPDATE outbox SET next_attempt_at = 0 WHERE kind = 'digest'");
        let got = hook.wait_for(2, WAIT);
        let data = &got[1].json()["data"];
        assert_eq!(data["event"], "digest", "{name}: {data}");
        assert!(
            data["headline"]
                .as_str()
                .unwrap()
                .starts_with("2 alerts held back by this channel's limit of 1 an hour"),
            "{name}: {data}"
        );
        assert_eq!(data["issues"].as_array().map(Vec::len), Some(1), "{data}");
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(hook.requests().len(), 2, "{name}: one digest");

        let (ok, out, err) = cli_env(db_url, &[], &["channel", "list", &project.slug, "--json"]);
        assert!(ok, "{err}");
        let listed: Value = serde_json::from_str(&out).unwrap();
        let deliveries = &listed["channels"][0]["deliveries"];
        assert_eq!(deliveries[0]["reason"], "hourly cap digest", "{deliveries}");
        assert_eq!(deliveries[1]["reason"], "channel settings", "{deliveries}");
    }
}
