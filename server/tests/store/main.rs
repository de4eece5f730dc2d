//! Store behaviour, each test run on SQLite and on PostgreSQL from the same body; one module
//! per subject, the shared helpers here.

mod access;
mod alert_rules;
mod attachments;
mod channels;
mod grouping;
mod ingest;
mod issues;
mod mail_backlog;
mod ownership;
mod release_health;
mod releases;
mod search;
mod services;
mod traces;

use std::collections::{BTreeMap, BTreeSet};

use bugle_server::config::Config;
use bugle_server::event::{Event, Exception, Frame, Server};
use bugle_server::grouping::{rules::Rules, GroupHash};
use bugle_server::ingest::prepare;
use bugle_server::store::issues::{IssueFilter, Sort, StatusFilter};
use bugle_server::store::writer::{SubmitError, Writer};
use bugle_server::store::{NewOccurrence, Store};
use bugle_tests::server::Backend;
use chrono::Utc;
use uuid::Uuid;

/// Each backend with an opened, migrated store and one project.
async fn stores() -> Vec<(Backend, Store, i64)> {
    stores_with(|_| {}).await
}

/// As `stores`, with mail configured: mail rows are queued only when SMTP is set.
async fn stores_mailing() -> Vec<(Backend, Store, i64)> {
    stores_with(|c| c.mail.smtp_url = Some("smtp://127.0.0.1:2525".into())).await
}

async fn stores_with(edit: impl Fn(&mut Config)) -> Vec<(Backend, Store, i64)> {
    let mut out = Vec::new();
    for backend in Backend::all() {
        let mut config = Config {
            database_url: backend.database_url.clone(),
            ..Config::default()
        };
        edit(&mut config);
        let store = Store::open(&config).await.expect("store opens");
        let (project, _) = store.create_project("Checkout API", None).await.unwrap();
        out.push((backend, store, project.id));
    }
    out
}

/// Another store on the same database, as a second server instance would open it.
async fn second_instance(backend: &Backend) -> Store {
    let config = Config {
        database_url: backend.database_url.clone(),
        ..Config::default()
    };
    Store::open(&config).await.expect("store opens")
}

fn frame(module: &str, function: &str, line: u32, in_app: bool) -> Frame {
    Frame {
        module: Some(module.into()),
        function: Some(function.into()),
        filename: Some(format!("{}.py", module.replace('.', "/"))),
        lineno: Some(line),
        in_app: Some(in_app),
        ..Frame::default()
    }
}

/// A Python-like error; `line` and `host` vary without changing the group.
fn error_event(ty: &str, line: u32, host: &str) -> Event {
    Event {
        environment: Some("production".into()),
        server: Some(Server {
            host: Some(host.into()),
            ..Server::default()
        }),
        exceptions: vec![Exception {
            ty: ty.into(),
            value: Some(format!("cart {line} is empty")),
            frames: vec![
                frame("django.core.handlers", "inner", 55, false),
                frame("shop.views", "checkout", line, true),
            ],
            ..Exception::default()
        }],
        ..Event::default()
    }
}

/// Occurrences counted in an issue's hourly buckets, all time.
async fn hourly_total(store: &Store, issue: i64) -> i64 {
    let hours = store.issue_hourly(issue, 0).await.unwrap();
    hours.iter().map(|h| h.1).sum()
}

fn prepared(project: i64, event: Event) -> NewOccurrence {
    prepare(
        project,
        &Rules::default(),
        event,
        "native",
        None,
        Utc::now(),
    )
    .expect("valid event")
}
