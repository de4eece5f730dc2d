//! Times: every stored time is unix milliseconds; these turn them into what the API, mail and
//! the dashboard show.

use chrono::{SecondsFormat, TimeZone, Utc};
use serde_json::Value;

pub const HOUR_MS: i64 = 3_600_000;

/// Now, in the unit every stored time uses.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Unix milliseconds as RFC 3339 (`2026-11-30T14:05:00.000Z`), the API's time format; `null`
/// when out of range.
pub fn json(ms: i64) -> Value {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true)),
        None => Value::Null,
    }
}

/// Unix milliseconds as `2026-11-30 14:05 UTC`, for activity details and mail.
pub fn format_ms(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        None => ms.to_string(),
    }
}

/// A time shown as "5 min ago", with the exact time for a tooltip and `<time datetime>`.
#[derive(Debug, Clone)]
pub struct When {
    pub ago: String,
    pub iso: String,
    pub exact: String,
}

pub fn when(ms: i64, now: i64) -> When {
    let t = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    When {
        ago: ago(now - ms),
        iso: t.to_rfc3339_opts(SecondsFormat::Secs, true),
        exact: t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    }
}

fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=44 => "just now".into(),
        45..=5399 => format!("{} min ago", ((s + 30) / 60).max(1)),
        5400..=129_599 => format!("{} h ago", (s + 1800) / 3600),
        129_600..=5_183_999 => format!("{} d ago", (s + 43_200) / 86_400),
        _ => format!("{} mo ago", s / 2_592_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(ago(10_000), "just now");
        assert_eq!(ago(5 * 60_000), "5 min ago");
        assert_eq!(ago(3 * 3_600_000), "3 h ago");
        assert_eq!(ago(4 * 86_400_000), "4 d ago");
    }
}
