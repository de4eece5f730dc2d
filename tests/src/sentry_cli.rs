//! The real `sentry-cli`, from its PyPI package (a wheel with the binary), in a venv of its
//! own under the target dir, made once per test run; and the 2.x line in another, for the
//! commands it spells differently (`releases deploys V new|list`).

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

/// `target/sentry-cli-2-venv/bin/sentry-cli`, the newest 2.x; `None` as [`sentry_cli`].
pub fn sentry_cli_2() -> Option<&'static Path> {
    static CLI: OnceLock<Option<PathBuf>> = OnceLock::new();
    CLI.get_or_init(|| {
        crate::python::prepared_venv(
            "sentry-cli-2-venv",
            &["sentry-cli>=2,<3"],
            "sentry-cli",
            &["--version"],
        )
    })
    .as_deref()
}
