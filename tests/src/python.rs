//! A Python virtualenv with the real third-party peers the tests talk to: the official Sentry
//! and Rollbar SDKs, brotli, and aiosmtpd (a real SMTP server).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const PACKAGES: &[&str] = &[
    "sentry-sdk>=2,<3",
    "rollbar>=1,<2",
    "brotli",
    "aiosmtpd>=1.4,<2",
];
const IMPORTS: &str = "import sentry_sdk, rollbar, brotli, aiosmtpd";

/// `target/sdk-venv/bin/python`, made once per test run; `None` (after saying why) when Python
/// or PyPI is unavailable outside CI. Under `CI=true` that is a failure.
pub fn venv() -> Option<&'static Path> {
    static VENV: OnceLock<Option<PathBuf>> = OnceLock::new();
    VENV.get_or_init(|| prepared_venv("sdk-venv", PACKAGES, "python", &["-c", IMPORTS]))
        .as_deref()
}

/// `target/<name>/bin/<program>` in a virtualenv with `packages`, made unless running the
/// program with `check` already succeeds (the venv is kept between runs). `None` (after saying
/// why) when Python or PyPI is unavailable outside CI; under `CI=true` that is a failure.
pub fn prepared_venv(
    name: &str,
    packages: &[&str],
    program: &str,
    check: &[&str],
) -> Option<PathBuf> {
    let target = crate::server::binary()
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    let venv = target.join(name);
    let program = venv.join("bin").join(program);
    let ready = || {
        Command::new(&program)
            .args(check)
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
                .args(["install", "--quiet"])
                .args(packages)
                .status()
                .is_ok_and(|s| s.success());
        if !made || !ready() {
            assert!(
                !crate::in_ci(),
                "CI=true: cannot prepare {} with {packages:?}",
                venv.display()
            );
            eprintln!("skipping: cannot prepare a Python venv with {packages:?}");
            return None;
        }
    }
    Some(program)
}
