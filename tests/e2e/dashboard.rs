//! The dashboard over plain HTTP: sign-in, sessions, CSRF, escaping, permissions, triage.
//! (What a person sees and clicks is in `browser.rs`, with Chromium.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bugle_tests::server::{binary, cli, create_project, Backend, TestServer};
use bugle_tests::web::{create_user, login_attempt, send, WebUser, PASSWORD};
use serde_json::{json, Value};

const XSS_TITLE: &str = "<script>alert('xss')</script>";
const XSS_MESSAGE: &str = "<img src=x onerror=alert(1)>";

fn hostile_event() -> Value {
    json!({
        "level": "error",
        "title": XSS_TITLE,
        "message": XSS_MESSAGE,
        "exceptions": [{"type": "Evil\"><svg onload=alert(2)>", "value": XSS_MESSAGE,
            "frames": [{"filename": "src/<b>bold</b>.rs", "function": "run", "lineno": 3, "in_app": true,
                        "context_line": "<script>alert(3)</script>"}]}],
        "tags": {"<i>k</i>": "<u>v</u>"},
        "server": {"host": "web-1"}
    })
}

fn cookie_attributes(reply: &bugle_tests::server::Reply) -> String {
    reply
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .map(|(_, v)| v.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn sign_in_sessions_csrf_escaping_and_permissions() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let name = backend.name;
        let project = create_project(db, "Shop");
        let other = create_project(db, "Secret");
        create_user(db, "ada@example.com", false);
        create_user(db, "bob@example.com", false);
        cli(
            db,
            &["project", "add-member", &project.slug, "ada@example.com"],
            None,
        );
        let server = TestServer::start(db);

        // Not signed in: every page sends to the login page and comes back after.
        let reply = send(
            "GET",
            &format!("{}/projects/shop/issues?q=a", server.url),
            None,
            None,
        );
        assert_eq!(reply.status, 303, "{name}");
        assert_eq!(
            reply.header("location"),
            Some("/login?next=/projects/shop/issues%3Fq%3Da")
        );

        // A wrong password: 401 and a message, no session.
        // A sign-in posted from elsewhere (no login form token): refused.
        let forged = send(
            "POST",
            &format!("{}/login", server.url),
            None,
            Some(&[("email", "ada@example.com"), ("password", PASSWORD)]),
        );
        assert_eq!(forged.status, 403, "{name}");
        let wrong = login_attempt(&server.url, "ada@example.com", "nope");
        assert_eq!(wrong.status, 401, "{name}");
        assert!(wrong.body.contains("wrong email or password"));
        assert!(!cookie_attributes(&wrong).contains("bugle_session"));

        // The right one: a session cookie only scripts cannot read.
        let ok = login_attempt(&server.url, "ada@example.com", PASSWORD);
        assert_eq!(ok.status, 303, "{name}: {}", ok.body);
        let attributes = cookie_attributes(&ok);
        assert!(attributes.contains("HttpOnly"), "{attributes}");
        assert!(attributes.contains("SameSite=Lax"), "{attributes}");
        let ada = WebUser::sign_in(&server.url, "ada@example.com", PASSWORD);

        // A hostile event renders as text everywhere.
        let sent = server.send_event(&project.token, &hostile_event());
        assert_eq!(sent.status, 200, "{name}: {}", sent.body);
        let issue_id = sent.json()["issue_id"].as_i64().unwrap();
        let uuid = sent.json()["uuid"].as_str().unwrap().to_owned();
        for path in [
            "/projects".to_owned(),
            "/issues".to_owned(),
            format!("/projects/{}/issues", project.slug),
            format!("/issues/{issue_id}"),
            format!("/occurrences/{uuid}"),
        ] {
            let page = ada.get(&path);
            assert_eq!(page.status, 200, "{name} {path}: {}", page.body);
            let csp = page.header("content-security-policy").unwrap_or_default();
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert_eq!(page.header("x-frame-options"), Some("DENY"));
            for raw in [
                "<script>alert",
                "<img src=x",
                "<svg onload",
                "<b>bold",
                "<i>k</i>",
            ] {
                assert!(
                    !page.body.contains(raw),
                    "{name} {path} shows {raw:?} unescaped"
                );
            }
            // Our own script is a file, never inline.
            assert_eq!(
                page.body.matches("<script").count(),
                page.body.matches("<script src=\"/static/app.js\"").count(),
                "{path}"
            );
        }
        let issue_page = ada.get(&format!("/issues/{issue_id}"));
        assert!(issue_page.body.contains("&#60;script&#62;alert("), "{name}");
        assert!(issue_page
            .body
            .contains("&#60;img src=x onerror=alert(1)&#62;"));

        // A form without the session's CSRF token changes nothing.
        let forged = send(
            "POST",
            &format!("{}/issues/{issue_id}/status", server.url),
            Some(&ada.cookie),
            Some(&[("status", "resolved"), ("csrf", "0000")]),
        );
        assert_eq!(forged.status, 403, "{name}");
        assert!(ada
            .get(&format!("/issues/{issue_id}"))
            .body
            .contains(">unresolved<"));

        // With it, the issue is resolved and the history says who.
        let resolved = ada.post(
            &format!("/issues/{issue_id}"),
            &format!("/issues/{issue_id}/status"),
            &[("status", "resolved")],
        );
        assert_eq!(resolved.status, 303, "{name}: {}", resolved.body);
        let page = ada.get(&format!("/issues/{issue_id}")).body;
        assert!(page.contains(">resolved<"), "{name}");
        assert!(page.contains("by ada@example.com"), "{name}");

        // Not a member: the other project, its issues and occurrences do not exist for ada,
        // and bob (member of nothing) sees no projects at all.
        let hidden = server.send_event(&other.token, &json!({"message": "classified"}));
        let hidden_issue = hidden.json()["issue_id"].as_i64().unwrap();
        let hidden_uuid = hidden.json()["uuid"].as_str().unwrap().to_owned();
        for path in [
            format!("/projects/{}/issues", other.slug),
            format!("/projects/{}/settings", other.slug),
            format!("/issues/{hidden_issue}"),
            format!("/occurrences/{hidden_uuid}"),
        ] {
            assert_eq!(ada.get(&path).status, 404, "{name} {path}");
        }
        assert!(!ada.get("/issues").body.contains("classified"));
        let poke = ada.post(
            "/projects",
            &format!("/issues/{hidden_issue}/status"),
            &[("status", "resolved")],
        );
        assert_eq!(poke.status, 404, "{name}");
        assert_eq!(ada.get("/admin/users").status, 403, "{name}");
        let bob = WebUser::sign_in(&server.url, "bob@example.com", PASSWORD);
        let projects = bob.get("/projects").body;
        assert!(!projects.contains("Shop") && !projects.contains("Secret"));

        // Signing out ends the session on the server, not just in the browser.
        let out = ada.post("/projects", "/logout", &[]);
        assert_eq!(out.status, 303);
        assert_eq!(ada.get("/projects").status, 303, "{name}");
    }
}

#[test]
fn failed_sign_ins_are_rate_limited() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    create_user(db, "ada@example.com", false);
    let server = TestServer::start(db);
    let attempt = |password: &str| login_attempt(&server.url, "ada@example.com", password);
    for _ in 0..10 {
        assert_eq!(attempt("guess").status, 401);
    }
    let blocked = attempt(PASSWORD);
    assert_eq!(blocked.status, 429, "{}", blocked.body);
    assert!(blocked.header("retry-after").is_some());
    assert!(blocked.body.contains("too many failed sign-ins"));
}

#[test]
fn first_start_logs_a_one_time_setup_link_for_the_first_admin() {
    let backend = Backend::sqlite();
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("BUGLE_DATABASE_URL", &backend.database_url)
        .env("BUGLE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let stderr = child.stderr.take().unwrap();
    // Stopped however the test ends.
    let _server = KillOnDrop(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("http://") {
                let url: String = line[at..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '"')
                    .collect();
                if url.contains("/setup/") {
                    let _ = tx.send(url);
                }
            }
        }
    });
    let link = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("a setup link in the log");
    let base = link[..link.find("/setup/").unwrap()].to_owned();

    let form = send("GET", &link, None, None);
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Create administrator"));
    let short = send(
        "POST",
        &link,
        None,
        Some(&[
            ("email", "root@example.com"),
            ("password", "short"),
            ("confirm", "short"),
        ]),
    );
    assert_eq!(short.status, 422);
    let done = send(
        "POST",
        &link,
        None,
        Some(&[
            ("email", "root@example.com"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ]),
    );
    assert_eq!(done.status, 303, "{}", done.body);
    // Used once; the admin signs in from now on and sees the admin pages.
    assert_eq!(send("GET", &link, None, None).status, 404);
    let root = WebUser::sign_in(&base, "root@example.com", PASSWORD);
    assert_eq!(root.get("/admin/users").status, 200);

    // The admin creates a project and a user; the user's own link sets their password.
    let created = root.post("/projects", "/projects", &[("name", "Billing")]);
    assert_eq!(created.status, 303, "{}", created.body);
    assert_eq!(
        created.header("location"),
        Some("/projects/billing/settings?created=1#setup")
    );
    let settings = root.get("/projects/billing/settings?created=1").body;
    assert!(
        settings.contains("sentry_sdk.init(dsn=\"http://"),
        "DSN snippet"
    );
    let invited = root.post(
        "/admin/users",
        "/admin/users",
        &[("email", "cy@example.com"), ("project", "billing")],
    );
    assert_eq!(invited.status, 200, "{}", invited.body);
    let marker = "id=\"invite-link\">";
    let at = invited.body.find(marker).expect("an invite link") + marker.len();
    let invite = invited.body[at..at + invited.body[at..].find('<').unwrap()].to_owned();
    let path = &invite[invite.find("/setup/").unwrap()..];
    let set = send(
        "POST",
        &format!("{base}{path}"),
        None,
        Some(&[("password", PASSWORD), ("confirm", PASSWORD)]),
    );
    assert_eq!(set.status, 303, "{}", set.body);
    let cy = WebUser::sign_in(&base, "cy@example.com", PASSWORD);
    assert!(cy.get("/projects").body.contains("Billing"));
}

#[test]
fn ignoring_until_more_events_wakes_the_issue_and_the_list_filters() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let name = backend.name;
        let project = create_project(db, "Shop");
        create_user(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let ada = WebUser::sign_in(&server.url, "ada@example.com", PASSWORD);
        let send_error = |ty: &str, env: &str| {
            let reply = server.send_event(
                &project.token,
                &json!({"exceptions": [{"type": ty, "value": "x"}], "environment": env,
                        "server": {"host": "web-1"}}),
            );
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            reply.json()["issue_id"].as_i64().unwrap()
        };
        let a = send_error("TimeoutError", "production");
        let b = send_error("KeyError", "staging");
        let c = send_error("KeyErrorTwin", "staging");
        let issue = format!("/issues/{a}");
        let snoozed = ada.post(
            &issue,
            &format!("{issue}/status"),
            &[("status", "ignored"), ("until_count", "2")],
        );
        assert_eq!(snoozed.status, 303, "{name}: {}", snoozed.body);
        assert!(ada
            .get(&issue)
            .body
            .contains("until it reaches 3 occurrences"));
        send_error("TimeoutError", "production");
        assert!(
            ada.get(&issue).body.contains(">ignored<"),
            "{name}: one more is not enough"
        );
        send_error("TimeoutError", "production");
        let woke = ada.get(&issue).body;
        assert!(woke.contains(">unresolved<"), "{name}: woke up");
        assert!(woke.contains("the ignore period ended"), "{name}");

        // Filters and search narrow the list; the list links every issue.
        let list = format!("/projects/{}/issues", project.slug);
        let staging = ada.get(&format!("{list}?environment=staging")).body;
        assert!(
            staging.contains(&format!("/issues/{b}\""))
                && !staging.contains(&format!("/issues/{a}\""))
        );
        let search = ada.get(&format!("{list}?q=twin")).body;
        assert!(
            search.contains(&format!("/issues/{c}\""))
                && !search.contains(&format!("/issues/{b}\""))
        );
        for sort in ["first_seen", "count", "trending"] {
            assert_eq!(
                ada.get(&format!("{list}?sort={sort}")).status,
                200,
                "{sort}"
            );
        }
        assert_eq!(ada.get(&format!("{list}?sort=nonsense")).status, 400);

        // Bulk merge: the smaller issue joins the bigger one.
        let merged = ada.post(
            &list,
            "/issues/bulk",
            &[
                ("issue", &b.to_string()),
                ("issue", &c.to_string()),
                ("action", "merge"),
                ("back", &list),
            ],
        );
        assert_eq!(merged.status, 303, "{name}: {}", merged.body);
        let survivor = ada.get(&format!("/issues/{}", b.min(c))).body;
        assert!(survivor.contains("merged in"), "{name}");
        let gone = ada.get(&format!("/issues/{}", b.max(c))).body;
        assert!(gone.contains("This issue was merged into"), "{name}");
    }
}

#[test]
fn settings_pages_change_keys_members_limits_tokens_mail_and_password() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let name = backend.name;
        let project = create_project(db, "Shop");
        create_user(db, "root@example.com", true);
        create_user(db, "ada@example.com", false);
        let server = TestServer::start(db);
        let root = WebUser::sign_in(&server.url, "root@example.com", PASSWORD);
        let base = format!("/projects/{}", project.slug);
        let settings = format!("{base}/settings");
        let post = |path: &str, fields: &[(&str, &str)]| {
            let reply = root.post(&settings, &format!("{base}{path}"), fields);
            assert_eq!(reply.status, 303, "{name} {path}: {}", reply.body);
        };

        // Rotate the ingest key: the old one stops working at once on this instance.
        post("/keys", &[]);
        let page = root.get(&settings).body;
        let marker = "/keys/";
        let first_key_id: String = page[page.find(marker).unwrap() + marker.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        post(&format!("/keys/{first_key_id}/revoke"), &[]);
        let refused = server.send_event(&project.token, &json!({"message": "after revoke"}));
        assert_eq!(refused.status, 403, "{name}: {}", refused.body);

        // Members, extra addresses, limits.
        post("/members", &[("email", "ada@example.com")]);
        post("/recipients", &[("add", "oncall@example.com")]);
        post(
            "/limits",
            &[
                ("rate_limit", "120"),
                ("retention_days", "30"),
                ("max_occurrences", ""),
            ],
        );
        let page = root.get(&settings).body;
        assert!(page.contains("ada@example.com"), "{name}");
        assert!(page.contains("oncall@example.com"), "{name}");
        assert!(page.contains("name=\"rate_limit\" value=\"120\""), "{name}");
        assert!(
            page.contains("name=\"retention_days\" value=\"30\""),
            "{name}"
        );
        let bad = root.post(
            &settings,
            &format!("{base}/limits"),
            &[("rate_limit", "-3")],
        );
        assert_eq!(bad.status, 400, "{name}");
        assert!(bad.body.contains("whole number"), "{name}");
        let ada = WebUser::sign_in(&server.url, "ada@example.com", PASSWORD);
        assert!(
            ada.get("/projects").body.contains("Shop"),
            "{name}: a member now"
        );

        // The user's own API token: shown once, works, revoked.
        let created = ada.post("/settings", "/settings/tokens", &[("name", "deploy")]);
        assert_eq!(created.status, 200, "{name}");
        let marker = "id=\"new-token\" class=\"copyable\">";
        let at = created.body.find(marker).expect("the new token") + marker.len();
        let token = &created.body[at..at + created.body[at..].find('<').unwrap()];
        assert_eq!(server.get(token, "/api/v1/projects").status, 200, "{name}");
        let page = ada.get("/settings").body;
        let marker = "/settings/tokens/";
        let id: String = page[page.find(marker).unwrap() + marker.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let revoked = ada.post("/settings", &format!("/settings/tokens/{id}/revoke"), &[]);
        assert_eq!(revoked.status, 303);
        assert_eq!(server.get(token, "/api/v1/projects").status, 401, "{name}");

        // Mail choices.
        let saved = ada.post(
            "/settings",
            "/settings/mail",
            &[("kind", "new_issue"), ("kind", "regression")],
        );
        assert_eq!(saved.status, 303);
        let page = ada.get("/settings").body;
        assert!(page.contains("value=\"new_issue\" checked"), "{name}");
        assert!(!page.contains("value=\"milestone\" checked"), "{name}");

        // A new password: the old one stops working, and so do other sessions.
        let other = WebUser::sign_in(&server.url, "ada@example.com", PASSWORD);
        let wrong = ada.post(
            "/settings",
            "/settings/password",
            &[
                ("current", "nope-nope"),
                ("password", "a new long one"),
                ("confirm", "a new long one"),
            ],
        );
        assert_eq!(wrong.status, 403, "{name}");
        let changed = ada.post(
            "/settings",
            "/settings/password",
            &[
                ("current", PASSWORD),
                ("password", "a new long one"),
                ("confirm", "a new long one"),
            ],
        );
        assert_eq!(changed.status, 303, "{name}: {}", changed.body);
        assert_eq!(ada.get("/settings").status, 200, "this session stays");
        assert_eq!(
            other.get("/settings").status,
            303,
            "{name}: other sessions end"
        );
        WebUser::sign_in(&server.url, "ada@example.com", "a new long one");
    }
}

#[test]
fn long_lists_page_and_issues_are_assigned() {
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Shop");
    create_user(db, "root@example.com", true);
    create_user(db, "ada@example.com", false);
    cli(
        db,
        &["project", "add-member", &project.slug, "ada@example.com"],
        None,
    );
    let server = TestServer::start(db);
    let mut ids = Vec::new();
    for i in 0..55 {
        let reply = server.send_event(
            &project.token,
            &json!({"exceptions": [{"type": format!("Error{i}"), "value": "x"}]}),
        );
        ids.push(reply.json()["issue_id"].as_i64().unwrap());
    }
    let root = WebUser::sign_in(&server.url, "root@example.com", PASSWORD);
    let list = format!("/projects/{}/issues?sort=first_seen", project.slug);
    let first = root.get(&list).body;
    assert_eq!(first.matches("class=\"issue level-").count(), 50);
    let marker = "id=\"next-page\"";
    assert!(first.contains(marker));
    let href_at = first[..first.find(marker).unwrap()]
        .rfind("href=\"")
        .unwrap()
        + 6;
    let next = first[href_at..href_at + first[href_at..].find('"').unwrap()].replace("&#38;", "&");
    let second = root.get(&next).body;
    assert_eq!(second.matches("class=\"issue level-").count(), 5, "{next}");
    assert!(
        second.contains(&format!("/issues/{}\"", ids[0])),
        "the oldest last"
    );
    assert!(!second.contains("id=\"next-page\""));

    // Assign to a member; someone outside the project cannot be assigned.
    let issue = format!("/issues/{}", ids[0]);
    let page = root.get(&issue).body;
    let option = "\">ada@example.com</option>";
    let value_at = page[..page.find(option).unwrap()].rfind('"').unwrap() + 1;
    let ada_id = &page[value_at..page.find(option).unwrap()];
    let assigned = root.post(&issue, &format!("{issue}/assign"), &[("user", ada_id)]);
    assert_eq!(assigned.status, 303, "{}", assigned.body);
    let page = root.get(&issue).body;
    assert!(page.contains("id=\"assignee\">ada@example.com<"));
    assert!(page.contains("to ada@example.com by root@example.com"));

    // Ignored until a date: the page says so; a date in the past is refused.
    let snoozed = root.post(
        &issue,
        &format!("{issue}/status"),
        &[("status", "ignored"), ("until_date", "2999-01-01")],
    );
    assert_eq!(snoozed.status, 303, "{}", snoozed.body);
    assert!(root
        .get(&issue)
        .body
        .contains("ignored until 2999-01-01 00:00 UTC"));
    let past = root.post(
        &issue,
        &format!("{issue}/status"),
        &[("status", "ignored"), ("until_date", "2001-01-01")],
    );
    assert_eq!(past.status, 400);
}
