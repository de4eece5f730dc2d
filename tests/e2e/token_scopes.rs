//! Scoped API tokens: read-only or read-write, optionally limited to projects; a revoked token
//! is refused at once by every instance (no cache: each request reads the token's row).

use bugle_tests::server::{cli, create_project, Backend, TestServer};
use serde_json::{json, Value};

fn token(db: &str, args: &[&str]) -> String {
    let mut all = vec!["token", "create", "ada@example.com", "--json"];
    all.extend_from_slice(args);
    let out: Value = serde_json::from_str(&cli(db, &all, None)).unwrap();
    out["token"].as_str().unwrap().to_owned()
}

/// Runs one SQL statement on the server's database, as another instance or an operator would.
fn execute(db: &str, sql: &str) {
    use sqlx::Connection;
    let (db, sql) = (db.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                sqlx::any::install_default_drivers();
                let mut conn = sqlx::AnyConnection::connect(&db).await.unwrap();
                sqlx::query(&sql).execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            })
    })
    .join()
    .unwrap();
}

#[test]
fn read_tokens_only_read_project_tokens_see_their_projects_and_revocation_is_immediate() {
    for backend in Backend::all() {
        let db = &backend.database_url;
        let shop = create_project(db, "Shop");
        let blog = create_project(db, "Blog");
        cli(
            db,
            &[
                "user",
                "create",
                "ada@example.com",
                "--password-stdin",
                "--admin",
            ],
            Some("correct horse battery\n"),
        );
        let read = token(db, &["--scope", "read"]);
        let shop_only = token(db, &["--scope", "write", "--project", &shop.slug]);
        let a = TestServer::start(db);
        let b = TestServer::start(db);
        let issue = a
            .send_event(&shop.token, &json!({"message": "cart broke"}))
            .json()["issue_id"]
            .as_i64()
            .unwrap();
        a.send_event(&blog.token, &json!({"message": "post broke"}));
        let name = backend.name;

        // Read-only: every GET, no change.
        let list = a.get(&read, "/api/v1/projects").json();
        assert_eq!(list["projects"].as_array().unwrap().len(), 2, "{name}");
        let patch = a.send_json(
            "PATCH",
            &read,
            &format!("/api/v1/issues/{issue}"),
            &json!({"status": "resolved"}),
        );
        assert_eq!(patch.status, 403, "{name}: {}", patch.body);
        assert!(patch.body.contains("read-only"), "{}", patch.body);

        // Limited to Shop: Blog does not exist for it.
        let list = a.get(&shop_only, "/api/v1/projects").json();
        let slugs: Vec<&str> = list["projects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs, [shop.slug.as_str()], "{name}");
        let other = a.get(
            &shop_only,
            &format!("/api/v1/projects/{}/issues", blog.slug),
        );
        assert_eq!(other.status, 404, "{name}: {}", other.body);
        let patch = a.send_json(
            "PATCH",
            &shop_only,
            &format!("/api/v1/issues/{issue}"),
            &json!({"status": "resolved"}),
        );
        assert_eq!(patch.status, 200, "{name}: {}", patch.body);

        // Revoked (here straight in the database, as the dashboard of any instance does): both
        // instances refuse it on the next request.
        assert_eq!(b.get(&read, "/api/v1/projects").status, 200);
        execute(db, "DELETE FROM api_tokens WHERE scope = 'read'");
        for server in [&a, &b] {
            let refused = server.get(&read, "/api/v1/projects");
            assert_eq!(refused.status, 401, "{name}: {}", refused.body);
        }
    }
}

/// sentry-cli with `SENTRY_AUTH_TOKEN`: exit status and output.
fn sentry_cli(
    bin: &std::path::Path,
    server: &TestServer,
    token: &str,
    slug: &str,
    args: &[&str],
) -> (bool, String) {
    let out = std::process::Command::new(bin)
        .args(args)
        .env("SENTRY_URL", &server.url)
        .env("SENTRY_AUTH_TOKEN", token)
        .env("SENTRY_ORG", "any-org")
        .env("SENTRY_PROJECT", slug)
        .env("SENTRY_DISABLE_UPDATE_CHECK", "true")
        .env("SENTRY_LOG_LEVEL", "warn")
        .output()
        .expect("sentry-cli runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn sentry_cli_with_a_read_token_lists_releases_and_is_refused_creating_one() {
    let Some(bin) = bugle_tests::sentry_cli::sentry_cli() else {
        return;
    };
    let backend = Backend::sqlite();
    let db = &backend.database_url;
    let shop = create_project(db, "Shop");
    cli(
        db,
        &[
            "user",
            "create",
            "ada@example.com",
            "--password-stdin",
            "--admin",
        ],
        Some("correct horse battery\n"),
    );
    let read = token(db, &["--scope", "read"]);
    let write = token(db, &["--scope", "write", "--project", &shop.slug]);
    let server = TestServer::start(db);

    let (ok, text) = sentry_cli(
        bin,
        &server,
        &read,
        &shop.slug,
        &["releases", "new", "shop@2.0"],
    );
    assert!(!ok, "a read token created a release:\n{text}");
    assert!(text.contains("403") || text.contains("read-only"), "{text}");
    let (ok, text) = sentry_cli(bin, &server, &read, &shop.slug, &["releases", "list"]);
    assert!(ok, "a read token lists releases:\n{text}");
    assert!(!text.contains("shop@2.0"), "{text}");

    let (ok, text) = sentry_cli(
        bin,
        &server,
        &write,
        &shop.slug,
        &["releases", "new", "shop@2.0"],
    );
    assert!(ok, "a write token creates a release:\n{text}");
    let (ok, text) = sentry_cli(bin, &server, &read, &shop.slug, &["releases", "list"]);
    assert!(ok && text.contains("shop@2.0"), "{text}");
}

#[test]
fn the_settings_page_makes_read_only_and_project_limited_tokens_and_shows_their_access() {
    use bugle_tests::web::{create_user, WebUser, PASSWORD};
    for backend in Backend::all() {
        let db = &backend.database_url;
        let name = backend.name;
        let shop = create_project(db, "Shop");
        let blog = create_project(db, "Blog");
        create_user(db, "ada@example.com", true);
        let server = TestServer::start(db);
        let issue = server
            .send_event(&shop.token, &json!({"message": "cart broke"}))
            .json()["issue_id"]
            .as_i64()
            .unwrap();
        let web = WebUser::sign_in(&server.url, "ada@example.com", PASSWORD);
        let made = web.post(
            "/settings",
            "/settings/tokens",
            &[("name", "ci"), ("scope", "read"), ("project", &shop.slug)],
        );
        assert_eq!(made.status, 200, "{name}: {}", made.body);
        let marker = "id=\"new-token\" class=\"copyable\">";
        let start = made.body.find(marker).expect("the new token is shown") + marker.len();
        let token = &made.body[start..start + made.body[start..].find('<').unwrap()];

        assert_eq!(
            server.get(token, &format!("/api/v1/issues/{issue}")).status,
            200
        );
        let patch = server.send_json(
            "PATCH",
            token,
            &format!("/api/v1/issues/{issue}"),
            &json!({"status": "resolved"}),
        );
        assert_eq!(patch.status, 403, "{name}: read only: {}", patch.body);
        let other = server.get(token, &format!("/api/v1/projects/{}/issues", blog.slug));
        assert_eq!(other.status, 404, "{name}: limited to Shop: {}", other.body);

        let page = web.get("/settings");
        assert!(
            page.body
                .contains("<td class=\"token-access\">read only</td>"),
            "{name}"
        );
        assert!(
            page.body.contains("<td class=\"token-projects\">Shop</td>"),
            "{name}"
        );
    }
}
