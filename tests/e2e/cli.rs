use std::process::{Command, Stdio};

use bugle_tests::server::{binary, create_project, request, Backend};
use serde_json::json;

#[test]
fn serve_with_no_configuration_creates_and_migrates_sqlite_in_the_working_folder() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(binary())
            .args(args)
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("BUGLE_DATABASE_URL")
            .env("BUGLE_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run(&["project", "create", "Checkout API", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let project: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(project["slug"], "checkout-api");
    let token = project["token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    let dsn = project["dsn"].as_str().unwrap();
    assert_eq!(
        dsn,
        format!("http://{token}@127.0.0.1:8080/{}", project["id"])
    );
    assert!(dir.path().join("bugle-data/bugle.db").exists());

    // The server started in the same folder shares that database.
    let mut child = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("BUGLE_DATABASE_URL")
        .env("BUGLE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let reply = request(
        "POST",
        &format!("{url}/api/v1/events"),
        &[("Authorization", &format!("Bearer {token}"))],
        Some(json!({"message": "hello"}).to_string().into_bytes()),
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(reply.status, 200, "{}", reply.body);
    // SQLite runs in WAL mode so the dashboard reads while the writer commits.
    assert!(dir.path().join("bugle-data/bugle.db-wal").exists());
}

#[test]
fn the_cli_and_the_server_share_one_configuration() {
    for backend in Backend::all() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            file.path(),
            format!(
                "database_url = \"{}\"\nbase_url = \"https://bugle.example.com\"\n",
                backend.database_url
            ),
        )
        .unwrap();
        let out = Command::new(binary())
            .args(["--config", file.path().to_str().unwrap()])
            .args(["project", "create", "Web", "--json"])
            .env_remove("DATABASE_URL")
            .env_remove("BUGLE_DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let project: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            project["dsn"].as_str().unwrap().starts_with("https://"),
            "{}: {project}",
            backend.name
        );
        // Same database through the environment instead of the file.
        let again = create_project(&backend.database_url, "Web");
        assert_eq!(again.slug, "web-2", "{}", backend.name);
    }
}

#[test]
fn cli_mistakes_exit_non_zero_with_a_message() {
    let backend = Backend::sqlite();
    let out = bugle_tests::server::cli_output(
        &backend.database_url,
        &["token", "create", "nobody@example.com"],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody@example.com"));
    let out = bugle_tests::server::cli_output(
        &backend.database_url,
        &["user", "create", "ada@example.com", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));
}
