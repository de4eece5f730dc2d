//! The real `bugle-server` binary: CLI runs and a server on a free port.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// A database to run a test against: a SQLite file in a temporary folder, or a fresh
/// PostgreSQL database.
pub struct Backend {
    pub name: &'static str,
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    pub fn sqlite() -> Backend {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let database_url = format!("sqlite://{}/bugle.db", dir.path().display());
        Backend {
            name: "sqlite",
            database_url,
            _dir: Some(dir),
        }
    }

    pub fn postgres() -> Option<Backend> {
        crate::postgres::fresh_database().map(|database_url| Backend {
            name: "postgres",
            database_url,
            _dir: None,
        })
    }

    /// SQLite, plus PostgreSQL when available (always under CI).
    pub fn all() -> Vec<Backend> {
        let mut all = vec![Backend::sqlite()];
        all.extend(Backend::postgres());
        all
    }
}

static BINARY_OVERRIDE: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

/// Runs `f` with `bin` as the server binary for every server and CLI call it makes: the
/// benchmark's `--baseline`, which measures an earlier build beside this one.
pub fn with_binary<T>(bin: &std::path::Path, f: impl FnOnce() -> T) -> T {
    let previous = BINARY_OVERRIDE.lock().unwrap().replace(bin.to_owned());
    let out = f();
    *BINARY_OVERRIDE.lock().unwrap() = previous;
    out
}

/// Where cargo put the server binary: `target/<profile>/`, next to `deps/` where test
/// executables live, or beside this executable (the benchmark). `BUGLE_SERVER_BIN` overrides.
pub fn binary() -> PathBuf {
    if let Some(path) = BINARY_OVERRIDE.lock().unwrap().clone() {
        return path;
    }
    if let Some(path) = std::env::var_os("BUGLE_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the executable's path");
    let mut dir = exe.parent().expect("a folder");
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir = dir.parent().expect("target/<profile>");
    }
    let bin = dir.join(format!("bugle-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (or `cargo build -p bugle-server`) first",
        bin.display()
    );
    bin
}

/// Runs `bugle-server ARGS` against the database, feeding `stdin`; panics unless it succeeds.
pub fn cli(database_url: &str, args: &[&str], stdin: Option<&str>) -> String {
    let output = cli_output(database_url, args, stdin);
    assert!(
        output.status.success(),
        "bugle-server {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

pub fn cli_output(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(binary())
        .args(args)
        .env("BUGLE_DATABASE_URL", database_url)
        .env("BUGLE_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bugle-server runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("bugle-server finishes")
}

/// A project made through the CLI, with its ingest token.
pub struct Project {
    pub slug: String,
    pub token: String,
    pub dsn: String,
    pub id: i64,
}

pub fn create_project(database_url: &str, name: &str) -> Project {
    let out: Value = serde_json::from_str(&cli(
        database_url,
        &["project", "create", name, "--json"],
        None,
    ))
    .expect("project create prints JSON");
    Project {
        slug: out["slug"].as_str().unwrap().to_owned(),
        token: out["token"].as_str().unwrap().to_owned(),
        dsn: out["dsn"].as_str().unwrap().to_owned(),
        id: out["id"].as_i64().unwrap(),
    }
}

/// Creates a user (admin or not) and returns an API token for it.
pub fn create_user_token(database_url: &str, email: &str, admin: bool) -> String {
    let mut args = vec!["user", "create", email, "--password-stdin"];
    if admin {
        args.push("--admin");
    }
    cli(database_url, &args, Some("correct horse battery\n"));
    let out: Value = serde_json::from_str(&cli(
        database_url,
        &["token", "create", email, "--json"],
        None,
    ))
    .expect("token create prints JSON");
    out["token"].as_str().unwrap().to_owned()
}

/// A running `bugle-server serve` on 127.0.0.1 and a free port; killed on drop.
pub struct TestServer {
    child: Child,
    pub url: String,
}

impl TestServer {
    pub fn start(database_url: &str) -> TestServer {
        Self::start_with(database_url, &[])
    }

    /// Starts the server with extra environment variables (`BUGLE_*` settings).
    pub fn start_with(database_url: &str, env: &[(&str, &str)]) -> TestServer {
        let mut cmd = Command::new(binary());
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .env("BUGLE_DATABASE_URL", database_url)
            .envs(env.iter().copied())
            .stdout(Stdio::piped());
        if std::env::var_os("TEST_LOG").is_none() {
            cmd.stderr(Stdio::null());
            cmd.env("BUGLE_LOG", "warn");
        }
        let mut child = cmd.spawn().expect("bugle-server starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok).unwrap_or_default();
            let _ = tx.send(first);
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server prints its address within a minute");
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .trim()
            .to_owned();
        TestServer { child, url }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process; returns whether it exited successfully.
    pub fn terminate(mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().expect("the server exits");
        status.success()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response reduced to what tests look at.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Sends one request; `headers` are (name, value) pairs. Any status is a `Reply`; a failure
/// to connect panics.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Reply {
    try_request(method, url, headers, body).unwrap_or_else(|e| panic!("{method} {url} failed: {e}"))
}

/// The body of a response as bytes (files, binary payloads); panics unless the status is 200.
pub fn request_bytes(method: &str, url: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let mut response = agent()
        .run(builder.body(()).expect("a request"))
        .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
    assert_eq!(response.status().as_u16(), 200, "{method} {url}");
    response
        .body_mut()
        .with_config()
        .limit(100 * 1024 * 1024)
        .read_to_vec()
        .expect("a body")
}

/// As [`request`], with connection failures returned.
pub fn try_request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Result<Reply, ureq::Error> {
    let agent = agent();
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let result = match body {
        Some(bytes) => agent.run(builder.body(bytes).expect("a request")),
        None => agent.run(builder.body(()).expect("a request")),
    };
    Ok(Reply::from(result?))
}

impl From<ureq::http::Response<ureq::Body>> for Reply {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Reply {
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }
}

impl TestServer {
    /// POSTs a native event with a project token.
    pub fn send_event(&self, token: &str, event: &Value) -> Reply {
        request(
            "POST",
            &format!("{}/api/v1/events", self.url),
            &[
                ("Authorization", &format!("Bearer {token}")),
                ("Content-Type", "application/json"),
            ],
            Some(event.to_string().into_bytes()),
        )
    }

    /// GET with an API token.
    pub fn get(&self, api_token: &str, path: &str) -> Reply {
        request(
            "GET",
            &format!("{}{path}", self.url),
            &[("Authorization", &format!("Bearer {api_token}"))],
            None,
        )
    }

    /// A JSON request with an API token.
    pub fn send_json(&self, method: &str, api_token: &str, path: &str, body: &Value) -> Reply {
        request(
            method,
            &format!("{}{path}", self.url),
            &[
                ("Authorization", &format!("Bearer {api_token}")),
                ("Content-Type", "application/json"),
            ],
            Some(body.to_string().into_bytes()),
        )
    }
}
