//! A Rollbar item (`POST /api/1/item/`, body `{"access_token"?, "data": {...}}`) → [`Event`].
//!
//! Rollbar answers 400 for a body it cannot decode and 422 for a decoded item that breaks its
//! schema; [`MapError::status`] follows that split. Required by Rollbar and so enforced here:
//! `data.environment`, `data.body` with one of `trace`, `trace_chain`, `message`,
//! `crash_report`, and their required parts (`exception.class`, `message.body`,
//! `crash_report.raw`). Every other field is optional: one of the wrong type is dropped from
//! the model, noted in `processing_notes` (paths are relative to `data`: `person.id`,
//! `body.trace.frames[2].lineno`) and kept raw in `extra.dropped`.
//!
//! What maps where:
//!
//! | Rollbar | Bugle |
//! | --- | --- |
//! | `body.trace` / `trace_chain` | `exceptions` (frames: `method` → function, `class_name` → module, `code` → context line, `locals` → vars) |
//! | `body.message.body` (its other keys) | `message` (`custom`) |
//! | `body.crash_report.raw` | `message` (its summary line), `contexts.crash_report.raw` (the whole text) |
//! | `body.telemetry` | `breadcrumbs` |
//! | `uuid`, `timestamp`, `level`, `title`, `fingerprint`, `framework` | the same |
//! | `code_version` (else `client.javascript.code_version`, `server.code_version`, `server.sha`) | `release` |
//! | `language` (`python 3.11.7`) | `language` (`python`), `contexts.runtime` (name, version) |
//! | `platform` | `platform` as sent; without one, the `language` as sent |
//! | `context` | tag `context` |
//! | `notifier` | `sdk` |
//! | `request` (`GET` else `query_string`; `POST` else `body` else `json`; `user_ip`) | `request` (query, data, user_ip) |
//! | `person` (other keys → `data`) | `person` |
//! | `server` (`host`, `pid`, `root`, `branch`, `sha` → also tag `sha`) | `server` |
//! | `client` (`javascript.browser` → `contexts.browser`) | `contexts.client` |
//! | `custom` | `custom` |
//!
//! Order: a trace's `frames` are oldest → newest ("most recent call last"), as Bugle's are.
//! `trace_chain[0]` is the exception that was reported and each next element its cause, which
//! is Bugle's outermost-first order too, so nothing is reversed. Checked against the SDKs:
//! pyrollbar's `_walk_trace_chain` starts with the raised exception and appends `__cause__` /
//! `__context__`; rollbar.js (server `handleItemWithError`) pushes the error, then `err.nested`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::{Builder, Uuid};

use super::{
    as_text, browser_context, element, json_type, stringify, unix_seconds, MapError, Notes, Obj,
    Path,
};
use crate::event::{Breadcrumb, Event, Exception, Frame, Level, Person, Request, Sdk, Server};

/// The legacy body field `access_token` (the `X-Rollbar-Access-Token` header is the other way).
pub fn rollbar_token(body: &Value) -> Option<&str> {
    body.get("access_token")?
        .as_str()
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The `data` object of a request body: 400 when the body is not an object, 422 without `data`.
pub fn item_data(body: &Value) -> Result<&Value, MapError> {
    if !body.is_object() {
        return Err(MapError::NotAnObject {
            what: "request body",
            got: json_type(body),
        });
    }
    match body.get("data") {
        None | Some(Value::Null) => Err(MapError::MissingField("data")),
        Some(data) => Ok(data),
    }
}

/// Maps the item's `data` object. See the module docs for what is required.
pub fn event_from_rollbar(data: &Value) -> Result<Event, MapError> {
    let Some(obj) = data.as_object() else {
        return Err(MapError::NotAnObject {
            what: "data",
            got: json_type(data),
        });
    };
    let mut notes = Notes::default();
    let mut f = Obj::new(obj.clone(), Path::Top);

    let environment = match f.take("environment") {
        None => return Err(MapError::MissingField("data.environment")),
        Some(Value::String(s)) if !s.trim().is_empty() => s,
        Some(other) => {
            return Err(MapError::InvalidField {
                field: "data.environment",
                reason: format!("must be a non-empty string, got {}", json_type(&other)),
            })
        }
    };
    let body = match f.take("body") {
        None => return Err(MapError::MissingField("data.body")),
        Some(Value::Object(body)) => body,
        Some(other) => {
            return Err(MapError::InvalidField {
                field: "data.body",
                reason: format!("must be an object, got {}", json_type(&other)),
            })
        }
    };

    let mut ev = Event {
        environment: Some(environment),
        ..Event::default()
    };
    let message_extra = map_body(body, &mut ev, &mut notes)?;

    ev.uuid = f.parsed("uuid", &mut notes, "a string", |v| {
        occurrence_uuid(&stringify(v)?)
    });
    ev.level = f.parsed(
        "level",
        &mut notes,
        "a level (critical, error, warning, info or debug)",
        |v| v.as_str()?.parse::<Level>().ok(),
    );
    ev.timestamp = f.parsed("timestamp", &mut notes, "unix seconds", |v| match v {
        Value::Number(n) => unix_seconds(n.as_f64()?),
        Value::String(s) => unix_seconds(s.trim().parse().ok()?),
        _ => None,
    });
    ev.release = f.text("code_version", &mut notes);
    let platform = f.text("platform", &mut notes);
    ev.framework = f.text("framework", &mut notes);
    ev.title = f.text("title", &mut notes);
    ev.fingerprint = f.read("fingerprint", &mut notes, "a string", fingerprint);
    if let Some(m) = f.object("notifier", &mut notes) {
        ev.sdk = sdk(m, &Path::top("notifier"), &mut notes);
    }
    if let Some(m) = f.object("request", &mut notes) {
        ev.request = request(m, &Path::top("request"), &mut notes);
    }
    if let Some(m) = f.object("person", &mut notes) {
        ev.person = person(m, &Path::top("person"), &mut notes);
    }
    if let Some(context) = f.text("context", &mut notes) {
        ev.tags.insert("context".into(), context);
    }

    let language = f.text("language", &mut notes);
    if let Some((name, version)) = language.as_deref().and_then(split_language) {
        if let Some(version) = version {
            ev.contexts.insert(
                "runtime".into(),
                json!({"type": "runtime", "name": name, "version": version}),
            );
        }
        ev.language = Some(name);
    }
    // The platform as sent; pyrollbar sends none, and its `language` ("python 3.11.7") is
    // then the platform, so the page still shows the version it ran.
    ev.platform = platform.or(language);

    if let Some(client) = f.object("client", &mut notes) {
        let browser = client
            .get("javascript")
            .and_then(|js| js.get("browser"))
            .and_then(Value::as_str)
            .filter(|ua| !ua.is_empty());
        if let Some(ua) = browser {
            ev.contexts.insert("browser".into(), browser_context(ua));
        }
        // The browser's code version (for source maps) is the release when nothing else says.
        if ev.release.is_none() {
            ev.release = client
                .get("javascript")
                .and_then(|js| js.get("code_version"))
                .cloned()
                .and_then(|v| as_text(v).ok().flatten());
        }
        ev.contexts.insert("client".into(), Value::Object(client));
    }
    if let Some(m) = f.object("server", &mut notes) {
        server(m, &Path::top("server"), &mut ev, &mut notes);
    }
    match f.take("custom") {
        // Extra keys of `body.message` join `custom`; the client's `custom` wins.
        Some(Value::Object(mut custom)) => {
            for (k, v) in message_extra {
                custom.entry(k).or_insert(v);
            }
            ev.custom = Some(Value::Object(custom));
        }
        Some(custom) => {
            if !message_extra.is_empty() {
                notes.keep(
                    &Path::top("body").key("message"),
                    Value::Object(message_extra),
                );
            }
            ev.custom = Some(custom);
        }
        None => ev.custom = (!message_extra.is_empty()).then_some(Value::Object(message_extra)),
    }

    notes.finish(f.map, &mut ev);
    Ok(ev)
}

/// Field names for error messages: a single `trace` or an element of `trace_chain`.
struct TracePath {
    trace: &'static str,
    exception: &'static str,
    class: &'static str,
}

const TRACE: TracePath = TracePath {
    trace: "data.body.trace",
    exception: "data.body.trace.exception",
    class: "data.body.trace.exception.class",
};
const CHAIN: TracePath = TracePath {
    trace: "data.body.trace_chain[]",
    exception: "data.body.trace_chain[].exception",
    class: "data.body.trace_chain[].exception.class",
};

/// `body`: exceptions from `trace_chain` or `trace`, text from `message` or `crash_report`,
/// breadcrumbs from `telemetry`. Returns the message's extra keys, for the caller to merge with
/// `data.custom`.
fn map_body(
    body: Map<String, Value>,
    ev: &mut Event,
    notes: &mut Notes,
) -> Result<Map<String, Value>, MapError> {
    let mut body = Obj::new(body, Path::top("body"));
    match body.take("telemetry") {
        None => {}
        Some(Value::Array(telemetry)) => {
            let path = body.path.key("telemetry");
            for (i, v) in telemetry.into_iter().enumerate() {
                let at = path.index(i);
                if let Some(crumb) = element(v, &at, notes).and_then(|m| breadcrumb(&m)) {
                    ev.breadcrumbs.push(crumb);
                }
            }
        }
        Some(other) => notes.wrong_type(&body.path.key("telemetry"), other, "a list"),
    }
    let chain = body.take("trace_chain");
    let trace = body.take("trace");
    let message = body.take("message");
    let crash = body.take("crash_report");

    if let Some(chain) = chain {
        let traces = match chain {
            Value::Array(list) if !list.is_empty() => list,
            other => {
                return Err(MapError::InvalidField {
                    field: "data.body.trace_chain",
                    reason: format!("must be a non-empty array, got {}", describe(&other)),
                })
            }
        };
        let path = body.path.key("trace_chain");
        ev.exceptions = traces
            .into_iter()
            .enumerate()
            .map(|(i, t)| exception(t, &path.index(i), &CHAIN, notes))
            .collect::<Result<_, _>>()?;
    } else if let Some(trace) = trace {
        ev.exceptions = vec![exception(trace, &body.path.key("trace"), &TRACE, notes)?];
    }

    let mut extras = Map::new();
    if let Some(message) = message {
        let text = match message {
            Value::String(s) => s,
            Value::Object(mut m) => match m.remove("body").filter(|v| !v.is_null()) {
                Some(text) => {
                    extras = m;
                    stringify(&text).unwrap_or_default()
                }
                None => return Err(MapError::MissingField("data.body.message.body")),
            },
            other => {
                return Err(MapError::InvalidField {
                    field: "data.body.message",
                    reason: format!("must be an object, got {}", json_type(&other)),
                })
            }
        };
        ev.message = Some(text);
    } else if let Some(crash) = crash {
        let raw = crash
            .get("raw")
            .and_then(stringify)
            .ok_or(MapError::MissingField("data.body.crash_report.raw"))?;
        ev.message = Some(crash_summary(&raw));
        let mut report = match crash {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        report.insert("raw".into(), Value::String(raw));
        ev.contexts
            .insert("crash_report".into(), Value::Object(report));
    } else if ev.exceptions.is_empty() {
        return Err(MapError::InvalidField {
            field: "data.body",
            reason: "must contain one of trace, trace_chain, message or crash_report".into(),
        });
    }

    body.keep_rest(notes);
    Ok(extras)
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an empty array",
        other => json_type(other),
    }
}

/// The line of a crash report that says what happened: an uncaught `NSException`'s reason,
/// the iOS `Exception Type`, an Android tombstone's `signal` line or a JVM exception line;
/// else the first line.
fn crash_summary(raw: &str) -> String {
    let lines = || raw.lines().map(str::trim).filter(|l| !l.is_empty());
    let jvm_exception = |line: &&str| {
        let head = line.split([':', ' ']).next().unwrap_or("");
        head.contains('.') && (head.ends_with("Exception") || head.ends_with("Error"))
    };
    lines()
        .find(|l| l.starts_with("*** Terminating app due to uncaught exception"))
        .map(|l| l.trim_start_matches("*** ").to_owned())
        .or_else(|| {
            lines()
                .find_map(|l| l.strip_prefix("Exception Type:"))
                .map(|t| t.trim().to_owned())
        })
        .or_else(|| {
            lines()
                .find(|l| l.starts_with("signal ") && l.contains("(SIG"))
                .map(str::to_owned)
        })
        .or_else(|| lines().find(jvm_exception).map(str::to_owned))
        .or_else(|| lines().next().map(str::to_owned))
        .unwrap_or_else(|| "Crash report".to_owned())
}

/// One trace: `exception {class R, message, description}` and its frames (oldest first).
fn exception(
    trace: Value,
    path: &Path<'_>,
    names: &TracePath,
    notes: &mut Notes,
) -> Result<Exception, MapError> {
    let Value::Object(t) = trace else {
        return Err(MapError::InvalidField {
            field: names.trace,
            reason: format!("must be an object, got {}", json_type(&trace)),
        });
    };
    let mut t = Obj::new(t, *path);
    let exc = match t.take("exception") {
        Some(Value::Object(exc)) => exc,
        _ => return Err(MapError::MissingField(names.exception)),
    };
    let mut exc = Obj::new(exc, path.key("exception"));
    let ty = exc
        .read("class", notes, "a string", as_text)
        .ok_or(MapError::MissingField(names.class))?;
    let value = exc
        .text("message", notes)
        .or_else(|| exc.text("description", notes));
    let mut frames = Vec::new();
    match t.take("frames") {
        None => {}
        Some(Value::Array(list)) => {
            let frames_path = t.path.key("frames");
            for (i, v) in list.into_iter().enumerate() {
                let at = frames_path.index(i);
                if let Some(frame) = element(v, &at, notes).and_then(|m| frame(m, &at, notes)) {
                    frames.push(frame);
                }
            }
        }
        Some(other) => notes.wrong_type(&t.path.key("frames"), other, "a list"),
    }
    Ok(Exception {
        ty,
        value,
        module: None,
        mechanism: None,
        frames,
    })
}

/// A frame: `method` → function, `class_name` → module (as Sentry's Java frames do), `code` →
/// context line, `context.pre/post`, `locals` → vars (else legacy `args`/`kwargs`). One with
/// neither file nor method is left out.
fn frame(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Option<Frame> {
    let mut o = Obj::new(m, *path);
    let filename = o.text("filename", notes);
    let function = o.text("method", notes);
    if filename.is_none() && function.is_none() {
        return None;
    }
    let (pre_context, post_context) = match o.object("context", notes) {
        Some(context) => {
            let mut context = Obj::new(context, path.key("context"));
            (context.lines("pre", notes), context.lines("post", notes))
        }
        None => (Vec::new(), Vec::new()),
    };
    let vars = o.take("locals").or_else(|| {
        let mut legacy = Map::new();
        for key in ["args", "kwargs"] {
            if let Some(v) = o.take(key) {
                legacy.insert(key.into(), v);
            }
        }
        (!legacy.is_empty()).then_some(Value::Object(legacy))
    });
    Some(Frame {
        filename,
        module: o.text("class_name", notes),
        function,
        lineno: o.uint("lineno", notes),
        colno: o.uint("colno", notes),
        context_line: o.read("code", notes, "a string", |v| match v {
            Value::String(s) => Ok(Some(s)),
            other => Err(other),
        }),
        pre_context,
        post_context,
        vars,
        ..Frame::default()
    })
}

/// A telemetry event `{level, type, source, timestamp_ms, body}` as a breadcrumb: `type` is
/// kept (log, network, dom, navigation, error, manual), the category is the body's `subtype`
/// (xhr, fetch, click, ...) or else the source, and the body is the data.
fn breadcrumb(m: &Map<String, Value>) -> Option<Breadcrumb> {
    let text = |v: Option<&Value>| v.and_then(stringify).filter(|s| !s.is_empty());
    let ty = text(m.get("type"));
    let body = m.get("body").and_then(Value::as_object);
    let field = |k: &str| text(body.and_then(|b| b.get(k)));
    let message = field("message").or_else(|| match ty.as_deref()? {
        "network" => {
            let mut text = format!("{} {}", field("method")?, field("url")?);
            if let Some(status) = field("status_code") {
                text.push_str(&format!(" [{status}]"));
            }
            Some(text)
        }
        "navigation" => Some(format!("{} → {}", field("from")?, field("to")?)),
        "dom" => Some(format!("{} {}", field("subtype")?, field("element")?)),
        _ => None,
    });
    let crumb = Breadcrumb {
        timestamp: m
            .get("timestamp_ms")
            .and_then(Value::as_f64)
            .and_then(|ms| unix_seconds(ms / 1000.0)),
        category: field("subtype").or_else(|| text(m.get("source"))),
        level: text(m.get("level")),
        message,
        data: body.cloned().unwrap_or_default(),
        ty,
    };
    (crumb != Breadcrumb::default()).then_some(crumb)
}

/// `request`: `GET` (else `query_string`) → query, `POST` (else `body`, else `json`) → data.
/// The `Cookie` header moves to `cookies`. `user_ip` may be `$remote_ip`: see
/// [`fill_client_ip`](super::fill_client_ip). Other keys (`params`, `session`...) are kept in
/// `extra` as `request.params`...
fn request(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Option<Request> {
    let mut o = Obj::new(m, *path);
    let mut non_empty = |k: &str| {
        o.take(k).filter(|v| match v {
            Value::Object(o) => !o.is_empty(),
            Value::String(s) => !s.is_empty(),
            _ => true,
        })
    };
    let get = non_empty("GET");
    let mut data = ["POST", "body", "json"].map(|k| (k, non_empty(k)));
    let query = get.or_else(|| {
        let qs = o.text("query_string", notes)?;
        let qs = qs.strip_prefix('?').unwrap_or(&qs);
        (!qs.is_empty()).then(|| Value::String(qs.to_owned()))
    });
    let mut headers = BTreeMap::new();
    let mut cookies = None;
    if let Some(h) = o.object("headers", notes) {
        let hpath = path.key("headers");
        for (name, value) in h {
            let value = match as_text(value) {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(raw) => {
                    notes.wrong_type(&hpath.key(&name), raw, "a string");
                    continue;
                }
            };
            if name.eq_ignore_ascii_case("cookie") {
                cookies = Some(Value::String(value));
            } else {
                headers.insert(name, value);
            }
        }
    }
    let req = Request {
        url: o.text("url", notes),
        method: o.text("method", notes),
        headers,
        query,
        // The first that is there; the others are kept in `extra` (`request.body`...).
        data: data.iter_mut().find_map(|(_, v)| v.take()),
        user_ip: o.text("user_ip", notes),
        cookies,
        env: None,
    };
    for (key, unused) in data {
        if let Some(v) = unused {
            o.map.insert(key.to_owned(), v);
        }
    }
    o.keep_rest(notes);
    (req != Request::default()).then_some(req)
}

/// `{id, username, email}`; Rollbar requires `id`, but Bugle keeps a person known only by
/// username or email. Other keys join `data`.
fn person(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Option<Person> {
    let mut o = Obj::new(m, *path);
    let mut p = Person {
        id: o.text("id", notes),
        username: o.text("username", notes),
        email: o.text("email", notes),
        ..Person::default()
    };
    o.map.retain(|_, v| !v.is_null());
    if !o.map.is_empty() {
        p.data = Some(Value::Object(o.map));
    }
    (p != Person::default()).then_some(p)
}

/// `{name, version}`; other keys (`configured_options`, `diagnostic`) are kept in `extra` as
/// `notifier.configured_options`...
fn sdk(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Option<Sdk> {
    let mut o = Obj::new(m, *path);
    let sdk = Sdk {
        name: o.text("name", notes),
        version: o.text("version", notes),
    };
    o.keep_rest(notes);
    (sdk != Sdk::default()).then_some(sdk)
}

/// `server`: `host`, `pid`, `root`, `branch`; `code_version` (and the deprecated `sha`) stand
/// in for a missing `code_version`, and `sha` is also the tag `sha`. Other keys (`argv`,
/// `cpu`...) are kept in `extra` as `server.argv`...
fn server(m: Map<String, Value>, path: &Path<'_>, ev: &mut Event, notes: &mut Notes) {
    let mut o = Obj::new(m, *path);
    let code_version = o.text("code_version", notes);
    let sha = o.text("sha", notes);
    if let Some(sha) = &sha {
        ev.tags.insert("sha".into(), sha.clone());
    }
    if ev.release.is_none() {
        ev.release = code_version.or(sha);
    }
    let s = Server {
        host: o.text("host", notes),
        pid: o.uint("pid", notes),
        root: o.text("root", notes),
        branch: o.text("branch", notes),
    };
    ev.server = (s != Server::default()).then_some(s);
    o.keep_rest(notes);
}

/// A string (Rollbar's documented form) or a list of strings (Bugle's).
fn fingerprint(v: Value) -> Result<Option<Vec<String>>, Value> {
    match v {
        Value::String(s) => Ok((!s.is_empty()).then(|| vec![s])),
        Value::Number(n) => Ok(Some(vec![n.to_string()])),
        Value::Array(list) if list.iter().all(|p| p.is_string() || p.is_number()) => {
            let parts: Vec<String> = list
                .iter()
                .filter_map(stringify)
                .filter(|p| !p.is_empty())
                .collect();
            Ok((!parts.is_empty()).then_some(parts))
        }
        other => Err(other),
    }
}

/// `"python 3.11.4"` (pyrollbar's form) → `("python", Some("3.11.4"))`; `"javascript"` → no
/// version.
fn split_language(text: &str) -> Option<(String, Option<String>)> {
    let mut words = text.split_whitespace();
    let name = words.next()?.to_ascii_lowercase();
    let version = words
        .next()
        .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned);
    Some((name, version))
}

/// A Rollbar `uuid` (any string up to 36 characters; UUID4 recommended). One that is not a
/// UUID becomes a stable one: the first 16 bytes of SHA-256 of the string, as a version 8
/// ("custom") UUID, so a resent item still dedupes.
fn occurrence_uuid(s: &str) -> Option<Uuid> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    Uuid::parse_str(s).ok().or_else(|| {
        let digest = Sha256::digest(format!("rollbar-uuid:{s}").as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Some(Builder::from_custom_bytes(bytes).into_uuid())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(body: Value) -> Value {
        json!({"environment": "production", "body": body})
    }

    fn map(v: Value) -> Event {
        event_from_rollbar(&v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_token_comes_from_the_body() {
        assert_eq!(
            rollbar_token(&json!({"access_token": "abc", "data": {}})),
            Some("abc")
        );
        assert_eq!(rollbar_token(&json!({"access_token": ""})), None);
        assert_eq!(rollbar_token(&json!({"data": {}})), None);
        assert_eq!(rollbar_token(&json!([1])), None);
    }

    #[test]
    fn item_data_requires_an_object_with_data() {
        assert_eq!(item_data(&json!([])).unwrap_err().status(), 400);
        let err = item_data(&json!({"access_token": "x"})).unwrap_err();
        assert_eq!(
            (err.status(), err.to_string().as_str()),
            (422, "missing required field `data`")
        );
    }

    #[test]
    fn broken_items_fail_with_the_status_rollbar_gives() {
        let cases = [
            (json!("text"), 400, "data must be a JSON object, got a string"),
            (json!({"body": {"message": {"body": "x"}}}), 422, "missing required field `data.environment`"),
            (json!({"environment": 3, "body": {}}), 422, "`data.environment` is invalid: must be a non-empty string, got a number"),
            (json!({"environment": "production"}), 422, "missing required field `data.body`"),
            (json!({"environment": "production", "body": []}), 422, "`data.body` is invalid: must be an object, got an array"),
            (base(json!({})), 422, "`data.body` is invalid: must contain one of trace, trace_chain, message or crash_report"),
            (base(json!({"trace": {"frames": []}})), 422, "missing required field `data.body.trace.exception`"),
            (base(json!({"trace": {"frames": [], "exception": {"message": "x"}}})), 422, "missing required field `data.body.trace.exception.class`"),
            (base(json!({"trace_chain": []})), 422, "`data.body.trace_chain` is invalid: must be a non-empty array, got an empty array"),
            (base(json!({"trace_chain": [{"exception": {"class": "A"}}, {"exception": {}}]})), 422, "missing required field `data.body.trace_chain[].exception.class`"),
            (base(json!({"message": {"level": "x"}})), 422, "missing required field `data.body.message.body`"),
            (base(json!({"crash_report": {}})), 422, "missing required field `data.body.crash_report.raw`"),
        ];
        for (data, status, message) in cases {
            let err = event_from_rollbar(&data).unwrap_err();
            assert_eq!(
                (err.status(), err.to_string().as_str()),
                (status, message),
                "{data}"
            );
        }
    }

    #[test]
    fn a_trace_keeps_frame_order_and_fields() {
        let ev = map(base(json!({"trace": {
            "exception": {"class": "NameError", "message": "name 'x' is not defined"},
            "frames": [
                {"filename": "/app/main.py", "lineno": 3, "method": "<module>"},
                {"filename": "/app/app.py", "lineno": 9, "colno": 4, "method": "handle", "class_name": "Handler",
                 "code": "return x", "context": {"pre": ["def handle():"], "post": [""]}, "locals": {"y": 1}},
                {"lineno": 1}
            ]
        }})));
        let exc = &ev.exceptions[0];
        assert_eq!(exc.ty, "NameError");
        assert_eq!(
            exc.frames.len(),
            2,
            "a frame with neither file nor method is skipped"
        );
        let f = &exc.frames[1];
        assert_eq!(f.function.as_deref(), Some("handle"));
        assert_eq!(f.module.as_deref(), Some("Handler"));
        assert_eq!(f.context_line.as_deref(), Some("return x"));
        assert_eq!((f.pre_context.len(), f.post_context.len()), (1, 1));
        assert_eq!(f.vars, Some(json!({"y": 1})));
    }

    #[test]
    fn a_trace_chain_keeps_its_order_outermost_first() {
        let ev = map(base(json!({"trace_chain": [
            {"exception": {"class": "ValueError", "message": "bad id"}, "frames": []},
            {"exception": {"class": "KeyError", "description": "'id'"}, "frames": []}
        ]})));
        let got: Vec<_> = ev
            .exceptions
            .iter()
            .map(|e| (e.ty.as_str(), e.value.as_deref()))
            .collect();
        assert_eq!(
            got,
            [("ValueError", Some("bad id")), ("KeyError", Some("'id'"))]
        );
    }

    #[test]
    fn message_extra_keys_join_custom_without_overwriting_it() {
        let mut data =
            base(json!({"message": {"body": "Disk almost full", "free_mb": 12, "route": "/x"}}));
        data["custom"] = json!({"route": "/cart"});
        let ev = map(data);
        assert_eq!(ev.message.as_deref(), Some("Disk almost full"));
        assert_eq!(ev.custom, Some(json!({"route": "/cart", "free_mb": 12})));
        let ev = map(base(json!({"message": {"body": "x", "a": 1}})));
        assert_eq!(ev.custom, Some(json!({"a": 1})));
    }

    #[test]
    fn a_crash_report_gives_its_summary_line_and_keeps_the_text() {
        let raw = "Incident Identifier: 1\nCrashed Thread: 0\nException Type: EXC_BAD_ACCESS (SIGSEGV)\nException Codes: KERN_INVALID_ADDRESS at 0x0";
        let ev = map(base(json!({"crash_report": {"raw": raw}, "extra_key": 1})));
        assert_eq!(ev.message.as_deref(), Some("EXC_BAD_ACCESS (SIGSEGV)"));
        assert_eq!(ev.title, None, "titled from the summary like any message");
        assert_eq!(ev.contexts["crash_report"]["raw"], raw);
        assert_eq!(ev.extra["body.extra_key"], 1, "unknown body keys are kept");
        let cases = [
            ("Application Specific Information:\n*** Terminating app due to uncaught exception 'NSInvalidArgumentException', reason: '-[X y]: unrecognized selector'\nException Type: EXC_CRASH (SIGABRT)",
             "Terminating app due to uncaught exception 'NSInvalidArgumentException', reason: '-[X y]: unrecognized selector'"),
            ("*** *** *** *** ***\nBuild fingerprint: 'google/x'\npid: 4242, tid: 4242, name: shop  >>> com.shop <<<\nsignal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0x0",
             "signal 11 (SIGSEGV), code 1 (SEGV_MAPERR), fault addr 0x0"),
            ("FATAL EXCEPTION: main\nProcess: com.shop, PID: 4242\njava.lang.IllegalStateException: cart is empty\n\tat com.shop.Cart.checkout(Cart.kt:12)",
             "java.lang.IllegalStateException: cart is empty"),
            ("\n  something odd happened\nmore", "something odd happened"),
        ];
        for (raw, summary) in cases {
            let ev = map(base(json!({"crash_report": {"raw": raw}})));
            assert_eq!(ev.message.as_deref(), Some(summary), "{raw}");
        }
        let mut data = base(json!({"crash_report": {"raw": raw}}));
        data["title"] = json!("iOS crash in checkout");
        assert_eq!(map(data).title.as_deref(), Some("iOS crash in checkout"));
    }

    #[test]
    fn telemetry_becomes_breadcrumbs() {
        let ev = map(base(json!({"message": {"body": "x"}, "telemetry": [
            {"level": "info", "type": "network", "source": "client", "timestamp_ms": 1714731342500u64,
             "body": {"subtype": "xhr", "method": "GET", "url": "/api/cart", "status_code": 500}},
            {"level": "info", "type": "navigation", "source": "client", "timestamp_ms": 1714731340000u64,
             "body": {"from": "/", "to": "/cart"}},
            {"level": "error", "type": "log", "source": "client", "timestamp_ms": 1714731341000u64,
             "body": {"message": "cart failed"}}
        ]})));
        let b = &ev.breadcrumbs;
        assert_eq!(b[0].message.as_deref(), Some("GET /api/cart [500]"));
        assert_eq!(b[0].category.as_deref(), Some("xhr"));
        assert_eq!(
            b[0].timestamp.unwrap().timestamp_millis(),
            1_714_731_342_500
        );
        assert_eq!(b[1].message.as_deref(), Some("/ → /cart"));
        assert_eq!(
            (b[2].ty.as_deref(), b[2].message.as_deref()),
            (Some("log"), Some("cart failed"))
        );
    }

    #[test]
    fn scalars_and_server_are_mapped() {
        let mut data = base(json!({"message": {"body": "x"}}));
        data.as_object_mut().unwrap().extend(
            json!({
                "level": "warning", "timestamp": 1714731342, "platform": "linux", "language": "python 3.12.2",
                "framework": "flask", "context": "project#index", "title": "Custom title",
                "fingerprint": "abc", "notifier": {"name": "pyrollbar", "version": "1.0.0"},
                "server": {"host": "web-1", "root": "/app", "branch": "main", "pid": 4242, "code_version": "abc123", "argv": ["x"]},
                "person": {"id": 42, "username": "ada"}
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        let ev = map(data);
        assert_eq!(ev.level, Some(Level::Warning));
        assert_eq!(ev.timestamp.unwrap().timestamp(), 1_714_731_342);
        assert_eq!(ev.language.as_deref(), Some("python"));
        assert_eq!(ev.contexts["runtime"]["version"], "3.12.2");
        assert_eq!(ev.tags["context"], "project#index");
        assert_eq!(ev.fingerprint, Some(vec!["abc".to_owned()]));
        assert_eq!(ev.sdk.unwrap().name.as_deref(), Some("pyrollbar"));
        assert_eq!(
            ev.release.as_deref(),
            Some("abc123"),
            "server.code_version fills release"
        );
        let s = ev.server.unwrap();
        assert_eq!(
            (s.host.as_deref(), s.pid, s.branch.as_deref()),
            (Some("web-1"), Some(4242), Some("main"))
        );
        assert_eq!(ev.person.unwrap().id.as_deref(), Some("42"));
    }

    #[test]
    fn data_code_version_wins_over_the_server_one() {
        let mut data = base(json!({"message": {"body": "x"}}));
        data["code_version"] = json!("1.2.3");
        data["server"] = json!({"code_version": "abc"});
        assert_eq!(map(data).release.as_deref(), Some("1.2.3"));
    }

    #[test]
    fn the_request_maps_query_data_headers_and_ip() {
        let mut data = base(json!({"message": {"body": "x"}}));
        data["request"] = json!({
            "url": "https://shop.example/cart?a=1", "method": "POST",
            "headers": {"Content-Type": "application/json", "Cookie": "s=1"},
            "GET": {"a": "1"}, "POST": {}, "body": "{\"qty\":2}", "user_ip": "$remote_ip"
        });
        let req = map(data.clone()).request.unwrap();
        assert_eq!(req.query, Some(json!({"a": "1"})));
        assert_eq!(
            req.data,
            Some(json!("{\"qty\":2}")),
            "an empty POST falls back to body"
        );
        assert_eq!(req.headers.len(), 1);
        assert_eq!(req.user_ip.as_deref(), Some("$remote_ip"));
        data["request"] = json!({"query_string": "?a=1"});
        assert_eq!(map(data).request.unwrap().query, Some(json!("a=1")));
    }

    #[test]
    fn uuids_are_kept_or_derived_stably() {
        let mut data = base(json!({"message": {"body": "x"}}));
        data["uuid"] = json!("d4c6f0e4-2b1a-4c3e-9f7a-0a1b2c3d4e5f");
        assert_eq!(
            map(data.clone()).uuid.unwrap().to_string(),
            "d4c6f0e4-2b1a-4c3e-9f7a-0a1b2c3d4e5f"
        );
        data["uuid"] = json!("job-7731-attempt-2");
        let a = map(data.clone()).uuid.unwrap();
        let b = map(data.clone()).uuid.unwrap();
        assert_eq!(a, b);
        assert_eq!(a.get_version_num(), 8);
        data["uuid"] = json!("job-7731-attempt-3");
        assert_ne!(map(data).uuid.unwrap(), a);
    }

    #[test]
    fn the_browser_context_comes_from_the_user_agent() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Safari/537.36", "Chrome", "124.0.6367.91"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67", "Edge", "124.0.2478.67"),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox", "125.0"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", "Safari", "17.4.1"),
        ];
        for (ua, name, version) in cases {
            let ctx = browser_context(ua);
            assert_eq!(
                (ctx["name"].as_str(), ctx["version"].as_str()),
                (Some(name), Some(version)),
                "{ua}"
            );
        }
        assert_eq!(browser_context("curl/8.0")["name"], "curl/8.0");
    }

    #[test]
    fn bad_optional_fields_are_dropped_noted_and_kept_raw() {
        let mut data = base(json!({"message": {"body": "x"}}));
        data["level"] = json!("loud");
        data["timestamp"] = json!("soon");
        data["endpoint"] = json!("https://api.rollbar.com/api/1/item/");
        data["person"] = json!({"id": {"n": 1}, "username": "ada"});
        data["server"] = json!({"host": "web-1", "pid": "many"});
        data["request"] = json!({"url": "/x", "headers": {"X-A": ["1"]}});
        data["notifier"] = json!(3);
        data["fingerprint"] = json!({"a": 1});
        let ev = map(data);
        assert_eq!((ev.level, ev.timestamp), (None, None));
        assert_eq!(ev.person.as_ref().unwrap().username.as_deref(), Some("ada"));
        assert_eq!(ev.server.as_ref().unwrap().host.as_deref(), Some("web-1"));
        let notes: Vec<_> = ev
            .processing_notes
            .iter()
            .map(|n| (n.path.as_str(), n.reason.as_str()))
            .collect();
        assert_eq!(
            notes,
            [
                ("level", "dropped: expected a level (critical, error, warning, info or debug), got \"loud\""),
                ("timestamp", "dropped: expected unix seconds, got \"soon\""),
                ("fingerprint", "dropped: expected a string, got an object"),
                ("notifier", "dropped: expected an object, got a number"),
                ("request.headers.X-A", "dropped: expected a string, got an array"),
                ("person.id", "dropped: expected a string, got an object"),
                ("server.pid", "dropped: expected a non-negative integer, got \"many\""),
            ]
        );
        assert_eq!(ev.extra["dropped"]["level"], "loud");
        assert_eq!(ev.extra["dropped"]["server.pid"], "many");
        assert!(ev.extra.contains_key("endpoint"));
        let back: Event = serde_json::from_slice(&serde_json::to_vec(&ev).unwrap()).unwrap();
        assert_eq!(back, ev, "the stored event reads back");
    }

    #[test]
    fn wrong_typed_frame_fields_are_noted_with_their_path() {
        let ev = map(base(json!({"trace_chain": [
            {"exception": {"class": "A"}, "frames": [{"filename": "a.py", "lineno": "x", "context": {"pre": 3}}, 7]},
            {"exception": {"class": 404}, "frames": "none"}
        ]})));
        assert_eq!(ev.exceptions[1].ty, "404");
        let paths: Vec<_> = ev
            .processing_notes
            .iter()
            .map(|n| n.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "body.trace_chain[0].frames[0].context.pre",
                "body.trace_chain[0].frames[0].lineno",
                "body.trace_chain[0].frames[1]",
                "body.trace_chain[1].frames",
            ]
        );
    }

    #[test]
    fn the_platform_is_kept_as_sent_or_else_the_language_as_sent() {
        let mut data = base(json!({"message": {"body": "x"}}));
        data["language"] = json!("python 3.11.7");
        let ev = map(data.clone());
        assert_eq!(ev.platform.as_deref(), Some("python 3.11.7"));
        assert_eq!(ev.language.as_deref(), Some("python"));
        assert_eq!(ev.contexts["runtime"]["version"], "3.11.7");
        data["platform"] = json!("linux");
        let ev = map(data.clone());
        assert_eq!(ev.platform.as_deref(), Some("linux"));
        data["platform"] = json!("python 3.11.7");
        assert_eq!(map(data).platform.as_deref(), Some("python 3.11.7"));
    }

    #[test]
    fn every_documented_field_has_a_place() {
        let mut data = base(json!({"message": {"body": "Checkout failed", "route": "cart#show"}}));
        data.as_object_mut().unwrap().extend(
            json!({
                "uuid": "d4c7acef55bf4c9ea95e4fe9428a8287", "title": "Checkout failed for EU carts",
                "fingerprint": "checkout-eu", "framework": "rails", "context": "cart#show", "language": "ruby",
                "notifier": {"name": "rollbar-gem", "version": "3.5.1", "configured_options": {"enabled": true}},
                "person": {"id": "42", "username": "ada", "email": "ada@example.com", "plan": "pro"},
                "server": {"host": "web-4", "root": "/srv/shop", "branch": "release", "sha": "b6437f45", "argv": ["puma"]},
                "client": {"javascript": {"browser": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
                           "code_version": "web-1f2e", "source_map_enabled": true, "guess_uncaught_frames": false}, "cpu": "x64"},
                "request": {"url": "https://shop.example/cart?coupon=X", "method": "POST", "GET": {}, "query_string": "coupon=X",
                            "POST": {"qty": "2"}, "body": "qty=2", "params": {"controller": "cart"}, "user_ip": "$remote_ip",
                            "headers": {"Cookie": "_session=abc", "Accept": "text/html"}},
                "custom": {"tenant": "eu-1"}
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        let ev = map(data);
        assert_eq!(
            ev.uuid.unwrap().simple().to_string(),
            "d4c7acef55bf4c9ea95e4fe9428a8287"
        );
        assert_eq!(ev.title.as_deref(), Some("Checkout failed for EU carts"));
        assert_eq!(
            ev.fingerprint.as_deref(),
            Some(&["checkout-eu".to_owned()][..])
        );
        assert_eq!(
            (ev.framework.as_deref(), ev.language.as_deref()),
            (Some("rails"), Some("ruby"))
        );
        assert_eq!(ev.tags["context"], "cart#show");
        assert_eq!(ev.tags["sha"], "b6437f45");
        assert_eq!(
            ev.release.as_deref(),
            Some("web-1f2e"),
            "the browser's code version before the server's sha"
        );
        assert_eq!(
            ev.server.as_ref().unwrap().branch.as_deref(),
            Some("release")
        );
        assert_eq!(ev.extra["server.argv"], json!(["puma"]));
        assert_eq!(
            ev.extra["notifier.configured_options"],
            json!({"enabled": true})
        );
        assert_eq!(ev.contexts["browser"]["name"], "Firefox");
        assert_eq!(
            ev.contexts["client"]["javascript"]["source_map_enabled"],
            true
        );
        let p = ev.person.as_ref().unwrap();
        assert_eq!(
            (p.id.as_deref(), p.data.clone()),
            (Some("42"), Some(json!({"plan": "pro"})))
        );
        let req = ev.request.as_ref().unwrap();
        assert_eq!(
            req.query,
            Some(json!("coupon=X")),
            "an empty GET falls back to query_string"
        );
        assert_eq!(req.data, Some(json!({"qty": "2"})), "POST before body");
        assert_eq!(
            ev.extra["request.body"], "qty=2",
            "the raw body is kept beside"
        );
        assert_eq!(req.cookies, Some(json!("_session=abc")));
        assert_eq!(req.headers.len(), 1);
        assert_eq!(ev.extra["request.params"], json!({"controller": "cart"}));
        assert_eq!(
            ev.custom,
            Some(json!({"tenant": "eu-1", "route": "cart#show"}))
        );
        assert!(ev.processing_notes.is_empty(), "{:?}", ev.processing_notes);
    }
}
