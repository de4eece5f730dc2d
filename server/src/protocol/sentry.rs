//! A Sentry event payload (an envelope `event` item or a legacy `/store/` body) → [`Event`].
//!
//! Lenient like Sentry's own ingestion: a bad *optional* attribute is dropped from the model and
//! its raw value kept in `extra` under its own name, so nothing a client sent is lost. Only a
//! payload that is not a JSON object is an error (400).
//!
//! Order: Sentry lists `exception.values` oldest → newest (the last one is the error that was
//! raised), while Bugle's `exceptions` are outermost first, so the list is reversed. Frames are
//! caller → callee in both, so frames keep their order.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::envelope::{Envelope, ItemType};
use super::{
    json_type, small_uint, string, string_or_number, stringify, unix_seconds, Fields, MapError,
};
use crate::event::{
    Breadcrumb, Event, Exception, Frame, Level, Person, Request, Sdk, Server, Trace,
};

/// Maps a Sentry event JSON payload. Invalid JSON or a non-object is a [`MapError`] (400);
/// everything else is best effort.
pub fn event_from_sentry(payload: &[u8]) -> Result<Event, MapError> {
    let value: Value = serde_json::from_slice(payload).map_err(MapError::InvalidJson)?;
    event_from_sentry_value(value)
}

/// [`event_from_sentry`] for a payload that is already parsed.
pub fn event_from_sentry_value(value: Value) -> Result<Event, MapError> {
    let obj = match value {
        Value::Object(obj) => obj,
        other => {
            return Err(MapError::NotAnObject {
                what: "event",
                got: json_type(&other),
            })
        }
    };
    Ok(Fields::new(obj).into_event())
}

/// The event of an envelope, if it carries one (`Ok(None)` for sessions, client reports, ...).
/// The envelope's `event_id` header wins over the payload's, and its `sdk` fills a missing one.
pub fn event_from_envelope(envelope: &Envelope) -> Result<Option<Event>, MapError> {
    let Some(item) = envelope.item(&ItemType::Event) else {
        return Ok(None);
    };
    let mut event = event_from_sentry(&item.payload)?;
    if let Some(id) = envelope.event_id() {
        event.uuid = Some(id);
    }
    if event.sdk.is_none() {
        event.sdk = envelope.headers.get("sdk").and_then(sdk);
        if event.language.is_none() {
            event.language = language(event.platform.as_deref(), event.sdk.as_ref());
        }
    }
    Ok(Some(event))
}

impl Fields {
    fn into_event(mut self) -> Event {
        let mut ev = Event {
            uuid: self.parsed("event_id", |v| Uuid::parse_str(v.as_str()?).ok()),
            timestamp: self.parsed("timestamp", timestamp),
            level: self.parsed("level", |v| v.as_str()?.parse::<Level>().ok()),
            platform: self.parsed("platform", |v| string(Some(v))),
            release: self.parsed("release", |v| string_or_number(Some(v))),
            environment: self.parsed("environment", |v| string(Some(v))),
            sdk: self.parsed("sdk", sdk),
            ..Event::default()
        };
        ev.platform.get_or_insert_with(|| "other".to_owned());
        ev.environment
            .get_or_insert_with(|| "production".to_owned());
        ev.language = language(ev.platform.as_deref(), ev.sdk.as_ref());

        let host = self.parsed("server_name", |v| string(Some(v)));
        ev.server = host.map(|host| Server {
            host: Some(host),
            ..Server::default()
        });

        self.map_exceptions(&mut ev);
        let logentry = self.take("logentry");
        let message = self.take("message");
        ev.message = logentry
            .as_ref()
            .and_then(message_text)
            .or_else(|| message.as_ref().and_then(message_text));
        ev.message_template = logentry
            .as_ref()
            .and_then(message_template)
            .or_else(|| message.as_ref().and_then(message_template));
        if ev.message.is_none() {
            for (key, v) in [("logentry", logentry), ("message", message)] {
                if let Some(v) = v {
                    self.rejected.insert(key.to_owned(), v);
                }
            }
        }

        ev.breadcrumbs = self
            .parsed("breadcrumbs", |v| {
                Some(values(v)?.iter().filter_map(breadcrumb).collect())
            })
            .unwrap_or_default();
        ev.tags = self.parsed("tags", tags).unwrap_or_default();
        // Sentry shows these as tags; the client's own tags win.
        for key in ["logger", "transaction", "dist"] {
            if let Some(v) = self.parsed(key, |v| string(Some(v))) {
                ev.tags.entry(key.to_owned()).or_insert(v);
            }
        }
        ev.person = self.parsed("user", person);
        ev.request = self.parsed("request", request);
        ev.contexts = self.parsed("contexts", contexts).unwrap_or_default();
        ev.trace = ev.contexts.get("trace").and_then(trace);
        ev.fingerprint = self.parsed("fingerprint", fingerprint);
        ev.custom = self.parsed("extra", |v| v.is_object().then(|| v.clone()));

        ev.extra = self.obj;
        ev.extra.append(&mut self.rejected);
        ev
    }

    /// `exception` (reversed to outermost first), with frames from `threads` when an exception
    /// has none: some SDKs (Java, Cocoa, ...) put the crashing thread's stack only there.
    fn map_exceptions(&mut self, ev: &mut Event) {
        let Some(raw) = self.take("exception") else {
            return;
        };
        let Some(list) = values(&raw) else {
            self.rejected.insert("exception".into(), raw);
            return;
        };
        let mut mapped: Vec<(Exception, Option<String>)> =
            list.iter().filter_map(exception).collect();

        if let Some(threads) = self.obj.get("threads") {
            let threads = values(threads).map(Vec::as_slice).unwrap_or_default();
            let mut used = false;
            for (exc, thread_id) in mapped.iter_mut() {
                if exc.frames.is_empty() {
                    if let Some(frames) = thread_frames(threads, |t| {
                        thread_id.is_some() && t.get("id").and_then(stringify) == *thread_id
                    }) {
                        exc.frames = frames;
                        used = true;
                    }
                }
            }
            if let Some((outermost, _)) = mapped.last_mut().filter(|(e, _)| e.frames.is_empty()) {
                let flag =
                    |name: &'static str| move |t: &Value| t.get(name) == Some(&Value::Bool(true));
                let fallback = thread_frames(threads, flag("crashed"))
                    .or_else(|| thread_frames(threads, flag("current")))
                    .or_else(|| match threads {
                        [only] => frames(only.get("stacktrace")),
                        _ => None,
                    });
                if let Some(frames) = fallback {
                    outermost.frames = frames;
                    used = true;
                }
            }
            if used {
                self.obj.remove("threads");
            }
        }

        ev.exceptions = mapped.into_iter().rev().map(|(e, _)| e).collect();
    }
}

/// `{"values": [...]}` or a bare list, as Sentry accepts for exceptions, threads and
/// breadcrumbs.
fn values(v: &Value) -> Option<&Vec<Value>> {
    match v {
        Value::Array(list) => Some(list),
        Value::Object(obj) => obj.get("values")?.as_array(),
        _ => None,
    }
}

/// RFC 3339 (a missing offset means UTC, as Relay reads it) or unix seconds, also as a string.
fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => unix_seconds(n.as_f64()?),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|t| t.and_utc())
            })
            .or_else(|| s.trim().parse::<f64>().ok().and_then(unix_seconds)),
        _ => None,
    }
}

/// The language from Sentry's `platform`, else from the SDK name (sentry-rust omits `platform`
/// when it is "other", but its SDK is `sentry.rust`).
fn language(platform: Option<&str>, sdk: Option<&Sdk>) -> Option<String> {
    let from_platform = platform.and_then(|p| match p {
        "python" => Some("python"),
        "javascript" | "node" => Some("javascript"),
        "rust" => Some("rust"),
        "go" => Some("go"),
        "java" => Some("java"),
        "groovy" => Some("groovy"),
        "ruby" => Some("ruby"),
        "csharp" => Some("csharp"),
        "php" => Some("php"),
        "elixir" => Some("elixir"),
        "perl" => Some("perl"),
        "dart" => Some("dart"),
        "objc" => Some("objc"),
        "c" => Some("c"),
        "haskell" => Some("haskell"),
        "cfml" => Some("cfml"),
        "as3" => Some("actionscript"),
        _ => None,
    });
    let from_sdk = || {
        let name = sdk?.name.as_deref()?;
        let family = name.strip_prefix("sentry.")?.split('.').next()?;
        match family {
            "python" => Some("python"),
            "javascript" => Some("javascript"),
            "rust" => Some("rust"),
            "go" => Some("go"),
            "java" => Some("java"),
            "ruby" => Some("ruby"),
            "dotnet" => Some("csharp"),
            "php" => Some("php"),
            "elixir" => Some("elixir"),
            "dart" => Some("dart"),
            _ => None,
        }
    };
    from_platform.or_else(from_sdk).map(str::to_owned)
}

fn sdk(v: &Value) -> Option<Sdk> {
    let sdk = Sdk {
        name: string(v.get("name")),
        version: string_or_number(v.get("version")),
    };
    (sdk.name.is_some() || sdk.version.is_some()).then_some(sdk)
}

/// One exception and the id of the thread it happened on. An entry with neither `type` nor
/// `value` says nothing and is skipped; a missing type becomes `Error`.
fn exception(v: &Value) -> Option<(Exception, Option<String>)> {
    let m = v.as_object()?;
    let ty = string(m.get("type"));
    let value = m.get("value").and_then(stringify).filter(|s| !s.is_empty());
    if ty.is_none() && value.is_none() {
        return None;
    }
    let exc = Exception {
        ty: ty.unwrap_or_else(|| "Error".to_owned()),
        value,
        module: string(m.get("module")),
        mechanism: m
            .get("mechanism")
            .filter(|v| v.is_object())
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        frames: frames(m.get("stacktrace")).unwrap_or_default(),
    };
    Some((exc, m.get("thread_id").and_then(stringify)))
}

/// The stack of the first thread that matches and has frames.
fn thread_frames(threads: &[Value], pick: impl Fn(&Value) -> bool) -> Option<Vec<Frame>> {
    threads
        .iter()
        .filter(|t| pick(t))
        .find_map(|t| frames(t.get("stacktrace")))
}

/// `stacktrace.frames`, caller → callee; `None` when there are none.
fn frames(stacktrace: Option<&Value>) -> Option<Vec<Frame>> {
    let list = stacktrace?.get("frames")?.as_array()?;
    let frames: Vec<Frame> = list.iter().filter_map(frame).collect();
    (!frames.is_empty()).then_some(frames)
}

/// A native address as `0x…` hex: SDKs send hex strings, some send numbers.
fn address(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_ascii_lowercase()),
        Value::Number(n) => n.as_u64().map(|n| format!("{n:#x}")),
        _ => None,
    }
}

/// A frame; one that names nothing at all (not even a native address) is skipped.
fn frame(v: &Value) -> Option<Frame> {
    let m = v.as_object()?;
    let frame = Frame {
        filename: string(m.get("filename")),
        abs_path: string(m.get("abs_path")),
        module: string(m.get("module")),
        function: string(m.get("function")).or_else(|| string(m.get("raw_function"))),
        lineno: small_uint(m.get("lineno")),
        colno: small_uint(m.get("colno")),
        in_app: m.get("in_app").and_then(Value::as_bool),
        context_line: m
            .get("context_line")
            .and_then(Value::as_str)
            .map(str::to_owned),
        pre_context: lines(m.get("pre_context")),
        post_context: lines(m.get("post_context")),
        vars: m.get("vars").filter(|v| v.is_object()).cloned(),
        package: string(m.get("package")),
        symbol: string(m.get("symbol")),
        instruction_addr: address(m.get("instruction_addr")),
        image_addr: address(m.get("image_addr")),
    };
    let named = frame.filename.is_some()
        || frame.abs_path.is_some()
        || frame.module.is_some()
        || frame.package.is_some()
        || frame.symbol.is_some()
        || frame.instruction_addr.is_some()
        || frame.function.is_some();
    named.then_some(frame)
}

/// Source lines; `null` lines (JS SDKs send them past the file's end) become empty.
fn lines(v: Option<&Value>) -> Vec<String> {
    let Some(list) = v.and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|l| match l {
            Value::Null => Some(String::new()),
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// `logentry` / `message`: a plain string, or `{message, params, formatted}` where
/// `formatted` wins and otherwise `params` are put into `message`.
fn message_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()).filter(|s| !s.is_empty()),
        Value::Object(m) => string(m.get("formatted")).or_else(|| {
            let template = string(m.get("message"))?;
            Some(match m.get("params") {
                Some(params @ (Value::Array(_) | Value::Object(_))) => {
                    format_params(&template, params)
                }
                _ => template,
            })
        }),
        _ => None,
    }
}

/// The format string of `{message, params, formatted}`, when the object has one: a `message`
/// with `params`, or beside a different `formatted` (Python's logging integration sends
/// `record.msg` there).
fn message_template(v: &Value) -> Option<String> {
    let m = v.as_object()?;
    let template = string(m.get("message"))?;
    let has_params = match m.get("params") {
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        _ => false,
    };
    let formatted = string(m.get("formatted"));
    (has_params || formatted.is_some_and(|f| f != template)).then_some(template)
}

/// Fills `%s`-style (`%s %d %i %f %r`, `%(name)s`, `%%`) and `{}`-style (`{}`, `{0}`, `{name}`)
/// placeholders. A placeholder without a matching param stays as written.
fn format_params(template: &str, params: &Value) -> String {
    let positional = params.as_array();
    let named = params.as_object();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut next = 0usize;
    let mut positional_next = || {
        let v = positional?.get(next).map(text);
        next += 1;
        v
    };
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(i) = rest.find(['%', '{']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (replacement, used) = if let Some(after) = tail.strip_prefix('%') {
            match after.chars().next() {
                Some('%') => (Some("%".to_owned()), 2),
                Some('s' | 'd' | 'i' | 'f' | 'r') => (positional_next(), 2),
                Some('(') => match after.find(')') {
                    // `%(name)s`: the conversion letter follows the `)`.
                    Some(close)
                        if after[close + 1..].starts_with(|c: char| c.is_ascii_alphabetic()) =>
                    {
                        let name = &after[1..close];
                        (named.and_then(|m| m.get(name)).map(text), close + 3)
                    }
                    _ => (None, 1),
                },
                _ => (None, 1),
            }
        } else {
            match tail.find('}') {
                Some(close) => {
                    let key = &tail[1..close];
                    let v = if key.is_empty() {
                        positional_next()
                    } else if let Ok(n) = key.parse::<usize>() {
                        positional.and_then(|p| p.get(n)).map(text)
                    } else {
                        named.and_then(|m| m.get(key)).map(text)
                    };
                    (v, close + 1)
                }
                None => (None, 1),
            }
        };
        match replacement {
            Some(r) => out.push_str(&r),
            None => out.push_str(&tail[..used]),
        }
        rest = &tail[used..];
    }
    out.push_str(rest);
    out
}

fn breadcrumb(v: &Value) -> Option<Breadcrumb> {
    let m = v.as_object()?;
    let crumb = Breadcrumb {
        timestamp: m.get("timestamp").and_then(timestamp),
        ty: string(m.get("type")),
        category: string(m.get("category")),
        level: string(m.get("level")),
        message: m
            .get("message")
            .and_then(stringify)
            .filter(|s| !s.is_empty()),
        // The protocol says an object; anything else an SDK sends is kept under `value`.
        data: match m.get("data") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(o)) => o.clone(),
            Some(other) => Map::from_iter([("value".to_owned(), other.clone())]),
        },
    };
    (crumb != Breadcrumb::default()).then_some(crumb)
}

/// A map, or a list of `[key, value]` pairs; values become strings, `null`s are dropped.
fn tags(v: &Value) -> Option<BTreeMap<String, String>> {
    string_map(v)
}

/// Key/value pairs as a map of strings, from an object or a list of `[key, value]` pairs.
fn string_map(v: &Value) -> Option<BTreeMap<String, String>> {
    let pairs: Vec<(&str, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        Value::Array(list) => list
            .iter()
            .filter_map(|pair| match pair.as_array()?.as_slice() {
                [Value::String(k), v] => Some((k.as_str(), v)),
                _ => None,
            })
            .collect(),
        _ => return None,
    };
    Some(
        pairs
            .into_iter()
            .filter(|(k, _)| !k.is_empty())
            .filter_map(|(k, v)| Some((k.to_owned(), stringify(v)?)))
            .collect(),
    )
}

fn person(v: &Value) -> Option<Person> {
    let p = Person {
        id: string_or_number(v.get("id")),
        username: string(v.get("username")),
        email: string(v.get("email")),
        ip_address: string(v.get("ip_address")),
        ..Default::default()
    };
    (p != Person::default()).then_some(p)
}

/// `request`: `query_string` (a string, pairs or a map) → `query`; `cookies` and the `Cookie`
/// header are dropped; `env.REMOTE_ADDR` is the client's address.
fn request(v: &Value) -> Option<Request> {
    let m = v.as_object()?;
    let query = match m.get("query_string") {
        Some(Value::String(s)) => {
            let s = s.strip_prefix('?').unwrap_or(s);
            (!s.is_empty()).then(|| Value::String(s.to_owned()))
        }
        Some(Value::Array(pairs)) => Some(Value::Object(query_pairs(pairs))),
        Some(obj @ Value::Object(o)) if !o.is_empty() => Some(obj.clone()),
        _ => None,
    };
    let mut headers = m.get("headers").and_then(string_map).unwrap_or_default();
    headers.retain(|k, _| !k.eq_ignore_ascii_case("cookie"));
    let req = Request {
        url: string(m.get("url")),
        method: string(m.get("method")),
        headers,
        query,
        data: m.get("data").filter(|d| !d.is_null()).cloned(),
        user_ip: m.get("env").and_then(|env| string(env.get("REMOTE_ADDR"))),
        ..Default::default()
    };
    (req != Request::default()).then_some(req)
}

/// `[["a","1"],["a","2"],["b","3"]]` → `{"a": ["1","2"], "b": "3"}`.
fn query_pairs(pairs: &[Value]) -> Map<String, Value> {
    let mut out = Map::new();
    for pair in pairs {
        let Some([Value::String(k), v]) = pair.as_array().map(Vec::as_slice) else {
            continue;
        };
        match out.get_mut(k) {
            None => {
                out.insert(k.clone(), v.clone());
            }
            Some(Value::Array(list)) => list.push(v.clone()),
            Some(first) => *first = Value::Array(vec![first.take(), v.clone()]),
        }
    }
    out
}

/// Every context that is an object, under its key.
fn contexts(v: &Value) -> Option<Map<String, Value>> {
    let m = v.as_object()?;
    Some(
        m.iter()
            .filter(|(_, c)| c.is_object())
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect(),
    )
}

fn trace(ctx: &Value) -> Option<Trace> {
    let t = Trace {
        trace_id: string(ctx.get("trace_id")),
        span_id: string(ctx.get("span_id")),
    };
    (t != Trace::default()).then_some(t)
}

/// A list of strings (numbers and booleans printed, as Relay does); `{{ default }}` is kept
/// for grouping to expand. A single string is a one-element fingerprint.
fn fingerprint(v: &Value) -> Option<Vec<String>> {
    let parts: Vec<String> = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(list) => list
            .iter()
            .filter_map(|p| match p {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => stringify(p),
                _ => None,
            })
            .collect(),
        _ => return None,
    };
    (!parts.is_empty()).then_some(parts)
}

/// The parts of an `X-Sentry-Auth` header (or of the `sentry_*` query parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentryAuth {
    /// The DSN's public key: identifies the project.
    pub key: String,
    pub version: Option<String>,
    pub client: Option<String>,
    /// Deprecated; never required.
    pub secret: Option<String>,
}

/// Parses `Sentry sentry_version=7, sentry_client=sentry.python/2.0.1, sentry_key=abc`.
/// `None` without a non-empty `sentry_key`.
pub fn parse_sentry_auth(header: &str) -> Option<SentryAuth> {
    let header = header.trim();
    let fields = match header.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("sentry ") => &header[7..],
        _ => header,
    };
    let mut auth = SentryAuth {
        key: String::new(),
        version: None,
        client: None,
        secret: None,
    };
    for part in fields.split(',') {
        let Some((name, value)) = part.split_once('=') else {
            continue;
        };
        let name = name.trim();
        let value = value.trim().trim_matches('"').to_owned();
        match name.strip_prefix("sentry_").unwrap_or(name) {
            "key" => auth.key = value,
            "version" => auth.version = Some(value),
            "client" => auth.client = Some(value),
            "secret" => auth.secret = Some(value),
            _ => {}
        }
    }
    (!auth.key.is_empty()).then_some(auth)
}

/// `https://PUBLIC[:SECRET]@HOST[:PORT][/PATH]/PROJECT_ID` → `(PUBLIC, PROJECT_ID)`.
pub fn key_from_dsn(dsn: &str) -> Option<(String, String)> {
    let (_scheme, rest) = dsn.trim().split_once("://")?;
    let (authority, path) = rest.split_once('/')?;
    let (userinfo, host) = authority.rsplit_once('@')?;
    let key = userinfo.split(':').next()?;
    let path = path.split(['?', '#']).next()?;
    let project = path.trim_end_matches('/').rsplit('/').next()?;
    if key.is_empty() || host.is_empty() || project.is_empty() {
        return None;
    }
    Some((key.to_owned(), project.to_owned()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::protocol::envelope::parse_envelope;

    fn map(v: Value) -> Event {
        event_from_sentry(v.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn invalid_json_and_non_objects_are_400s() {
        let err = event_from_sentry(b"{\"event_id\":").unwrap_err();
        assert!(matches!(err, MapError::InvalidJson(_)), "{err}");
        assert_eq!(err.status(), 400);
        let err = event_from_sentry(b"[1,2]").unwrap_err();
        assert_eq!(err.to_string(), "event must be a JSON object, got an array");
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn an_empty_object_gets_the_defaults() {
        let ev = map(json!({}));
        assert_eq!(ev.platform.as_deref(), Some("other"));
        assert_eq!(ev.environment.as_deref(), Some("production"));
        assert_eq!(ev.language, None);
    }

    #[test]
    fn event_ids_with_and_without_dashes_are_read() {
        for id in [
            "fc6d8c0c43fc4630ad850ee518f1b9d0",
            "fc6d8c0c-43fc-4630-ad85-0ee518f1b9d0",
        ] {
            let ev = map(json!({"event_id": id}));
            assert_eq!(
                ev.uuid.unwrap().simple().to_string(),
                "fc6d8c0c43fc4630ad850ee518f1b9d0"
            );
        }
    }

    #[test]
    fn bad_optional_fields_are_dropped_from_the_model_and_kept_in_extra() {
        let ev = map(json!({
            "event_id": "not-a-uuid", "level": "loud", "timestamp": "yesterday",
            "exception": "boom", "tags": 5, "user": [], "message": {"params": []}
        }));
        assert_eq!(ev.uuid, None);
        assert_eq!(ev.level, None);
        assert_eq!(ev.timestamp, None);
        assert!(ev.exceptions.is_empty());
        for key in [
            "event_id",
            "level",
            "timestamp",
            "exception",
            "tags",
            "user",
            "message",
        ] {
            assert!(ev.extra.contains_key(key), "{key} should be kept in extra");
        }
    }

    #[test]
    fn timestamps_are_rfc3339_or_unix_seconds() {
        let cases = [
            (
                json!("2024-05-03T10:15:42.123456Z"),
                "2024-05-03T10:15:42.123456+00:00",
            ),
            (
                json!("2024-05-03T12:15:42+02:00"),
                "2024-05-03T10:15:42+00:00",
            ),
            (
                json!("2024-05-03T10:15:42.5"),
                "2024-05-03T10:15:42.500+00:00",
            ),
            (json!(1714731342.25), "2024-05-03T10:15:42.250+00:00"),
            (json!(1714731342), "2024-05-03T10:15:42+00:00"),
            (json!("1714731342.25"), "2024-05-03T10:15:42.250+00:00"),
        ];
        for (wire, expected) in cases {
            let ev = map(json!({ "timestamp": wire }));
            assert_eq!(
                ev.timestamp.map(|t| t.to_rfc3339()).as_deref(),
                Some(expected),
                "{wire}"
            );
        }
    }

    #[test]
    fn levels_use_bugle_names() {
        for (wire, level) in [
            ("fatal", Level::Critical),
            ("error", Level::Error),
            ("warning", Level::Warning),
            ("info", Level::Info),
            ("debug", Level::Debug),
        ] {
            assert_eq!(map(json!({ "level": wire })).level, Some(level), "{wire}");
        }
    }

    #[test]
    fn the_language_comes_from_the_platform_or_else_the_sdk() {
        let cases = [
            (json!({"platform": "python"}), Some("python")),
            (json!({"platform": "node"}), Some("javascript")),
            (json!({"platform": "javascript"}), Some("javascript")),
            (json!({"platform": "csharp"}), Some("csharp")),
            (
                json!({"sdk": {"name": "sentry.rust", "version": "0.34.0"}}),
                Some("rust"),
            ),
            (
                json!({"platform": "other", "sdk": {"name": "sentry.dotnet"}}),
                Some("csharp"),
            ),
            (json!({"platform": "native"}), None),
        ];
        for (wire, lang) in cases {
            assert_eq!(map(wire.clone()).language.as_deref(), lang, "{wire}");
        }
    }

    #[test]
    fn exceptions_are_reversed_to_outermost_first() {
        let ev = map(json!({"exception": {"values": [
            {"type": "KeyError", "value": "'id'"},
            {"type": "ValueError", "value": "bad id", "module": "app.errors",
             "mechanism": {"type": "generic", "handled": false}}
        ]}}));
        let types: Vec<_> = ev.exceptions.iter().map(|e| e.ty.as_str()).collect();
        assert_eq!(types, ["ValueError", "KeyError"]);
        assert_eq!(ev.exceptions[0].module.as_deref(), Some("app.errors"));
        assert_eq!(
            ev.exceptions[0].mechanism.as_ref().unwrap().handled,
            Some(false)
        );
    }

    #[test]
    fn a_flat_exception_list_is_accepted_and_a_missing_type_is_error() {
        let ev = map(
            json!({"exception": [{"value": "Non-Error promise rejection"}, {"mechanism": {}}]}),
        );
        assert_eq!(ev.exceptions.len(), 1);
        assert_eq!(ev.exceptions[0].ty, "Error");
        assert_eq!(
            ev.exceptions[0].value.as_deref(),
            Some("Non-Error promise rejection")
        );
    }

    #[test]
    fn a_logentry_with_params_keeps_its_template() {
        let ev = map(
            json!({"logentry": {"message": "Invoice %s was not sent to %s",
            "params": ["7", "Ada"], "formatted": "Invoice 7 was not sent to Ada"}}),
        );
        assert_eq!(ev.message.as_deref(), Some("Invoice 7 was not sent to Ada"));
        assert_eq!(
            ev.message_template.as_deref(),
            Some("Invoice %s was not sent to %s")
        );
        let plain = map(json!({"logentry": {"message": "disk full"}, "message": "disk full"}));
        assert_eq!(plain.message_template, None);
        let legacy = map(json!({"message": {"message": "user %s", "params": ["7"]}}));
        assert_eq!(legacy.message.as_deref(), Some("user 7"));
        assert_eq!(legacy.message_template.as_deref(), Some("user %s"));
    }

    #[test]
    fn frames_keep_their_order_and_fields() {
        let ev = map(
            json!({"exception": {"values": [{"type": "E", "stacktrace": {"frames": [
                {"function": "main", "filename": "main.py", "lineno": 1},
                {"function": "handler", "filename": "app.py", "abs_path": "/srv/app.py", "module": "app",
                 "lineno": 42, "colno": 7, "in_app": true, "context_line": "  x = d['id']",
                 "pre_context": ["def handler(d):", null], "post_context": ["  return x"],
                 "vars": {"d": "{}"}},
                {"instruction_addr": "0x1234"}
            ]}}]}}),
        );
        let frames = &ev.exceptions[0].frames;
        // A bare native address is shown (grouping passes over it).
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[2].instruction_addr.as_deref(), Some("0x1234"));
        assert_eq!(frames[0].function.as_deref(), Some("main"));
        let f = &frames[1];
        assert_eq!(f.abs_path.as_deref(), Some("/srv/app.py"));
        assert_eq!(
            (f.lineno, f.colno, f.in_app),
            (Some(42), Some(7), Some(true))
        );
        assert_eq!(f.pre_context, ["def handler(d):", ""]);
        assert_eq!(f.vars, Some(json!({"d": "{}"})));
    }

    #[test]
    fn a_thread_stack_fills_an_exception_without_frames() {
        let frames = json!({"frames": [{"function": "run", "filename": "Main.java", "lineno": 9}]});
        let ev = map(json!({
            "exception": {"values": [{"type": "java.lang.IllegalStateException", "thread_id": 7}]},
            "threads": {"values": [
                {"id": 1, "current": true, "stacktrace": {"frames": [{"function": "other"}]}},
                {"id": 7, "crashed": true, "stacktrace": frames}
            ]}
        }));
        assert_eq!(ev.exceptions[0].frames[0].function.as_deref(), Some("run"));
        assert!(
            !ev.extra.contains_key("threads"),
            "used threads are not duplicated"
        );

        let ev = map(json!({
            "exception": [{"type": "Crash"}],
            "threads": [{"id": "a", "crashed": true, "stacktrace": frames}]
        }));
        assert_eq!(ev.exceptions[0].frames[0].function.as_deref(), Some("run"));

        let ev = map(json!({
            "exception": [{"type": "E", "stacktrace": frames}],
            "threads": [{"id": 1, "stacktrace": frames}]
        }));
        assert!(ev.extra.contains_key("threads"), "unused threads are kept");
    }

    #[test]
    fn messages_are_formatted_from_params_when_formatted_is_absent() {
        let cases = [
            (json!({"message": "plain"}), "plain"),
            (
                json!({"logentry": {"message": "user %s has %d items", "params": ["ada", 3]}}),
                "user ada has 3 items",
            ),
            (
                json!({"logentry": {"message": "user {} in {}", "params": ["ada", "eu"]}}),
                "user ada in eu",
            ),
            (
                json!({"logentry": {"message": "{1} before {0}", "params": ["a", "b"]}}),
                "b before a",
            ),
            (
                json!({"logentry": {"message": "%(user)s at 100%%", "params": {"user": "ada"}}}),
                "ada at 100%",
            ),
            (
                json!({"logentry": {"message": "{user} left", "params": {"user": "ada"}}}),
                "ada left",
            ),
            (
                json!({"logentry": {"message": "only %s", "params": []}}),
                "only %s",
            ),
            (
                json!({"logentry": {"message": "x %s", "params": ["1"], "formatted": "pre-made"}}),
                "pre-made",
            ),
            (
                json!({"message": {"formatted": "legacy object"}}),
                "legacy object",
            ),
            (
                json!({"logentry": {"message": "from logentry"}, "message": "from message"}),
                "from logentry",
            ),
            (
                json!({"logentry": {"message": "{not closed"}}),
                "{not closed",
            ),
        ];
        for (wire, text) in cases {
            assert_eq!(map(wire.clone()).message.as_deref(), Some(text), "{wire}");
        }
    }

    #[test]
    fn breadcrumbs_accept_values_or_a_list_and_both_timestamp_forms() {
        for wire in [
            json!({"breadcrumbs": {"values": [{"timestamp": 1714731342.5, "category": "http", "data": {"status_code": 200}}]}}),
            json!({"breadcrumbs": [{"timestamp": "2024-05-03T10:15:42.500Z", "category": "http", "data": {"status_code": 200}}]}),
        ] {
            let ev = map(wire);
            assert_eq!(ev.breadcrumbs.len(), 1);
            let b = &ev.breadcrumbs[0];
            assert_eq!(b.timestamp.unwrap().timestamp_millis(), 1_714_731_342_500);
            assert_eq!(b.category.as_deref(), Some("http"));
            assert_eq!(Value::Object(b.data.clone()), json!({"status_code": 200}));
        }
    }

    #[test]
    fn tags_are_a_map_or_pairs_with_values_stringified() {
        let ev = map(json!({"tags": {"a": "x", "n": 3, "b": true, "gone": null}}));
        assert_eq!(ev.tags.get("n").map(String::as_str), Some("3"));
        assert_eq!(ev.tags.get("b").map(String::as_str), Some("true"));
        assert!(!ev.tags.contains_key("gone"));
        let ev = map(
            json!({"tags": [["a", "x"], ["n", 3], ["broken"]], "logger": "app", "transaction": "/cart", "dist": "7"}),
        );
        assert_eq!(ev.tags.len(), 5);
        assert_eq!(ev.tags["transaction"], "/cart");
        let ev = map(json!({"tags": {"logger": "mine"}, "logger": "app"}));
        assert_eq!(ev.tags["logger"], "mine", "client tags win");
    }

    #[test]
    fn the_request_maps_query_headers_data_and_address() {
        let ev = map(json!({"request": {
            "method": "POST", "url": "https://shop.example/cart",
            "query_string": [["a", "1"], ["a", "2"], ["b", "3"]],
            "headers": [["Content-Type", "application/json"], ["Cookie", "session=s3cr3t"]],
            "cookies": {"session": "s3cr3t"}, "data": {"qty": 2},
            "env": {"REMOTE_ADDR": "203.0.113.9"}
        }}));
        let req = ev.request.unwrap();
        assert_eq!(req.query, Some(json!({"a": ["1", "2"], "b": "3"})));
        assert_eq!(
            req.headers.len(),
            1,
            "cookies are dropped: {:?}",
            req.headers
        );
        assert_eq!(req.data, Some(json!({"qty": 2})));
        assert_eq!(req.user_ip.as_deref(), Some("203.0.113.9"));
        let req = map(json!({"request": {"query_string": "?q=1"}}))
            .request
            .unwrap();
        assert_eq!(req.query, Some(json!("q=1")));
    }

    #[test]
    fn user_contexts_trace_sdk_fingerprint_and_extra_are_mapped() {
        let ev = map(json!({
            "user": {"id": 42, "username": "ada", "email": "ada@example.com", "ip_address": "{{auto}}", "segment": "vip"},
            "contexts": {"trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"},
                         "os": {"name": "Linux"}, "bogus": 3},
            "sdk": {"name": "sentry.python", "version": "2.1.1", "integrations": ["django"]},
            "fingerprint": ["{{ default }}", "tenant-eu", 7],
            "extra": {"cart": 3},
            "modules": {"django": "5.0.4"}
        }));
        let p = ev.person.unwrap();
        assert_eq!(
            (p.id.as_deref(), p.ip_address.as_deref()),
            (Some("42"), Some("{{auto}}"))
        );
        assert_eq!(
            ev.trace.unwrap().span_id.as_deref(),
            Some("00f067aa0ba902b7")
        );
        assert!(ev.contexts.contains_key("trace") && ev.contexts.contains_key("os"));
        assert!(!ev.contexts.contains_key("bogus"));
        assert_eq!(ev.sdk.unwrap().version.as_deref(), Some("2.1.1"));
        assert_eq!(ev.fingerprint.unwrap(), ["{{ default }}", "tenant-eu", "7"]);
        assert_eq!(ev.custom, Some(json!({"cart": 3})));
        assert_eq!(ev.extra["modules"], json!({"django": "5.0.4"}));
    }

    #[test]
    fn the_envelope_event_id_wins_over_the_payload() {
        let body = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\",\"sdk\":{\"name\":\"sentry.rust\",\"version\":\"0.34.0\"}}\n\
{\"type\":\"event\"}\n{\"event_id\":\"fc6d8c0c43fc4630ad850ee518f1b9d0\",\"message\":\"hi\"}\n";
        let env = parse_envelope(body).unwrap();
        let ev = event_from_envelope(&env).unwrap().unwrap();
        assert_eq!(
            ev.uuid.unwrap().simple().to_string(),
            "9ec79c33ec9942ab8353589fcb2e04dc"
        );
        assert_eq!(ev.sdk.unwrap().name.as_deref(), Some("sentry.rust"));
        assert_eq!(ev.language.as_deref(), Some("rust"));
        let sessions = parse_envelope(b"{}\n{\"type\":\"session\"}\n{}\n").unwrap();
        assert!(event_from_envelope(&sessions).unwrap().is_none());
    }

    #[test]
    fn the_auth_header_gives_the_key() {
        let auth = parse_sentry_auth(
            "Sentry sentry_version=7, sentry_client=sentry.python/2.1.1, sentry_key=e12d836b15bb49d7bbf99e64295d995b, sentry_secret=s",
        )
        .unwrap();
        assert_eq!(auth.key, "e12d836b15bb49d7bbf99e64295d995b");
        assert_eq!(auth.version.as_deref(), Some("7"));
        assert_eq!(auth.client.as_deref(), Some("sentry.python/2.1.1"));
        assert_eq!(auth.secret.as_deref(), Some("s"));
        assert_eq!(
            parse_sentry_auth("sentry sentry_key=abc,sentry_version=7")
                .unwrap()
                .key,
            "abc"
        );
        assert!(parse_sentry_auth("Sentry sentry_version=7").is_none());
        assert!(parse_sentry_auth("Sentry sentry_key=").is_none());
    }

    #[test]
    fn the_dsn_gives_the_key_and_the_project() {
        let cases = [
            ("https://e12d@o1.ingest.example/42", Some(("e12d", "42"))),
            (
                "https://e12d:secret@bugle.example:8000/sub/path/42",
                Some(("e12d", "42")),
            ),
            ("http://k@localhost/7/", Some(("k", "7"))),
            ("https://k@host/7?timeout=1", Some(("k", "7"))),
            ("https://host/42", None),
            ("https://k@host", None),
            ("not a dsn", None),
        ];
        for (dsn, expected) in cases {
            let got = key_from_dsn(dsn);
            assert_eq!(
                got.as_ref().map(|(k, p)| (k.as_str(), p.as_str())),
                expected,
                "{dsn}"
            );
        }
    }
}
