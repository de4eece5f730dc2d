//! An npm project with the official Sentry SDK for Node (`@sentry/node`), the peer the
//! JavaScript tests talk to, made under the target dir with the machine's `node` and `npm`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The SDK's major version: the newest whose `engines` accept the Node 20 these machines have.
pub const SENTRY_NODE_MAJOR: u32 = 11;

/// `target/sdk-node/` with `node_modules/@sentry/node`, made once per test run; `None` (after
/// saying why) when Node or the npm registry is unavailable outside CI. Under `CI=true` that is
/// a failure. Scripts run from anywhere find the SDK with `NODE_PATH=<dir>/node_modules`.
pub fn project() -> Option<&'static Path> {
    static PROJECT: OnceLock<Option<PathBuf>> = OnceLock::new();
    PROJECT
        .get_or_init(|| {
            let target = crate::server::binary()
                .parent()
                .and_then(Path::parent)
                .expect("target dir")
                .to_path_buf();
            let dir = target.join("sdk-node");
            let package = format!("@sentry/node@{SENTRY_NODE_MAJOR}");
            let ready = || {
                sentry_node_version(&dir)
                    .is_some_and(|v| v.starts_with(&format!("{SENTRY_NODE_MAJOR}.")))
                    && Command::new("node")
                        .args(["-e", "require('@sentry/node')"])
                        .current_dir(&dir)
                        .status()
                        .is_ok_and(|s| s.success())
            };
            if !ready() {
                let made = std::fs::create_dir_all(&dir).is_ok()
                    && (dir.join("package.json").exists()
                        || std::fs::write(
                            dir.join("package.json"),
                            "{\"name\": \"bugle-sdk-node\", \"private\": true}\n",
                        )
                        .is_ok())
                    && Command::new("npm")
                        .args(["install", "--no-audit", "--no-fund", "--silent", &package])
                        .current_dir(&dir)
                        .status()
                        .is_ok_and(|s| s.success());
                if !made || !ready() {
                    assert!(
                        !crate::in_ci(),
                        "CI=true: cannot prepare {} with {package}",
                        dir.display()
                    );
                    eprintln!("skipping: cannot prepare an npm project with {package}");
                    return None;
                }
            }
            Some(dir)
        })
        .as_deref()
}

/// The installed `@sentry/node` version in an npm project, from its `package.json`.
pub fn sentry_node_version(project: &Path) -> Option<String> {
    let manifest = project.join("node_modules/@sentry/node/package.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(manifest).ok()?).ok()?;
    manifest["version"].as_str().map(str::to_owned)
}
