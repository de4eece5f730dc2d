//! A stored occurrence laid out for its page, section by section: what Bugle changed, what
//! failed (see [`super::stack`]), where, who, the request, the contexts, what came before, the
//! rest of the data, and the rarely needed parts (threads, images, packages, raw JSON) that
//! the template folds.

use serde_json::{Map, Value};

use super::stack::{
    exception_view, frame_groups, image_view, is_native, stack_thread, thread_label, thread_views,
    ExceptionView, ImageView, ThreadStack, ThreadView,
};
use super::values::{
    compact, cut, is_sensitive, json_pair, json_pairs, mask, mask_request, masked_pairs, pretty,
    text_at, BLOCK_CHARS, CELL_CHARS, FILTERED, INLINE_CHARS,
};
use super::{pair, url_encode, Pair};
use crate::event::{Event, Request, Thread};

/// Most characters of the raw JSON the page carries; the rest is cut (the API has it whole).
pub const RAW_CHARS: usize = 32_000;
/// Breadcrumbs shown open; older ones fold away.
pub const RECENT_CRUMBS: usize = 15;
/// Processing notes listed; the rest are counted.
pub const NOTES_SHOWN: usize = 50;

/// Context kinds in the order people look for them; others follow by name.
const CONTEXT_ORDER: [&str; 8] = [
    "device", "os", "app", "runtime", "browser", "gpu", "culture", "trace",
];

#[derive(Debug, Clone)]
pub struct CrumbView {
    pub time: String,
    /// The full timestamp, for the time's title.
    pub iso: String,
    pub category: String,
    /// Sentry's breadcrumb type, when it says more than the category.
    pub ty: String,
    pub level: String,
    pub message: String,
    /// Its data on one line when short, else `data_block` (pretty, folded).
    pub data: String,
    pub data_block: Option<String>,
}

/// One context kind (`os`, `device`…) as a small table.
#[derive(Debug, Clone)]
pub struct ContextView {
    pub kind: String,
    pub pairs: Vec<Pair>,
}

#[derive(Debug, Clone, Default)]
pub struct RequestView {
    /// `POST https://shop.example/cart`.
    pub line: Option<String>,
    pub client: Option<String>,
    /// Query parameters as rows; `query_text` when the query is neither an object nor `a=b&…`.
    pub query: Vec<Pair>,
    pub headers: Vec<Pair>,
    pub cookies: Vec<Pair>,
    pub body: Option<String>,
    pub env: Vec<Pair>,
}

/// An occurrence laid out for its page.
#[derive(Debug, Clone)]
pub struct EventView {
    /// What ingest changed: (path, reason).
    pub notes: Vec<Pair>,
    pub notes_more: usize,
    pub message: Option<String>,
    pub exceptions: Vec<ExceptionView>,
    /// A thread's stack standing for the exception's, which has none.
    pub thread_stack: Option<ThreadStack>,
    /// Native frames as sent (addresses), not symbolicated.
    pub native: bool,
    pub threads: Vec<ThreadView>,
    pub images: Vec<ImageView>,
    /// host, pid, uuid, language, root, release, environment, fingerprint, ...
    pub about: Vec<Pair>,
    pub trace_id: Option<String>,
    pub trace_link: Option<String>,
    pub tags: Vec<Pair>,
    pub person: Vec<Pair>,
    pub request: Option<RequestView>,
    pub contexts: Vec<ContextView>,
    pub breadcrumbs: Vec<CrumbView>,
    /// The oldest breadcrumbs, beyond [`RECENT_CRUMBS`].
    pub older_breadcrumbs: Vec<CrumbView>,
    pub modules: Vec<Pair>,
    /// `event.custom`, one row per key.
    pub custom: Vec<Pair>,
    /// The fields Bugle has no section for, one row per key.
    pub other: Vec<Pair>,
    /// The stored event as JSON (request secrets masked), cut at [`RAW_CHARS`].
    pub raw: String,
    pub raw_cut: bool,
}

fn about(event: &Event, thread: Option<&Value>) -> Vec<Pair> {
    let mut about = Vec::new();
    if let Some(uuid) = event.uuid {
        about.push(pair("uuid", uuid.to_string()));
    }
    if let Some(t) = event.timestamp {
        about.push(pair("timestamp", t.to_rfc3339()));
    }
    if let Some(level) = event.level {
        about.push(pair("level", level.as_str()));
    }
    if let Some(server) = &event.server {
        if let Some(host) = &server.host {
            about.push(pair("host", host.clone()));
        }
        if let Some(pid) = server.pid {
            about.push(pair("pid", pid.to_string()));
        }
        if let Some(root) = &server.root {
            about.push(pair("root", root.clone()));
        }
        if let Some(branch) = &server.branch {
            about.push(pair("branch", branch.clone()));
        }
    }
    for (key, value) in [
        ("language", &event.language),
        ("platform", &event.platform),
        ("framework", &event.framework),
        ("release", &event.release),
        ("environment", &event.environment),
    ] {
        if let Some(v) = value {
            about.push(pair(key, v.clone()));
        }
    }
    if let Some(sdk) = &event.sdk {
        let name = [sdk.name.as_deref(), sdk.version.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            about.push(pair("sdk", name));
        }
    }
    if let Some(t) = thread.and_then(|t| serde_json::from_value::<Thread>(t.clone()).ok()) {
        let mut text = thread_label(&t, 0);
        if let Some(id) = &t.id {
            text.push_str(&format!(" · {id}"));
        }
        about.push(pair("thread", text));
    }
    if let Some(fp) = &event.fingerprint {
        about.push(pair("fingerprint", compact(&serde_json::json!(fp))));
    }
    about
}

fn request_view(r: &Request) -> RequestView {
    let line = [r.method.as_deref(), r.url.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let headers = r
        .headers
        .iter()
        .map(|(k, v)| {
            let v = if is_sensitive(k) && !v.is_empty() {
                FILTERED.to_owned()
            } else {
                cut(v, CELL_CHARS)
            };
            pair(k, v)
        })
        .collect();
    let query = match &r.query {
        Some(Value::String(q)) => {
            masked_pairs(&Value::String(q.trim_start_matches('?').to_owned()), '&')
        }
        Some(q) => masked_pairs(q, '&'),
        None => Vec::new(),
    };
    RequestView {
        line: (!line.is_empty()).then(|| cut(&line, CELL_CHARS)),
        client: r.user_ip.clone(),
        query,
        headers,
        cookies: r
            .cookies
            .as_ref()
            .map(|c| masked_pairs(c, ';'))
            .unwrap_or_default(),
        body: r
            .data
            .as_ref()
            .filter(|d| !d.is_null())
            .map(|d| pretty(&mask(d), BLOCK_CHARS)),
        env: r
            .env
            .as_ref()
            .map(|e| json_pairs(&mask(e)))
            .unwrap_or_default(),
    }
}

fn person(event: &Event) -> Vec<Pair> {
    let Some(p) = &event.person else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for (key, value) in [
        ("id", &p.id),
        ("username", &p.username),
        ("email", &p.email),
        ("name", &p.name),
        ("ip address", &p.ip_address),
    ] {
        if let Some(v) = value {
            rows.push(pair(key, v.clone()));
        }
    }
    match &p.geo {
        Some(Value::Object(geo)) => {
            let place = [
                text_at(geo, &["city"]),
                text_at(geo, &["region"]),
                text_at(geo, &["country_code", "country"]),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
            let rest: Map<String, Value> = geo
                .iter()
                .filter(|(k, _)| {
                    !["city", "region", "country_code", "country"].contains(&k.as_str())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut text = place;
            if !rest.is_empty() {
                let rest = compact(&Value::Object(rest));
                text = if text.is_empty() {
                    rest
                } else {
                    format!("{text} · {rest}")
                };
            }
            if !text.is_empty() {
                rows.push(pair("geo", text));
            }
        }
        Some(Value::Null) | None => {}
        Some(other) => rows.push(json_pair("geo", other)),
    }
    if let Some(data) = &p.data {
        rows.extend(json_pairs(data));
    }
    rows
}

fn contexts(event: &Event) -> Vec<ContextView> {
    let mut kinds: Vec<&String> = event.contexts.keys().collect();
    let rank = |k: &str| {
        CONTEXT_ORDER
            .iter()
            .position(|known| *known == k)
            .unwrap_or(CONTEXT_ORDER.len())
    };
    kinds.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    kinds
        .into_iter()
        .map(|kind| {
            let v = &event.contexts[kind];
            let pairs = match v {
                // `type` repeats the kind in Sentry's contexts.
                Value::Object(m) => m
                    .iter()
                    .filter(|(k, v)| !(k.as_str() == "type" && v.as_str() == Some(kind.as_str())))
                    .map(|(k, v)| json_pair(k, v))
                    .collect(),
                other => json_pairs(other),
            };
            ContextView {
                kind: kind.clone(),
                pairs,
            }
        })
        .collect()
}

fn crumbs(event: &Event) -> Vec<CrumbView> {
    event
        .breadcrumbs
        .iter()
        .map(|b| {
            let category = b.category.clone().unwrap_or_default();
            let ty =
                b.ty.clone()
                    .filter(|t| t != "default" && *t != category)
                    .unwrap_or_default();
            let (data, data_block) = if b.data.is_empty() {
                (String::new(), None)
            } else {
                let data = Value::Object(b.data.clone());
                let line = data.to_string();
                if line.chars().count() > INLINE_CHARS {
                    (String::new(), Some(pretty(&data, BLOCK_CHARS / 4)))
                } else {
                    (line, None)
                }
            };
            CrumbView {
                time: b
                    .timestamp
                    .map(|t| t.format("%H:%M:%S%.3f").to_string())
                    .unwrap_or_default(),
                iso: b.timestamp.map(|t| t.to_rfc3339()).unwrap_or_default(),
                category,
                ty,
                level: b.level.clone().unwrap_or_default(),
                message: b
                    .message
                    .as_deref()
                    .map(|m| cut(m, CELL_CHARS))
                    .unwrap_or_default(),
                data,
                data_block,
            }
        })
        .collect()
}

/// The stored event as the model reads it. A field the model cannot read (stored by an older
/// mapping, or kept as sent under its own name) is shown with the other fields instead of
/// leaving the page empty.
fn readable(stored: &Value) -> Event {
    use serde::Deserialize;
    if let Ok(event) = Event::deserialize(stored) {
        return event;
    }
    let Some(map) = stored.as_object() else {
        return Event::default();
    };
    let (mut good, mut bad) = (Map::new(), Map::new());
    for (k, v) in map {
        let alone = Value::Object(Map::from_iter([(k.clone(), v.clone())]));
        if Event::deserialize(&alone).is_ok() {
            good.insert(k.clone(), v.clone());
        } else {
            bad.insert(k.clone(), v.clone());
        }
    }
    let mut event = Event::deserialize(&Value::Object(good)).unwrap_or_default();
    event.extra.append(&mut bad);
    event
}

pub fn event_view(stored: &Value, trace_url: Option<&str>) -> EventView {
    let event = readable(stored);
    let mut extra = event.extra.clone();

    // Events stored before the model had these fields kept them as sent (Sentry's
    // `debug_meta.images`, `modules`): shown in their sections all the same.
    let mut images: Vec<ImageView> = event.debug_images.iter().map(image_view).collect();
    if images.is_empty() {
        if let Some(Value::Object(meta)) = extra.get_mut("debug_meta") {
            if let Some(Value::Array(list)) = meta.remove("images") {
                images = list.iter().map(image_view).collect();
            }
            if meta.is_empty() {
                extra.remove("debug_meta");
            }
        }
    }
    let mut modules: Vec<Pair> = event
        .modules
        .iter()
        .map(|(k, v)| pair(k, cut(v, CELL_CHARS)))
        .collect();
    if modules.is_empty() {
        if let Some(Value::Object(m)) = extra.get("modules") {
            modules = m.iter().map(|(k, v)| pair(k, compact(v))).collect();
            extra.remove("modules");
        }
    }
    // The capturing thread of Bugle's clients: told in "Where".
    let thread = extra
        .remove("thread")
        .filter(|t| serde_json::from_value::<Thread>(t.clone()).is_ok());

    let exceptions: Vec<ExceptionView> = event
        .exceptions
        .iter()
        .map(|e| exception_view(e, &images))
        .collect();
    let has_frames = event.exceptions.iter().any(|e| !e.frames.is_empty());
    let shown = if has_frames {
        None
    } else {
        stack_thread(&event.threads)
    };
    let thread_stack = shown.map(|i| ThreadStack {
        label: thread_label(&event.threads[i], i),
        groups: frame_groups(&event.threads[i].frames, &images),
    });
    let threads = thread_views(&event.threads, shown, &images);

    let trace_id = event.trace.as_ref().and_then(|t| t.trace_id.clone());
    let trace_link = match (&trace_id, trace_url) {
        (Some(id), Some(template)) => Some(template.replace("{trace_id}", &url_encode(id))),
        _ => None,
    };

    let mut breadcrumbs = crumbs(&event);
    let older_breadcrumbs = if breadcrumbs.len() > RECENT_CRUMBS {
        breadcrumbs
            .drain(..breadcrumbs.len() - RECENT_CRUMBS)
            .collect()
    } else {
        Vec::new()
    };

    let raw_text = pretty(&mask_request(stored), usize::MAX);
    let raw_cut = raw_text.chars().count() > RAW_CHARS;
    let raw = if raw_cut {
        pretty(&Value::String(raw_text), RAW_CHARS)
    } else {
        raw_text
    };

    EventView {
        notes: event
            .processing_notes
            .iter()
            .take(NOTES_SHOWN)
            .map(|n| pair(&n.path, cut(&n.reason, CELL_CHARS)))
            .collect(),
        notes_more: event.processing_notes.len().saturating_sub(NOTES_SHOWN),
        message: event.message.clone(),
        native: is_native(&event.exceptions, &event.threads, images.len()),
        exceptions,
        thread_stack,
        threads,
        images,
        about: about(&event, thread.as_ref()),
        trace_id,
        trace_link,
        tags: event
            .tags
            .iter()
            .map(|(k, v)| pair(k, cut(v, CELL_CHARS)))
            .collect(),
        person: person(&event),
        request: event.request.as_ref().map(request_view),
        contexts: contexts(&event),
        breadcrumbs,
        older_breadcrumbs,
        modules,
        custom: event.custom.as_ref().map(json_pairs).unwrap_or_default(),
        other: json_pairs(&Value::Object(extra)),
        raw,
        raw_cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys(pairs: &[Pair]) -> Vec<&str> {
        pairs.iter().map(|p| p.key.as_str()).collect()
    }

    fn value<'a>(pairs: &'a [Pair], key: &str) -> &'a str {
        &pairs
            .iter()
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("no {key} in {pairs:?}"))
            .value
    }

    #[test]
    fn the_trace_id_is_linked_and_the_stack_reads_newest_first() {
        let stored = json!({
            "exceptions": [{"type": "E", "value": "boom", "frames": [
                {"filename": "main.rs", "function": "main", "lineno": 3, "in_app": true},
                {"filename": "app.rs", "function": "handler", "lineno": 10, "in_app": true}
            ]}],
            "trace": {"trace_id": "abc 1"}
        });
        let view = event_view(&stored, Some("https://trace.example/{trace_id}"));
        assert_eq!(view.exceptions[0].groups[0].frames[0].function, "handler");
        assert_eq!(
            view.trace_link.as_deref(),
            Some("https://trace.example/abc%201")
        );
        assert!(!view.native && view.thread_stack.is_none() && view.threads.is_empty());
    }

    #[test]
    fn an_exception_without_frames_gets_the_crashed_threads_stack() {
        let stored = json!({
            "exceptions": [{"type": "EXC_BAD_ACCESS", "value": "SIGSEGV",
                "mechanism": {"type": "mach", "handled": false, "meta": {"signal": {"number": 11}}}}],
            "threads": [
                {"id": "0", "name": "main", "main": true, "frames": [{"instruction_addr": "0x10"}]},
                {"id": "5", "crashed": true, "state": "Runnable",
                 "frames": [{"instruction_addr": "0x20"}, {"instruction_addr": "0x30", "function": "crash"}]}
            ]
        });
        let view = event_view(&stored, None);
        let stack = view.thread_stack.expect("a thread stack");
        assert_eq!(stack.label, "thread 5 (crashed)");
        assert_eq!(stack.groups[0].frames[0].function, "crash");
        assert_eq!(stack.groups[0].frames[1].address.as_deref(), Some("0x20"));
        assert!(view.native, "an address without a function");
        assert!(view.threads[1].shown_above && !view.threads[0].shown_above);
        let mech = view.exceptions[0].mechanism.as_ref().unwrap();
        assert_eq!((mech.ty.as_str(), mech.handled), ("mach", Some(false)));
        assert_eq!(value(&mech.data, "meta"), r#"{"signal":{"number":11}}"#);

        // No exception at all: a message with the current thread's stack.
        let view = event_view(
            &json!({"message": "hang", "threads": [{"name": "ui", "current": true, "frames": [{"function": "f"}]}]}),
            None,
        );
        assert_eq!(view.thread_stack.unwrap().label, "ui (current)");
        assert!(!view.native);
    }

    #[test]
    fn request_secrets_are_masked_and_the_rest_shown() {
        let stored = json!({"message": "m", "request": {
            "url": "https://shop.example/cart", "method": "POST",
            "headers": {"Cookie": "sessionid=s3cr3t", "Authorization": "Bearer t0k3n", "User-Agent": "curl/8"},
            "cookies": {"sessionid": "s3cr3t", "theme": "dark"},
            "query": "page=2&access_token=t0k3n",
            "data": {"user": "ada", "password": "hunter2"},
            "env": {"REMOTE_ADDR": "203.0.113.9", "HTTP_COOKIE": "sessionid=s3cr3t"},
            "user_ip": "203.0.113.9"
        }});
        let view = event_view(&stored, None);
        let r = view.request.as_ref().unwrap();
        assert_eq!(r.line.as_deref(), Some("POST https://shop.example/cart"));
        assert_eq!(value(&r.headers, "Cookie"), FILTERED);
        assert_eq!(value(&r.headers, "Authorization"), FILTERED);
        assert_eq!(value(&r.headers, "User-Agent"), "curl/8");
        assert_eq!(value(&r.cookies, "sessionid"), FILTERED);
        assert_eq!(value(&r.cookies, "theme"), "dark");
        assert_eq!(value(&r.query, "page"), "2");
        assert_eq!(value(&r.query, "access_token"), FILTERED);
        assert_eq!(value(&r.env, "HTTP_COOKIE"), FILTERED);
        assert_eq!(value(&r.env, "REMOTE_ADDR"), "203.0.113.9");
        let body = r.body.as_deref().unwrap();
        assert!(body.contains("ada") && !body.contains("hunter2"), "{body}");
        assert_eq!(r.client.as_deref(), Some("203.0.113.9"));
        for secret in ["s3cr3t", "t0k3n", "hunter2"] {
            assert!(!view.raw.contains(secret), "raw shows {secret}");
        }
    }

    #[test]
    fn contexts_come_known_kinds_first_each_a_small_table() {
        let stored = json!({"message": "m", "contexts": {
            "zebra": {"stripes": 3}, "trace": {"trace_id": "t"}, "os": {"type": "os", "name": "iOS", "version": "17.4"},
            "app": {"app_name": "Shop"}, "device": {"model": "iPhone15,2", "memory": {"free": 1, "total": 2}},
            "culture": {"locale": "de-DE"}, "gpu": {"name": "Apple GPU"}, "runtime": {"name": "CPython"},
            "browser": {"name": "Safari"}, "alpha": "just text"
        }});
        let view = event_view(&stored, None);
        let kinds: Vec<_> = view.contexts.iter().map(|c| c.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "device", "os", "app", "runtime", "browser", "gpu", "culture", "trace", "alpha",
                "zebra"
            ]
        );
        assert_eq!(
            keys(&view.contexts[1].pairs),
            ["name", "version"],
            "type repeats the kind"
        );
        assert_eq!(
            value(&view.contexts[0].pairs, "memory"),
            r#"{"free":1,"total":2}"#
        );
        assert_eq!(value(&view.contexts[8].pairs, "value"), "just text");
    }

    #[test]
    fn images_modules_and_legacy_fields_get_their_sections_not_custom_data() {
        let image = json!({"type": "macho", "code_file": "/app/MyApp", "debug_id": "d-1",
                           "image_addr": "0x1000", "image_size": 4096, "arch": "arm64"});
        let stored = json!({"message": "m", "debug_images": [image], "modules": {"requests": "2.31"},
                            "custom": {"cart": 3}, "something_new": {"a": 1}});
        let view = event_view(&stored, None);
        assert_eq!(view.images.len(), 1);
        assert_eq!(view.images[0].file, "MyApp");
        assert!(view.native, "images listed: native");
        assert_eq!(value(&view.modules, "requests"), "2.31");
        assert_eq!(keys(&view.custom), ["cart"]);
        assert_eq!(keys(&view.other), ["something_new"]);

        // As older Sentry mappings stored them: unknown fields, kept as sent.
        let stored = json!({"message": "m", "debug_meta": {"images": [image, image], "sdk_info": {"version_major": 17}},
                            "modules": {"django": "5.0"}, "thread": {"name": "main", "id": "ThreadId(1)"}});
        let view = event_view(&stored, None);
        assert_eq!(view.images.len(), 2);
        assert_eq!(value(&view.modules, "django"), "5.0");
        assert_eq!(value(&view.about, "thread"), "main · ThreadId(1)");
        assert_eq!(
            value(&view.other, "debug_meta"),
            r#"{"sdk_info":{"version_major":17}}"#
        );
    }

    #[test]
    fn notes_user_crumbs_and_fingerprint_are_laid_out() {
        let mut crumbs: Vec<Value> = (0..20)
            .map(|i| json!({"timestamp": 1_700_000_000 + i, "category": "ui", "message": format!("tap {i}")}))
            .collect();
        crumbs.push(
            json!({"type": "http", "category": "xhr", "level": "warning",
                           "data": {"url": "/api/cart", "status_code": 500}}),
        );
        crumbs.push(json!({"category": "db", "data": {"sql": "x".repeat(300)}}));
        let notes: Vec<Value> = (0..60)
            .map(|i| json!({"path": format!("breadcrumbs[{i}]"), "reason": "dropped: not an object"}))
            .collect();
        let stored = json!({
            "message": "m", "breadcrumbs": crumbs, "processing_notes": notes,
            "fingerprint": ["{{ default }}", "tenant-eu"],
            "person": {"id": "42", "name": "Ada L.", "ip_address": "198.51.100.7",
                       "geo": {"country_code": "DE", "city": "Berlin", "region": "Berlin"},
                       "data": {"plan": "pro"}}
        });
        let view = event_view(&stored, None);
        assert_eq!(view.notes.len(), NOTES_SHOWN);
        assert_eq!(view.notes_more, 10);
        assert_eq!(view.notes[0].key, "breadcrumbs[0]");
        assert_eq!(view.notes[0].value, "dropped: not an object");

        assert_eq!(view.breadcrumbs.len(), RECENT_CRUMBS);
        assert_eq!(view.older_breadcrumbs.len(), 22 - RECENT_CRUMBS);
        assert_eq!(view.older_breadcrumbs[0].message, "tap 0");
        assert_eq!(view.older_breadcrumbs[0].time, "22:13:20.000");
        let http = &view.breadcrumbs[RECENT_CRUMBS - 2];
        assert_eq!(
            (
                http.category.as_str(),
                http.ty.as_str(),
                http.level.as_str()
            ),
            ("xhr", "http", "warning")
        );
        assert_eq!(http.data, r#"{"status_code":500,"url":"/api/cart"}"#);
        let db = &view.breadcrumbs[RECENT_CRUMBS - 1];
        assert!(db.data.is_empty() && db.data_block.as_deref().unwrap().contains("xxx"));

        assert_eq!(
            value(&view.about, "fingerprint"),
            r#"["{{ default }}","tenant-eu"]"#
        );
        assert_eq!(
            keys(&view.person),
            ["id", "name", "ip address", "geo", "plan"]
        );
        assert_eq!(value(&view.person, "geo"), "Berlin, Berlin, DE");
    }

    #[test]
    fn a_field_the_model_cannot_read_is_shown_with_the_other_fields() {
        let stored = json!({"message": "still here", "release": {"odd": 1},
                            "exceptions": [{"type": "E", "frames": [{"lineno": -1}]}]});
        let view = event_view(&stored, None);
        assert_eq!(view.message.as_deref(), Some("still here"));
        assert_eq!(keys(&view.other), ["exceptions", "release"]);
    }

    #[test]
    fn a_huge_event_is_cut_for_display() {
        let stored = json!({"message": "m", "custom": {"blob": "y".repeat(5000)},
                            "big": (0..20_000).collect::<Vec<_>>()});
        let view = event_view(&stored, None);
        assert!(view.raw_cut && view.raw.ends_with('…'));
        assert!(view.raw.chars().count() <= RAW_CHARS + 2);
        assert!(value(&view.custom, "blob").ends_with('…'));
        assert!(value(&view.other, "big").ends_with('…'));
    }
}
