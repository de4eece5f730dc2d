//! Sensitive values never leave the process: before an event is queued, every value whose key
//! contains a sensitive word (case-insensitive) in tags, custom data, breadcrumb data, contexts and
//! extra keys becomes `[Filtered]`.

use serde_json::{Map, Value};

use crate::Event;

/// What a scrubbed value is replaced with.
pub const FILTERED: &str = "[Filtered]";

/// Scrubs `event` in place with the given lowercase key fragments.
pub(crate) fn scrub_event(event: &mut Event, keys: &[String]) {
    if keys.is_empty() {
        return;
    }
    for (k, v) in event.tags.iter_mut() {
        if is_sensitive(k, keys) {
            *v = FILTERED.to_owned();
        }
    }
    scrub_map(&mut event.custom, keys);
    scrub_map(&mut event.contexts, keys);
    scrub_map(&mut event.extra, keys);
    for crumb in &mut event.breadcrumbs {
        scrub_map(&mut crumb.data, keys);
    }
}

fn is_sensitive(key: &str, keys: &[String]) -> bool {
    let key = key.to_ascii_lowercase();
    keys.iter().any(|k| key.contains(k.as_str()))
}

fn scrub_map(map: &mut Map<String, Value>, keys: &[String]) {
    for (k, v) in map.iter_mut() {
        if is_sensitive(k, keys) {
            *v = Value::from(FILTERED);
        } else {
            scrub_value(v, keys);
        }
    }
}

fn scrub_value(value: &mut Value, keys: &[String]) {
    match value {
        Value::Object(map) => scrub_map(map, keys),
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, keys)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::DEFAULT_SCRUB_KEYS;
    use crate::{Breadcrumb, Level};
    use serde_json::json;

    fn keys() -> Vec<String> {
        DEFAULT_SCRUB_KEYS.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn sensitive_keys_are_filtered_everywhere_and_others_kept() {
        let mut ev = Event::new(Level::Error);
        ev.tags.insert("X-Auth-Token".into(), "abc".into());
        ev.tags.insert("region".into(), "eu".into());
        ev.custom =
            json!({"db": {"password": "hunter2", "host": "db1"}, "list": [{"Cookie": "c=1"}]})
                .as_object()
                .unwrap()
                .clone();
        ev.breadcrumbs.push(
            Breadcrumb::new("http", "GET /")
                .data("Authorization", "Bearer x")
                .data("path", "/"),
        );
        ev.extra
            .insert("client_secret".into(), json!({"nested": "x"}));
        scrub_event(&mut ev, &keys());
        assert_eq!(ev.tags["X-Auth-Token"], FILTERED);
        assert_eq!(ev.tags["region"], "eu");
        assert_eq!(ev.custom["db"]["password"], FILTERED);
        assert_eq!(ev.custom["db"]["host"], "db1");
        assert_eq!(ev.custom["list"][0]["Cookie"], FILTERED);
        assert_eq!(ev.breadcrumbs[0].data["Authorization"], FILTERED);
        assert_eq!(ev.breadcrumbs[0].data["path"], "/");
        assert_eq!(ev.extra["client_secret"], FILTERED);
        let text = serde_json::to_string(&ev).unwrap();
        for secret in ["hunter2", "Bearer x", "c=1", "abc\""] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn an_empty_key_list_scrubs_nothing() {
        let mut ev = Event::new(Level::Error);
        ev.tags.insert("token".into(), "abc".into());
        scrub_event(&mut ev, &[]);
        assert_eq!(ev.tags["token"], "abc");
    }
}
