//! The callers of the authorization matrix and the data they are tried on: two projects (Shop,
//! the one every route names, and Blog), three users, their sessions and API tokens, the
//! projects' ingest keys, and helpers making fresh rows for routes that delete what they name.

use bugle_tests::db::rows;
use bugle_tests::server::{cli, create_project, request, Project, TestServer};
use bugle_tests::web::{create_user, WebUser};
use serde_json::{json, Value};

/// Who calls. Every caller sends all it holds on every route (a session cookie with its form
/// token, an API token, an ingest key), so each route also proves it ignores the wrong kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// Signed in (and with a write token) as a member of Blog only.
    Outsider,
    /// Signed in (and with a write token) as a member of Shop.
    Member,
    /// Signed in (and with a write token) as an admin, member of nothing.
    Admin,
    /// The Shop member's read-only API token, no session.
    TokenRead,
    /// The Shop member's write token limited to Shop, no session.
    TokenWrite,
    /// A deleted API token of the Shop member.
    Revoked,
    /// Blog's ingest key, used on Shop's ingest URLs.
    OtherKey,
    /// Shop's ingest key.
    Key,
}

pub const CALLERS: [Caller; 9] = [
    Caller::Anonymous,
    Caller::Outsider,
    Caller::Member,
    Caller::Admin,
    Caller::TokenRead,
    Caller::TokenWrite,
    Caller::Revoked,
    Caller::OtherKey,
    Caller::Key,
];

/// What a caller sends.
#[derive(Default, Clone)]
pub struct Credentials {
    pub session: Option<(String, String)>,
    pub api_token: Option<String>,
    pub ingest_key: Option<String>,
}

pub const MEMBER: &str = "member@example.com";
pub const OUTSIDER: &str = "outsider@example.com";
pub const ADMIN: &str = "admin@example.com";

pub struct Fixture {
    pub db: String,
    pub server: TestServer,
    pub shop: Project,
    /// An issue and one of its occurrences in Shop.
    pub issue: i64,
    pub occurrence: String,
    pub attachment: i64,
    pub deploy: i64,
    admin_token: String,
    credentials: Vec<(Caller, Credentials)>,
}

fn token(db: &str, email: &str, args: &[&str]) -> String {
    let mut all = vec!["token", "create", email, "--json"];
    all.extend_from_slice(args);
    let out: Value = serde_json::from_str(&cli(db, &all, None)).unwrap();
    out["token"].as_str().unwrap().to_owned()
}

/// A signed-in user's cookie and the form token of its session.
fn session(base: &str, email: &str) -> (String, String) {
    let user = WebUser::sign_in(base, email, bugle_tests::web::PASSWORD);
    let csrf = user.csrf("/settings");
    (user.cookie, csrf)
}

impl Fixture {
    pub fn new(db: &str) -> Fixture {
        let shop = create_project(db, "Shop");
        let blog = create_project(db, "Blog");
        create_user(db, MEMBER, false);
        create_user(db, OUTSIDER, false);
        create_user(db, ADMIN, true);
        cli(db, &["project", "add-member", &shop.slug, MEMBER], None);
        cli(db, &["project", "add-member", &blog.slug, OUTSIDER], None);
        let revoked = token(db, MEMBER, &["--name", "revoked"]);
        cli(
            db,
            &["release", "create", &shop.slug, "1.0", "--finalize"],
            None,
        );
        let server = TestServer::start_with(db, &[("BUGLE_ALERTS_ALLOW_PRIVATE_TARGETS", "true")]);
        let base = server.url.clone();
        let with = |session, api_token: Option<String>, ingest_key: Option<&str>| Credentials {
            session,
            api_token,
            ingest_key: ingest_key.map(str::to_owned),
        };
        let admin_token = token(db, ADMIN, &[]);
        let credentials = vec![
            (Caller::Anonymous, Credentials::default()),
            (
                Caller::Outsider,
                with(
                    Some(session(&base, OUTSIDER)),
                    Some(token(db, OUTSIDER, &[])),
                    None,
                ),
            ),
            (
                Caller::Member,
                with(
                    Some(session(&base, MEMBER)),
                    Some(token(db, MEMBER, &[])),
                    None,
                ),
            ),
            (
                Caller::Admin,
                with(Some(session(&base, ADMIN)), Some(admin_token.clone()), None),
            ),
            (
                Caller::TokenRead,
                with(None, Some(token(db, MEMBER, &["--scope", "read"])), None),
            ),
            (
                Caller::TokenWrite,
                with(
                    None,
                    Some(token(db, MEMBER, &["--project", &shop.slug])),
                    None,
                ),
            ),
            (Caller::Revoked, with(None, Some(revoked), None)),
            (Caller::OtherKey, with(None, None, Some(&blog.token))),
            (Caller::Key, with(None, None, Some(&shop.token))),
        ];
        bugle_tests::db::rows(db, "DELETE FROM api_tokens WHERE name = 'revoked'");
        let mut fixture = Fixture {
            db: db.to_owned(),
            server,
            shop,
            issue: 0,
            occurrence: String::new(),
            attachment: 0,
            deploy: 0,
            admin_token,
            credentials,
        };
        fixture.issue = fixture.new_issue("the cart broke");
        fixture.occurrence = fixture.one(&format!(
            "SELECT uuid FROM occurrences WHERE issue_id = {} LIMIT 1",
            fixture.issue
        ));
        fixture.attachment = fixture.new_attachment();
        fixture.deploy = fixture.new_rollbar_deploy();
        fixture
    }

    pub fn credentials(&self, caller: Caller) -> &Credentials {
        &self
            .credentials
            .iter()
            .find(|(c, _)| *c == caller)
            .unwrap()
            .1
    }

    /// The first column of the first row of `sql`.
    pub fn one(&self, sql: &str) -> String {
        rows(&self.db, sql)
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .unwrap_or_else(|| panic!("no row for {sql}"))
    }

    /// A new issue in Shop (its own message, so its own group: a word of letters, as grouping
    /// replaces numbers and ids in messages).
    pub fn new_issue(&self, message: &str) -> i64 {
        let word: String = uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .bytes()
            .map(|b| (b'g' + b % 16) as char)
            .collect();
        let reply = self.server.send_event(
            &self.shop.token,
            &json!({"message": format!("{message} {word}")}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["issue_id"].as_i64().unwrap()
    }

    /// A Shop issue made of two merged ones, and a hash that can be split off again.
    pub fn merged_issue(&self) -> (i64, String) {
        let (a, b) = (self.new_issue("merged a"), self.new_issue("merged b"));
        let hash = self.one(&format!(
            "SELECT hash FROM issue_hashes WHERE issue_id = {b}"
        ));
        let reply = self.admin_json(
            "POST",
            &format!("/api/v1/issues/{b}/merge"),
            json!({"into": a}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        (a, hash)
    }

    pub fn admin_json(&self, method: &str, path: &str, body: Value) -> bugle_tests::server::Reply {
        self.server
            .send_json(method, &self.admin_token, path, &body)
    }

    /// An event with an attachment, sent as a Sentry envelope; the attachment's id.
    fn new_attachment(&self) -> i64 {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let event = json!({"event_id": id, "message": "with a file"}).to_string();
        let body = format!(
            "{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n{event}\n{{\"type\":\"attachment\",\"filename\":\"app.log\",\"length\":5}}\nhello\n",
            event.len()
        );
        let reply = request(
            "POST",
            &format!("{}/api/{}/envelope/", self.server.url, self.shop.id),
            &[("X-Sentry-Auth", &sentry_auth(&self.shop.token))],
            Some(body.into_bytes()),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        self.one("SELECT CAST(id AS TEXT) FROM attachments LIMIT 1")
            .parse()
            .unwrap()
    }

    fn new_rollbar_deploy(&self) -> i64 {
        let reply = request(
            "POST",
            &format!("{}/api/1/deploy", self.server.url),
            &[("Content-Type", "application/json")],
            Some(
                json!({"access_token": self.shop.token, "environment": "production", "revision": "abc"})
                    .to_string()
                    .into_bytes(),
            ),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["data"]["deploy_id"].as_i64().unwrap()
    }

    /// A channel of Shop's (posting to a closed loopback port), added by the admin's token.
    pub fn new_channel(&self) -> i64 {
        let reply = self.admin_json(
            "POST",
            &format!("/api/v1/projects/{}/channels", self.shop.slug),
            json!({"kind": "webhook", "url": "http://127.0.0.1:9/hook"}),
        );
        assert!(reply.status < 300, "{}", reply.body);
        reply.json()["id"].as_i64().unwrap()
    }

    /// A new Shop alert rule (mail on new issues, made through the API as the admin); its id.
    pub fn new_rule(&self) -> i64 {
        let reply = self.admin_json(
            "POST",
            &format!("/api/v1/projects/{}/alert-rules", self.shop.slug),
            json!({"events": ["new_issue"], "mail": true}),
        );
        assert!(reply.status < 300, "{}", reply.body);
        reply.json()["id"].as_i64().unwrap()
    }

    /// A new Shop ingest key (made through the dashboard as the admin); its id.
    pub fn new_key(&self) -> i64 {
        let admin = self.credentials(Caller::Admin).session.clone().unwrap();
        let reply = bugle_tests::web::send(
            "POST",
            &format!("{}/projects/{}/keys", self.server.url, self.shop.slug),
            Some(&admin.0),
            Some(&[("csrf", &admin.1)]),
        );
        assert_eq!(reply.status, 303, "{}", reply.body);
        self.one(&format!(
            "SELECT CAST(MAX(id) AS TEXT) FROM project_keys WHERE project_id = {}",
            self.shop.id
        ))
        .parse()
        .unwrap()
    }

    /// A new user, member of nothing; its email.
    pub fn new_user(&self) -> String {
        let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
        create_user(&self.db, &email, false);
        email
    }

    /// A new user who is a member of Shop; its id.
    pub fn new_member(&self) -> i64 {
        let email = format!("{}@example.com", uuid::Uuid::new_v4().simple());
        create_user(&self.db, &email, false);
        cli(
            &self.db,
            &["project", "add-member", &self.shop.slug, &email],
            None,
        );
        self.one(&format!(
            "SELECT CAST(id AS TEXT) FROM users WHERE email = '{email}'"
        ))
        .parse()
        .unwrap()
    }

    /// A new API token of the Shop member; its id.
    pub fn new_member_token(&self) -> i64 {
        let name = uuid::Uuid::new_v4().simple().to_string();
        token(&self.db, MEMBER, &["--name", &name]);
        self.one(&format!(
            "SELECT CAST(id AS TEXT) FROM api_tokens WHERE name = '{name}'"
        ))
        .parse()
        .unwrap()
    }

    /// A new saved search of the Shop member; its id.
    pub fn new_saved_search(&self) -> i64 {
        let (cookie, csrf) = self.credentials(Caller::Member).session.clone().unwrap();
        let name = uuid::Uuid::new_v4().simple().to_string();
        let reply = bugle_tests::web::send(
            "POST",
            &format!("{}/searches", self.server.url),
            Some(&cookie),
            Some(&[
                ("csrf", &csrf),
                ("name", &name),
                ("query", "is:unresolved"),
                ("project", &self.shop.slug),
            ]),
        );
        assert_eq!(reply.status, 303, "{}", reply.body);
        self.one(&format!(
            "SELECT CAST(id AS TEXT) FROM saved_searches WHERE name = '{name}'"
        ))
        .parse()
        .unwrap()
    }

    /// A session cookie and form token of a fresh sign-in, for routes that end the session.
    pub fn fresh_session(&self, email: &str) -> (String, String) {
        session(&self.server.url, email)
    }
}

pub fn sentry_auth(key: &str) -> String {
    format!("Sentry sentry_version=7, sentry_client=matrix/1.0, sentry_key={key}")
}
