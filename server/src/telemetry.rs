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

/// Header carrying the request id: taken from the client (or a proxy) when sane, else made.
pub const REQUEST_ID: &str = "x-request-id";

/// A request id for logs and the response: the caller's when it looks like an id.
pub fn request_id(incoming: Option<&str>) -> String {
    match incoming {
        Some(id)
            if !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            id.to_owned()
        }
        _ => uuid::Uuid::new_v4().simple().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::request_id;

    #[test]
    fn request_ids_are_kept_when_sane_and_made_otherwise() {
        assert_eq!(request_id(Some("abc-123")), "abc-123");
        assert_eq!(request_id(None).len(), 32);
        assert_eq!(request_id(Some("bad id\n")).len(), 32);
    }
}
