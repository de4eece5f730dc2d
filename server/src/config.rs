//! One `Config`: defaults < optional TOML file (`--config`) < environment (`BUGLE_*`).
//!
//! Every subcommand reads the same configuration, so the CLI and a running server share one
//! database. The full list of settings is in README.md ("Configuration").

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address `serve` listens on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// `sqlite://path/file.db` (created if missing) or `postgres://user@host/db`.
    pub database_url: String,
    /// Public URL of this server, used in DSNs and links. Defaults to `http://<listen>`.
    pub base_url: Option<String>,
    /// `text` (human) or `json` logs on stderr.
    pub log_format: LogFormat,
    pub ingest: IngestConfig,
    pub http: HttpConfig,
    pub attachments: AttachmentsConfig,
    pub sqlite: SqliteConfig,
    pub retention: RetentionConfig,
    pub mail: MailConfig,
    pub alerts: AlertsConfig,
    /// When set, `/metrics` requires `Authorization: Bearer <metrics_token>`.
    pub metrics_token: Option<String>,
    /// Links an event's trace id to a tracing UI: `{trace_id}` is replaced, e.g.
    /// `https://ui.honeycomb.io/myteam/environments/prod/trace?trace_id={trace_id}`.
    pub trace_url: Option<String>,
}

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://user:pass@host:587` (STARTTLS on 587 or with `?tls=required`), `smtps://...`
    /// (implicit TLS), or plain `smtp://host:25` for a local relay. None: mail is off.
    pub smtp_url: Option<String>,
    /// The From address.
    pub from: String,
    /// Mails other than new-issue and regression mails: at most one per issue per window.
    pub cooldown_minutes: i64,
    /// At most this many mails an hour in all; new-issue and regression mails always go.
    pub hourly_cap: i64,
    /// A spike mails when an issue gets `spike_count` occurrences within `spike_minutes`.
    pub spike_count: i64,
    pub spike_minutes: i64,
    /// This many new issues of a project within a minute become one digest mail.
    pub burst_digest: i64,
    /// A mail not sent within this many seconds (SMTP down or refusing) is not sent late: it
    /// and the project's other such mails become one "while mail was off or failing" digest.
    pub stale_after_secs: i64,
    /// How often an idle worker looks for mail to send.
    pub poll_ms: u64,
    /// First retry delay after a failed send; doubles per attempt up to 10 minutes.
    pub retry_ms: u64,
}

/// Chat and webhook channels (see notify::channels).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Lets channels post to loopback, private, link-local and unspecified addresses
    /// (refused by default: a channel URL must not reach into the server's own network).
    pub allow_private_targets: bool,
    /// An alert not delivered within this many seconds is folded into one "while alerts were
    /// off or failing" summary per channel instead of going out late.
    pub stale_after_secs: i64,
    /// First retry delay after a failed delivery; doubles per attempt up to an hour.
    pub retry_ms: u64,
    /// How often an idle channel worker looks for alerts to deliver.
    pub poll_ms: u64,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            stale_after_secs: 86_400,
            retry_ms: 5000,
            poll_ms: 1000,
        }
    }
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "Bugle <bugle@localhost>".into(),
            cooldown_minutes: 30,
            hourly_cap: 60,
            spike_count: 100,
            spike_minutes: 5,
            burst_digest: 5,
            stale_after_secs: 86_400,
            poll_ms: 1000,
            retry_ms: 5000,
        }
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("from", &self.from)
            .field("cooldown_minutes", &self.cooldown_minutes)
            .field("hourly_cap", &self.hourly_cap)
            .finish()
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Occurrences older than this are deleted (per-project setting overrides).
    pub max_age_days: i64,
    /// Only the newest N occurrences of an issue are kept; its counts stay exact.
    pub max_occurrences_per_issue: i64,
    /// Seconds between retention passes.
    pub interval_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            max_age_days: 90,
            max_occurrences_per_issue: 1000,
            interval_secs: 600,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Largest request body accepted as sent on the wire (compressed or not).
    pub max_body_bytes: usize,
    /// Largest event after decompression; a small body that expands past it is a 413.
    pub max_event_bytes: usize,
    /// Events waiting for the writer; when full, ingest answers 429 with Retry-After.
    pub queue_capacity: usize,
    /// Most events committed in one transaction.
    pub batch_max: usize,
    /// Writer tasks per process, each with its own queue; unset: 1 on SQLite (one writer
    /// connection anyway), 2 on PostgreSQL (their commits overlap).
    pub writers: Option<usize>,
    /// Longest an ingest request waits for its commit: past it the answer is 503 + Retry-After
    /// (the database is down, hanging or busy) and the event, if not yet in a transaction, is
    /// not stored. Also the bound of `/readyz`'s database check and of PostgreSQL pool waits.
    pub store_timeout_ms: u64,
    /// Benchmark only: parse, group and compress events, then drop them instead of storing
    /// (answers 200 with `issue_id` 0). Measures the ceiling of everything but storage.
    pub bench_discard: bool,
}

/// Connections and slow clients: every wait on a client is bounded, and so is their number.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Longest a client may take to send a request's head (request line and headers), from
    /// its first byte; past it 408 and the connection is closed (a slowloris).
    pub head_timeout_ms: u64,
    /// Longest a client may take to send a request's body once its head is in; past it 408
    /// and the connection is closed (headers sent, then the body dribbled).
    pub body_timeout_ms: u64,
    /// An idle kept-alive connection is closed after this long.
    pub keep_alive_secs: u64,
    /// A connection being closed gets this long to take the last bytes before it is dropped.
    pub disconnect_timeout_ms: u64,
    /// Most connections open at once (all workers together); more clients wait in the listen
    /// backlog until one closes, while those already connected are served.
    pub max_connections: usize,
    /// HTTP worker threads; unset: one per CPU core.
    pub workers: Option<usize>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            head_timeout_ms: 5000,
            body_timeout_ms: 60_000,
            keep_alive_secs: 5,
            disconnect_timeout_ms: 1000,
            max_connections: 10_000,
            workers: None,
        }
    }
}

/// Files sent with events (Sentry `attachment` items: minidumps, screenshots, logs).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentsConfig {
    /// Largest envelope body accepted as sent (it carries the attachments; an envelope without
    /// attachment items stays bounded by `ingest.max_body_bytes`).
    pub max_envelope_bytes: usize,
    /// Largest single attachment, uncompressed; a larger one is dropped (and counted).
    pub max_bytes: usize,
    /// Most bytes of attachments kept for one event.
    pub max_event_bytes: usize,
    /// Most bytes (as stored, compressed) of attachments kept per project; beyond it new
    /// attachments are dropped until retention frees room.
    pub max_project_bytes: i64,
}

impl Default for AttachmentsConfig {
    fn default() -> Self {
        Self {
            max_envelope_bytes: 20 * 1024 * 1024,
            max_bytes: 10 * 1024 * 1024,
            max_event_bytes: 20 * 1024 * 1024,
            max_project_bytes: 1024 * 1024 * 1024,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SqliteConfig {
    /// `full` (default: an acknowledged event survives power loss) or `normal` (survives a crash).
    pub synchronous: String,
    /// Page cache per database connection, in MB (filled only as pages are read). Big enough
    /// to hold the issues table keeps searches and the projects page in memory.
    pub cache_mb: u32,
    /// What SQLite may hold in memory in all, every connection's page cache together, in MB
    /// (SQLite's soft heap limit; 0: no limit). Past it, caches reuse their pages instead of
    /// growing: ten connections of 16 MB each otherwise fill 160 MB as the database grows.
    pub memory_mb: u32,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".parse().expect("valid default address"),
            database_url: "sqlite://./bugle-data/bugle.db".into(),
            base_url: None,
            log_format: LogFormat::Text,
            ingest: IngestConfig::default(),
            http: HttpConfig::default(),
            attachments: AttachmentsConfig::default(),
            sqlite: SqliteConfig::default(),
            retention: RetentionConfig::default(),
            mail: MailConfig::default(),
            alerts: AlertsConfig::default(),
            metrics_token: None,
            trace_url: None,
        }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_event_bytes: 4 * 1024 * 1024,
            queue_capacity: 4096,
            batch_max: 512,
            writers: None,
            store_timeout_ms: 2000,
            bench_discard: false,
        }
    }
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            synchronous: "full".into(),
            cache_mb: 16,
            memory_mb: 48,
        }
    }
}

/// Environment variables and the setting each one overrides.
const ENV_SETTINGS: &[(&str, &str)] = &[
    ("BUGLE_LISTEN", "listen"),
    ("BUGLE_DATABASE_URL", "database_url"),
    ("BUGLE_BASE_URL", "base_url"),
    ("BUGLE_LOG_FORMAT", "log_format"),
    ("BUGLE_MAX_BODY_BYTES", "ingest.max_body_bytes"),
    ("BUGLE_MAX_EVENT_BYTES", "ingest.max_event_bytes"),
    ("BUGLE_QUEUE_CAPACITY", "ingest.queue_capacity"),
    ("BUGLE_BATCH_MAX", "ingest.batch_max"),
    ("BUGLE_WRITERS", "ingest.writers"),
    ("BUGLE_STORE_TIMEOUT_MS", "ingest.store_timeout_ms"),
    ("BUGLE_BENCH_DISCARD", "ingest.bench_discard"),
    ("BUGLE_HTTP_HEAD_TIMEOUT_MS", "http.head_timeout_ms"),
    ("BUGLE_HTTP_BODY_TIMEOUT_MS", "http.body_timeout_ms"),
    ("BUGLE_HTTP_KEEP_ALIVE_SECS", "http.keep_alive_secs"),
    (
        "BUGLE_HTTP_DISCONNECT_TIMEOUT_MS",
        "http.disconnect_timeout_ms",
    ),
    ("BUGLE_HTTP_MAX_CONNECTIONS", "http.max_connections"),
    ("BUGLE_HTTP_WORKERS", "http.workers"),
    ("BUGLE_MAX_ENVELOPE_BYTES", "attachments.max_envelope_bytes"),
    ("BUGLE_MAX_ATTACHMENT_BYTES", "attachments.max_bytes"),
    (
        "BUGLE_MAX_EVENT_ATTACHMENT_BYTES",
        "attachments.max_event_bytes",
    ),
    (
        "BUGLE_MAX_PROJECT_ATTACHMENT_BYTES",
        "attachments.max_project_bytes",
    ),
    ("BUGLE_SQLITE_SYNCHRONOUS", "sqlite.synchronous"),
    ("BUGLE_SQLITE_CACHE_MB", "sqlite.cache_mb"),
    ("BUGLE_SQLITE_MEMORY_MB", "sqlite.memory_mb"),
    ("BUGLE_RETENTION_DAYS", "retention.max_age_days"),
    (
        "BUGLE_RETENTION_MAX_PER_ISSUE",
        "retention.max_occurrences_per_issue",
    ),
    ("BUGLE_RETENTION_INTERVAL_SECS", "retention.interval_secs"),
    ("BUGLE_METRICS_TOKEN", "metrics_token"),
    ("BUGLE_TRACE_URL", "trace_url"),
    ("BUGLE_SMTP_URL", "mail.smtp_url"),
    ("BUGLE_MAIL_FROM", "mail.from"),
    ("BUGLE_MAIL_COOLDOWN_MINUTES", "mail.cooldown_minutes"),
    ("BUGLE_MAIL_HOURLY_CAP", "mail.hourly_cap"),
    ("BUGLE_MAIL_POLL_MS", "mail.poll_ms"),
    ("BUGLE_MAIL_SPIKE_COUNT", "mail.spike_count"),
    ("BUGLE_MAIL_SPIKE_MINUTES", "mail.spike_minutes"),
    ("BUGLE_MAIL_BURST_DIGEST", "mail.burst_digest"),
    ("BUGLE_MAIL_STALE_AFTER_SECS", "mail.stale_after_secs"),
    ("BUGLE_MAIL_RETRY_MS", "mail.retry_ms"),
    (
        "BUGLE_ALERTS_ALLOW_PRIVATE_TARGETS",
        "alerts.allow_private_targets",
    ),
    ("BUGLE_ALERTS_STALE_AFTER_SECS", "alerts.stale_after_secs"),
    ("BUGLE_ALERTS_RETRY_MS", "alerts.retry_ms"),
    ("BUGLE_ALERTS_POLL_MS", "alerts.poll_ms"),
];

impl Config {
    /// Loads defaults, then the file (if given), then the process environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        Self::load_from(file, |name| std::env::var(name).ok())
    }

    /// As [`Config::load`], reading the environment through `env` (tests pass a map).
    pub fn load_from(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading config file {}", path.display()))?;
                toml::from_str::<toml::Table>(&text)
                    .with_context(|| format!("parsing config file {}", path.display()))?
            }
            None => toml::Table::new(),
        };
        // The conventional name works too; BUGLE_DATABASE_URL wins when both are set.
        let database_url = env("BUGLE_DATABASE_URL").or_else(|| env("DATABASE_URL"));
        for (name, key) in ENV_SETTINGS {
            let value = if *name == "BUGLE_DATABASE_URL" {
                database_url.clone()
            } else {
                env(name)
            };
            if let Some(value) = value {
                set_path(&mut table, key, env_value(&value))
                    .with_context(|| format!("environment variable {name}"))?;
            }
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .context("invalid configuration")?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> anyhow::Result<()> {
        let i = &self.ingest;
        if i.queue_capacity == 0 || i.batch_max == 0 || i.writers == Some(0) {
            bail!("ingest.queue_capacity, ingest.batch_max and ingest.writers must be at least 1");
        }
        let h = &self.http;
        if h.max_connections == 0 || h.workers == Some(0) || h.head_timeout_ms == 0 {
            bail!("http.max_connections, http.workers and http.head_timeout_ms must be at least 1");
        }
        let r = &self.retention;
        if r.max_age_days < 1 || r.max_occurrences_per_issue < 1 || r.interval_secs == 0 {
            bail!("retention settings must be at least 1");
        }
        if !matches!(self.sqlite.synchronous.as_str(), "full" | "normal") {
            bail!(
                "sqlite.synchronous must be \"full\" or \"normal\", not {:?}",
                self.sqlite.synchronous
            );
        }
        Ok(())
    }

    /// The public URL clients use, without a trailing slash.
    pub fn base_url(&self) -> String {
        match &self.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(10)
    }

    /// See [`IngestConfig::store_timeout_ms`]; at least 100 ms.
    pub fn store_timeout(&self) -> Duration {
        Duration::from_millis(self.ingest.store_timeout_ms.max(100))
    }
}

/// Environment values are strings; numbers and booleans become typed values so typed
/// settings accept them.
fn env_value(raw: &str) -> toml::Value {
    match (raw.parse::<i64>(), raw) {
        (Ok(n), _) => toml::Value::Integer(n),
        (_, "true") => toml::Value::Boolean(true),
        (_, "false") => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_owned()),
    }
}

fn set_path(table: &mut toml::Table, dotted: &str, value: toml::Value) -> anyhow::Result<()> {
    let mut parts = dotted.split('.').peekable();
    let mut current = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), value);
            return Ok(());
        }
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .with_context(|| format!("`{part}` in the config file is not a table"))?;
    }
    Ok(())
}

/// Hides the password of a database URL for logs and errors.
/// A Sentry DSN for the project: `http://<key>@<host>[/path]/<project id>`.
pub fn dsn(base_url: &str, key: &str, project_id: i64) -> String {
    match base_url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{key}@{rest}/{project_id}"),
        None => format!("http://{key}@{base_url}/{project_id}"),
    }
}

pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("base_url", &self.base_url)
            .field("log_format", &self.log_format)
            .field("ingest", &self.ingest)
            .field("http", &self.http)
            .field("sqlite", &self.sqlite)
            .field("retention", &self.retention)
            .field("mail", &self.mail)
            .field("alerts", &self.alerts)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "***"))
            .field("trace_url", &self.trace_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_need_no_setup() {
        let c = Config::load_from(None, env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://./bugle-data/bugle.db");
        assert_eq!(c.base_url(), "http://127.0.0.1:8080");
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bugle.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\n[ingest]\nqueue_capacity = 10\nbatch_max = 7\n",
        )
        .unwrap();
        let c = Config::load_from(
            Some(&path),
            env(&[
                ("BUGLE_QUEUE_CAPACITY", "99"),
                ("DATABASE_URL", "postgres://x@y/z"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.ingest.queue_capacity, 99);
        assert_eq!(c.ingest.batch_max, 7);
        assert_eq!(c.database_url, "postgres://x@y/z");
    }

    #[test]
    fn bad_values_name_their_source() {
        let err = Config::load_from(None, env(&[("BUGLE_LISTEN", "nowhere")])).unwrap_err();
        assert!(format!("{err:#}").contains("listen"), "{err:#}");
    }

    #[test]
    fn dsns_carry_the_key_as_user_and_the_project_as_path() {
        assert_eq!(
            dsn("http://127.0.0.1:8080", "abc", 3),
            "http://abc@127.0.0.1:8080/3"
        );
        assert_eq!(
            dsn("https://bugle.example.com/errors", "k", 1),
            "https://k@bugle.example.com/errors/1"
        );
    }

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://bugle:hunter2@db:5432/bugle"),
            "postgres://bugle:***@db:5432/bugle"
        );
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
    }
}
