//! The authorization matrix: every route the server registers × every kind of caller, with
//! the status each must get. The route list comes from the binary (`bugle-server routes`,
//! built from the same table that registers them with actix), so a new route without an entry
//! here fails `the_matrix_covers_every_route`.

mod fixture;
mod table;

use std::collections::BTreeSet;
use std::time::Duration;

use bugle_tests::server::{cli, Backend, Reply};
use fixture::{sentry_auth, Caller, Credentials, Fixture, ADMIN, CALLERS, MEMBER, OUTSIDER};
use table::{entries, Body, Entry, Kind};

fn registered_routes() -> BTreeSet<(String, String)> {
    let backend = Backend::sqlite();
    cli(&backend.database_url, &["routes"], None)
        .lines()
        .map(|line| {
            let (method, path) = line.split_once(' ').expect("`METHOD /path` lines");
            (method.to_owned(), path.to_owned())
        })
        .collect()
}

#[test]
fn the_matrix_covers_every_route() {
    let routes = registered_routes();
    assert!(routes.len() > 50, "too few routes listed: {routes:?}");
    let table: BTreeSet<(String, String)> = entries()
        .iter()
        .map(|e| (e.method.to_owned(), e.pattern.to_owned()))
        .collect();
    let missing: Vec<_> = routes.difference(&table).collect();
    let stale: Vec<_> = table.difference(&routes).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "routes without a matrix entry (add them to tests/e2e/authorization/table.rs): \
         {missing:?}; entries for routes that do not exist: {stale:?}"
    );
    assert_eq!(entries().len(), table.len(), "one entry per route");
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One cell: the entry's request with everything the caller holds.
fn call(base: &str, method: &str, path: &str, body: Body, who: &Credentials) -> Reply {
    let mut builder = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"));
    if let Some((cookie, _)) = &who.session {
        builder = builder.header("Cookie", cookie);
    }
    if let Some(token) = &who.api_token {
        builder = builder.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(key) = &who.ingest_key {
        builder = builder
            .header("Authorization", format!("Bearer {key}"))
            .header("X-Sentry-Auth", sentry_auth(key))
            .header("X-Rollbar-Access-Token", key);
    }
    let (content_type, bytes) = match body {
        Body::None => (None, None),
        Body::Json(value) => (
            Some("application/json"),
            Some(value.to_string().into_bytes()),
        ),
        Body::Raw(kind, bytes) => (Some(kind), Some(bytes)),
        Body::Form(fields) => {
            let mut pairs: Vec<String> = Vec::new();
            if let Some((_, csrf)) = &who.session {
                pairs.push(format!("csrf={}", encode(csrf)));
            }
            pairs.extend(
                fields
                    .iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(v))),
            );
            (
                Some("application/x-www-form-urlencoded"),
                Some(pairs.join("&").into_bytes()),
            )
        }
    };
    if let Some(kind) = content_type {
        builder = builder.header("Content-Type", kind);
    }
    let result = match bytes {
        Some(bytes) => agent().run(builder.body(bytes).unwrap()),
        None => agent().run(builder.body(()).unwrap()),
    };
    Reply::from(result.unwrap_or_else(|e| panic!("{method} {path} failed: {e}")))
}

fn email_of(caller: Caller) -> Option<&'static str> {
    match caller {
        Caller::Outsider => Some(OUTSIDER),
        Caller::Member => Some(MEMBER),
        Caller::Admin => Some(ADMIN),
        _ => None,
    }
}

/// Runs every cell; returns the ones that differ from the matrix.
fn run(f: &Fixture) -> Vec<String> {
    let mut table = entries();
    // Signing out last keeps the sessions the other rows use.
    table.sort_by_key(|e| e.ends_session);
    let mut wrong = Vec::new();
    for entry in &table {
        for caller in CALLERS {
            wrong.extend(cell(f, entry, caller));
        }
    }
    wrong
}

fn cell(f: &Fixture, entry: &Entry, caller: Caller) -> Option<String> {
    let (path, body) = (entry.make)(f);
    let mut who = f.credentials(caller).clone();
    if entry.ends_session && who.session.is_some() {
        who.session = Some(f.fresh_session(email_of(caller).unwrap()));
    }
    let reply = call(&f.server.url, entry.method, &path, body, &who);
    let expected = entry
        .except
        .iter()
        .find(|(c, _)| *c == caller)
        .map(|(_, s)| *s)
        .unwrap_or_else(|| entry.kind.expected(caller));
    let dashboard = matches!(
        entry.kind,
        Kind::Shop(_) | Kind::AdminOnly(_) | Kind::SignedIn(_)
    );
    let to_login = reply
        .header("location")
        .is_some_and(|l| l.starts_with("/login"));
    let misdirected = dashboard && who.session.is_none() && reply.status == 303 && !to_login;
    (reply.status != expected || misdirected).then(|| {
        let body: String = reply.body.chars().take(160).collect();
        format!(
            "{} {} ({path}) as {caller:?}: got {} (location {:?}), want {expected}: {body}",
            entry.method,
            entry.pattern,
            reply.status,
            reply.header("location"),
        )
    })
}

#[test]
fn every_route_answers_every_kind_of_caller_as_the_matrix_says() {
    for backend in Backend::all() {
        let fixture = Fixture::new(&backend.database_url);
        let wrong = run(&fixture);
        assert!(
            wrong.is_empty(),
            "{}: {} cells differ from the matrix:\n{}",
            backend.name,
            wrong.len(),
            wrong.join("\n")
        );
    }
}
