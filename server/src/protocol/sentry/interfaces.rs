//! The scope's interfaces: `sdk`, `user` (alias `sentry.interfaces.User`), `request` (alias
//! `sentry.interfaces.Http`), `breadcrumbs` (alias `sentry.interfaces.Breadcrumbs`), `contexts`
//! (alias `sentry.interfaces.Contexts`), `tags` and the attributes Sentry shows as tags
//! (`logger`, `transaction`, `dist`, `site`), `fingerprint`, `extra`, `modules`, `debug_meta`
//! (alias `sentry.interfaces.DebugMeta`), `query` (alias `sentry.interfaces.Query`) and
//! `server_name`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{each_value, take_aliased, timestamp, TIME};
use crate::event::{Breadcrumb, Event, Person, Request, Sdk, Server, Trace};
use crate::protocol::{browser_context, element, Notes, Obj, Path};

/// `{name, version}`; `integrations`, `packages` and the rest are kept in `extra` as
/// `sdk.integrations`...
pub(super) fn sdk(top: &mut Obj<'_>, notes: &mut Notes) -> Option<Sdk> {
    let m = top.object("sdk", notes)?;
    let mut o = Obj::new(m, Path::top("sdk"));
    let sdk = Sdk {
        name: o.text("name", notes),
        version: o.text("version", notes),
    };
    o.keep_rest(notes);
    (sdk != Sdk::default()).then_some(sdk)
}

pub(super) fn map(top: &mut Obj<'_>, ev: &mut Event, notes: &mut Notes) {
    if let Some(host) = top.text("server_name", notes) {
        ev.server = Some(Server {
            host: Some(host),
            ..Server::default()
        });
    }
    if let Some(v) = top.take("tags") {
        ev.tags = tags(v, &Path::top("tags"), notes);
    }
    // Sentry shows these as tags; the client's own tags win. `dist` (a build of a release) is
    // a tag rather than a suffix of `release`, so the release stays the one deploys name.
    for key in ["logger", "transaction", "dist", "site"] {
        if let Some(v) = top.text(key, notes) {
            ev.tags.entry(key.to_owned()).or_insert(v);
        }
    }
    if let Some((key, v)) = take_aliased(top, notes, "user", "sentry.interfaces.User") {
        match v {
            Value::Object(m) => ev.person = person(m, &Path::top(key), notes),
            other => notes.wrong_type(&Path::top(key), other, "an object"),
        }
    }
    if let Some((key, v)) = take_aliased(top, notes, "request", "sentry.interfaces.Http") {
        match v {
            Value::Object(m) => ev.request = request(m, &Path::top(key), notes),
            other => notes.wrong_type(&Path::top(key), other, "an object"),
        }
    }
    if let Some((key, v)) = take_aliased(top, notes, "breadcrumbs", "sentry.interfaces.Breadcrumbs")
    {
        each_value(v, &Path::top(key), notes, |m, path, notes| {
            ev.breadcrumbs.extend(breadcrumb(m, path, notes));
        });
    }
    if let Some((key, v)) = take_aliased(top, notes, "contexts", "sentry.interfaces.Contexts") {
        contexts(v, &Path::top(key), ev, notes);
    }
    ev.trace = ev.contexts.get("trace").and_then(trace);
    // Relay derives the browser from the request's User-Agent when the SDK sent none.
    if !ev.contexts.contains_key("browser") {
        let ua = ev.request.as_ref().and_then(|r| {
            r.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
                .map(|(_, v)| v.as_str())
        });
        let browser = ua
            .map(browser_context)
            .filter(|b| b.get("version").is_some());
        if let Some(browser) = browser {
            ev.contexts.insert("browser".into(), browser);
        }
    }
    if let Some(v) = top.take("fingerprint") {
        ev.fingerprint = fingerprint(v, &Path::top("fingerprint"), notes);
    }
    ev.custom = top
        .object("extra", notes)
        .filter(|m| !m.is_empty())
        .map(Value::Object);
    if let Some(v) = top.take("modules") {
        ev.modules = modules(v, &Path::top("modules"), notes);
    }
    if let Some((key, v)) = take_aliased(top, notes, "debug_meta", "sentry.interfaces.DebugMeta") {
        match v {
            Value::Object(m) => ev.debug_images = debug_meta(m, &Path::top(key), notes),
            other => notes.wrong_type(&Path::top(key), other, "an object"),
        }
    }
    if let Some((key, v)) = take_aliased(top, notes, "query", "sentry.interfaces.Query") {
        match v {
            // `{query, engine}`: a database query the event is about.
            query @ Value::Object(_) => {
                ev.contexts.insert("query".into(), query);
            }
            Value::String(q) => {
                let mut query = Map::new();
                query.insert("query".into(), Value::String(q));
                ev.contexts.insert("query".into(), Value::Object(query));
            }
            other => notes.wrong_type(&Path::top(key), other, "an object"),
        }
    }
}

/// A map, or a list of `[key, value]` pairs; values are printed (objects and lists as compact
/// JSON), `null` values are left out.
fn tags(v: Value, path: &Path<'_>, notes: &mut Notes) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut insert = |key: String, value: Value, at: &Path<'_>, notes: &mut Notes| {
        if key.trim().is_empty() {
            notes.drop(at, value, "dropped: the tag has no name");
        } else if let Some(text) = tag_value(value) {
            out.insert(key, text);
        }
    };
    match v {
        Value::Object(m) => {
            let nameless = path.key("\"\"");
            for (key, value) in m {
                insert(key, value, &nameless, notes);
            }
        }
        Value::Array(list) => {
            for (i, pair) in list.into_iter().enumerate() {
                let at = path.index(i);
                match pair {
                    Value::Array(kv) if kv.len() == 2 && kv[0].is_string() => {
                        let mut kv = kv.into_iter();
                        let (Some(Value::String(key)), Some(value)) = (kv.next(), kv.next()) else {
                            unreachable!("checked above");
                        };
                        insert(key, value, &at, notes);
                    }
                    Value::Null => notes.note(&at, "skipped: null"),
                    other => notes.wrong_type(&at, other, "a [key, value] pair"),
                }
            }
        }
        other => notes.wrong_type(path, other, "a map or a list of [key, value] pairs"),
    }
    out
}

fn tag_value(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// `{id, username, email, ip_address, name, geo, data}`; any other attribute (`segment`,
/// `subscription`...) joins `data`, as Sentry does.
fn person(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Option<Person> {
    let mut o = Obj::new(m, *path);
    let mut person = Person {
        id: o.text("id", notes),
        username: o.text("username", notes),
        email: o.text("email", notes),
        ip_address: o.text("ip_address", notes),
        name: o.text("name", notes),
        geo: o.object("geo", notes).map(Value::Object),
        data: None,
    };
    let mut data = o.object("data", notes).unwrap_or_default();
    for (key, value) in o.map {
        if !value.is_null() {
            data.entry(key).or_insert(value);
        }
    }
    person.data = (!data.is_empty()).then_some(Value::Object(data));
    (person != Person::default()).then_some(person)
}

/// `{url, method, query_string, cookies, headers, data, env}`. A `Cookie` header moves to
/// `cookies` (when they are not sent apart) so they are scrubbed in one place;
/// `env.REMOTE_ADDR` is the client's address. Other attributes (`fragment`,
/// `inferred_content_type`, `api_target`...) are kept in `extra` as `request.fragment`...
fn request(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Option<Request> {
    let mut o = Obj::new(m, *path);
    let url = o.text("url", notes);
    let method = o.text("method", notes);
    let query = o
        .take("query_string")
        .and_then(|v| query(v, &o.path.key("query_string"), notes));
    let mut cookies = o
        .take("cookies")
        .and_then(|v| cookies(v, &o.path.key("cookies"), notes));
    let mut headers = match o.take("headers") {
        Some(v) => headers(v, &o.path.key("headers"), notes),
        None => BTreeMap::new(),
    };
    let cookie_header = headers
        .keys()
        .find(|k| k.eq_ignore_ascii_case("cookie"))
        .cloned();
    if let Some(name) = cookie_header {
        let value = headers.remove(&name).unwrap_or_default();
        if cookies.is_none() && !value.is_empty() {
            cookies = Some(Value::String(value));
        }
    }
    let data = o.take("data");
    let env = o.object("env", notes);
    let user_ip = env
        .as_ref()
        .and_then(|env| env.get("REMOTE_ADDR"))
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty())
        .map(str::to_owned);
    o.keep_rest(notes);
    let req = Request {
        url,
        method,
        headers,
        query,
        data,
        user_ip,
        cookies,
        env: env.map(Value::Object),
    };
    (req != Request::default()).then_some(req)
}

/// `query_string`: the raw string (without `?`), an object, or `[key, value]` pairs (repeated
/// keys become lists).
fn query(v: Value, path: &Path<'_>, notes: &mut Notes) -> Option<Value> {
    match v {
        Value::String(s) => {
            let s = s.strip_prefix('?').unwrap_or(&s);
            (!s.is_empty()).then(|| Value::String(s.to_owned()))
        }
        Value::Object(m) => (!m.is_empty()).then_some(Value::Object(m)),
        Value::Array(list) => {
            let m = pairs(list, path, notes);
            (!m.is_empty()).then_some(Value::Object(m))
        }
        other => {
            notes.wrong_type(path, other, "a string, an object or a list of pairs");
            None
        }
    }
}

/// `cookies`: the raw `Cookie` header, an object, or `[name, value]` pairs.
fn cookies(v: Value, path: &Path<'_>, notes: &mut Notes) -> Option<Value> {
    query(v, path, notes)
}

/// `[["a","1"],["a","2"],["b","3"]]` → `{"a": ["1","2"], "b": "3"}`.
fn pairs(list: Vec<Value>, path: &Path<'_>, notes: &mut Notes) -> Map<String, Value> {
    let mut out = Map::new();
    for (i, pair) in list.into_iter().enumerate() {
        let (key, value) = match pair {
            Value::Array(kv) if kv.len() == 2 && kv[0].is_string() => {
                let mut kv = kv.into_iter();
                match (kv.next(), kv.next()) {
                    (Some(Value::String(k)), Some(v)) => (k, v),
                    _ => unreachable!("checked above"),
                }
            }
            Value::Null => {
                notes.note(&path.index(i), "skipped: null");
                continue;
            }
            other => {
                notes.wrong_type(&path.index(i), other, "a [key, value] pair");
                continue;
            }
        };
        match out.get_mut(&key) {
            None => {
                out.insert(key, value);
            }
            Some(Value::Array(list)) => list.push(value),
            Some(first) => *first = Value::Array(vec![first.take(), value]),
        }
    }
    out
}

/// Headers as an object or `[name, value]` pairs; values are printed, a repeated header's
/// values are joined with `, ` as HTTP allows.
fn headers(v: Value, path: &Path<'_>, notes: &mut Notes) -> BTreeMap<String, String> {
    let entries: Vec<(String, Value)> = match v {
        Value::Object(m) => m.into_iter().collect(),
        Value::Array(list) => {
            let mut entries = Vec::new();
            for (i, pair) in list.into_iter().enumerate() {
                match pair {
                    Value::Array(kv) if kv.len() == 2 && kv[0].is_string() => {
                        let mut kv = kv.into_iter();
                        if let (Some(Value::String(k)), Some(v)) = (kv.next(), kv.next()) {
                            entries.push((k, v));
                        }
                    }
                    Value::Null => notes.note(&path.index(i), "skipped: null"),
                    other => notes.wrong_type(&path.index(i), other, "a [name, value] pair"),
                }
            }
            entries
        }
        other => {
            notes.wrong_type(path, other, "an object or a list of pairs");
            return BTreeMap::new();
        }
    };
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in entries {
        let value = match value {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                notes.wrong_type(&path.key(&name), other, "a string");
                continue;
            }
        };
        match out.get_mut(&name) {
            Some(existing) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            None => {
                out.insert(name, value);
            }
        }
    }
    out
}

/// A breadcrumb; one that says nothing at all is left out.
fn breadcrumb(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Option<Breadcrumb> {
    let mut o = Obj::new(m, *path);
    let crumb = Breadcrumb {
        timestamp: o.parsed("timestamp", notes, TIME, timestamp),
        ty: o.text("type", notes),
        category: o.text("category", notes),
        level: o.text("level", notes),
        message: o.text("message", notes),
        data: o.object("data", notes).unwrap_or_default(),
    };
    (crumb != Breadcrumb::default()).then_some(crumb)
}

/// Every context that is an object, under its key (`device`, `os`, `app`, `runtime`,
/// `browser`, `gpu`, `culture`, `trace`, the app's own).
fn contexts(v: Value, path: &Path<'_>, ev: &mut Event, notes: &mut Notes) {
    let m = match v {
        Value::Object(m) => m,
        other => return notes.wrong_type(path, other, "an object"),
    };
    for (kind, ctx) in m {
        match ctx {
            Value::Object(_) => {
                ev.contexts.insert(kind, ctx);
            }
            Value::Null => {}
            other => notes.wrong_type(&path.key(&kind), other, "an object"),
        }
    }
}

fn trace(ctx: &Value) -> Option<Trace> {
    let text = |k: &str| {
        ctx.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let t = Trace {
        trace_id: text("trace_id"),
        span_id: text("span_id"),
    };
    (t != Trace::default()).then_some(t)
}

/// A list of strings (numbers and booleans printed, as Relay does), or one string;
/// `{{ default }}` is kept for grouping to expand.
fn fingerprint(v: Value, path: &Path<'_>, notes: &mut Notes) -> Option<Vec<String>> {
    let parts: Vec<String> = match v {
        Value::String(s) => vec![s],
        Value::Number(n) => vec![n.to_string()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Array(list) => {
            let mut parts = Vec::with_capacity(list.len());
            for (i, part) in list.into_iter().enumerate() {
                match part {
                    Value::String(s) => parts.push(s),
                    Value::Number(n) => parts.push(n.to_string()),
                    Value::Bool(b) => parts.push(b.to_string()),
                    Value::Null => notes.note(&path.index(i), "skipped: null"),
                    other => notes.wrong_type(&path.index(i), other, "a string"),
                }
            }
            parts
        }
        other => {
            notes.wrong_type(path, other, "a list of strings");
            return None;
        }
    };
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then_some(parts)
}

/// `{name: version}`; versions sent as numbers are printed.
fn modules(v: Value, path: &Path<'_>, notes: &mut Notes) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let m = match v {
        Value::Object(m) => m,
        other => {
            notes.wrong_type(path, other, "an object");
            return out;
        }
    };
    for (name, version) in m {
        let version = match version {
            Value::Null => continue,
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                notes.wrong_type(&path.key(&name), other, "a version string");
                continue;
            }
        };
        out.insert(name, version);
    }
    out
}

/// `images`, each as sent; `sdk_info` and the rest are kept in `extra` as
/// `debug_meta.sdk_info`...
fn debug_meta(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Vec<Value> {
    let mut o = Obj::new(m, *path);
    let list = o.read("images", notes, "a list", |v| match v {
        Value::Array(list) => Ok(Some(list)),
        other => Err(other),
    });
    let images_path = o.path.key("images");
    let mut images = Vec::new();
    for (i, image) in list.unwrap_or_default().into_iter().enumerate() {
        if let Some(image) = element(image, &images_path.index(i), notes) {
            images.push(Value::Object(image));
        }
    }
    o.keep_rest(notes);
    images
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::tests::{map, notes};

    #[test]
    fn breadcrumbs_accept_values_or_a_list_and_both_timestamp_forms() {
        for wire in [
            json!({"breadcrumbs": {"values": [{"timestamp": 1714731342.5, "category": "http", "data": {"status_code": 200}}]}}),
            json!({"breadcrumbs": [{"timestamp": "2024-05-03T10:15:42.500Z", "category": "http", "data": {"status_code": 200}}]}),
            json!({"sentry.interfaces.Breadcrumbs": {"values": [{"timestamp": 1714731342.5, "category": "http", "data": {"status_code": 200}}]}}),
        ] {
            let ev = map(wire);
            assert_eq!(ev.breadcrumbs.len(), 1);
            let b = &ev.breadcrumbs[0];
            assert_eq!(b.timestamp.unwrap().timestamp_millis(), 1_714_731_342_500);
            assert_eq!(b.category.as_deref(), Some("http"));
            assert_eq!(Value::Object(b.data.clone()), json!({"status_code": 200}));
            assert!(ev.processing_notes.is_empty());
        }
    }

    #[test]
    fn wrong_typed_breadcrumb_fields_are_noted() {
        let ev = map(json!({"breadcrumbs": {"values": [
            {"message": "missing timestamp"},
            {"message": "invalid time", "timestamp": "soon", "type": "debug"},
            {"message": "invalid data", "data": "must be a mapping"},
            null, 7
        ]}}));
        assert_eq!(ev.breadcrumbs.len(), 3);
        assert_eq!(ev.breadcrumbs[1].ty.as_deref(), Some("debug"));
        assert_eq!(
            notes(&ev),
            [
                (
                    "breadcrumbs.values[1].timestamp",
                    "dropped: expected an RFC 3339 time or unix seconds, got \"soon\""
                ),
                (
                    "breadcrumbs.values[2].data",
                    "dropped: expected an object, got \"must be a mapping\""
                ),
                ("breadcrumbs.values[3]", "skipped: null"),
                (
                    "breadcrumbs.values[4]",
                    "dropped: expected an object, got a number"
                ),
            ]
        );
        let ev = map(json!({"breadcrumbs": "none"}));
        assert_eq!(notes(&ev)[0].0, "breadcrumbs");
    }

    #[test]
    fn tags_are_a_map_or_pairs_with_values_stringified() {
        let ev = map(json!({"tags": {"a": "x", "n": 3, "b": true, "gone": null, "o": {"k": 1}}}));
        assert_eq!(ev.tags.get("n").map(String::as_str), Some("3"));
        assert_eq!(ev.tags.get("b").map(String::as_str), Some("true"));
        assert_eq!(ev.tags.get("o").map(String::as_str), Some("{\"k\":1}"));
        assert!(!ev.tags.contains_key("gone"));
        assert!(ev.processing_notes.is_empty());
        let ev = map(
            json!({"tags": [["a", "x"], ["n", 3], ["broken"], null, ["", "v"]], "logger": "app", "transaction": "/cart", "dist": 7, "site": "eu"}),
        );
        assert_eq!(ev.tags.len(), 6);
        assert_eq!(ev.tags["transaction"], "/cart");
        assert_eq!(ev.tags["dist"], "7");
        assert_eq!(ev.tags["site"], "eu");
        assert_eq!(
            notes(&ev),
            [
                (
                    "tags[2]",
                    "dropped: expected a [key, value] pair, got an array"
                ),
                ("tags[3]", "skipped: null"),
                ("tags[4]", "dropped: the tag has no name"),
            ]
        );
        let ev = map(json!({"tags": {"logger": "mine"}, "logger": "app"}));
        assert_eq!(ev.tags["logger"], "mine", "client tags win");
        let ev = map(json!({"tags": 5}));
        assert_eq!(
            notes(&ev),
            [(
                "tags",
                "dropped: expected a map or a list of [key, value] pairs, got a number"
            )]
        );
        assert_eq!(ev.extra["dropped"]["tags"], 5);
    }

    #[test]
    fn the_request_maps_query_headers_cookies_data_env_and_address() {
        for key in ["request", "sentry.interfaces.Http"] {
            let ev = map(json!({key: {
                "method": "POST", "url": "https://shop.example/cart",
                "query_string": [["a", "1"], ["a", "2"], ["b", "3"]],
                "headers": [["Content-Type", "application/json"], ["Cookie", "session=s3cr3t"], ["Accept", "a"], ["Accept", "b"]],
                "cookies": {"session": "s3cr3t"}, "data": {"qty": 2},
                "env": {"REMOTE_ADDR": "203.0.113.9", "SERVER_PORT": "443"},
                "fragment": "top", "inferred_content_type": "application/json"
            }}));
            let req = ev.request.clone().unwrap();
            assert_eq!(req.query, Some(json!({"a": ["1", "2"], "b": "3"})));
            assert_eq!(
                req.headers.len(),
                2,
                "the cookie header moves: {:?}",
                req.headers
            );
            assert_eq!(req.headers["Accept"], "a, b");
            assert_eq!(req.cookies, Some(json!({"session": "s3cr3t"})));
            assert_eq!(req.data, Some(json!({"qty": 2})));
            assert_eq!(req.user_ip.as_deref(), Some("203.0.113.9"));
            assert_eq!(
                req.env,
                Some(json!({"REMOTE_ADDR": "203.0.113.9", "SERVER_PORT": "443"}))
            );
            assert_eq!(ev.extra[&format!("{key}.fragment")], "top");
            assert!(ev.processing_notes.is_empty());
        }
        let req =
            map(json!({"request": {"query_string": "?q=1", "headers": {"Cookie": "a=1; b=2"}}}))
                .request
                .unwrap();
        assert_eq!(req.query, Some(json!("q=1")));
        assert_eq!(
            req.cookies,
            Some(json!("a=1; b=2")),
            "the header is the cookies when none are sent"
        );
        assert!(req.headers.is_empty());
        let req = map(json!({"request": {"cookies": [["a", "1"]], "query_string": {"q": "x"}, "data": "raw body"}}))
            .request
            .unwrap();
        assert_eq!(
            (req.cookies, req.query),
            (Some(json!({"a": "1"})), Some(json!({"q": "x"})))
        );
        assert_eq!(req.data, Some(json!("raw body")));
    }

    #[test]
    fn wrong_typed_request_fields_are_noted() {
        let ev = map(
            json!({"request": {"method": "GET", "url": ["x"], "query_string": [["foo", "bar"], ["bam", null], null],
            "headers": 3, "env": "prod", "cookies": 1}}),
        );
        let req = ev.request.clone().unwrap();
        assert_eq!(req.query, Some(json!({"foo": "bar", "bam": null})));
        assert_eq!(
            notes(&ev),
            [
                ("request.url", "dropped: expected a string, got an array"),
                ("request.query_string[2]", "skipped: null"),
                (
                    "request.cookies",
                    "dropped: expected a string, an object or a list of pairs, got a number"
                ),
                (
                    "request.headers",
                    "dropped: expected an object or a list of pairs, got a number"
                ),
                ("request.env", "dropped: expected an object, got \"prod\""),
            ]
        );
        let ev = map(json!({"request": "GET /"}));
        assert_eq!(
            notes(&ev),
            [("request", "dropped: expected an object, got \"GET /\"")]
        );
    }

    #[test]
    fn the_user_keeps_name_geo_and_data_and_other_keys_join_data() {
        for key in ["user", "sentry.interfaces.User"] {
            let ev = map(
                json!({key: {"id": 42, "username": "ada", "email": "ada@example.com", "ip_address": "{{auto}}",
                "name": "Ada Lovelace", "geo": {"country_code": "GB", "city": "London"}, "data": {"plan": "pro"}, "segment": "vip"}}),
            );
            let p = ev.person.unwrap();
            assert_eq!(
                (p.id.as_deref(), p.ip_address.as_deref()),
                (Some("42"), Some("{{auto}}"))
            );
            assert_eq!(p.name.as_deref(), Some("Ada Lovelace"));
            assert_eq!(p.geo, Some(json!({"country_code": "GB", "city": "London"})));
            assert_eq!(p.data, Some(json!({"plan": "pro", "segment": "vip"})));
        }
        let ev = map(json!({"user": {"id": "7", "geo": 5, "data": "x", "email": {"a": 1}}}));
        assert_eq!(ev.person.as_ref().unwrap().id.as_deref(), Some("7"));
        assert_eq!(
            notes(&ev),
            [
                ("user.email", "dropped: expected a string, got an object"),
                ("user.geo", "dropped: expected an object, got a number"),
                ("user.data", "dropped: expected an object, got \"x\""),
            ]
        );
        assert_eq!(ev.extra["dropped"]["user.geo"], 5);
        let ev = map(json!({"user": []}));
        assert_eq!(
            notes(&ev),
            [("user", "dropped: expected an object, got an array")]
        );
    }

    #[test]
    fn contexts_keep_every_object_and_drop_the_rest_with_a_note() {
        let ev = map(json!({"contexts": {
            "trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"},
            "os": {"name": "iOS", "version": "17.4"}, "device": {"model": "iPhone15,2"}, "gpu": {"name": "Apple A16 GPU"},
            "culture": {"locale": "de-DE"}, "app": {"app_version": "2.4.1"}, "cart": {"lines": 2},
            "bogus": 3, "nothing": null
        }}));
        assert_eq!(
            ev.trace.as_ref().unwrap().span_id.as_deref(),
            Some("00f067aa0ba902b7")
        );
        for kind in ["trace", "os", "device", "gpu", "culture", "app", "cart"] {
            assert!(ev.contexts.contains_key(kind), "{kind}");
        }
        assert!(!ev.contexts.contains_key("bogus"));
        assert_eq!(
            notes(&ev),
            [(
                "contexts.bogus",
                "dropped: expected an object, got a number"
            )]
        );
        assert!(
            !ev.contexts.contains_key("browser"),
            "no request, no derived browser"
        );
        let legacy = map(json!({"sentry.interfaces.Contexts": {"os": {"name": "Linux"}}}));
        assert_eq!(legacy.contexts["os"]["name"], "Linux");
        let ev = map(json!({"contexts": []}));
        assert_eq!(
            notes(&ev),
            [("contexts", "dropped: expected an object, got an array")]
        );
    }

    #[test]
    fn a_browser_context_is_derived_from_the_user_agent_when_none_is_sent() {
        let ua = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
        let ev = map(json!({"request": {"headers": {"user-agent": ua}}}));
        assert_eq!(ev.context_name("browser").as_deref(), Some("Firefox 125.0"));
        let ev = map(
            json!({"request": {"headers": {"User-Agent": ua}}, "contexts": {"browser": {"name": "Own"}}}),
        );
        assert_eq!(ev.contexts["browser"]["name"], "Own", "the SDK's own wins");
        let ev = map(json!({"request": {"headers": {"User-Agent": "curl/8.5.0"}}}));
        assert!(!ev.contexts.contains_key("browser"), "not a browser");
    }

    #[test]
    fn sdk_fingerprint_extra_modules_and_server_name_are_mapped() {
        let ev = map(json!({
            "sdk": {"name": "sentry.python", "version": "2.1.1", "integrations": ["django"]},
            "fingerprint": ["{{ default }}", "tenant-eu", 7, null],
            "extra": {"cart": 3},
            "modules": {"django": "5.0.4", "build": 7, "broken": ["x"]},
            "server_name": "web-3"
        }));
        let sdk = ev.sdk.clone().unwrap();
        assert_eq!(
            (sdk.name.as_deref(), sdk.version.as_deref()),
            (Some("sentry.python"), Some("2.1.1"))
        );
        assert_eq!(ev.extra["sdk.integrations"], json!(["django"]));
        assert_eq!(
            ev.fingerprint.clone().unwrap(),
            ["{{ default }}", "tenant-eu", "7"]
        );
        assert_eq!(ev.custom, Some(json!({"cart": 3})));
        assert_eq!(ev.modules.len(), 2);
        assert_eq!(ev.modules["build"], "7");
        assert_eq!(ev.server.as_ref().unwrap().host.as_deref(), Some("web-3"));
        assert_eq!(
            notes(&ev),
            [
                ("fingerprint[3]", "skipped: null"),
                (
                    "modules.broken",
                    "dropped: expected a version string, got an array"
                ),
            ]
        );
        assert_eq!(
            map(json!({"fingerprint": "one"})).fingerprint.unwrap(),
            ["one"]
        );
        let ev =
            map(json!({"fingerprint": {"a": 1}, "extra": [1], "modules": "x", "sdk": "sentry.go"}));
        let paths: Vec<_> = notes(&ev).into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, ["sdk", "fingerprint", "extra", "modules"]);
    }

    #[test]
    fn debug_meta_images_are_kept_as_sent() {
        for key in ["debug_meta", "sentry.interfaces.DebugMeta"] {
            let ev = map(json!({key: {
                "images": [{"type": "macho", "code_file": "/usr/lib/libobjc.A.dylib", "debug_id": "a1b2c3d4-0000-0000-0000-000000000000",
                            "image_addr": "0x1a0000000", "image_size": 242560, "arch": "arm64e"}, "junk"],
                "sdk_info": {"sdk_name": "iOS", "version_major": 17}
            }}));
            assert_eq!(ev.debug_images.len(), 1);
            assert_eq!(ev.debug_images[0]["code_file"], "/usr/lib/libobjc.A.dylib");
            assert_eq!(ev.extra[&format!("{key}.sdk_info")]["sdk_name"], "iOS");
            assert_eq!(
                notes(&ev),
                [(
                    format!("{key}.images[1]").as_str(),
                    "dropped: expected an object, got \"junk\""
                )]
            );
        }
    }

    #[test]
    fn the_query_interface_is_a_context() {
        for key in ["query", "sentry.interfaces.Query"] {
            let ev = map(
                json!({"message": "slow query", key: {"query": "SELECT 1", "engine": "psycopg2"}}),
            );
            assert_eq!(
                ev.contexts["query"],
                json!({"query": "SELECT 1", "engine": "psycopg2"})
            );
        }
        assert_eq!(
            map(json!({"query": "SELECT 1"})).contexts["query"]["query"],
            "SELECT 1"
        );
    }
}
