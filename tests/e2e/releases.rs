//! Releases and deploys: the real `sentry-cli` against the real server, Bugle's own release
//! API, and issues resolved in a release that stay resolved for the old build.

use std::path::Path;
use std::process::Command;

use bugle_tests::sentry_cli::sentry_cli;
use bugle_tests::server::{create_project, create_user_token, Backend, TestServer};
use serde_json::{json, Value};

struct Cli<'a> {
    bin: &'a Path,
    server: &'a TestServer,
    token: &'a str,
    project: &'a str,
}

impl Cli<'_> {
    /// Runs sentry-cli in `dir`; panics with its output unless it succeeds.
    fn run(&self, dir: &Path, args: &[&str]) -> String {
        let out = Command::new(self.bin)
            .args(args)
            .current_dir(dir)
            .env("SENTRY_URL", &self.server.url)
            .env("SENTRY_AUTH_TOKEN", self.token)
            .env("SENTRY_ORG", "any-org")
            .env("SENTRY_PROJECT", self.project)
            .env("SENTRY_DISABLE_UPDATE_CHECK", "true")
            .env("SENTRY_LOG_LEVEL", "warn")
            .output()
            .expect("sentry-cli runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "sentry-cli {args:?} failed:\n{text}");
        text
    }
}

/// An empty git repository whose origin is acme/shop on GitHub, as `set-commits --local` reads it.
fn shop_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    git(
        repo.path(),
        &[
            "remote",
            "add",
            "origin",
            "https://github.com/acme/shop.git",
        ],
    );
    repo
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?}");
}

fn releases(server: &TestServer, token: &str, slug: &str) -> Vec<Value> {
    let reply = server.get(token, &format!("/api/v1/projects/{slug}/releases"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["releases"].as_array().unwrap().clone()
}

#[test]
fn sentry_cli_creates_finalizes_deploys_and_archives_releases() {
    let Some(bin) = sentry_cli() else { return };
    for backend in Backend::all() {
        let name = backend.name;
        let db = &backend.database_url;
        let project = create_project(db, "Shop Web");
        let token = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let cli = Cli {
            bin,
            server: &server,
            token: &token,
            project: &project.slug,
        };
        let repo = shop_repo();
        let dir = repo.path();
        std::fs::write(dir.join("cart.py"), "def total(): return 0\n").unwrap();
        git(dir, &["add", "cart.py"]);
        git(dir, &["commit", "-q", "-m", "Add the cart"]);

        cli.run(dir, &["releases", "new", "shop@1.0.0"]);
        // sentry-cli retries; creating twice is one release.
        cli.run(dir, &["releases", "new", "shop@1.0.0"]);
        cli.run(dir, &["releases", "set-commits", "shop@1.0.0", "--local"]);
        cli.run(dir, &["releases", "finalize", "shop@1.0.0"]);

        cli.run(dir, &["releases", "new", "shop@1.1.0"]);
        // The repository is known from the commits sent with --local, which name it after
        // the git remote (`origin`).
        let set = cli.run(
            dir,
            &[
                "releases",
                "set-commits",
                "shop@1.1.0",
                "--commit",
                "origin@a1b2c3d..e4f5a6b",
            ],
        );
        assert!(set.contains("origin"), "{name}: {set}");
        cli.run(dir, &["releases", "finalize", "shop@1.1.0"]);
        cli.run(
            dir,
            &[
                "deploys",
                "new",
                "--release",
                "shop@1.1.0",
                "-e",
                "production",
                "-n",
                "blue",
            ],
        );
        cli.run(
            dir,
            &["deploys", "new", "--release", "shop@1.1.0", "-e", "staging"],
        );
        let deploys = cli.run(dir, &["deploys", "list", "--release", "shop@1.1.0"]);
        assert!(
            deploys.contains("production") && deploys.contains("staging"),
            "{name}: {deploys}"
        );
        let list = cli.run(dir, &["releases", "list"]);
        assert!(
            list.contains("shop@1.1.0") && list.contains("shop@1.0.0"),
            "{name}: {list}"
        );
        let info = cli.run(dir, &["releases", "info", "shop@1.1.0"]);
        assert!(info.contains("shop@1.1.0"), "{name}: {info}");
        cli.run(dir, &["releases", "archive", "shop@1.0.0"]);

        let stored = releases(&server, &token, &project.slug);
        let versions: Vec<&str> = stored
            .iter()
            .map(|r| r["version"].as_str().unwrap())
            .collect();
        assert_eq!(versions, ["shop@1.1.0", "shop@1.0.0"], "{name}");
        assert!(
            stored.iter().all(|r| r["date_released"].is_string()),
            "{name}: {stored:?}"
        );
        assert_eq!(stored[1]["status"], "archived", "{name}");
        assert_eq!(stored[0]["last_commit"], "e4f5a6b", "{name}");
        assert_eq!(stored[1]["commit_count"], 1, "{name}: the --local commit");
        let one = server.get(
            &token,
            &format!("/api/v1/projects/{}/releases/shop@1.1.0", project.slug),
        );
        let one = one.json();
        let envs: Vec<&str> = one["deploys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["environment"].as_str().unwrap())
            .collect();
        assert_eq!(envs.len(), 2, "{name}: {one}");
        assert!(envs.contains(&"production") && envs.contains(&"staging"));

        // Names Sentry refuses are a 400 with a detail, through either API.
        for bad in ["a/b", "..", "tab\there"] {
            let reply = server.send_json(
                "POST",
                &token,
                "/api/0/organizations/x/releases/",
                &json!({"version": bad, "projects": [project.slug]}),
            );
            assert_eq!(reply.status, 400, "{name}: {bad:?}: {}", reply.body);
            assert!(reply.json()["detail"].is_string(), "{name}");
        }
        let reply = server.send_json(
            "POST",
            &token,
            &format!("/api/v1/projects/{}/releases", project.slug),
            &json!({"version": "x".repeat(201)}),
        );
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        // Without a token sentry-cli's calls are refused.
        let reply = bugle_tests::server::request(
            "GET",
            &format!("{}/api/0/organizations/x/releases/", server.url),
            &[],
            None,
        );
        assert_eq!(reply.status, 401, "{name}");
    }
}

fn event(release: &str) -> Value {
    json!({
        "exceptions": [{"type": "CartError", "value": "the cart is empty",
            "frames": [{"filename": "shop/cart.py", "module": "shop.cart", "function": "total",
                "lineno": 3, "in_app": true}]}],
        "environment": "production",
        "release": release,
    })
}

#[test]
fn an_issue_resolved_in_the_next_release_regresses_on_the_new_build_only() {
    for backend in Backend::all() {
        let name = backend.name;
        let db = &backend.database_url;
        let project = create_project(db, "Shop API");
        let token = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let send = |release: &str| {
            let reply = server.send_event(&project.token, &event(release));
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            reply.json()["issue_id"].as_i64().unwrap()
        };
        let status =
            |id: i64| server.get(&token, &format!("/api/v1/issues/{id}")).json()["status"].clone();
        let id = send("2.3.0");
        let reply = server.send_json(
            "PATCH",
            &token,
            &format!("/api/v1/issues/{id}"),
            &json!({"status": "resolved", "in_release": "next"}),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(reply.json()["resolved_in_next_release"], true, "{name}");
        send("2.3.0");
        assert_eq!(
            status(id),
            "resolved",
            "{name}: the old build is counted, not a regression"
        );

        let reply = server.send_json(
            "POST",
            &token,
            &format!("/api/v1/projects/{}/releases", project.slug),
            &json!({"version": "2.4.0", "finalize": true}),
        );
        assert_eq!(reply.status, 201, "{name}: {}", reply.body);
        let reply = server.send_json(
            "POST",
            &token,
            &format!("/api/v1/projects/{}/releases/2.4.0/deploys", project.slug),
            &json!({"environment": "production"}),
        );
        assert_eq!(reply.status, 201, "{name}: {}", reply.body);
        send("2.3.0");
        let issue = server.get(&token, &format!("/api/v1/issues/{id}")).json();
        assert_eq!(
            (
                issue["status"].as_str(),
                issue["resolved_in_release"].as_str(),
                issue["count"].as_i64()
            ),
            (Some("resolved"), Some("2.4.0"), Some(3)),
            "{name}"
        );
        send("2.4.0");
        assert_eq!(status(id), "regressed", "{name}: the new build has the bug");

        // Resolved in a named release: an unknown one is refused.
        let reply = server.send_json(
            "PATCH",
            &token,
            &format!("/api/v1/issues/{id}"),
            &json!({"status": "resolved", "in_release": "9.9.9"}),
        );
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        let reply = server.send_json(
            "PATCH",
            &token,
            &format!("/api/v1/issues/{id}"),
            &json!({"status": "ignored", "in_release": "2.4.0"}),
        );
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
    }
}

#[test]
fn rollbar_deploys_and_the_cli_record_deploys() {
    for backend in Backend::all() {
        let name = backend.name;
        let db = &backend.database_url;
        let project = create_project(db, "Billing");
        let token = create_user_token(db, "ada@example.com", true);
        let out =
            bugle_tests::server::cli(db, &["release", "create", &project.slug, "3.0.0"], None);
        assert!(out.contains("created"), "{name}: {out}");
        let out = bugle_tests::server::cli(
            db,
            &["release", "deploy", &project.slug, "3.0.0", "-e", "staging"],
            None,
        );
        assert!(out.contains("deployed to staging"), "{name}: {out}");
        let server = TestServer::start(db);

        // As Rollbar documents it: JSON with the token in the body...
        let reply = bugle_tests::server::request(
            "POST",
            &format!("{}/api/1/deploy", server.url),
            &[("Content-Type", "application/json")],
            Some(
                json!({"access_token": project.token, "environment": "production",
                    "revision": "3.0.0", "local_username": "ci", "comment": "rolling out",
                    "status": "started"})
                .to_string()
                .into_bytes(),
            ),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let id = reply.json()["data"]["deploy_id"].as_i64().unwrap();
        // ...then finished with a PATCH, the token in the query.
        let reply = bugle_tests::server::request(
            "PATCH",
            &format!(
                "{}/api/1/deploy/{id}?access_token={}",
                server.url, project.token
            ),
            &[("Content-Type", "application/json")],
            Some(json!({"status": "succeeded"}).to_string().into_bytes()),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(reply.json()["data"]["status"], "succeeded");
        // Form-encoded, as curl -F / rollbar-gem send it.
        let reply = bugle_tests::server::request(
            "POST",
            &format!("{}/api/1/deploy/", server.url),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(
                format!(
                    "access_token={}&environment=production&revision=3f2a9c1",
                    project.token
                )
                .into_bytes(),
            ),
        );
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        for (body, status) in [
            (
                json!({"access_token": project.token, "environment": "production"}),
                400,
            ),
            (
                json!({"access_token": "nope", "environment": "p", "revision": "1"}),
                403,
            ),
            (json!({"environment": "p", "revision": "1"}), 401),
            (
                json!({"access_token": project.token, "environment": "p", "revision": "1", "status": "boom"}),
                400,
            ),
        ] {
            let reply = bugle_tests::server::request(
                "POST",
                &format!("{}/api/1/deploy", server.url),
                &[("Content-Type", "application/json")],
                Some(body.to_string().into_bytes()),
            );
            assert_eq!(reply.status, status, "{name}: {body}: {}", reply.body);
            assert_eq!(reply.json()["err"], 1, "{name}");
        }

        let one = server
            .get(
                &token,
                &format!("/api/v1/projects/{}/releases/3.0.0", project.slug),
            )
            .json();
        let deploys = one["deploys"].as_array().unwrap();
        let summary: Vec<(String, String)> = deploys
            .iter()
            .map(|d| {
                (
                    d["environment"].as_str().unwrap().to_owned(),
                    d["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert!(
            summary.contains(&("production".into(), "succeeded".into())),
            "{name}: {summary:?}"
        );
        assert!(
            summary.contains(&("staging".into(), "succeeded".into())),
            "{name}: {summary:?}"
        );
        let versions: Vec<Value> = releases(&server, &token, &project.slug)
            .iter()
            .map(|r| r["version"].clone())
            .collect();
        assert_eq!(versions, [json!("3f2a9c1"), json!("3.0.0")], "{name}");
    }
}

#[test]
fn the_releases_page_a_release_page_and_resolving_in_the_next_release_in_the_browser() {
    use bugle_tests::browser::{artifacts_dir, Browser};
    use bugle_tests::web::{create_user, PASSWORD};
    let Some(browser) = Browser::start() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Storefront");
    create_user(db, "ada@example.com", true);
    bugle_tests::server::cli(
        db,
        &[
            "release",
            "deploy",
            &project.slug,
            "shop@1.0.0",
            "-e",
            "production",
            "--name",
            "first",
        ],
        None,
    );
    let server = TestServer::start(db);
    let sent = server.send_event(&project.token, &event("shop@1.0.0"));
    let issue = sent.json()["issue_id"].as_i64().unwrap();
    server.send_event(&project.token, &event("shop@1.1.0+b7"));

    browser.goto(&format!("{}/projects", server.url));
    browser.wait_for("the login page", |b| b.current_url().contains("/login"));
    browser
        .find("input[name=email]")
        .send_keys("ada@example.com");
    browser.find("input[name=password]").send_keys(PASSWORD);
    browser.find("#sign-in").click();
    browser.wait_for("the projects page", |b| {
        b.current_url().ends_with("/projects")
    });

    browser.goto(&format!("{}/projects/{}/issues", server.url, project.slug));
    browser.find("#releases-link").click();
    browser.wait_for("the releases page", |b| b.exists("#releases"));
    let rows: Vec<String> = browser
        .find_all("#releases tr.release")
        .iter()
        .map(|r| r.text())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].starts_with("shop@1.1.0+b7"), "{rows:?}");
    assert!(rows[1].contains("production"), "{rows:?}");
    browser.screenshot(&artifacts_dir().join("releases.png"));

    browser.find("#releases tr.release:nth-child(2) a").click();
    browser.wait_for("the release page", |b| b.exists("#release-version"));
    assert!(browser
        .find("#release-version")
        .text()
        .contains("shop@1.0.0"));
    assert!(browser.find("#deploys").text().contains("production"));
    assert_eq!(browser.find("#release-events").text(), "1");
    assert!(browser.find("#new-issues").text().contains("CartError"));
    browser.screenshot(&artifacts_dir().join("release.png"));

    browser.goto(&format!("{}/issues/{issue}", server.url));
    assert_eq!(browser.find("#first-release").text(), "shop@1.0.0");
    assert_eq!(browser.find("#last-release").text(), "shop@1.1.0+b7");
    assert!(browser
        .find("#resolve-current")
        .text()
        .contains("shop@1.1.0+b7"));
    browser.find("#resolve-next").click();
    browser.wait_for("the resolution", |b| b.exists("#resolved-in"));
    assert_eq!(
        browser.find("#resolved-in").text(),
        "resolved in the next release"
    );
}

/// sentry-cli sends a release's commits with the files they changed (`set-commits --local`);
/// an issue whose in-app frames are in one of those files names that commit and its author,
/// and the deploy after which it appeared, on its page and in the API.
#[test]
fn an_issue_names_its_suspect_deploy_and_commits() {
    let Some(bin) = sentry_cli() else { return };
    for backend in Backend::all() {
        let name = backend.name;
        let db = &backend.database_url;
        let project = create_project(db, "Suspects");
        let token = create_user_token(db, "ada@example.com", true);
        bugle_tests::web::create_user(db, "bob@example.com", true);
        let server = TestServer::start(db);
        let cli = Cli {
            bin,
            server: &server,
            token: &token,
            project: &project.slug,
        };
        let repo = shop_repo();
        let dir = repo.path();
        std::fs::create_dir(dir.join("shop")).unwrap();
        std::fs::write(dir.join("README.md"), "shop\n").unwrap();
        git(dir, &["add", "README.md"]);
        git(dir, &["commit", "-q", "-m", "Start"]);
        cli.run(dir, &["releases", "new", "shop@1.0.0"]);
        cli.run(dir, &["releases", "set-commits", "shop@1.0.0", "--local"]);
        cli.run(
            dir,
            &[
                "deploys",
                "new",
                "--release",
                "shop@1.0.0",
                "-e",
                "production",
            ],
        );
        std::fs::write(dir.join("shop/cart.py"), "def total(): return {}['x']\n").unwrap();
        git(dir, &["add", "shop/cart.py"]);
        git(dir, &["commit", "-q", "-m", "Compute the cart total"]);
        std::fs::write(dir.join("README.md"), "the shop\n").unwrap();
        git(dir, &["commit", "-q", "-am", "Docs"]);
        cli.run(dir, &["releases", "new", "shop@1.1.0"]);
        cli.run(dir, &["releases", "set-commits", "shop@1.1.0", "--local"]);
        cli.run(
            dir,
            &["deploys", "new", "--release", "shop@1.1.0", "-e", "staging"],
        );
        cli.run(
            dir,
            &[
                "deploys",
                "new",
                "--release",
                "shop@1.1.0",
                "-e",
                "production",
            ],
        );

        let mut sent = event("shop@1.1.0");
        sent["exceptions"][0]["frames"][0]["filename"] = json!("/srv/app/shop/cart.py");
        let issue = server.send_event(&project.token, &sent).json()["issue_id"]
            .as_i64()
            .unwrap();
        let body = server
            .get(&token, &format!("/api/v1/issues/{issue}"))
            .json();
        let suspects = &body["suspects"];
        assert_eq!(suspects["release"], "shop@1.1.0", "{name}: {suspects:#}");
        assert_eq!(
            suspects["deploy"]["release"], "shop@1.1.0",
            "{name}: {suspects:#}"
        );
        assert_eq!(
            suspects["deploy"]["environment"], "production",
            "{name}: {suspects:#}"
        );
        let commits = suspects["commits"].as_array().unwrap();
        assert_eq!(
            commits.len(),
            1,
            "{name}: only the commit touching cart.py: {suspects:#}"
        );
        assert_eq!(commits[0]["message"], "Compute the cart total", "{name}");
        assert_eq!(commits[0]["author_name"], "Ada", "{name}");
        assert_eq!(commits[0]["files"], json!(["shop/cart.py"]), "{name}");

        let web = bugle_tests::web::WebUser::sign_in(
            &server.url,
            "bob@example.com",
            bugle_tests::web::PASSWORD,
        );
        let page = web.get(&format!("/issues/{issue}"));
        assert_eq!(page.status, 200, "{name}");
        let section = &page.body[page
            .body
            .find(r#"id="suspects""#)
            .expect("a suspects section")..];
        assert!(
            section.contains("shop@1.1.0</a> to <span class=\"badge\">production"),
            "{name}: {section}"
        );
        assert!(
            section.contains("Compute the cart total") && section.contains("Ada"),
            "{name}"
        );
        assert!(
            !section[..section.find("</section>").unwrap()].contains("Docs"),
            "{name}"
        );
    }
}

/// At 1,000 releases (semver with backports, hashes, deploys, events and sessions on some),
/// the release list pages through them newest first: the JSON API by `next_cursor`, Sentry's
/// API (what sentry-cli reads) by its `Link` header, the page by "older releases". Every
/// release is listed once, in release order, with its counts. (Their speed is the
/// benchmark's: `bugle-bench --dashboard`.)
#[test]
fn release_lists_page_through_1000_releases_newest_first() {
    use bugle_tests::web::{create_user, WebUser, PASSWORD};
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let project = create_project(db, "Many Releases");
    let token = create_user_token(db, "ada@example.com", true);
    create_user(db, "bob@example.com", true);
    let server = TestServer::start(db);
    let slug = &project.slug;
    for i in 0..1000 {
        let version = match i % 10 {
            9 => format!("{:07x}", i * 7919),
            _ => format!("{}.{}.{}", i / 100, (i / 10) % 10, i % 10),
        };
        let reply = server.send_json(
            "POST",
            &token,
            &format!("/api/v1/projects/{slug}/releases"),
            &json!({"version": version}),
        );
        assert_eq!(reply.status, 201, "{version}: {}", reply.body);
        if i % 10 == 0 {
            server.send_json(
                "POST",
                &token,
                &format!("/api/v1/projects/{slug}/releases/{version}/deploys"),
                &json!({"environment": "production"}),
            );
            server.send_event(&project.token, &event(&version));
            let sessions = json!({"attrs": {"release": version, "environment": "production"},
                "aggregates": [{"started": "2026-01-01T00:00:00Z", "exited": 9, "crashed": 1}]})
            .to_string();
            let envelope = format!(
                "{{}}\n{{\"type\":\"sessions\",\"length\":{}}}\n{sessions}\n",
                sessions.len()
            );
            let reply = bugle_tests::server::request(
                "POST",
                &format!("{}/api/{}/envelope/", server.url, project.id),
                &[(
                    "X-Sentry-Auth",
                    &format!("Sentry sentry_version=7, sentry_key={}", project.token),
                )],
                Some(envelope.into_bytes()),
            );
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
    }
    // The JSON API, 100 at a time.
    let mut api = Vec::new();
    let mut cursor = String::new();
    loop {
        let reply = server.get(
            &token,
            &format!("/api/v1/projects/{slug}/releases?cursor={cursor}"),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let page = reply.json();
        let releases = page["releases"].as_array().unwrap();
        assert!(releases.len() <= 100);
        for r in releases {
            api.push(r["version"].as_str().unwrap().to_owned());
            if r["version"] == "5.0.0" {
                assert_eq!(
                    (r["events"].as_i64(), r["issues"].as_i64()),
                    (Some(1), Some(1))
                );
                assert_eq!(r["health"]["crash_free_sessions"].as_f64(), Some(0.9));
            }
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(api.len(), 1000);
    assert_eq!(
        api.iter().collect::<std::collections::HashSet<_>>().len(),
        1000
    );
    // Hashes have no order of their own: the newest created comes first.
    assert_eq!(api[0], format!("{:07x}", 999 * 7919), "newest first");
    let at = |v: &str| api.iter().position(|x| x == v).unwrap();
    assert!(
        at("8.0.1") < at("8.0.0") && at("9.0.0") < at("8.9.8"),
        "semver order"
    );
    let bad = server.get(&token, &format!("/api/v1/projects/{slug}/releases?limit=0"));
    assert_eq!(bad.status, 400, "{}", bad.body);
    // Sentry's API: the same order, by the Link header's next cursor.
    let mut sentry = Vec::new();
    let mut path = format!("/api/0/projects/org/{slug}/releases/");
    loop {
        let reply = server.get(&token, &path);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let items = reply.json();
        sentry.extend(
            items
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["version"].as_str().unwrap().to_owned()),
        );
        let link = reply.header("link").expect("a Link header").to_owned();
        let next = link
            .split(", ")
            .find(|l| l.contains(r#"rel="next""#))
            .unwrap();
        if next.contains(r#"results="false""#) {
            break;
        }
        path = next[1..next.find('>').unwrap()].to_owned();
    }
    assert_eq!(sentry, api);
    // The page, 50 at a time.
    let web = WebUser::sign_in(&server.url, "bob@example.com", PASSWORD);
    let first = web.get(&format!("/projects/{slug}/releases"));
    assert_eq!(first.status, 200);
    assert_eq!(first.body.matches(r#"<tr class="release">"#).count(), 50);
    assert!(
        first.body.contains(r#"id="older" href="?page=2""#)
            && !first.body.contains(r#"id="newer""#)
    );
    let last = web.get(&format!("/projects/{slug}/releases?page=20"));
    assert_eq!(last.body.matches(r#"<tr class="release">"#).count(), 50);
    assert!(
        !last.body.contains(r#"id="older""#) && last.body.contains(r#"id="newer" href="?page=19""#)
    );
    assert!(
        last.body.contains(&format!(">{}</a>", api[999])),
        "the oldest release is on the last page"
    );
    let page = web.get(&format!("/projects/{slug}/releases/5.0.0"));
    assert!(
        page.body.contains(r#"id="release-crash-free">90.0%"#),
        "{}",
        page.body
    );
}

/// sentry-cli 2.x spells deploys `releases deploys V new|list`; against Bugle they record
/// and list deploys as 3.x's `deploys new|list` do.
#[test]
fn sentry_cli_2_records_and_lists_deploys() {
    let Some(bin) = bugle_tests::sentry_cli::sentry_cli_2() else {
        return;
    };
    for backend in Backend::all() {
        let name = backend.name;
        let db = &backend.database_url;
        let project = create_project(db, "Legacy CLI");
        let token = create_user_token(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let cli = Cli {
            bin,
            server: &server,
            token: &token,
            project: &project.slug,
        };
        let dir = tempfile::tempdir().unwrap();
        let version = cli.run(dir.path(), &["--version"]);
        assert!(version.contains("sentry-cli 2."), "{name}: {version}");
        cli.run(dir.path(), &["releases", "new", "shop@2.0.0"]);
        cli.run(dir.path(), &["releases", "finalize", "shop@2.0.0"]);
        cli.run(
            dir.path(),
            &[
                "releases",
                "deploys",
                "shop@2.0.0",
                "new",
                "-e",
                "production",
                "-n",
                "green",
            ],
        );
        let list = cli.run(dir.path(), &["releases", "deploys", "shop@2.0.0", "list"]);
        assert!(
            list.contains("production") && list.contains("green"),
            "{name}: {list}"
        );
        let stored = releases(&server, &token, &project.slug);
        assert_eq!(stored[0]["version"], "shop@2.0.0", "{name}");
        assert!(stored[0]["date_released"].is_string(), "{name}");
        let one = server
            .get(
                &token,
                &format!("/api/v1/projects/{}/releases/shop@2.0.0", project.slug),
            )
            .json();
        assert_eq!(
            one["deploys"][0]["environment"], "production",
            "{name}: {one}"
        );
        assert_eq!(one["deploys"][0]["name"], "green", "{name}: {one}");
    }
}
