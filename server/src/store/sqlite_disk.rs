//! The SQLite file's folder: whether it can be written, and connections opened while it could
//! not.
//!
//! A commit that fails on a full or read-only disk tells only the requests of its batch, and
//! `SELECT 1` still answers: readiness asks the file system (`statvfs`), so that a load balancer
//! stops sending while the disk is full or read-only and sends again once it is not.
//!
//! SQLite opens a file it cannot write read-only without saying so, and such a connection stays
//! read-only after the folder is writable again; worse, SQLite shares one view of the file (its
//! WAL index) among all the connections of a process, so a new connection is read-only too as
//! long as one of those is open. After a read-only failure the ingest writer drops its
//! connection (`batch_tx`); when the folder is writable by then, the pool's idle connections are
//! closed ([`close_idle`]) and those in use are dropped when they come back
//! ([`ReadOnlySpells`]), so that the writer's next connection opens the file for writing.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Below this much free space the disk counts as full: a batch of large events needs a few
/// hundred KB of WAL, and SQLite fails a commit with less.
const MIN_FREE_BYTES: u64 = 1 << 20;

/// What the folder of the database file says: read-only, or too full to commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiskProblem {
    ReadOnly(String),
    Full(String),
}

impl std::fmt::Display for DiskProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiskProblem::ReadOnly(dir) => {
                write!(f, "the database folder {dir} is on a read-only file system")
            }
            DiskProblem::Full(dir) => write!(
                f,
                "the disk of the database folder {dir} is full (less than {} KB free)",
                MIN_FREE_BYTES / 1024
            ),
        }
    }
}

/// The problem of the folder holding `db_path`, if any (none when it cannot be asked).
pub fn disk_problem(db_path: &str) -> Option<DiskProblem> {
    let dir = Path::new(db_path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (read_only, free) = statvfs(dir)?;
    let name = dir.display().to_string();
    if read_only {
        Some(DiskProblem::ReadOnly(name))
    } else if free < MIN_FREE_BYTES {
        Some(DiskProblem::Full(name))
    } else {
        None
    }
}

/// (mounted read-only, bytes free).
#[cfg(unix)]
fn statvfs(dir: &Path) -> Option<(bool, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs only writes the struct it is given; the path is NUL-terminated.
    let st = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(path.as_ptr(), &mut st) != 0 {
            return None;
        }
        st
    };
    let read_only = st.f_flag & libc::ST_RDONLY != 0;
    Some((read_only, st.f_bavail as u64 * st.f_frsize as u64))
}

#[cfg(not(unix))]
fn statvfs(_dir: &Path) -> Option<(bool, u64)> {
    None
}

/// When the folder was last seen read-only, or a connection found read-only (a connection
/// opened there, a failed commit, readiness): pool connections older than that may be
/// read-only ones.
#[derive(Clone, Default)]
pub struct ReadOnlySpells(Arc<Mutex<Option<Instant>>>);

impl ReadOnlySpells {
    pub fn seen(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
    }

    /// Whether a pool connection `age` old may be read-only although the folder no longer is:
    /// then it is closed and another opened.
    pub fn is_stale(&self, age: Duration, db_path: &str) -> bool {
        let Some(last) = *self.0.lock().unwrap_or_else(|e| e.into_inner()) else {
            return false;
        };
        let opened_before = Instant::now()
            .checked_sub(age)
            .is_none_or(|opened| opened <= last);
        opened_before && !matches!(disk_problem(db_path), Some(DiskProblem::ReadOnly(_)))
    }
}

/// Closes every idle connection of the pool; the next ones are opened afresh.
pub(super) async fn close_idle(pool: &sqlx::AnyPool) {
    let mut idle = Vec::new();
    while let Some(conn) = pool.try_acquire() {
        idle.push(conn);
    }
    for conn in idle {
        let _ = conn.close().await;
    }
}
