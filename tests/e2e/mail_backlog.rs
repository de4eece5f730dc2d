//! No stale floods by mail: mail that could not go out within `mail.stale_after_secs` (SMTP
//! down) arrives as one digest per recipient once SMTP is back, not late one by one.

use std::time::Duration;

use bugle_tests::server::Backend;
use bugle_tests::server::{cli, create_project};
use bugle_tests::smtp::{free_port, SmtpServer};

use super::alerts::error;
use super::notifications::{mail_env, start};

#[test]
fn mail_that_could_not_go_out_in_time_comes_as_one_digest() {
    if bugle_tests::python::venv().is_none() {
        return;
    }
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Backlog");
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
    // Nothing listens on the SMTP port yet: every attempt fails and is retried.
    let port = free_port();
    let mut env = mail_env(&format!("smtp://127.0.0.1:{port}"));
    env.push(("BUGLE_MAIL_STALE_AFTER_SECS", "2".to_owned()));
    let server = start(db, &env);
    for ty in ["OneError", "TwoError", "ThreeError"] {
        assert_eq!(
            server.send_event(&project.token, &error(ty, "x")).status,
            200
        );
    }
    std::thread::sleep(Duration::from_millis(2500));
    let smtp = SmtpServer::start(port).unwrap();
    let mails = smtp.wait_for(1, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1500));
    let mails_now = smtp.messages();
    assert_eq!(
        mails_now.len(),
        1,
        "one digest, not three late mails: {mails_now:#?}"
    );
    let subject = mails[0]["subject"].as_str().unwrap();
    assert_eq!(
        subject, "[Backlog] 3 mails while mail was off or failing",
        "{subject}"
    );
    let text = mails[0]["text"].as_str().unwrap();
    for ty in ["OneError", "TwoError", "ThreeError"] {
        assert!(text.contains(ty), "{ty} listed: {text}");
    }
}
