//! Logs go to stderr (stdout is for command output, e.g. `listening on ...`).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// `RUST_LOG` (or `BUGLE_LOG`) picks the level; `info` by default.
pub fn init(format: LogFormat) {
    let filter = std::env::var("BUGLE_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info,sqlx=warn,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
