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
