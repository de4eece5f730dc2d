//! The transaction an ingest batch commits in, on either backend.
//!
//! PostgreSQL runs the batch through sqlx like the rest of the store. On SQLite the batch runs
//! on a rusqlite connection of its own, synchronously, on the writer's thread: sqlx hands every
//! statement to a per-connection worker thread and back, and with a dozen statements per batch
//! those hand-offs (each a wake-up on two busy cores) made up half of a commit's wall time,
//! which is what bounds ingest (one writer at a time). The commit logic is written once, over
//! [`BatchTx`]; the SQLite implementation never waits, so its future finishes in one poll.

use std::future::Future;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use sqlx::Row as _;

use super::sqlite_disk::{disk_problem, DiskProblem, ReadOnlySpells};
use super::{StoreError, StoreResult};

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Int(i64),
    Text(Option<&'a str>),
    Blob(Option<&'a [u8]>),
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Some(v))
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Arg::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Arg<'a> {
    fn from(v: &'a [u8]) -> Self {
        Arg::Blob(Some(v))
    }
}

impl<'a> From<Option<&'a [u8]>> for Arg<'a> {
    fn from(v: Option<&'a [u8]>) -> Self {
        Arg::Blob(v)
    }
}

/// How to read a result column.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    Int,
    OptInt,
    Text,
}

#[derive(Debug, Clone)]
enum Cell {
    Null,
    Int(i64),
    Text(String),
}

/// A result row, read by column position.
#[derive(Debug, Clone)]
pub struct Row(Vec<Cell>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        match self.0[i] {
            Cell::Int(v) => v,
            _ => panic!("column {i} was not read as Col::Int"),
        }
    }

    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0[i] {
            Cell::Int(v) => Some(v),
            Cell::Null => None,
            Cell::Text(_) => panic!("column {i} was not read as Col::OptInt"),
        }
    }

    pub fn text(&self, i: usize) -> &str {
        match &self.0[i] {
            Cell::Text(v) => v,
            _ => panic!("column {i} was not read as Col::Text"),
        }
    }
}

/// The statements a batch commit runs. SQL uses `$n` parameters in order of first use (or
/// SQLite's anonymous `?`), so one text serves both backends.
///
/// The futures are declared `Send` so the PostgreSQL writer task can move between threads.
pub(super) trait BatchTx: Send {
    /// Runs a statement and returns its rows, each read as `cols`.
    fn rows(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        cols: &[Col],
    ) -> impl Future<Output = StoreResult<Vec<Row>>> + Send;

    /// Runs a statement that returns nothing.
    fn run(&mut self, sql: &str, args: &[Arg<'_>]) -> impl Future<Output = StoreResult<()>> + Send {
        async move { self.rows(sql, args, &[]).await.map(drop) }
    }
}

impl BatchTx for sqlx::Transaction<'_, sqlx::Any> {
    async fn rows(&mut self, sql: &str, args: &[Arg<'_>], cols: &[Col]) -> StoreResult<Vec<Row>> {
        let mut query = sqlx::query(sql);
        for arg in args {
            query = match *arg {
                Arg::Int(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
                Arg::Blob(v) => query.bind(v),
            };
        }
        if cols.is_empty() {
            query.execute(&mut **self).await?;
            return Ok(Vec::new());
        }
        let rows = query.fetch_all(&mut **self).await?;
        let read = |row: &sqlx::any::AnyRow| -> StoreResult<Row> {
            let cells = cols.iter().enumerate().map(|(i, col)| {
                Ok(match col {
                    Col::Int => Cell::Int(row.try_get(i)?),
                    Col::OptInt => row
                        .try_get::<Option<i64>, _>(i)?
                        .map_or(Cell::Null, Cell::Int),
                    Col::Text => Cell::Text(row.try_get(i)?),
                })
            });
            Ok(Row(cells.collect::<StoreResult<_>>()?))
        };
        rows.iter().map(read).collect()
    }
}

/// The SQLite ingest connection inside `BEGIN IMMEDIATE` (a `rusqlite::Transaction` is not
/// `Send`, a `&mut Connection` is).
pub(super) struct SqliteTx<'c>(&'c mut rusqlite::Connection);

impl BatchTx for SqliteTx<'_> {
    async fn rows(&mut self, sql: &str, args: &[Arg<'_>], cols: &[Col]) -> StoreResult<Vec<Row>> {
        let mut statement = self.0.prepare_cached(sql)?;
        for (i, arg) in args.iter().enumerate() {
            match *arg {
                Arg::Int(v) => statement.raw_bind_parameter(i + 1, v)?,
                Arg::Text(v) => statement.raw_bind_parameter(i + 1, v)?,
                Arg::Blob(v) => statement.raw_bind_parameter(i + 1, v)?,
            }
        }
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let cells = cols.iter().enumerate().map(|(i, col)| {
                Ok(match col {
                    Col::Int => Cell::Int(row.get(i)?),
                    Col::OptInt => row.get::<_, Option<i64>>(i)?.map_or(Cell::Null, Cell::Int),
                    Col::Text => Cell::Text(row.get(i)?),
                })
            });
            out.push(Row(cells.collect::<Result<_, rusqlite::Error>>()?));
        }
        Ok(out)
    }
}

/// How long `/readyz` reports the write lock held after a batch last gave up on it.
const LOCKED_NOTE: std::time::Duration = std::time::Duration::from_secs(10);

/// The SQLite ingest connection: opened on first use (after migrations), then kept until a
/// failure leaves it read-only or broken (see `sqlite_disk`).
pub(super) struct SqliteWriter {
    path: String,
    /// The same settings as the pool's connections (`sqlite_connection_pragmas`).
    pragmas: String,
    conn: Mutex<Option<Opened>>,
    /// Shared with the pool, whose read-only connections are replaced after a read-only spell.
    spells: ReadOnlySpells,
    /// When a batch last gave up on the write lock (another process held it past the store
    /// timeout), until a batch commits again: `/readyz` says so.
    busy_at: Mutex<Option<std::time::Instant>>,
}

struct Opened {
    conn: rusqlite::Connection,
    /// Told after each commit; dropping it stops the checkpoint thread.
    checkpointer: std::sync::mpsc::Sender<()>,
}

impl SqliteWriter {
    pub fn new(path: String, pragmas: String, spells: ReadOnlySpells) -> Self {
        SqliteWriter {
            path,
            pragmas,
            conn: Mutex::new(None),
            spells,
            busy_at: Mutex::new(None),
        }
    }

    /// Whether the last batch gave up on the write lock, recently (a lock released while no
    /// batch comes is not seen, so the note lapses after `LOCKED_NOTE`).
    pub fn write_locked(&self) -> bool {
        let busy_at = self.busy_at.lock().unwrap_or_else(|e| e.into_inner());
        busy_at.is_some_and(|at| at.elapsed() < LOCKED_NOTE)
    }

    /// Whether the database's folder is read-only or full now (noted for the pool).
    pub fn disk_problem(&self) -> Option<DiskProblem> {
        let problem = disk_problem(&self.path);
        if let Some(DiskProblem::ReadOnly(_)) = problem {
            self.spells.seen();
        }
        problem
    }

    /// Runs `work` in an immediate transaction and commits it. On a multi-threaded runtime the
    /// thread is handed over for the duration (`block_in_place`), so other tasks move on.
    pub fn transaction<T, F>(&self, work: F) -> StoreResult<T>
    where
        F: AsyncFnOnce(&mut SqliteTx<'_>) -> StoreResult<T>,
    {
        let run = || {
            let mut slot = self.conn.lock().unwrap_or_else(|e| e.into_inner());
            let result = self.transaction_on(&mut slot, work);
            let busy = matches!(&result, Err(e) if e.reason() == "busy");
            *self.busy_at.lock().unwrap_or_else(|e| e.into_inner()) =
                busy.then(std::time::Instant::now);
            if let Err(e) = &result {
                if e.needs_new_connection() {
                    // Opened read-only (SQLite says nothing when it cannot write the file) or
                    // broken by an I/O error: the next batch opens the file as it is then, and
                    // the pool's connections opened until now are suspect as well.
                    *slot = None;
                    self.spells.seen();
                }
            }
            result
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            _ => run(),
        }
    }

    fn transaction_on<T, F>(&self, slot: &mut Option<Opened>, work: F) -> StoreResult<T>
    where
        F: AsyncFnOnce(&mut SqliteTx<'_>) -> StoreResult<T>,
    {
        if slot.is_none() {
            *slot = Some(self.open()?);
        }
        let Opened { conn, checkpointer } = slot.as_mut().expect("just opened");
        if !conn.is_autocommit() {
            // A panic left a transaction open (the lock was poisoned): undo it first.
            conn.execute_batch("ROLLBACK")?;
        }
        conn.execute_batch("BEGIN IMMEDIATE")?;
        match finish_now(work(&mut SqliteTx(conn))) {
            Ok(out) => {
                if let Err(e) = conn.execute_batch("COMMIT") {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
                let _ = checkpointer.send(());
                Ok(out)
            }
            Err(e) => {
                // The statement's error is the one worth reporting.
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    fn open(&self) -> StoreResult<Opened> {
        let conn = self.connect()?;
        // Lookups by lists of hashes or ids differ by list length: keep many prepared.
        conn.set_prepared_statement_cache_capacity(256);
        conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}"
        ))?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let checkpointer = self.connect()?;
        std::thread::Builder::new()
            .name("bugle-checkpoint".into())
            .spawn(move || checkpoint_until(checkpointer, stopped))
            .map_err(|e| StoreError::Invalid(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Opened {
            conn,
            checkpointer: stop,
        })
    }

    fn connect(&self) -> StoreResult<rusqlite::Connection> {
        let conn = rusqlite::Connection::open(&self.path)?;
        conn.execute_batch(&self.pragmas)?;
        Ok(conn)
    }
}

/// Commits per checkpoint. A page rewritten by each of them (an issue row, a counter, an
/// index's upper levels) is copied once, and the database file is synced once. Against a
/// checkpoint per commit: 8,616 / 8,822 -> 9,158 / 9,180 events/s (`--only sqlite`, 64
/// connections), and the WAL's largest size in a 40,000-event run 18 -> 5 MB.
const COMMITS_PER_CHECKPOINT: u32 = 8;

/// SQLite's own checkpoint, inside the commit that makes the WAL this many pages long: only
/// a backstop for a checkpoint thread that falls behind (~125 pages per 25-event commit).
const AUTOCHECKPOINT_PAGES: u32 = 4000;

/// Copies the pages commits added to the WAL into the database file, on its own thread and
/// connection, while the writer goes on with the next batches: once per
/// [`COMMITS_PER_CHECKPOINT`] commits, or 200 ms after the last one. Inside the writer's commit
/// (SQLite's default) it had been a third of the writer's page I/O. The WAL restarts from its
/// beginning when a checkpoint has caught up, so it stays a few MB. PASSIVE never blocks the
/// writer or readers. Stops when the writer's connection is dropped.
fn checkpoint_until(conn: rusqlite::Connection, commits: std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::RecvTimeoutError;
    loop {
        match commits.recv_timeout(std::time::Duration::from_secs(1)) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        let mut commits_seen = 1;
        while commits_seen < COMMITS_PER_CHECKPOINT {
            match commits.recv_timeout(std::time::Duration::from_millis(200)) {
                Ok(()) => commits_seen += 1,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        while commits.try_recv().is_ok() {}
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

/// Polls a future that never waits (every statement of the SQLite implementation runs
/// synchronously) to its end.
fn finish_now<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("a SQLite batch never waits"),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}
