//! Wire protocols in, one [`Event`](crate::event::Event) out.
//!
//! Pure mappers, used by the HTTP endpoints in `crate::ingest`: each parses bytes or JSON and
//! maps it into the normalized model, and knows nothing of HTTP, auth or storage. The endpoints
//! pick the status code from the error: [`MapError::status`] says 400 (the payload cannot be
//! decoded) or 422 (it decodes but breaks the protocol's rules), which is also the split
//! Rollbar's API documents.
//!
//! - [`envelope`]: Sentry envelope framing (`/api/{id}/envelope/`).
//! - [`sentry`]: a Sentry event payload (envelope `event` item or legacy `/store/` body).
//! - [`rollbar`]: a Rollbar item's `data` object (`/api/1/item/`).
//!
//! Both SDK mappers read leniently (the `fields` module): a value of the wrong type is dropped
//! from the model, noted in `processing_notes` and kept raw in `extra.dropped`, never refused.

pub mod envelope;
mod fields;
pub mod minidump;
pub mod rollbar;
pub mod security;
pub mod sentry;

pub(crate) use fields::{as_text, element, Notes, Obj, Path};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::event::Event;

/// Why a protocol payload could not be mapped into an [`Event`].
///
/// `Display` is a short sentence; [`MapError::client_message`] adds the cause, ready for
/// Rollbar's `{"err": 1, "message": ...}` or Sentry's `{"detail": ...}`.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("payload is not valid JSON")]
    InvalidJson(#[source] serde_json::Error),
    #[error("{what} must be a JSON object, got {got}")]
    NotAnObject {
        what: &'static str,
        got: &'static str,
    },
    #[error("missing required field `{0}`")]
    MissingField(&'static str),
    #[error("`{field}` is invalid: {reason}")]
    InvalidField { field: &'static str, reason: String },
}

impl MapError {
    /// 400 when the payload cannot be decoded at all, 422 when it decodes but a required part is
    /// missing or wrong (Rollbar answers these two codes the same way).
    pub fn status(&self) -> u16 {
        match self {
            MapError::InvalidJson(_) | MapError::NotAnObject { .. } => 400,
            MapError::MissingField(_) | MapError::InvalidField { .. } => 422,
        }
    }

    /// The message with its cause, e.g. `payload is not valid JSON: expected value at line 1
    /// column 1`.
    pub fn client_message(&self) -> String {
        match self {
            MapError::InvalidJson(e) => format!("{self}: {e}"),
            _ => self.to_string(),
        }
    }
}

/// The JSON type name, for error messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Placeholders clients send when the server should use the request's source address:
/// Sentry's `{{auto}}` and Rollbar's `$remote_ip` (`$remote_ip_anonymize` zeroes the host part).
const AUTO_IP: &[&str] = &["{{auto}}", "$remote_ip"];
const ANONYMIZE_IP: &str = "$remote_ip_anonymize";

/// Replaces the "use the source address" placeholders in `request.user_ip` and
/// `person.ip_address` with `source_ip` (or removes them when it is unknown). The mappers keep
/// the placeholders because only the endpoint knows the peer address.
pub fn fill_client_ip(event: &mut Event, source_ip: Option<&str>) {
    let fill = |slot: &mut Option<String>| {
        let Some(current) = slot.as_deref() else {
            return;
        };
        if AUTO_IP.contains(&current) {
            *slot = source_ip.map(str::to_owned);
        } else if current == ANONYMIZE_IP {
            *slot = source_ip.map(anonymize_ip);
        }
    };
    if let Some(req) = event.request.as_mut() {
        fill(&mut req.user_ip);
    }
    if let Some(person) = event.person.as_mut() {
        fill(&mut person.ip_address);
    }
}

/// `203.0.113.9` → `203.0.113.0`; IPv6 keeps its first three groups (as pyrollbar does).
fn anonymize_ip(ip: &str) -> String {
    if ip.contains('.') {
        let mut parts: Vec<&str> = ip.split('.').take(3).collect();
        parts.push("0");
        parts.join(".")
    } else {
        let mut parts: Vec<&str> = ip.split(':').take(3).collect();
        parts.push("0000:0000:0000:0000:0000");
        parts.join(":")
    }
}

/// Unix seconds to a time, rounded to the microsecond so `1714731342.1234` does not become
/// `…42.123399972Z`. `None` when not finite or outside 1970..=9999.
pub(crate) fn unix_seconds(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() || !(0.0..=253_402_300_799.0).contains(&secs) {
        return None;
    }
    DateTime::from_timestamp_micros((secs * 1e6).round() as i64)
}

/// A JSON scalar as tag-like text: strings as they are, numbers and booleans printed, `null`
/// absent, arrays and objects as compact JSON.
pub(crate) fn stringify(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// A non-empty string, or a number printed (ids and versions arrive as both).
pub(crate) fn string_or_number(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-empty string field.
pub(crate) fn string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A `browser` context from a user agent: name and version of the first product that
/// identifies the browser (Edge and Opera also say Chrome; Chrome also says Safari).
pub(crate) fn browser_context(ua: &str) -> Value {
    const PRODUCTS: &[(&str, &str)] = &[
        ("Edg/", "Edge"),
        ("EdgA/", "Edge"),
        ("OPR/", "Opera"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
    ];
    let version_after = |token: &str| {
        let start = ua.find(token)? + token.len();
        let version: String = ua[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        (!version.is_empty()).then_some(version)
    };
    let found = PRODUCTS
        .iter()
        .find_map(|(token, name)| Some((*name, version_after(token)?)))
        .or_else(|| {
            ua.contains("Safari/")
                .then(|| version_after("Version/"))
                .flatten()
                .map(|v| ("Safari", v))
        });
    match found {
        Some((name, version)) => {
            serde_json::json!({"type": "browser", "name": name, "version": version, "user_agent": ua})
        }
        None => serde_json::json!({"type": "browser", "name": ua}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Person, Request};

    #[test]
    fn errors_say_which_status_they_map_to() {
        let bad_json = serde_json::from_slice::<Value>(b"{").unwrap_err();
        let cases = [
            (MapError::InvalidJson(bad_json), 400),
            (
                MapError::NotAnObject {
                    what: "event",
                    got: "an array",
                },
                400,
            ),
            (MapError::MissingField("data.environment"), 422),
            (
                MapError::InvalidField {
                    field: "data.body",
                    reason: "x".into(),
                },
                422,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(err.status(), status, "{err}");
        }
    }

    #[test]
    fn the_client_message_of_invalid_json_names_the_position() {
        let err = MapError::InvalidJson(serde_json::from_slice::<Value>(b"{\"a\":").unwrap_err());
        let msg = err.client_message();
        assert!(msg.starts_with("payload is not valid JSON: "), "{msg}");
        assert!(msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn ip_placeholders_are_replaced_by_the_source_address() {
        let mut ev = Event {
            request: Some(Request {
                user_ip: Some("$remote_ip_anonymize".into()),
                ..Request::default()
            }),
            person: Some(Person {
                ip_address: Some("{{auto}}".into()),
                ..Person::default()
            }),
            ..Event::default()
        };
        fill_client_ip(&mut ev, Some("203.0.113.9"));
        assert_eq!(ev.request.unwrap().user_ip.as_deref(), Some("203.0.113.0"));
        assert_eq!(
            ev.person.unwrap().ip_address.as_deref(),
            Some("203.0.113.9")
        );
    }

    #[test]
    fn unix_seconds_round_to_the_microsecond() {
        let t = unix_seconds(1_714_731_342.123_4).unwrap();
        assert_eq!(t.to_rfc3339(), "2024-05-03T10:15:42.123400+00:00");
        assert!(unix_seconds(-1.0).is_none());
        assert!(unix_seconds(f64::NAN).is_none());
    }
}
