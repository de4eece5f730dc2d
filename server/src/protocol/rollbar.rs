//! A Rollbar item (`POST /api/1/item/`, body `{"access_token"?, "data": {...}}`) → [`Event`].
//!
//! Rollbar answers 400 for a body it cannot decode and 422 for a decoded item that breaks its
//! schema; [`MapError::status`] follows that split. Required by Rollbar and so enforced here:
//! `data.environment`, `data.body` with one of `trace`, `trace_chain`, `message`,
//! `crash_report`, and their required parts (`exception.class`, `message.body`,
//! `crash_report.raw`). Every other field is optional: a bad one is dropped from the model and
//! kept verbatim in `extra`.
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
    json_type, small_uint, string, string_or_number, stringify, unix_seconds, Fields, MapError,
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
    let mut f = Fields::new(obj.clone());

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
    map_body(body, &mut ev)?;

    ev.uuid = f.parsed("uuid", |v| occurrence_uuid(&stringify(v)?));
    ev.level = f.parsed("level", |v| v.as_str()?.parse::<Level>().ok());
    ev.timestamp = f.parsed("timestamp", |v| unix_seconds(v.as_f64()?));
    ev.release = f.parsed("code_version", |v| string_or_number(Some(v)));
    ev.platform = f.parsed("platform", |v| string(Some(v)));
    ev.framework = f.parsed("framework", |v| string(Some(v)));
    if let Some(title) = f.parsed("title", |v| string(Some(v))) {
        ev.title = Some(title); // a client title wins over "Crash report"
    }
    ev.fingerprint = f.parsed("fingerprint", fingerprint);
    ev.sdk = f.parsed("notifier", sdk);
    ev.request = f.parsed("request", request);
    ev.person = f.parsed("person", person);
    if let Some(context) = f.parsed("context", |v| string(Some(v))) {
        ev.tags.insert("context".into(), context);
    }

    if let Some((language, version)) = f.parsed("language", language) {
        if let Some(version) = version {
            ev.contexts.insert(
                "runtime".into(),
                json!({"type": "runtime", "name": language, "version": version}),
            );
        }
        ev.language = Some(language);
    }
    if let Some(client) = f.parsed("client", |v| v.is_object().then(|| v.clone())) {
        let browser = client
            .pointer("/javascript/browser")
            .and_then(Value::as_str)
            .filter(|ua| !ua.is_empty());
        if let Some(ua) = browser {
            ev.contexts.insert("browser".into(), browser_context(ua));
        }
        // The browser's code version (for source maps) is the release when nothing else says.
        if ev.release.is_none() {
            ev.release = string_or_number(client.pointer("/javascript/code_version"));
        }
        ev.contexts.insert("client".into(), client);
    }
    if let Some(server) = f.parsed("server", |v| v.as_object().cloned()) {
        // `server.code_version` (and the deprecated `sha`) stand in for a missing `code_version`.
        if ev.release.is_none() {
            ev.release = string_or_number(server.get("code_version"))
                .or_else(|| string_or_number(server.get("sha")));
        }
        let s = Server {
            host: string(server.get("host")),
            pid: small_uint(server.get("pid")),
            root: string(server.get("root")),
            branch: string(server.get("branch")),
        };
        ev.server = (s != Server::default()).then_some(s);
    }
    if let Some(custom) = f.take("custom") {
        ev.custom = Some(match (custom, ev.custom.take()) {
            // Extra keys of `body.message` join `custom`; the client's `custom` wins.
            (Value::Object(mut custom), Some(Value::Object(extras))) => {
                for (k, v) in extras {
                    custom.entry(k).or_insert(v);
                }
                Value::Object(custom)
            }
            (custom, Some(extras)) => {
                f.rejected.insert("message_extra".into(), extras);
                custom
            }
            (custom, None) => custom,
        });
    }

    ev.extra.append(&mut f.obj);
    ev.extra.append(&mut f.rejected);
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
/// breadcrumbs from `telemetry`. Message extra keys are left in `ev.custom` for the caller to
/// merge with `data.custom`.
fn map_body(mut body: Map<String, Value>, ev: &mut Event) -> Result<(), MapError> {
    if let Some(Value::Array(telemetry)) = body.remove("telemetry") {
        ev.breadcrumbs = telemetry.iter().filter_map(breadcrumb).collect();
    }
    let chain = body.remove("trace_chain").filter(|v| !v.is_null());
    let trace = body.remove("trace").filter(|v| !v.is_null());
    let message = body.remove("message").filter(|v| !v.is_null());
    let crash = body.remove("crash_report").filter(|v| !v.is_null());

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
        ev.exceptions = traces
            .iter()
            .map(|t| exception(t, &CHAIN))
            .collect::<Result<_, _>>()?;
    } else if let Some(trace) = trace {
        ev.exceptions = vec![exception(&trace, &TRACE)?];
    }

    if let Some(message) = message {
        let (text, extras) = match message {
            Value::String(s) => (s, Map::new()),
            Value::Object(mut m) => match m.remove("body").filter(|v| !v.is_null()) {
                Some(text) => (stringify(&text).unwrap_or_default(), m),
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
        if !extras.is_empty() {
            ev.custom = Some(Value::Object(extras));
        }
    } else if let Some(crash) = crash {
        let raw = crash
            .get("raw")
            .and_then(stringify)
            .ok_or(MapError::MissingField("data.body.crash_report.raw"))?;
        ev.message = Some(raw);
        ev.title = Some("Crash report".into());
    } else if ev.exceptions.is_empty() {
        return Err(MapError::InvalidField {
            field: "data.body",
            reason: "must contain one of trace, trace_chain, message or crash_report".into(),
        });
    }

    if !body.is_empty() {
        ev.extra.insert("body".into(), Value::Object(body));
    }
    Ok(())
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an empty array",
        other => json_type(other),
    }
}

/// One trace: `exception {class R, message, description}` and its frames (oldest first).
fn exception(trace: &Value, path: &TracePath) -> Result<Exception, MapError> {
    let Some(t) = trace.as_object() else {
        return Err(MapError::InvalidField {
            field: path.trace,
            reason: format!("must be an object, got {}", json_type(trace)),
        });
    };
    let exc = t
        .get("exception")
        .and_then(Value::as_object)
        .ok_or(MapError::MissingField(path.exception))?;
    let ty = string_or_number(exc.get("class")).ok_or(MapError::MissingField(path.class))?;
    let frames = t
        .get("frames")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(frame).collect())
        .unwrap_or_default();
    Ok(Exception {
        ty,
        value: string(exc.get("message")).or_else(|| string(exc.get("description"))),
        module: None,
        mechanism: None,
        frames,
    })
}

/// A frame: `method` → function, `class_name` → module (as Sentry's Java frames do), `code` →
/// context line, `context.pre/post`, `locals` → vars (else legacy `args`/`kwargs`).
fn frame(v: &Value) -> Option<Frame> {
    let m = v.as_object()?;
    let filename = string(m.get("filename"));
    let function = string(m.get("method"));
    if filename.is_none() && function.is_none() {
        return None;
    }
    let context = m.get("context");
    let vars = m
        .get("locals")
        .filter(|l| l.is_object())
        .cloned()
        .or_else(|| {
            let mut legacy = Map::new();
            for key in ["args", "kwargs"] {
                if let Some(v) = m.get(key).filter(|v| !v.is_null()) {
                    legacy.insert(key.into(), v.clone());
                }
            }
            (!legacy.is_empty()).then_some(Value::Object(legacy))
        });
    Some(Frame {
        filename,
        abs_path: None,
        module: string(m.get("class_name")),
        function,
        lineno: small_uint(m.get("lineno")),
        colno: small_uint(m.get("colno")),
        in_app: None,
        context_line: m.get("code").and_then(Value::as_str).map(str::to_owned),
        pre_context: lines(context.and_then(|c| c.get("pre"))),
        post_context: lines(context.and_then(|c| c.get("post"))),
        vars,
        ..Frame::default()
    })
}

fn lines(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A telemetry event `{level, type, source, timestamp_ms, body}` as a breadcrumb: `type` is
/// kept (log, network, dom, navigation, error, manual), the category is the body's `subtype`
/// (xhr, fetch, click, ...) or else the source, and the body is the data.
fn breadcrumb(v: &Value) -> Option<Breadcrumb> {
    let m = v.as_object()?;
    let ty = string(m.get("type"));
    let body = m.get("body").and_then(Value::as_object);
    let field = |k: &str| body.and_then(|b| b.get(k)).and_then(stringify);
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
        category: field("subtype").or_else(|| string(m.get("source"))),
        level: string(m.get("level")),
        message,
        data: body.cloned().unwrap_or_default(),
        ty,
    };
    (crumb != Breadcrumb::default()).then_some(crumb)
}

/// `request`: `GET` (else `query_string`) → query, `POST` (else `body`, else `json`) → data.
/// The `Cookie` header is dropped. `user_ip` may be `$remote_ip`: see
/// [`fill_client_ip`](super::fill_client_ip).
fn request(v: &Value) -> Option<Request> {
    let m = v.as_object()?;
    let non_empty = |k: &str| {
        m.get(k)
            .filter(|v| match v {
                Value::Null => false,
                Value::Object(o) => !o.is_empty(),
                Value::String(s) => !s.is_empty(),
                _ => true,
            })
            .cloned()
    };
    let query = non_empty("GET").or_else(|| {
        let qs = string(m.get("query_string"))?;
        let qs = qs.strip_prefix('?').unwrap_or(&qs);
        (!qs.is_empty()).then(|| Value::String(qs.to_owned()))
    });
    let headers: BTreeMap<String, String> = m
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("cookie"))
                .filter_map(|(k, v)| Some((k.clone(), stringify(v)?)))
                .collect()
        })
        .unwrap_or_default();
    let req = Request {
        url: string(m.get("url")),
        method: string(m.get("method")),
        headers,
        query,
        data: non_empty("POST")
            .or_else(|| non_empty("body"))
            .or_else(|| non_empty("json")),
        user_ip: string(m.get("user_ip")),
        ..Default::default()
    };
    (req != Request::default()).then_some(req)
}

/// Rollbar requires `person.id`, but Bugle keeps a person known only by username or email.
fn person(v: &Value) -> Option<Person> {
    let p = Person {
        id: string_or_number(v.get("id")),
        username: string(v.get("username")),
        email: string(v.get("email")),
        ip_address: None,
        ..Default::default()
    };
    (p != Person::default()).then_some(p)
}

fn sdk(v: &Value) -> Option<Sdk> {
    let sdk = Sdk {
        name: string(v.get("name")),
        version: string_or_number(v.get("version")),
    };
    (sdk.name.is_some() || sdk.version.is_some()).then_some(sdk)
}

/// A string (Rollbar's documented form) or a list of strings (Bugle's).
fn fingerprint(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) if !s.is_empty() => Some(vec![s.clone()]),
        Value::Array(list) => {
            let parts: Vec<String> = list.iter().filter_map(|p| string(Some(p))).collect();
            (!parts.is_empty()).then_some(parts)
        }
        _ => None,
    }
}

/// `"python 3.11.4"` (pyrollbar's form) → `("python", Some("3.11.4"))`; `"javascript"` → no
/// version.
fn language(v: &Value) -> Option<(String, Option<String>)> {
    let text = v.as_str()?.trim();
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

/// A `browser` context from a user agent: name and version of the first product that
/// identifies the browser (Edge and Opera also say Chrome; Chrome also says Safari).
fn browser_context(ua: &str) -> Value {
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
            json!({"type": "browser", "name": name, "version": version, "user_agent": ua})
        }
        None => json!({"type": "browser", "name": ua}),
    }
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
    fn a_crash_report_becomes_the_message() {
        let ev = map(base(
            json!({"crash_report": {"raw": "Incident Identifier: 1\nException Type: EXC_BAD_ACCESS"}, "extra_key": 1}),
        ));
        assert_eq!(ev.title.as_deref(), Some("Crash report"));
        assert_eq!(
            ev.extra["body"],
            json!({"extra_key": 1}),
            "unknown body keys are kept"
        );
        assert!(ev.message.unwrap().contains("EXC_BAD_ACCESS"));
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
    fn bad_optional_fields_are_kept_in_extra() {
        let mut data = base(json!({"message": {"body": "x"}}));
        data["level"] = json!("loud");
        data["timestamp"] = json!("soon");
        data["endpoint"] = json!("https://api.rollbar.com/api/1/item/");
        let ev = map(data);
        assert_eq!((ev.level, ev.timestamp), (None, None));
        assert_eq!(ev.extra["level"], "loud");
        assert_eq!(ev.extra["timestamp"], "soon");
        assert!(ev.extra.contains_key("endpoint"));
    }
}
