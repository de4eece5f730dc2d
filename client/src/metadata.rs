//! Facts about the process that every event carries, computed once.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

/// What does not change while the process runs.
#[derive(Debug, Clone)]
pub(crate) struct Metadata {
    pub host: Option<String>,
    pub pid: u32,
    pub root: Option<PathBuf>,
    pub platform: &'static str,
    pub contexts: Map<String, Value>,
}

impl Metadata {
    pub(crate) fn collect(server_name: Option<&str>, code_root: Option<&std::path::Path>) -> Self {
        let host = server_name.map(str::to_owned).or_else(|| {
            hostname::get()
                .ok()
                .map(|h| h.to_string_lossy().into_owned())
                .filter(|h| !h.is_empty())
        });
        let root = code_root
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok());
        let mut os = Map::new();
        os.insert("name".into(), Value::from(std::env::consts::OS));
        if let Some(v) = os_version() {
            os.insert("version".into(), Value::from(v));
        }
        let mut contexts = Map::new();
        contexts.insert("os".into(), Value::Object(os));
        contexts.insert(
            "device".into(),
            json!({"arch": std::env::consts::ARCH, "family": std::env::consts::FAMILY}),
        );
        contexts.insert("runtime".into(), json!({"name": "rustc"}));
        Metadata {
            host,
            pid: std::process::id(),
            root,
            platform: std::env::consts::OS,
            contexts,
        }
    }
}

/// The kernel release on Linux (`6.1.0-18-amd64`); none elsewhere rather than spawning `uname`.
fn os_version() -> Option<String> {
    static VERSION: OnceLock<Option<String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        })
        .clone()
}

/// The calling thread's name and id.
pub(crate) fn current_thread() -> crate::Thread {
    let t = std::thread::current();
    crate::Thread {
        name: t.name().unwrap_or("<unnamed>").to_owned(),
        id: Some(format!("{:?}", t.id())),
        ..crate::Thread::default()
    }
}
