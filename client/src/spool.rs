//! The spool: one file per event (`<uuid>.json`, the exact request body) in a directory, written
//! before the first send and removed once the server has it (or refused it for good). Whatever is
//! left there — a crash during an outage, an exit before the server came back — is sent at the next
//! start. Several processes may share a directory: a file sent twice is stored once, because the
//! server keeps one occurrence per uuid.

use std::io;
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// More files than this and new events are no longer spooled (the disk is not a queue without end).
const MAX_FILES: usize = 1000;

#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    /// Files present, as far as this process knows.
    count: usize,
}

impl Spool {
    pub(crate) fn open(dir: &Path) -> io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        let count = list(dir)?.len();
        Ok(Spool {
            dir: dir.to_path_buf(),
            count,
        })
    }

    fn path(&self, uuid: &Uuid) -> PathBuf {
        self.dir.join(format!("{uuid}.json"))
    }

    /// Writes atomically (temp file + rename), so a crash mid-write leaves no half event behind.
    pub(crate) fn write(&mut self, uuid: &Uuid, body: &[u8]) -> io::Result<()> {
        if self.count >= MAX_FILES {
            return Err(io::Error::other(format!(
                "spool holds {MAX_FILES} events already"
            )));
        }
        let tmp = self.dir.join(format!(".{uuid}.json.tmp"));
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, self.path(uuid))?;
        self.count += 1;
        Ok(())
    }

    pub(crate) fn remove(&mut self, uuid: &Uuid) {
        if std::fs::remove_file(self.path(uuid)).is_ok() {
            self.count = self.count.saturating_sub(1);
        }
    }

    /// Up to `limit` spooled events, oldest first.
    pub(crate) fn load(&self, limit: usize) -> Vec<(Uuid, Vec<u8>)> {
        let mut files = list(&self.dir).unwrap_or_default();
        files.sort_by_key(|(_, modified)| *modified);
        files
            .into_iter()
            .filter_map(|(path, _)| {
                let uuid = path.file_stem()?.to_str()?.parse::<Uuid>().ok()?;
                let body = std::fs::read(&path).ok()?;
                Some((uuid, body))
            })
            .take(limit)
            .collect()
    }
}

fn list(dir: &Path) -> io::Result<Vec<(PathBuf, std::time::SystemTime)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let is_event = path.extension().is_some_and(|e| e == "json")
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'));
        if is_event {
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            out.push((path, modified));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_events_load_back_and_removed_ones_do_not() {
        let dir = std::env::temp_dir().join(format!("bugle-spool-{}", Uuid::new_v4()));
        let mut spool = Spool::open(&dir).unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        spool.write(&a, b"{\"a\":1}").unwrap();
        spool.write(&b, b"{\"b\":2}").unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        spool.remove(&a);
        let again = Spool::open(&dir).unwrap();
        assert_eq!(again.count, 1);
        assert_eq!(again.load(10), vec![(b, b"{\"b\":2}".to_vec())]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
