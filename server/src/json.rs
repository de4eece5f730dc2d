//! JSON request bodies: parsed fast, and explained precisely when they do not fit.

use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Parses JSON into `T`; a syntax error is a 400, a well-formed document of the wrong shape a
/// 422 naming `what` and the field (`exceptions[0].frames[2].lineno: invalid type ...`).
pub fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    // Tracking the path costs on every field; only a failed parse needs it, so parse again then.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let detail = if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        };
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadRequest(format!("malformed JSON: {inner}"))
        } else {
            ApiError::Unprocessable(format!("invalid {what}: {detail}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    #[test]
    fn wrong_types_name_the_field() {
        let err = parse::<Event>(
            br#"{"exceptions":[{"type":"E","frames":[{"lineno":"x"}]}]}"#,
            "event",
        )
        .unwrap_err();
        assert!(matches!(err, ApiError::Unprocessable(_)), "{err:?}");
        assert!(
            err.to_string().contains("exceptions[0].frames[0].lineno"),
            "{err}"
        );
        let err = parse::<Event>(b"{\"message\": ", "event").unwrap_err();
        assert!(matches!(err, ApiError::BadRequest(_)), "{err:?}");
    }

    #[test]
    fn a_request_that_is_not_an_event_says_what_it_is() {
        #[derive(serde::Deserialize, Debug)]
        struct Change {
            #[allow(dead_code)]
            status: String,
        }
        let err = parse::<Change>(br#"{"status": 3}"#, "request").unwrap_err();
        assert!(
            err.to_string().starts_with("invalid request: status"),
            "{err}"
        );
    }
}
