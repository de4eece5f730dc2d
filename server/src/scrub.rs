//! Secrets never reach storage: before an event is stored, values under keys that name a
//! secret (`password`, `token`, `authorization`, `session`…) become `[Filtered]` wherever an
//! SDK puts arbitrary data (request headers, body, query, env, custom data, breadcrumb data,
//! contexts, frame variables); cookies whose names look like sessions or tokens (`sessionid`,
//! `PHPSESSID`, `connect.sid`, `csrftoken`, `remember_token`) are filtered too. The names stay,
//! so the page still shows what was sent.

use serde_json::{Map, Value};

use crate::event::Event;

/// What a filtered value becomes, as Sentry's and the Bugle client's scrubbers write it.
pub const FILTERED: &str = "[Filtered]";

/// Key fragments that mark a value as secret (matched case-insensitively anywhere in the key).
const SENSITIVE: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "auth",
    "credential",
    "cookie",
    "session",
    "api_key",
    "apikey",
    "api-key",
    "private_key",
    "privatekey",
    "csrf",
    "xsrf",
];

pub fn is_sensitive(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SENSITIVE.iter().any(|s| key.contains(s))
}

/// Cookie names add the short forms session cookies go by.
fn is_sensitive_cookie(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    is_sensitive(name)
        || ["sess", "sid", "remember"]
            .iter()
            .any(|s| lower.contains(s))
}

/// Filters the event's secrets in place.
pub fn scrub(event: &mut Event) {
    if let Some(request) = &mut event.request {
        for (name, value) in request.headers.iter_mut() {
            if is_sensitive(name) {
                *value = FILTERED.to_owned();
            }
        }
        for v in [&mut request.data, &mut request.query, &mut request.env]
            .into_iter()
            .flatten()
        {
            scrub_value(v);
        }
        if let Some(cookies) = &mut request.cookies {
            filter_cookies(cookies);
        }
    }
    if let Some(custom) = &mut event.custom {
        scrub_value(custom);
    }
    scrub_map(&mut event.contexts);
    scrub_map(&mut event.extra);
    for crumb in &mut event.breadcrumbs {
        scrub_map(&mut crumb.data);
    }
    let frames = event
        .exceptions
        .iter_mut()
        .flat_map(|e| e.frames.iter_mut())
        .chain(event.threads.iter_mut().flat_map(|t| t.frames.iter_mut()));
    for frame in frames {
        if let Some(vars) = &mut frame.vars {
            scrub_value(vars);
        }
    }
}

fn scrub_map(map: &mut Map<String, Value>) {
    for (k, v) in map.iter_mut() {
        if is_sensitive(k) {
            if !v.is_null() {
                *v = Value::from(FILTERED);
            }
        } else {
            scrub_value(v);
        }
    }
}

fn scrub_value(value: &mut Value) {
    match value {
        Value::Object(map) => scrub_map(map),
        // `[[name, value], ...]`, as SDKs send headers and query pairs.
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Array(pair)
                        if pair.len() == 2 && pair[0].as_str().is_some_and(is_sensitive) =>
                    {
                        pair[1] = Value::from(FILTERED);
                    }
                    other => scrub_value(other),
                }
            }
        }
        _ => {}
    }
}

/// The secret cookies' values, whatever form the cookies came in: an object, pairs, or the
/// raw header.
fn filter_cookies(cookies: &mut Value) {
    match cookies {
        Value::Object(map) => {
            for (name, v) in map.iter_mut() {
                if is_sensitive_cookie(name) {
                    *v = Value::from(FILTERED);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if let Value::Array(pair) = item {
                    if pair.len() == 2 && pair[0].as_str().is_some_and(is_sensitive_cookie) {
                        pair[1] = Value::from(FILTERED);
                    }
                }
            }
        }
        Value::String(raw) => {
            *raw = raw
                .split(';')
                .map(|part| match part.split_once('=') {
                    Some((name, _)) if is_sensitive_cookie(name.trim()) => {
                        format!("{}={FILTERED}", name.trim())
                    }
                    _ => part.trim().to_owned(),
                })
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Breadcrumb, Exception, Frame, Request};
    use serde_json::json;

    #[test]
    fn secrets_are_filtered_wherever_sdks_put_data_and_names_stay() {
        let mut event = Event {
            request: Some(Request {
                headers: [
                    ("Authorization".to_owned(), "Bearer x".to_owned()),
                    ("Accept".to_owned(), "*/*".to_owned()),
                ]
                .into_iter()
                .collect(),
                data: Some(
                    json!({"card": "4242", "password": "hunter2", "nested": {"api_key": "k"}}),
                ),
                query: Some(json!([["token", "t"], ["page", "2"]])),
                cookies: Some(json!("sessionid=abc; theme=dark")),
                env: Some(json!({"SECRET_KEY": "s", "REMOTE_ADDR": "10.0.0.1"})),
                ..Request::default()
            }),
            custom: Some(json!({"db_password": "p", "cart": 3})),
            breadcrumbs: vec![Breadcrumb {
                data: json!({"Set-Cookie": "a=b", "status": 200})
                    .as_object()
                    .unwrap()
                    .clone(),
                ..Breadcrumb::default()
            }],
            exceptions: vec![Exception {
                frames: vec![Frame {
                    vars: Some(json!({"self": "<Cart>", "auth_token": "x"})),
                    ..Frame::default()
                }],
                ..Exception::default()
            }],
            ..Event::default()
        };
        scrub(&mut event);
        let r = event.request.as_ref().unwrap();
        assert_eq!(r.headers["Authorization"], FILTERED);
        assert_eq!(r.headers["Accept"], "*/*");
        assert_eq!(r.data.as_ref().unwrap()["password"], FILTERED);
        assert_eq!(r.data.as_ref().unwrap()["nested"]["api_key"], FILTERED);
        assert_eq!(r.data.as_ref().unwrap()["card"], "4242");
        assert_eq!(r.query.as_ref().unwrap()[0][1], FILTERED);
        assert_eq!(r.query.as_ref().unwrap()[1][1], "2");
        assert_eq!(
            r.cookies.as_ref().unwrap(),
            "sessionid=[Filtered]; theme=dark"
        );
        assert_eq!(r.env.as_ref().unwrap()["SECRET_KEY"], FILTERED);
        assert_eq!(event.custom.as_ref().unwrap()["db_password"], FILTERED);
        assert_eq!(event.custom.as_ref().unwrap()["cart"], 3);
        assert_eq!(event.breadcrumbs[0].data["Set-Cookie"], FILTERED);
        assert_eq!(
            event.exceptions[0].frames[0].vars.as_ref().unwrap()["auth_token"],
            FILTERED
        );
        assert_eq!(
            event.exceptions[0].frames[0].vars.as_ref().unwrap()["self"],
            "<Cart>"
        );
    }
}
