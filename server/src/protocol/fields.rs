//! Reading a decoded payload leniently, the way the SDK protocols ask of a server: a value of
//! the wrong type is dropped from the model, noted in the event's `processing_notes` (path and
//! reason) and kept raw in `extra.dropped` under the note's path, so nothing the client sent is
//! lost and the sender can see what was not understood.
//!
//! [`Obj`] wraps one object of the payload and hands its attributes out by value (no copies);
//! [`Notes`] collects what was dropped; [`Path`] says where, and is only formatted when a note is
//! written.

use std::fmt;

use serde_json::{Map, Value};

use super::json_type;
use crate::event::{Event, ProcessingNote};

/// The `extra` key holding the raw values that were dropped, keyed by their path.
pub(crate) const DROPPED: &str = "dropped";

/// Notes kept per event; past this one note says how many more there were.
pub(crate) const MAX_NOTES: usize = 100;

/// The names of [`Event`]'s own fields: an unknown top-level attribute of that name cannot be
/// kept in `extra` under it (the stored event would not read back), so it goes to
/// `extra.dropped` instead.
const MODEL_FIELDS: &[&str] = &[
    "uuid",
    "timestamp",
    "level",
    "language",
    "platform",
    "framework",
    "environment",
    "release",
    "title",
    "message",
    "message_template",
    "exceptions",
    "fingerprint",
    "server",
    "request",
    "person",
    "tags",
    "custom",
    "breadcrumbs",
    "threads",
    "trace",
    "sdk",
    "contexts",
    "modules",
    "debug_images",
    "processing_notes",
    DROPPED,
];

/// Where a value sits in the payload: `user.geo`, `exception.values[2].stacktrace`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Path<'a> {
    /// The payload itself: its attributes print without a leading dot.
    Top,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    /// An attribute of the payload itself: `user`, `sentry.interfaces.Http`.
    pub(crate) fn top(key: &'a str) -> Path<'a> {
        Path::Key(&Path::Top, key)
    }

    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path::Key(self, key)
    }

    pub(crate) fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Top => Ok(()),
            Path::Key(Path::Top, key) => f.write_str(key),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// What a mapper dropped or could not place, to be put on the event at the end.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    notes: Vec<ProcessingNote>,
    more: usize,
    dropped: Map<String, Value>,
    kept: Map<String, Value>,
}

impl Notes {
    /// A note without a value to keep (a `null` skipped, an alias ignored).
    pub(crate) fn note(&mut self, path: &Path<'_>, reason: impl Into<String>) {
        self.push(path.to_string(), reason.into());
    }

    /// Drops `raw` from the model: notes why and keeps it in `extra.dropped`.
    pub(crate) fn drop(&mut self, path: &Path<'_>, raw: Value, reason: impl Into<String>) {
        let path = path.to_string();
        if !raw.is_null() {
            self.dropped.insert(path.clone(), raw);
        }
        self.push(path, reason.into());
    }

    /// [`Notes::drop`] for a value of the wrong type: "dropped: expected an object, got a
    /// number".
    pub(crate) fn wrong_type(&mut self, path: &Path<'_>, raw: Value, expected: &str) {
        let reason = format!("dropped: expected {expected}, got {}", describe(&raw));
        self.drop(path, raw, reason);
    }

    /// Keeps an attribute the model has no place for in `extra` under its dotted path
    /// (`sdk.integrations`, `request.fragment`), without a note: it was understood, just not
    /// modelled.
    pub(crate) fn keep(&mut self, path: &Path<'_>, value: Value) {
        self.kept.insert(path.to_string(), value);
    }

    fn push(&mut self, path: String, reason: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(ProcessingNote { path, reason });
        } else {
            self.more += 1;
        }
    }

    /// Puts the notes, the dropped values and the unknown `top` attributes on the event.
    pub(crate) fn finish(mut self, top: Map<String, Value>, ev: &mut Event) {
        for (key, value) in top {
            if value.is_null() {
                continue;
            }
            if MODEL_FIELDS.contains(&key.as_str()) {
                self.drop(
                    &Path::top(&key),
                    value,
                    "unknown attribute named like a field of Bugle's event: kept in `extra.dropped`",
                );
            } else {
                ev.extra.insert(key, value);
            }
        }
        ev.extra.append(&mut self.kept);
        ev.processing_notes.append(&mut self.notes);
        if self.more > 0 {
            ev.processing_notes.push(ProcessingNote::new(
                "processing_notes",
                format!("{} more notes left out", self.more),
            ));
        }
        if !self.dropped.is_empty() {
            ev.extra
                .insert(DROPPED.to_owned(), Value::Object(self.dropped));
        }
    }
}

/// A value for a note: a short string quoted, anything else by its type.
pub(crate) fn describe(v: &Value) -> String {
    const MAX: usize = 40;
    match v {
        Value::String(s) if s.chars().count() <= MAX => format!("{s:?}"),
        Value::String(s) => format!("{:?}…", s.chars().take(MAX).collect::<String>()),
        other => json_type(other).to_owned(),
    }
}

/// One object of the payload, its attributes handed out by value. What is not taken is what
/// the model has no place for: [`Obj::keep_rest`] keeps it in `extra`, or the caller lets it go
/// (the raw payload is stored beside the event).
#[derive(Debug)]
pub(crate) struct Obj<'a> {
    pub(crate) map: Map<String, Value>,
    pub(crate) path: Path<'a>,
}

impl<'a> Obj<'a> {
    pub(crate) fn new(map: Map<String, Value>, path: Path<'a>) -> Self {
        Obj { map, path }
    }

    /// Removes an attribute; `null` counts as absent.
    pub(crate) fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key).filter(|v| !v.is_null())
    }

    /// Removes and converts an attribute. `convert` gives `Ok(None)` for a value that means
    /// "nothing" (an empty string) and the value back when it is of the wrong type, which is
    /// then dropped with a note naming `expected`.
    pub(crate) fn read<T>(
        &mut self,
        key: &str,
        notes: &mut Notes,
        expected: &str,
        convert: impl FnOnce(Value) -> Result<Option<T>, Value>,
    ) -> Option<T> {
        let value = self.take(key)?;
        match convert(value) {
            Ok(out) => out,
            Err(raw) => {
                notes.wrong_type(&self.path.key(key), raw, expected);
                None
            }
        }
    }

    /// [`Obj::read`] with a converter that only looks.
    pub(crate) fn parsed<T>(
        &mut self,
        key: &str,
        notes: &mut Notes,
        expected: &str,
        convert: impl FnOnce(&Value) -> Option<T>,
    ) -> Option<T> {
        self.read(key, notes, expected, |v| match convert(&v) {
            Some(out) => Ok(Some(out)),
            None => Err(v),
        })
    }

    /// A string; numbers and booleans are printed (ids and versions arrive as both).
    pub(crate) fn text(&mut self, key: &str, notes: &mut Notes) -> Option<String> {
        self.read(key, notes, "a string", as_text)
    }

    /// A non-negative integer that fits a `u32` (lines, columns, pids); `"42"` is read too.
    pub(crate) fn uint(&mut self, key: &str, notes: &mut Notes) -> Option<u32> {
        self.parsed(key, notes, "a non-negative integer", as_uint)
    }

    /// A boolean; `"true"` and `"false"` are read too.
    pub(crate) fn boolean(&mut self, key: &str, notes: &mut Notes) -> Option<bool> {
        self.parsed(key, notes, "a boolean", |v| match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            _ => None,
        })
    }

    /// An object.
    pub(crate) fn object(&mut self, key: &str, notes: &mut Notes) -> Option<Map<String, Value>> {
        self.read(key, notes, "an object", |v| match v {
            Value::Object(m) => Ok(Some(m)),
            other => Err(other),
        })
    }

    /// Lines of source: strings, `null` as an empty line (JS SDKs send them past the file's
    /// end), a single string as one line. Other entries are dropped one by one.
    pub(crate) fn lines(&mut self, key: &str, notes: &mut Notes) -> Vec<String> {
        let list = match self.take(key) {
            None => return Vec::new(),
            Some(Value::Array(list)) => list,
            Some(Value::String(s)) => return vec![s],
            Some(other) => {
                notes.wrong_type(&self.path.key(key), other, "a list of strings");
                return Vec::new();
            }
        };
        let path = self.path.key(key);
        let mut out = Vec::with_capacity(list.len());
        for (i, line) in list.into_iter().enumerate() {
            match line {
                Value::Null => out.push(String::new()),
                Value::String(s) => out.push(s),
                Value::Number(n) => out.push(n.to_string()),
                other => notes.wrong_type(&path.index(i), other, "a string"),
            }
        }
        out
    }

    /// Keeps every attribute not taken in `extra` under its dotted path.
    pub(crate) fn keep_rest(self, notes: &mut Notes) {
        for (key, value) in self.map {
            if !value.is_null() {
                notes.keep(&self.path.key(&key), value);
            }
        }
    }
}

/// A string (empty is nothing), or a number or boolean printed.
pub(crate) fn as_text(v: Value) -> Result<Option<String>, Value> {
    match v {
        Value::String(s) => Ok((!s.is_empty()).then_some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(other),
    }
}

/// A non-negative integer that fits a `u32`, as a number (`42`, `42.0`) or a string (`"42"`).
fn as_uint(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An element of a list that must be an object: `null` is skipped with a note, anything else
/// dropped with one.
pub(crate) fn element(v: Value, path: &Path<'_>, notes: &mut Notes) -> Option<Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        Value::Null => {
            notes.note(path, "skipped: null");
            None
        }
        other => {
            notes.wrong_type(path, other, "an object");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn obj(v: Value) -> Obj<'static> {
        match v {
            Value::Object(m) => Obj::new(m, Path::Top),
            _ => unreachable!(),
        }
    }

    #[test]
    fn paths_print_as_dotted_keys_and_indexes() {
        let top = Path::Top;
        let exc = top.key("exception");
        let values = exc.key("values");
        let second = values.index(2);
        assert_eq!(
            second.key("stacktrace").to_string(),
            "exception.values[2].stacktrace"
        );
        assert_eq!(top.key("user").key("geo").to_string(), "user.geo");
        assert_eq!(top.index(0).to_string(), "[0]");
    }

    #[test]
    fn a_wrong_type_is_dropped_noted_and_kept_raw() {
        let mut notes = Notes::default();
        let mut o = obj(json!({"geo": 5, "id": 42, "name": "", "gone": null, "level": "loud"}));
        assert_eq!(o.object("geo", &mut notes), None);
        assert_eq!(o.text("id", &mut notes).as_deref(), Some("42"));
        assert_eq!(
            o.text("name", &mut notes),
            None,
            "empty is nothing, not wrong"
        );
        assert_eq!(o.text("gone", &mut notes), None);
        assert_eq!(o.uint("level", &mut notes), None);
        let mut ev = Event::default();
        notes.finish(Map::new(), &mut ev);
        let notes: Vec<_> = ev
            .processing_notes
            .iter()
            .map(|n| (n.path.as_str(), n.reason.as_str()))
            .collect();
        assert_eq!(
            notes,
            [
                ("geo", "dropped: expected an object, got a number"),
                (
                    "level",
                    "dropped: expected a non-negative integer, got \"loud\""
                )
            ]
        );
        assert_eq!(ev.extra["dropped"], json!({"geo": 5, "level": "loud"}));
    }

    #[test]
    fn unknown_attributes_named_like_model_fields_are_moved_aside() {
        let mut ev = Event::default();
        let top = json!({"culprit": "app.views", "title": 7, "dropped": [1]});
        Notes::default().finish(top.as_object().unwrap().clone(), &mut ev);
        assert_eq!(ev.extra["culprit"], "app.views");
        assert_eq!(ev.extra["dropped"], json!({"title": 7, "dropped": [1]}));
        assert_eq!(ev.processing_notes.len(), 2);
        // The event still reads back.
        let text = serde_json::to_string(&ev).unwrap();
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back.extra["dropped"]["title"], 7);
    }

    #[test]
    fn notes_are_capped() {
        let mut notes = Notes::default();
        for i in 0..MAX_NOTES + 5 {
            notes.note(&Path::Top.index(i), "skipped: null");
        }
        let mut ev = Event::default();
        notes.finish(Map::new(), &mut ev);
        assert_eq!(ev.processing_notes.len(), MAX_NOTES + 1);
        assert_eq!(
            ev.processing_notes.last().unwrap().reason,
            "5 more notes left out"
        );
    }

    #[test]
    fn lines_take_nulls_and_single_strings() {
        let mut notes = Notes::default();
        let mut o = obj(json!({"a": ["x", null, 3, {"no": 1}], "b": "one", "c": 4}));
        assert_eq!(o.lines("a", &mut notes), ["x", "", "3"]);
        assert_eq!(o.lines("b", &mut notes), ["one"]);
        assert!(o.lines("c", &mut notes).is_empty());
        let mut ev = Event::default();
        notes.finish(Map::new(), &mut ev);
        let paths: Vec<_> = ev
            .processing_notes
            .iter()
            .map(|n| n.path.as_str())
            .collect();
        assert_eq!(paths, ["a[3]", "c"]);
    }

    #[test]
    fn integers_are_read_from_numbers_and_strings() {
        for (v, expected) in [
            (json!(42), Some(42)),
            (json!(42.0), Some(42)),
            (json!("42"), Some(42)),
            (json!(-1), None),
            (json!(1.5), None),
            (json!(u64::MAX), None),
            (json!(true), None),
        ] {
            assert_eq!(as_uint(&v), expected, "{v}");
        }
    }
}
