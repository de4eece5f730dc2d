//! The one store interface, with SQLite and PostgreSQL behind it.
//!
//! Both backends run through sqlx's `Any` driver with one set of portable SQL (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`, BIGINT unix-millisecond times), so every behaviour is written once
//! and tested on both. Where the dialects must differ (transaction start, DDL) the [`Backend`]
//! picks; each backend has its own migrations folder. The one exception is how an ingest batch
//! reaches SQLite: the same statements, on a connection of the writer's own (`batch_tx`).

pub mod alert_rules;
pub mod attachments;
mod batch_tx;
pub mod breakdowns;
pub mod channel_digest;
pub mod channels;
mod facet_writes;
pub mod feedback;
pub mod ingest;
pub mod issues;
pub mod mail_backlog;
pub mod merges;
mod multi_row;
pub mod notify;
pub mod ownership;
mod project_rules;
pub mod projects;
pub mod release_health;
pub mod release_list;
pub mod releases;
pub mod retention;
pub mod saved_searches;
pub mod search;
pub mod services;
pub mod sessions;
mod sql;
pub mod sqlite_disk;
pub mod suspects;
pub mod traces;
pub mod users;
pub mod writer;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor};

use crate::config::{redact_url, Config};

pub use ingest::{Committed, NewOccurrence};

/// Embedded migrations, one file per backend and version: (version, description, SQLite SQL,
/// PostgreSQL SQL). Embedding keeps the server one file to ship.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "core",
        include_str!("../../../migrations/sqlite/0001_core.sql"),
        include_str!("../../../migrations/postgres/0001_core.sql"),
    ),
    (
        2,
        "project settings",
        include_str!("../../../migrations/sqlite/0002_project_settings.sql"),
        include_str!("../../../migrations/postgres/0002_project_settings.sql"),
    ),
    (
        3,
        "notifications",
        include_str!("../../../migrations/sqlite/0003_notify.sql"),
        include_str!("../../../migrations/postgres/0003_notify.sql"),
    ),
    (
        4,
        "dashboard",
        include_str!("../../../migrations/sqlite/0004_dashboard.sql"),
        include_str!("../../../migrations/postgres/0004_dashboard.sql"),
    ),
    (
        5,
        "ingest storage",
        include_str!("../../../migrations/sqlite/0005_ingest_storage.sql"),
        include_str!("../../../migrations/postgres/0005_ingest_storage.sql"),
    ),
    (
        6,
        "grouping",
        include_str!("../../../migrations/sqlite/0006_grouping.sql"),
        include_str!("../../../migrations/postgres/0006_grouping.sql"),
    ),
    (
        7,
        "attachments and feedback",
        include_str!("../../../migrations/sqlite/0007_attachments_feedback.sql"),
        include_str!("../../../migrations/postgres/0007_attachments_feedback.sql"),
    ),
    (
        8,
        "search",
        include_str!("../../../migrations/sqlite/0008_search.sql"),
        include_str!("../../../migrations/postgres/0008_search.sql"),
    ),
    (
        9,
        "otlp spans",
        include_str!("../../../migrations/sqlite/0009_otlp_spans.sql"),
        include_str!("../../../migrations/postgres/0009_otlp_spans.sql"),
    ),
    (
        10,
        "releases",
        include_str!("../../../migrations/sqlite/0010_releases.sql"),
        include_str!("../../../migrations/postgres/0010_releases.sql"),
    ),
    (
        11,
        "alert channels",
        include_str!("../../../migrations/sqlite/0011_alerts.sql"),
        include_str!("../../../migrations/postgres/0011_alerts.sql"),
    ),
    (
        12,
        "token scopes",
        include_str!("../../../migrations/sqlite/0012_token_scopes.sql"),
        include_str!("../../../migrations/postgres/0012_token_scopes.sql"),
    ),
    (
        13,
        "release health",
        include_str!("../../../migrations/sqlite/0013_release_health.sql"),
        include_str!("../../../migrations/postgres/0013_release_health.sql"),
    ),
    (
        14,
        "alert rules and ownership",
        include_str!("../../../migrations/sqlite/0014_alert_rules.sql"),
        include_str!("../../../migrations/postgres/0014_alert_rules.sql"),
    ),
    (
        15,
        "alert reasons",
        include_str!("../../../migrations/sqlite/0015_alert_reasons.sql"),
        include_str!("../../../migrations/postgres/0015_alert_reasons.sql"),
    ),
    (
        18,
        "session end states",
        include_str!("../../../migrations/sqlite/0018_session_states.sql"),
        include_str!("../../../migrations/postgres/0018_session_states.sql"),
    ),
    (
        19,
        "hourly counts updated in place",
        include_str!("../../../migrations/sqlite/0019_hourly_counts_hot.sql"),
        include_str!("../../../migrations/postgres/0019_hourly_counts_hot.sql"),
    ),
    (
        20,
        "rules versions",
        include_str!("../../../migrations/sqlite/0020_rules_version.sql"),
        include_str!("../../../migrations/postgres/0020_rules_version.sql"),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("database error")]
    Db(#[from] sqlx::Error),
    #[error("database error")]
    Sqlite(rusqlite::Error),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: expected sqlite://... or postgres://...")]
    UnsupportedUrl(String),
}

impl StoreError {
    /// A metric label for why a commit failed: `disk_full`, `read_only`, `busy` (another
    /// process held SQLite's write lock past the bound), `unavailable` (down, restarting,
    /// unreachable) or `other`.
    pub fn reason(&self) -> &'static str {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) if e.code().as_deref() == Some("53100") => {
                "disk_full"
            }
            StoreError::Db(sqlx::Error::Database(e)) if e.code().as_deref() == Some("25006") => {
                "read_only"
            }
            e => match e.sqlite_code() {
                Some(SQLITE_FULL) => "disk_full",
                Some(SQLITE_READONLY) => "read_only",
                Some(SQLITE_BUSY) if e.is_unavailable() => "busy",
                _ if e.is_unavailable() => "unavailable",
                _ => "other",
            },
        }
    }

    /// SQLite's primary result code, from the writer's connection or the pool's.
    fn sqlite_code(&self) -> Option<i32> {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                Some(e.extended_code & 0xff)
            }
            // PostgreSQL's SQLSTATEs are five characters; SQLite's (extended) codes are numbers.
            StoreError::Db(sqlx::Error::Database(e)) => e
                .code()
                .filter(|c| c.len() < 5)
                .and_then(|c| c.parse::<i32>().ok())
                .map(|c| c & 0xff),
            _ => None,
        }
    }

    /// The database is not reachable or not writable at all (down, restarting, read-only, out
    /// of disk; SQLite's write lock held by another process past the writer's bound): retrying
    /// event by event would only wait for it again.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // The writer waited its whole busy timeout (the store timeout) for the lock.
            StoreError::Sqlite(_) if self.sqlite_code() == Some(SQLITE_BUSY) => true,
            _ if matches!(
                self.sqlite_code(),
                Some(SQLITE_READONLY | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN)
            ) =>
            {
                true
            }
            // 57P01-57P03: administrator shutdown, crash shutdown, cannot connect now; 53100:
            // disk full; 25006: read-only transaction; 08*: connection exceptions.
            StoreError::Db(sqlx::Error::Database(e)) => e.code().is_some_and(|c| {
                matches!(&*c, "57P01" | "57P02" | "57P03" | "53100" | "25006")
                    || c.starts_with("08")
            }),
            _ => false,
        }
    }

    /// SQLite's connection is left read-only or broken by this failure: the writer opens
    /// another, which sees the file as it is now.
    pub(crate) fn needs_new_connection(&self) -> bool {
        matches!(
            self.sqlite_code(),
            Some(SQLITE_READONLY | SQLITE_IOERR | SQLITE_CANTOPEN)
        )
    }

    /// Failures a retry can cure: PostgreSQL deadlocks and serialization failures between
    /// instances, SQLite's busy database (the pool's connections).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => matches!(
                e.code().as_deref(),
                Some("40P01" | "40001" | "5" | "6" | "517" | "261")
            ),
            StoreError::Db(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DatabaseLocked
            }
            _ => false,
        }
    }
}

const SQLITE_BUSY: i32 = 5;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;

pub type StoreResult<T> = Result<T, StoreError>;

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// A spike: at least `count` occurrences of an issue within `minutes` (0: off).
    spike: Spike,
    /// Whether mail is on: mail rows are only queued then.
    mail: bool,
    /// Recent trending rankings, shared by this process's clones of the store.
    trending: issues::TrendingCache,
    /// Releases known to be stored, so ingest writes a release row once (`releases`).
    known_releases: releases::KnownReleases,
    /// Each project's release order, computed once per set of releases (`releases`).
    release_orders: releases::ReleaseOrders,
    /// Tag keys of issues known to be full (`facet_writes`).
    full_keys: facet_writes::FullKeys,
    /// Each project's alert and ownership rules at their version (`project_rules`).
    rules: project_rules::RulesCache,
    /// SQLite: the connection ingest batches commit on (see `batch_tx`).
    sqlite_writer: Option<std::sync::Arc<batch_tx::SqliteWriter>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spike {
    pub count: i64,
    pub minutes: i64,
}

impl Store {
    /// Opens (creating a missing SQLite file and its folder) and migrates the database.
    pub async fn open(config: &Config) -> StoreResult<Self> {
        let url = config.database_url.as_str();
        sqlx::any::install_default_drivers();
        let backend = match url.split_once(':').map(|(scheme, _)| scheme) {
            Some("sqlite") => Backend::Sqlite,
            Some("postgres" | "postgresql") => Backend::Postgres,
            _ => return Err(StoreError::UnsupportedUrl(redact_url(url))),
        };
        let store = match backend {
            Backend::Sqlite => Self::open_sqlite(url, config).await?,
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(&with_statement_cache(url))?;
                // A database that is down or hanging costs a request the store timeout, not
                // more: then 503 (sqlx tests each pooled connection before handing it out, so
                // connections killed by a restart are replaced, and the pool recovers by itself).
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(config.store_timeout())
                    .connect_with(options)
                    .await?;
                Store {
                    pool,
                    backend,
                    spike: Spike {
                        count: 0,
                        minutes: 0,
                    },
                    mail: false,
                    trending: Default::default(),
                    known_releases: Default::default(),
                    release_orders: Default::default(),
                    full_keys: Default::default(),
                    rules: Default::default(),
                    sqlite_writer: None,
                }
            }
        };
        let store = Store {
            spike: Spike {
                count: config.mail.spike_count,
                minutes: config.mail.spike_minutes,
            },
            mail: config.mail.smtp_url.is_some(),
            ..store
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn open_sqlite(url: &str, config: &Config) -> StoreResult<Self> {
        let path = sqlite_path(url);
        if let Some(dir) = Path::new(&path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Invalid(format!("cannot create folder {}: {e}", dir.display()))
            })?;
        }
        let options = AnyConnectOptions::from_str(&format!("sqlite://{path}?mode=rwc"))?;
        let pragmas = sqlite_connection_pragmas(&config.sqlite, 10_000);
        // The writer waits for another process's write lock no longer than a request waits
        // for its commit: then the batch is answered 503, not retried into the next minutes.
        let writer_pragmas =
            sqlite_connection_pragmas(&config.sqlite, config.store_timeout().as_millis());
        let spells = sqlite_disk::ReadOnlySpells::default();
        let (connected, acquiring) = (spells.clone(), spells.clone());
        let (connected_path, acquiring_path) = (path.clone(), path.clone());
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                let pragmas = pragmas.clone();
                if let Some(sqlite_disk::DiskProblem::ReadOnly(_)) =
                    sqlite_disk::disk_problem(&connected_path)
                {
                    connected.seen();
                }
                Box::pin(async move {
                    // Only takes effect on a new, empty file: deleted rows' pages can then be
                    // returned to the file system by retention. Asked of a populated file it
                    // waits for the write lock, which the ingest writer hardly ever releases
                    // under load: new pool connections then took seconds to open.
                    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
                        .fetch_one(&mut *conn)
                        .await?;
                    if pages == 0 {
                        conn.execute("PRAGMA auto_vacuum = INCREMENTAL").await?;
                    }
                    conn.execute(pragmas.as_str()).await?;
                    Ok(())
                })
            })
            .before_acquire(move |_, meta| {
                let fresh = !acquiring.is_stale(meta.age, &acquiring_path);
                Box::pin(async move { Ok(fresh) })
            })
            .connect_with(options)
            .await
            .map_err(|e| {
                match sqlite_disk::disk_problem(&path) {
                    // SQLite cannot read a WAL database it may not write unless its -shm file
                    // exists: an unclean stop leaves one, a clean one does not.
                    Some(problem) => StoreError::Invalid(format!("{problem}: {e}")),
                    None => e.into(),
                }
            })?;
        Ok(Store {
            pool,
            backend: Backend::Sqlite,
            spike: Spike {
                count: 0,
                minutes: 0,
            },
            mail: false,
            trending: Default::default(),
            known_releases: Default::default(),
            release_orders: Default::default(),
            full_keys: Default::default(),
            rules: Default::default(),
            sqlite_writer: Some(std::sync::Arc::new(batch_tx::SqliteWriter::new(
                path,
                writer_pragmas,
                spells,
            ))),
        })
    }

    async fn migrate(&self) -> StoreResult<()> {
        let migrations = MIGRATIONS
            .iter()
            .map(|&(version, description, sqlite, postgres)| {
                let sql = match self.backend {
                    Backend::Sqlite => sqlite,
                    Backend::Postgres => postgres,
                };
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    Cow::Borrowed(sql),
                    false,
                )
            })
            .collect();
        let migrator = Migrator {
            migrations: Cow::Owned(migrations),
            ..Migrator::DEFAULT
        };
        // PostgreSQL: an advisory lock lets several instances start at once.
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a transaction that will write. SQLite takes the write lock up front, so a
    /// transaction that reads first cannot fail later on a lock upgrade.
    pub async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Liveness of the database, for readiness checks.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// SQLite: whether its folder is read-only or out of room, so that nothing can be
    /// committed although the database answers reads (always `None` on PostgreSQL, which
    /// reports either through its errors).
    pub fn disk_problem(&self) -> Option<sqlite_disk::DiskProblem> {
        self.sqlite_writer.as_ref()?.disk_problem()
    }

    /// SQLite: whether ingest batches are giving up on the write lock, held by another process
    /// past the store timeout (always false on PostgreSQL).
    pub fn write_locked(&self) -> bool {
        self.sqlite_writer
            .as_ref()
            .is_some_and(|w| w.write_locked())
    }

    /// SQLite: the bytes it holds (every connection's page cache and statements, bounded by
    /// `sqlite.memory_mb`), for `/metrics`.
    pub fn sqlite_memory_bytes(&self) -> Option<i64> {
        self.sqlite_writer.as_ref()?;
        // SAFETY: reads SQLite's process-wide allocation counter.
        Some(unsafe { rusqlite::ffi::sqlite3_memory_used() })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// What every SQLite connection is set to, the pool's and the ingest writer's alike. WAL lets
/// the dashboard read while the writer commits; a busy timeout lets the CLI and the server
/// share the file. temp_store: a multi-row statement keeps a journal of the pages it changes
/// (to undo itself on a conflict), and past 64 KB SQLite spilled it to a temporary file, one
/// extra page write for nearly every WAL frame of an ingest batch. soft_heap_limit is
/// process-wide: it bounds every connection's page cache together (`sqlite.memory_mb`).
fn sqlite_connection_pragmas(sqlite: &crate::config::SqliteConfig, busy_ms: u128) -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA busy_timeout = {busy_ms}; \
         PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{}; \
         PRAGMA soft_heap_limit = {};",
        sqlite.synchronous,
        u64::from(sqlite.cache_mb) * 1024,
        u64::from(sqlite.memory_mb) << 20,
    )
}

/// Prepared statements kept per PostgreSQL connection, unless the URL sets
/// `statement-cache-capacity`. A batch's multi-row statements differ in text with its number
/// of rows, issues and facets: with sqlx's default of 100 the writer's connection kept evicting
/// and re-preparing them (a Parse round trip each); measured 3,030-3,230 -> 3,580-3,830
/// events/s with one writer.
const PG_STATEMENT_CACHE: usize = 1024;

fn with_statement_cache(url: &str) -> String {
    if url.contains("statement-cache-capacity=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}statement-cache-capacity={PG_STATEMENT_CACHE}")
}

/// `sqlite:///abs/file.db`, `sqlite://rel/file.db` and `sqlite:file.db` all name a file.
fn sqlite_path(url: &str) -> String {
    let rest = url.strip_prefix("sqlite:").unwrap_or(url);
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    rest.split('?').next().unwrap_or(rest).to_owned()
}

#[cfg(test)]
mod tests {
    use super::{sqlite_path, with_statement_cache, StoreError};

    fn sqlite_failure(code: i32) -> StoreError {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            None,
        ))
    }

    #[test]
    fn sqlite_failures_that_no_retry_cures_are_unavailable_with_their_reason() {
        // SQLITE_BUSY after the writer's busy timeout, READONLY_CANTINIT, FULL, IOERR_WRITE.
        for (code, reason, reopen) in [
            (5, "busy", false),
            (1288, "read_only", true),
            (13, "disk_full", false),
            (778, "unavailable", true),
        ] {
            let e = sqlite_failure(code);
            assert!(e.is_unavailable(), "{code}");
            assert!(!e.is_transient(), "{code}");
            assert_eq!(e.reason(), reason, "{code}");
            assert_eq!(e.needs_new_connection(), reopen, "{code}");
        }
        assert_eq!(sqlite_failure(19).reason(), "other");
        assert!(!sqlite_failure(19).is_unavailable());
    }

    #[test]
    fn postgres_urls_get_a_statement_cache_unless_they_set_one() {
        assert_eq!(
            with_statement_cache("postgres://u@h/db"),
            "postgres://u@h/db?statement-cache-capacity=1024"
        );
        assert_eq!(
            with_statement_cache("postgres://u@h/db?sslmode=disable"),
            "postgres://u@h/db?sslmode=disable&statement-cache-capacity=1024"
        );
        let own = "postgres://u@h/db?statement-cache-capacity=50";
        assert_eq!(with_statement_cache(own), own);
    }

    #[test]
    fn sqlite_urls_name_files() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/bugle.db"),
            "/var/lib/bugle.db"
        );
        assert_eq!(
            sqlite_path("sqlite://./bugle-data/bugle.db"),
            "./bugle-data/bugle.db"
        );
        assert_eq!(sqlite_path("sqlite:x.db?mode=rwc"), "x.db");
    }
}
