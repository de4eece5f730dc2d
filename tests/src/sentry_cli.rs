//! The real `sentry-cli`, from its PyPI package (a wheel with the binary), in a venv of its
//! own under the target dir, made once per test run.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const PACKAGE: &str = "sentry-cli>=2,<4";

/// `target/sentry-cli-venv/bin/sentry-cli`; `None` (after saying why) when PyPI is
/// unavailable outside CI. Under `CI=true` that is a failure.
pub fn sentry_cli() -> Option<&'static Path> {
    static CLI: OnceLock<Option<PathBuf>> = OnceLock::new();
    CLI.get_or_init(|| {
        crate::python::prepared_venv("sentry-cli-venv", &[PACKAGE], "sentry-cli", &["--version"])
    })
    .as_deref()
}
