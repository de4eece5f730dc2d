//! The real `sentry-cli`, from its PyPI package (a wheel with the binary), in a venv of its
//! own under the target dir, made once per test run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const PACKAGE: &str = "sentry-cli>=2,<4";

/// `target/sentry-cli-venv/bin/sentry-cli`; `None` (after saying why) when PyPI is
/// unavailable outside CI. Under `CI=true` that is a failure.
pub fn sentry_cli() -> Option<&'static Path> {
    static CLI: OnceLock<Option<PathBuf>> = OnceLock::new();
    CLI.get_or_init(|| {
        let target = crate::server::binary()
            .parent()
            .and_then(Path::parent)
            .expect("target dir")
            .to_path_buf();
        let venv = target.join("sentry-cli-venv");
        let cli = venv.join("bin/sentry-cli");
        let ready = || {
            Command::new(&cli)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !ready() {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success())
                && Command::new(venv.join("bin/pip"))
                    .args(["install", "--quiet", PACKAGE])
                    .status()
                    .is_ok_and(|s| s.success());
            if !made || !ready() {
                assert!(!crate::in_ci(), "CI=true: cannot install {PACKAGE}");
                eprintln!("skipping: cannot install {PACKAGE} into {}", venv.display());
                return None;
            }
        }
        Some(cli)
    })
    .as_deref()
}
