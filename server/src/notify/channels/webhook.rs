//! The generic JSON webhook, signed as Standard Webhooks defines.
//!
//! Body (schema `bugle.alert.v1`; fields are only ever added within a version):
//! ```json
//! {"type": "alert.new_issue", "version": 1, "timestamp": "2026-12-01T10:05:00.000Z",
//!  "data": {"event": "new_issue", "headline": "New issue", "count": 1,
//!           "project": {"slug": "checkout", "name": "Checkout", "url": "…"},
//!           "issues": [{"id": 7, "title": "…", "culprit": "…", "level": "error",
//!                       "status": "unresolved", "count": 3, "first_seen": "…",
//!                       "last_seen": "…", "environment": "…", "release": "…",
//!                       "top_frame": "src/cart.rs:42 in cart::add", "url": "…"}]}}
//! ```
//! Values are sent as they are: a receiver is a program and escapes for its own output.
//!
//! Headers: `webhook-id` (the same on every retry of one alert: deduplicate on it),
//! `webhook-timestamp` (unix seconds of this attempt) and `webhook-signature`:
//! `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), where the key is the base64
//! after the `whsec_` prefix of the channel's secret.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::Alert;

pub const SCHEMA_VERSION: u32 = 1;

pub fn render(alert: &Alert) -> Value {
    json!({
        "type": format!("alert.{}", alert.event),
        "version": SCHEMA_VERSION,
        "timestamp": crate::time::json(crate::time::now_ms()),
        "data": {
            "event": alert.event,
            "headline": alert.headline,
            "count": alert.count,
            "project": {"slug": alert.project_slug, "name": alert.project_name, "url": alert.project_url},
            "issues": alert.issues,
        },
    })
}

/// A new signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks: 24-64).
pub fn new_secret() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    format!("whsec_{}", STANDARD.encode(key))
}

/// The `webhook-signature` header value for one attempt.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> anyhow::Result<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|_| anyhow::anyhow!("the signing secret is not whsec_ + base64"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn signatures_match_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification (and its reference libraries).
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_are_whsec_and_32_bytes_of_base64() {
        let s = new_secret();
        let key = STANDARD.decode(s.strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32);
        assert_ne!(s, new_secret());
    }

    #[test]
    fn the_body_is_versioned_and_keeps_values_as_sent() {
        let body = render(&fixtures::alert("<b>x</b> @everyone"));
        assert_eq!(body["type"], "alert.new_issue");
        assert_eq!(body["version"], 1);
        assert_eq!(body["data"]["issues"][0]["title"], "<b>x</b> @everyone");
        assert_eq!(
            body["data"]["issues"][0]["top_frame"],
            "src/cart.rs:42 in cart::add"
        );
        assert_eq!(body["data"]["project"]["slug"], "checkout");
    }
}
