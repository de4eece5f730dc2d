//! Times on the wire: RFC 3339 strings when written; RFC 3339 or unix seconds (integer or
//! float) when read, the two forms clients send.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::Value;

/// Unix seconds (fractions allowed) to a time; `None` when out of range (before 1970 or past
/// the year 9999) or not a number.
pub fn from_unix(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() || !(0.0..=253_402_300_799.0).contains(&secs) {
        return None;
    }
    let whole = secs.trunc() as i64;
    let nanos = ((secs - secs.trunc()) * 1e9) as u32;
    Utc.timestamp_opt(whole, nanos).single()
}

/// An RFC 3339 string or unix seconds, as a time.
pub fn from_value(value: &Value) -> Result<Option<DateTime<Utc>>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| format!("invalid timestamp {s:?}: {e}")),
        Value::Number(n) => n
            .as_f64()
            .and_then(from_unix)
            .map(Some)
            .ok_or_else(|| format!("invalid unix timestamp {n}")),
        other => Err(format!(
            "invalid timestamp {other}: expected an RFC 3339 string or unix seconds"
        )),
    }
}

/// `deserialize_with` for an optional time in either form.
pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    from_value(&Value::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// `deserialize_with` for a required time in either form.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    deserialize_opt(d)?.ok_or_else(|| serde::de::Error::custom("timestamp is null"))
}

/// `serialize_with`: RFC 3339 in UTC with as many fraction digits as the time has.
pub fn serialize_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        None => s.serialize_none(),
    }
}

/// `serialize_with`: RFC 3339 in UTC to the millisecond (`2026-11-23T21:00:00.123Z`).
pub fn serialize_millis<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_forms_read_and_bad_ones_say_why() {
        let t = from_value(&json!("2026-11-23T21:00:00.123Z"))
            .unwrap()
            .unwrap();
        assert_eq!(t.timestamp_millis(), 1_795_467_600_123);
        assert_eq!(
            from_value(&json!(1_795_467_600.123))
                .unwrap()
                .unwrap()
                .timestamp(),
            t.timestamp()
        );
        assert_eq!(from_value(&json!(null)).unwrap(), None);
        assert!(from_value(&json!("yesterday"))
            .unwrap_err()
            .contains("invalid timestamp"));
        assert!(from_value(&json!(-5)).is_err());
        assert!(from_value(&json!(true)).is_err());
    }
}
