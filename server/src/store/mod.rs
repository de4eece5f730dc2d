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
    /// A metric label for why a commit failed: `disk_full`, `read_only`, `unavailable` (down,
    /// restarting, unreachable) or `other`.
    pub fn reason(&self) -> &'static str {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) if e.code().as_deref() == Some("53100") => {
                "disk_full"
            }
            StoreError::Db(sqlx::Error::Database(e)) if e.code().as_deref() == Some("25006") => {
                "read_only"
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DiskFull =>
            {
                "disk_full"
            }
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ReadOnly =>
            {
                "read_only"
            }
            e if e.is_unavailable() => "unavailable",
            _ => "other",
        }
    }

    /// Failures a retry can cure: PostgreSQL deadlocks and serialization failures between
    /// instances, SQLite's busy database.
    /// The database is not reachable or not writable at all (down, restarting, read-only, out
    /// of disk): retrying event by event would only wait for it again.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // 57P01-57P03: administrator shutdown, crash shutdown, cannot connect now; 53100:
            // disk full; 25006: read-only transaction; 08*: connection exceptions.
            StoreError::Db(sqlx::Error::Database(e)) => e.code().is_some_and(|c| {
                matches!(&*c, "57P01" | "57P02" | "57P03" | "53100" | "25006")
                    || c.starts_with("08")
            }),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::ReadOnly
                    | rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::SystemIoFailure
            ),
            _ => false,
        }
    }

    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => matches!(
                e.code().as_deref(),
                Some("40P01" | "40001" | "5" | "6" | "517" | "261")
            ),
            StoreError::Db(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ),
            _ => false,
        }
    }
}

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
            Backend::Sqlite => Self::open_sqlite(url, &config.sqlite).await?,
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

    async fn open_sqlite(url: &str, sqlite: &crate::config::SqliteConfig) -> StoreResult<Self> {
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
        let pragmas = sqlite_connection_pragmas(sqlite);
        let writer_pragmas = pragmas.clone();
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                let pragmas = pragmas.clone();
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
            .connect_with(options)
            .await?;
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
            sqlite_writer: Some(std::sync::Arc::new(batch_tx::SqliteWriter::new(
                path,
                writer_pragmas,
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

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// What every SQLite connection is set to, the pool's and the ingest writer's alike. WAL lets
/// the dashboard read while the writer commits; a busy timeout lets the CLI and the server
/// share the file. temp_store: a multi-row statement keeps a journal of the pages it changes
/// (to undo itself on a conflict), and past 64 KB SQLite spilled it to a temporary file, one
/// extra page write for nearly every WAL frame of an ingest batch.
fn sqlite_connection_pragmas(sqlite: &crate::config::SqliteConfig) -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA busy_timeout = 10000; \
         PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{};",
        sqlite.synchronous,
        u64::from(sqlite.cache_mb) * 1024
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
    use super::{sqlite_path, with_statement_cache};

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
