//! What failed and where: `exception` (alias `sentry.interfaces.Exception`: a list, `{values}`
//! or, raven-era, one exception object), `threads` (alias `sentry.interfaces.Threads`), the
//! deprecated top-level `stacktrace` (alias `sentry.interfaces.Stacktrace`) and the Django
//! `template` (alias `sentry.interfaces.Template`).
//!
//! Order: Sentry lists `exception.values` oldest → newest (the last one is the error that was
//! raised), while Bugle's `exceptions` are outermost first, so the list is reversed. Frames are
//! caller → callee in both, so frames keep their order.
//!
//! Where a stack lands, so grouping and the page find it:
//! - an exception without frames takes its thread's (`thread_id`), and the outermost one the
//!   crashed, else the current, else the only thread's (some SDKs, Java, Cocoa, put the stack
//!   only there); the threads are kept in `threads` as well;
//! - a top-level `stacktrace` is the outermost exception's when it has none, else the current
//!   thread's (a synthetic `{current: true}` thread when there is none);
//! - a `template` becomes one frame (in-app) placed the same way, but only where no other
//!   stack is; the interface itself is kept as `contexts.template`.

use serde_json::{Map, Value};

use super::{each_value, take_aliased};
use crate::event::{Event, Exception, Frame, Mechanism, Thread};
use crate::protocol::{as_text, element, Notes, Obj, Path};

pub(super) fn map(top: &mut Obj<'_>, ev: &mut Event, notes: &mut Notes) {
    if let Some((key, v)) = take_aliased(top, notes, "threads", "sentry.interfaces.Threads") {
        each_value(v, &Path::top(key), notes, |m, path, notes| {
            ev.threads.push(thread(m, path, notes));
        });
    }
    let mut chain = Vec::new();
    if let Some((key, v)) = take_aliased(top, notes, "exception", "sentry.interfaces.Exception") {
        let path = Path::top(key);
        match v {
            // Raven's single exception: `{"type": ..., "value": ..., "stacktrace": ...}`.
            Value::Object(m) if !m.contains_key("values") && is_exception_like(&m) => {
                chain.extend(exception(m, &path, notes));
            }
            v => each_value(v, &path, notes, |m, path, notes| {
                chain.extend(exception(m, path, notes));
            }),
        }
    }
    fill_from_threads(&mut chain, &ev.threads);
    ev.exceptions = chain.into_iter().rev().map(|(e, _)| e).collect();

    if let Some((key, v)) = take_aliased(top, notes, "stacktrace", "sentry.interfaces.Stacktrace") {
        let frames = stacktrace(v, &Path::top(key), notes);
        if !frames.is_empty() {
            place_stack(ev, frames);
        }
    }
    if let Some((key, v)) = take_aliased(top, notes, "template", "sentry.interfaces.Template") {
        let path = Path::top(key);
        match v {
            Value::Object(m) => {
                let raw = Value::Object(m.clone());
                if let Some(frame) = template_frame(m, &path, notes) {
                    let stackless = match ev.exceptions.first() {
                        Some(outermost) => outermost.frames.is_empty(),
                        None => ev.threads.iter().all(|t| t.frames.is_empty()),
                    };
                    if stackless {
                        place_stack(ev, vec![frame]);
                    }
                }
                ev.contexts.insert("template".into(), raw);
            }
            other => notes.wrong_type(&path, other, "an object"),
        }
    }
}

/// Has an exception's own attributes, not `{values}`'s.
fn is_exception_like(m: &Map<String, Value>) -> bool {
    ["type", "value", "stacktrace", "module", "mechanism"]
        .iter()
        .any(|k| m.contains_key(*k))
}

/// Whether an exception says anything: a type, a value or a stack trace.
fn says_something(m: &Map<String, Value>) -> bool {
    let present = |k: &str| match m.get(k) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    };
    present("type")
        || present("value")
        || present("stacktrace")
        || present("sentry.interfaces.Stacktrace")
}

/// One exception and the id of the thread it happened on. A missing type becomes `Error`.
fn exception(
    m: Map<String, Value>,
    path: &Path<'_>,
    notes: &mut Notes,
) -> Option<(Exception, Option<String>)> {
    if !says_something(&m) {
        notes.drop(
            path,
            Value::Object(m),
            "dropped: an exception needs a type, a value or a stack trace",
        );
        return None;
    }
    let mut o = Obj::new(m, *path);
    let ty = o.text("type", notes);
    // Relay reads a non-string value as its JSON text.
    let value = o.take("value").and_then(|v| match v {
        Value::String(s) => (!s.is_empty()).then_some(s),
        other => Some(other.to_string()),
    });
    let module = o.text("module", notes);
    let mechanism = o
        .object("mechanism", notes)
        .map(|m| mechanism(m, &o.path.key("mechanism"), notes));
    let frames = match o.take("stacktrace").map(|v| ("stacktrace", v)).or_else(|| {
        o.take("sentry.interfaces.Stacktrace")
            .map(|v| ("sentry.interfaces.Stacktrace", v))
    }) {
        Some((key, v)) => stacktrace(v, &o.path.key(key), notes),
        None => Vec::new(),
    };
    let thread_id = o.read("thread_id", notes, "a number or a string", as_text);
    let exc = Exception {
        ty: ty.unwrap_or_else(|| "Error".to_owned()),
        value,
        module,
        mechanism,
        frames,
    };
    Some((exc, thread_id))
}

/// `{type, handled, ...}`: what is not the type or `handled` is kept as is (`synthetic`,
/// `meta`, `data`, `description`...).
fn mechanism(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Mechanism {
    let mut o = Obj::new(m, *path);
    Mechanism {
        ty: o.text("type", notes).unwrap_or_default(),
        handled: o.boolean("handled", notes),
        other: o.map,
    }
}

/// `{frames: [...]}`, caller → callee. `registers` and `frames_omitted` have no place in the
/// model (the raw payload keeps them).
pub(super) fn stacktrace(v: Value, path: &Path<'_>, notes: &mut Notes) -> Vec<Frame> {
    let m = match v {
        Value::Object(m) => m,
        other => {
            notes.wrong_type(path, other, "an object");
            return Vec::new();
        }
    };
    let mut o = Obj::new(m, *path);
    let list = o.read("frames", notes, "a list", |v| match v {
        Value::Array(list) => Ok(Some(list)),
        other => Err(other),
    });
    let frames_path = o.path.key("frames");
    let mut frames = Vec::new();
    for (i, v) in list.unwrap_or_default().into_iter().enumerate() {
        let path = frames_path.index(i);
        if let Some(frame) = element(v, &path, notes).and_then(|m| frame(m, &path, notes)) {
            frames.push(frame);
        }
    }
    frames
}

/// The attributes that say where a frame is; a frame with none of them is dropped.
const FRAME_NAMES: &[&str] = &[
    "filename",
    "abs_path",
    "module",
    "function",
    "raw_function",
    "package",
    "symbol",
    "instruction_addr",
];

fn frame(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Option<Frame> {
    if !FRAME_NAMES
        .iter()
        .any(|k| m.get(*k).is_some_and(|v| !v.is_null() && v != ""))
    {
        notes.drop(
            path,
            Value::Object(m),
            "dropped: the frame names no function, file, module, package or address",
        );
        return None;
    }
    let mut o = Obj::new(m, *path);
    let function = o.text("function", notes);
    let raw_function = o.text("raw_function", notes);
    Some(Frame {
        filename: o.text("filename", notes),
        abs_path: o.text("abs_path", notes),
        module: o.text("module", notes),
        function: function.or(raw_function),
        lineno: o.uint("lineno", notes),
        colno: o.uint("colno", notes),
        in_app: o.boolean("in_app", notes),
        context_line: o.read("context_line", notes, "a string", source_line),
        pre_context: o.lines("pre_context", notes),
        post_context: o.lines("post_context", notes),
        vars: o.take("vars"),
        package: o.text("package", notes),
        symbol: o.text("symbol", notes),
        instruction_addr: o.read("instruction_addr", notes, "a hex address", address),
        image_addr: o.read("image_addr", notes, "a hex address", address),
    })
}

/// A line of source: an empty one is a line too.
fn source_line(v: Value) -> Result<Option<String>, Value> {
    match v {
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(other),
    }
}

/// A native address as lowercase `0x…` hex: SDKs send hex strings, some send numbers.
fn address(v: Value) -> Result<Option<String>, Value> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            Ok((!s.is_empty()).then(|| s.to_ascii_lowercase()))
        }
        Value::Number(n) => match n.as_u64() {
            Some(n) => Ok(Some(format!("{n:#x}"))),
            None => Err(Value::Number(n)),
        },
        other => Err(other),
    }
}

/// `{id, name, crashed, current, main, state, stacktrace}`; `held_locks` and `raw_stacktrace`
/// have no place in the model.
fn thread(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Thread {
    let mut o = Obj::new(m, *path);
    let id = o.read("id", notes, "a number or a string", as_text);
    let name = o.text("name", notes).unwrap_or_default();
    let crashed = o.boolean("crashed", notes);
    let current = o.boolean("current", notes);
    let main = o.boolean("main", notes);
    let state = o.text("state", notes);
    let frames = match o.take("stacktrace") {
        Some(v) => stacktrace(v, &o.path.key("stacktrace"), notes),
        None => Vec::new(),
    };
    Thread {
        name,
        id,
        crashed,
        current,
        main,
        state,
        frames,
    }
}

/// Gives exceptions without frames the stack of their thread; the outermost (the last in
/// Sentry's order) falls back to the crashed, else the current, else the only thread.
fn fill_from_threads(chain: &mut [(Exception, Option<String>)], threads: &[Thread]) {
    let with_frames = || threads.iter().filter(|t| !t.frames.is_empty());
    for (exc, thread_id) in chain.iter_mut() {
        if exc.frames.is_empty() && thread_id.is_some() {
            if let Some(t) = with_frames().find(|t| t.id == *thread_id) {
                exc.frames = t.frames.clone();
            }
        }
    }
    if let Some((outermost, _)) = chain.last_mut().filter(|(e, _)| e.frames.is_empty()) {
        let pick = with_frames()
            .find(|t| t.crashed == Some(true))
            .or_else(|| with_frames().find(|t| t.current == Some(true)))
            .or_else(|| match threads {
                [_only] => with_frames().next(),
                _ => None,
            });
        if let Some(t) = pick {
            outermost.frames = t.frames.clone();
        }
    }
}

/// Puts a stack where grouping and the page look: the outermost exception when it has none,
/// else the current thread (made when there is none).
fn place_stack(ev: &mut Event, frames: Vec<Frame>) {
    if let Some(outermost) = ev.exceptions.first_mut() {
        if outermost.frames.is_empty() {
            outermost.frames = frames;
            return;
        }
    }
    if let Some(t) = ev
        .threads
        .iter_mut()
        .find(|t| t.current == Some(true) && t.frames.is_empty())
    {
        t.frames = frames;
        return;
    }
    let has_current = ev.threads.iter().any(|t| t.current == Some(true));
    ev.threads.insert(
        0,
        Thread {
            current: (!has_current).then_some(true),
            frames,
            ..Thread::default()
        },
    );
}

/// The template's location as one in-app frame; `None` when it names no file and no line.
fn template_frame(m: Map<String, Value>, path: &Path<'_>, notes: &mut Notes) -> Option<Frame> {
    let mut o = Obj::new(m, *path);
    let frame = Frame {
        filename: o.text("filename", notes),
        abs_path: o.text("abs_path", notes),
        lineno: o.uint("lineno", notes),
        colno: o.uint("colno", notes),
        context_line: o.read("context_line", notes, "a string", source_line),
        pre_context: o.lines("pre_context", notes),
        post_context: o.lines("post_context", notes),
        in_app: Some(true),
        ..Frame::default()
    };
    (frame.filename.is_some() || frame.abs_path.is_some() || frame.context_line.is_some())
        .then_some(frame)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{map, notes};

    #[test]
    fn exceptions_are_reversed_to_outermost_first() {
        let ev = map(json!({"exception": {"values": [
            {"type": "KeyError", "value": "'id'"},
            {"type": "ValueError", "value": "bad id", "module": "app.errors",
             "mechanism": {"type": "generic", "handled": false, "synthetic": true}}
        ]}}));
        let types: Vec<_> = ev.exceptions.iter().map(|e| e.ty.as_str()).collect();
        assert_eq!(types, ["ValueError", "KeyError"]);
        assert_eq!(ev.exceptions[0].module.as_deref(), Some("app.errors"));
        let mechanism = ev.exceptions[0].mechanism.as_ref().unwrap();
        assert_eq!(
            (mechanism.ty.as_str(), mechanism.handled),
            ("generic", Some(false))
        );
        assert_eq!(mechanism.other["synthetic"], true);
    }

    #[test]
    fn a_flat_list_a_single_object_and_the_legacy_key_all_work() {
        let ev = map(
            json!({"exception": [{"value": "Non-Error promise rejection"}, {"mechanism": {}}]}),
        );
        assert_eq!(ev.exceptions.len(), 1);
        assert_eq!(ev.exceptions[0].ty, "Error");
        assert_eq!(
            ev.exceptions[0].value.as_deref(),
            Some("Non-Error promise rejection")
        );
        assert_eq!(notes(&ev)[0].0, "exception[1]");

        let raven = json!({"sentry.interfaces.Exception": {"type": "ZeroDivisionError",
            "value": "integer division or modulo by zero", "module": "exceptions",
            "stacktrace": {"frames": [{"filename": "app.py", "function": "divide", "lineno": 3}]}}});
        let ev = map(raven);
        assert_eq!(ev.exceptions[0].ty, "ZeroDivisionError");
        assert_eq!(
            ev.exceptions[0].frames[0].function.as_deref(),
            Some("divide")
        );
        assert!(ev.extra.is_empty(), "{:?}", ev.extra);

        let legacy_values =
            map(json!({"sentry.interfaces.Exception": {"values": [{"type": "E"}]}}));
        assert_eq!(legacy_values.exceptions[0].ty, "E");
        let nested_alias = map(json!({"exception": [{"type": "E",
            "sentry.interfaces.Stacktrace": {"frames": [{"function": "f"}]}}]}));
        assert_eq!(nested_alias.exceptions[0].frames.len(), 1);
    }

    #[test]
    fn null_and_empty_exception_values_are_skipped_with_notes() {
        let ev = map(json!({"exception": {"values": [
            null, {}, {"type": "", "value": ""}, "boom", {"type": "ValueError", "value": 42}
        ]}}));
        assert_eq!(ev.exceptions.len(), 1);
        assert_eq!(ev.exceptions[0].value.as_deref(), Some("42"));
        assert_eq!(
            notes(&ev),
            [
                ("exception.values[0]", "skipped: null"),
                (
                    "exception.values[1]",
                    "dropped: an exception needs a type, a value or a stack trace"
                ),
                (
                    "exception.values[2]",
                    "dropped: an exception needs a type, a value or a stack trace"
                ),
                (
                    "exception.values[3]",
                    "dropped: expected an object, got \"boom\""
                ),
            ]
        );
        assert_eq!(ev.extra["dropped"]["exception.values[3]"], "boom");
    }

    #[test]
    fn wrong_typed_exception_parts_are_noted() {
        let ev = map(
            json!({"exception": {"values": [{"type": "E", "mechanism": "panic",
            "stacktrace": {"frames": {"not": "a list"}}, "thread_id": {"x": 1}}]}}),
        );
        assert_eq!(ev.exceptions[0].ty, "E");
        let paths: Vec<_> = notes(&ev).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "exception.values[0].mechanism",
                "exception.values[0].stacktrace.frames",
                "exception.values[0].thread_id"
            ]
        );
        let ev = map(json!({"exception": "boom"}));
        assert_eq!(
            notes(&ev),
            [(
                "exception",
                "dropped: expected a list or {\"values\": [...]}, got \"boom\""
            )]
        );
        let ev = map(json!({"exception": {"values": 3}}));
        assert_eq!(
            notes(&ev),
            [("exception.values", "dropped: expected a list, got a number")]
        );
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
                {"instruction_addr": "0x1234"},
                {"raw_function": "_ZN3app4main17h1E", "package": "/usr/bin/app", "symbol": "_ZN3app4mainE",
                 "instruction_addr": 4096, "image_addr": "0X1000"}
            ]}}]}}),
        );
        let frames = &ev.exceptions[0].frames;
        assert_eq!(frames.len(), 4);
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
        let native = &frames[3];
        assert_eq!(native.function.as_deref(), Some("_ZN3app4main17h1E"));
        assert_eq!(native.instruction_addr.as_deref(), Some("0x1000"));
        assert_eq!(native.image_addr.as_deref(), Some("0x1000"));
        assert_eq!(native.symbol.as_deref(), Some("_ZN3app4mainE"));
        assert_eq!(native.package.as_deref(), Some("/usr/bin/app"));
    }

    #[test]
    fn wrong_typed_frame_fields_are_dropped_one_by_one() {
        let ev = map(
            json!({"exception": [{"type": "E", "stacktrace": {"frames": [
                {"function": "f", "lineno": "12", "colno": -1, "in_app": "yes", "filename": ["a"],
                 "context_line": {"x": 1}, "instruction_addr": true},
                {"unknown": "attribute"}, {}, null
            ]}}]}),
        );
        let f = &ev.exceptions[0].frames[0];
        assert_eq!((f.function.as_deref(), f.lineno), (Some("f"), Some(12)));
        assert_eq!(
            (f.colno, f.in_app, f.filename.as_deref()),
            (None, None, None)
        );
        let got = notes(&ev);
        let base = "exception[0].stacktrace.frames";
        assert_eq!(
            got,
            [
                (
                    format!("{base}[0].filename"),
                    "dropped: expected a string, got an array".to_owned()
                ),
                (
                    format!("{base}[0].colno"),
                    "dropped: expected a non-negative integer, got a number".to_owned()
                ),
                (
                    format!("{base}[0].in_app"),
                    "dropped: expected a boolean, got \"yes\"".to_owned()
                ),
                (
                    format!("{base}[0].context_line"),
                    "dropped: expected a string, got an object".to_owned()
                ),
                (
                    format!("{base}[0].instruction_addr"),
                    "dropped: expected a hex address, got a boolean".to_owned()
                ),
                (
                    format!("{base}[1]"),
                    "dropped: the frame names no function, file, module, package or address"
                        .to_owned()
                ),
                (
                    format!("{base}[2]"),
                    "dropped: the frame names no function, file, module, package or address"
                        .to_owned()
                ),
                (format!("{base}[3]"), "skipped: null".to_owned()),
            ]
            .iter()
            .map(|(p, r)| (p.as_str(), r.as_str()))
            .collect::<Vec<_>>()
        );
        assert_eq!(
            ev.extra["dropped"][format!("{base}[1]")],
            json!({"unknown": "attribute"})
        );
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
        assert_eq!(ev.threads.len(), 2, "threads are kept too");
        assert!(!ev.extra.contains_key("threads"));

        let ev = map(json!({
            "exception": [{"type": "Crash"}],
            "threads": [{"id": "a", "crashed": true, "stacktrace": frames}]
        }));
        assert_eq!(ev.exceptions[0].frames[0].function.as_deref(), Some("run"));

        let ev = map(json!({
            "exception": [{"type": "E", "stacktrace": {"frames": [{"function": "own"}]}}],
            "threads": [{"id": 1, "stacktrace": frames}]
        }));
        assert_eq!(ev.exceptions[0].frames[0].function.as_deref(), Some("own"));
        assert_eq!(ev.threads[0].frames[0].function.as_deref(), Some("run"));
    }

    #[test]
    fn threads_keep_their_flags_ids_names_and_states() {
        for wire in [
            json!({"threads": [{"id": 259, "name": "main", "main": true, "state": "RUNNABLE", "crashed": false, "current": true,
                                "stacktrace": {"frames": [{"function": "loop"}]}, "held_locks": {}}, {"id": "worker-2"}]}),
            json!({"sentry.interfaces.Threads": {"values": [{"id": 259, "name": "main", "main": true, "state": "RUNNABLE",
                   "crashed": false, "current": true, "stacktrace": {"frames": [{"function": "loop"}]}}, {"id": "worker-2"}]}}),
        ] {
            let ev = map(wire);
            let t = &ev.threads[0];
            assert_eq!(
                (t.id.as_deref(), t.name.as_str(), t.state.as_deref()),
                (Some("259"), "main", Some("RUNNABLE"))
            );
            assert_eq!(
                (t.main, t.crashed, t.current),
                (Some(true), Some(false), Some(true))
            );
            assert_eq!(t.frames[0].function.as_deref(), Some("loop"));
            assert_eq!(ev.threads[1].id.as_deref(), Some("worker-2"));
            assert!(ev.processing_notes.is_empty());
        }
        let ev = map(json!({"threads": [{"id": [1], "crashed": "maybe", "stacktrace": []}]}));
        let paths: Vec<_> = notes(&ev).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "threads[0].id",
                "threads[0].crashed",
                "threads[0].stacktrace"
            ]
        );
    }

    #[test]
    fn a_top_level_stacktrace_is_the_outermost_exceptions_or_the_current_threads() {
        let frames = json!({"frames": [{"function": "handle", "filename": "app.py"}]});
        let ev =
            map(json!({"exception": [{"type": "Inner"}, {"type": "Outer"}], "stacktrace": frames}));
        assert_eq!(ev.exceptions[0].ty, "Outer");
        assert_eq!(ev.exceptions[0].frames.len(), 1);
        assert!(ev.exceptions[1].frames.is_empty());
        assert!(ev.threads.is_empty());

        for key in ["stacktrace", "sentry.interfaces.Stacktrace"] {
            let ev = map(json!({"message": "slow request", key: frames}));
            assert_eq!(ev.threads.len(), 1, "{key}");
            assert_eq!(ev.threads[0].current, Some(true));
            assert_eq!(ev.threads[0].frames[0].function.as_deref(), Some("handle"));
        }

        let ev = map(json!({"stacktrace": frames, "threads": [{"id": 1, "current": true}]}));
        assert_eq!(
            ev.threads.len(),
            1,
            "an empty current thread takes the stack"
        );
        assert_eq!(ev.threads[0].id.as_deref(), Some("1"));
        assert_eq!(ev.threads[0].frames.len(), 1);
        let ev = map(json!({"stacktrace": 5}));
        assert_eq!(
            notes(&ev),
            [("stacktrace", "dropped: expected an object, got a number")]
        );
    }

    #[test]
    fn a_template_is_a_frame_where_no_stack_is_and_a_context() {
        let template = json!({"filename": "shop/cart.html", "abs_path": "/srv/shop/templates/shop/cart.html",
            "lineno": 14, "context_line": "{% for line in cart.lines %}", "pre_context": ["<ul>"], "post_context": ["</ul>"]});
        for key in ["template", "sentry.interfaces.Template"] {
            let ev = map(json!({"message": "TemplateSyntaxError", key: template}));
            let frame = &ev.threads[0].frames[0];
            assert_eq!(frame.filename.as_deref(), Some("shop/cart.html"));
            assert_eq!((frame.lineno, frame.in_app), (Some(14), Some(true)));
            assert_eq!(
                frame.context_line.as_deref(),
                Some("{% for line in cart.lines %}")
            );
            assert_eq!(ev.contexts["template"], template);
        }
        let ev = map(json!({"exception": [{"type": "TemplateSyntaxError"}], "template": template}));
        assert_eq!(ev.exceptions[0].frames[0].lineno, Some(14));
        let ev = map(
            json!({"exception": [{"type": "E", "stacktrace": {"frames": [{"function": "render"}]}}],
                            "template": template}),
        );
        assert_eq!(
            ev.exceptions[0].frames.len(),
            1,
            "a real stack stays as it is"
        );
        assert!(ev.threads.is_empty());
        assert!(ev.contexts.contains_key("template"));
        let ev = map(json!({"template": {"lineno": 0, "context_line": [2, "{% x %}"]}}));
        assert_eq!(
            notes(&ev),
            [(
                "template.context_line",
                "dropped: expected a string, got an array"
            )]
        );
        assert!(ev.threads.is_empty());
    }
}
