//! Turning stored data into what templates show: times, charts, and an event laid out for
//! reading. Pure functions; the templates only loop and escape.

use chrono::{TimeZone, Utc};
use serde_json::Value;

use crate::event::{Event, Frame};

/// Percent-encodes a query-string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Bars of an SVG chart, computed here so the template only places rectangles.
#[derive(Debug, Clone)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
    pub total: i64,
    pub max: i64,
}

#[derive(Debug, Clone)]
pub struct Bar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub label: String,
}

/// `counts` are equal slots ending now; `label(i)` names slot `i` for its tooltip.
pub fn chart(counts: &[i64], width: u32, height: u32, label: impl Fn(usize) -> String) -> Chart {
    let max = counts.iter().copied().max().unwrap_or(0);
    let n = counts.len().max(1) as f64;
    let slot = f64::from(width) / n;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            // A zero still shows a hairline, so an empty chart reads as "nothing", not broken.
            let h = if max > 0 {
                (c as f64 / max as f64 * f64::from(height - 1)).max(if c > 0 { 2.0 } else { 1.0 })
            } else {
                1.0
            };
            Bar {
                x: format!("{:.1}", i as f64 * slot),
                y: format!("{:.1}", f64::from(height) - h),
                w: format!("{:.1}", (slot - 1.0).max(1.0)),
                h: format!("{h:.1}"),
                label: format!("{}: {c}", label(i)),
            }
        })
        .collect();
    Chart {
        width,
        height,
        bars,
        total: counts.iter().sum(),
        max,
    }
}

/// Hourly slot labels for the last `n` hours ending with the current hour.
pub fn hour_label(now: i64, n: usize) -> impl Fn(usize) -> String {
    let end = now / 3_600_000;
    move |i| {
        let hour = (end - (n - 1 - i) as i64) * 3_600_000;
        Utc.timestamp_millis_opt(hour)
            .single()
            .map(|t| t.format("%b %d %H:00").to_string())
            .unwrap_or_default()
    }
}

pub fn day_label(now: i64, n: usize) -> impl Fn(usize) -> String {
    let end = now / 86_400_000;
    move |i| {
        let day = (end - (n - 1 - i) as i64) * 86_400_000;
        Utc.timestamp_millis_opt(day)
            .single()
            .map(|t| t.format("%b %d").to_string())
            .unwrap_or_default()
    }
}

/// One source line of a frame's context.
#[derive(Debug, Clone)]
pub struct Line {
    pub number: String,
    pub text: String,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct FrameView {
    pub function: String,
    pub location: String,
    pub in_app: bool,
    pub lines: Vec<Line>,
    pub vars: Option<String>,
}

/// Consecutive frames of one kind: app frames are shown, library frames fold away.
#[derive(Debug, Clone)]
pub struct FrameGroup {
    pub in_app: bool,
    pub frames: Vec<FrameView>,
}

#[derive(Debug, Clone)]
pub struct ExceptionView {
    pub ty: String,
    pub value: String,
    pub mechanism: Option<String>,
    pub groups: Vec<FrameGroup>,
}

fn frame_view(f: &Frame) -> FrameView {
    let file = f
        .filename
        .clone()
        .or_else(|| f.abs_path.clone())
        .or_else(|| f.module.clone())
        .unwrap_or_else(|| "?".into());
    let location = match (f.lineno, f.colno) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(l), None) => format!("{file}:{l}"),
        _ => file,
    };
    let mut lines = Vec::new();
    if let Some(current) = &f.context_line {
        let at = f.lineno.map(i64::from);
        let number = |offset: i64| at.map(|l| (l + offset).to_string()).unwrap_or_default();
        let pre = f.pre_context.len() as i64;
        for (i, text) in f.pre_context.iter().enumerate() {
            lines.push(Line {
                number: number(i as i64 - pre),
                text: text.clone(),
                current: false,
            });
        }
        lines.push(Line {
            number: number(0),
            text: current.clone(),
            current: true,
        });
        for (i, text) in f.post_context.iter().enumerate() {
            lines.push(Line {
                number: number(i as i64 + 1),
                text: text.clone(),
                current: false,
            });
        }
    }
    FrameView {
        function: f.function.clone().unwrap_or_else(|| "?".into()),
        location,
        in_app: f.in_app.unwrap_or(false),
        lines,
        vars: f.vars.as_ref().map(pretty),
    }
}

/// Frames newest call first (the way people read a trace), grouped by in-app.
fn frame_groups(frames: &[Frame]) -> Vec<FrameGroup> {
    let mut groups: Vec<FrameGroup> = Vec::new();
    for frame in frames.iter().rev().map(frame_view) {
        match groups.last_mut() {
            Some(g) if g.in_app == frame.in_app => g.frames.push(frame),
            _ => groups.push(FrameGroup {
                in_app: frame.in_app,
                frames: vec![frame],
            }),
        }
    }
    groups
}

pub fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A name and a value, for the key/value tables (tags, request headers, context, ...).
#[derive(Debug, Clone)]
pub struct Pair {
    pub key: String,
    pub value: String,
}

fn pair(key: &str, value: impl Into<String>) -> Pair {
    Pair {
        key: key.to_owned(),
        value: value.into(),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct CrumbView {
    pub time: String,
    pub category: String,
    pub level: String,
    pub message: String,
}

/// An occurrence laid out for its page.
#[derive(Debug, Clone)]
pub struct EventView {
    pub message: Option<String>,
    pub exceptions: Vec<ExceptionView>,
    /// host, pid, uuid, language, root, release, environment, ...
    pub about: Vec<Pair>,
    pub trace_id: Option<String>,
    pub trace_link: Option<String>,
    pub request_line: Option<String>,
    pub request: Vec<Pair>,
    pub request_body: Option<String>,
    pub person: Vec<Pair>,
    pub tags: Vec<Pair>,
    pub contexts: Vec<Pair>,
    pub breadcrumbs: Vec<CrumbView>,
    pub custom: Option<String>,
    pub raw: String,
}

pub fn event_view(stored: &Value, trace_url: Option<&str>) -> EventView {
    let event: Event = serde_json::from_value(stored.clone()).unwrap_or_default();
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
    let trace_id = event.trace.as_ref().and_then(|t| t.trace_id.clone());
    let trace_link = match (&trace_id, trace_url) {
        (Some(id), Some(template)) => Some(template.replace("{trace_id}", &url_encode(id))),
        _ => None,
    };
    let (mut request_line, mut request, mut request_body) = (None, Vec::new(), None);
    if let Some(r) = &event.request {
        let line = [r.method.as_deref(), r.url.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        request_line = (!line.is_empty()).then_some(line);
        if let Some(q) = &r.query {
            request.push(pair("query", scalar(q)));
        }
        if let Some(ip) = &r.user_ip {
            request.push(pair("client address", ip.clone()));
        }
        for (k, v) in &r.headers {
            request.push(pair(k, v.clone()));
        }
        request_body = r.data.as_ref().map(pretty);
    }
    let mut person = Vec::new();
    if let Some(p) = &event.person {
        for (key, value) in [
            ("id", &p.id),
            ("username", &p.username),
            ("email", &p.email),
            ("ip address", &p.ip_address),
        ] {
            if let Some(v) = value {
                person.push(pair(key, v.clone()));
            }
        }
    }
    let tags = event.tags.iter().map(|(k, v)| pair(k, v.clone())).collect();
    let contexts = event
        .contexts
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", scalar(v)))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => scalar(other),
            };
            pair(k, text)
        })
        .collect();
    let breadcrumbs = event
        .breadcrumbs
        .iter()
        .map(|b| CrumbView {
            time: b
                .timestamp
                .map(|t| t.format("%H:%M:%S%.3f").to_string())
                .unwrap_or_default(),
            category: b
                .category
                .clone()
                .or_else(|| b.ty.clone())
                .unwrap_or_default(),
            level: b.level.clone().unwrap_or_default(),
            message: match &b.message {
                Some(m) => m.clone(),
                None if b.data.is_empty() => String::new(),
                None => Value::Object(b.data.clone()).to_string(),
            },
        })
        .collect();
    let mut custom = event.custom.clone();
    if !event.extra.is_empty() {
        let extra = Value::Object(event.extra.clone());
        custom = Some(match custom {
            Some(c) => serde_json::json!({"custom": c, "other fields": extra}),
            None => extra,
        });
    }
    EventView {
        message: event.message.clone(),
        exceptions: event
            .exceptions
            .iter()
            .map(|e| ExceptionView {
                ty: e.ty.clone(),
                value: e.value.clone().unwrap_or_default(),
                mechanism: e
                    .mechanism
                    .as_ref()
                    .and_then(|m| serde_json::to_value(m).ok())
                    .map(|m| scalar(&m)),
                groups: frame_groups(&e.frames),
            })
            .collect(),
        about,
        trace_id,
        trace_link,
        request_line,
        request,
        request_body,
        person,
        tags,
        contexts,
        breadcrumbs,
        custom: custom.as_ref().map(pretty),
        raw: pretty(stored),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(url_encode("/issues?q=a b&c"), "/issues%3Fq%3Da%20b%26c");
    }

    #[test]
    fn charts_scale_to_the_highest_bar() {
        let c = chart(&[0, 5, 10], 30, 21, |i| i.to_string());
        assert_eq!(c.max, 10);
        assert_eq!(c.total, 15);
        assert_eq!(c.bars[2].h, "20.0");
        assert_eq!(c.bars[0].h, "1.0");
        assert_eq!(c.bars[1].label, "1: 5");
    }

    #[test]
    fn frames_read_newest_first_with_library_frames_grouped() {
        let stored = json!({
            "exceptions": [{"type": "E", "value": "boom", "frames": [
                {"filename": "main.rs", "function": "main", "lineno": 3, "in_app": true},
                {"filename": "lib.rs", "function": "lib_a", "in_app": false},
                {"filename": "lib.rs", "function": "lib_b", "in_app": false},
                {"filename": "app.rs", "function": "handler", "lineno": 10, "in_app": true,
                 "pre_context": ["a", "b"], "context_line": "c", "post_context": ["d"]}
            ]}],
            "trace": {"trace_id": "abc 1"}
        });
        let view = event_view(&stored, Some("https://trace.example/{trace_id}"));
        let groups = &view.exceptions[0].groups;
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].frames[0].function, "handler");
        assert_eq!(groups[0].frames[0].location, "app.rs:10");
        let numbers: Vec<_> = groups[0].frames[0]
            .lines
            .iter()
            .map(|l| l.number.as_str())
            .collect();
        assert_eq!(numbers, ["8", "9", "10", "11"]);
        assert!(groups[0].frames[0].lines[2].current);
        assert!(!groups[1].in_app);
        assert_eq!(groups[1].frames.len(), 2);
        assert_eq!(
            view.trace_link.as_deref(),
            Some("https://trace.example/abc%201")
        );
    }
}
