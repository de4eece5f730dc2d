//! What the event says: `logentry` (alias `sentry.interfaces.Message`) and the legacy
//! `message`, each a plain string or `{message, params, formatted}`. `logentry` wins; a
//! different `message` beside it is kept in `extra.dropped` with a note.

use serde_json::Value;

use super::take_aliased;
use crate::event::Event;
use crate::protocol::{string, Notes, Obj, Path};

pub(super) fn map(top: &mut Obj<'_>, ev: &mut Event, notes: &mut Notes) {
    let mut found = None;
    if let Some((key, v)) = take_aliased(top, notes, "logentry", "sentry.interfaces.Message") {
        found = read(v, &Path::top(key), notes);
    }
    if let Some(v) = top.take("message") {
        let path = Path::top("message");
        match &found {
            None => found = read(v, &path, notes),
            Some((text, _)) if message_text(&v).as_ref() == Some(text) => {}
            Some(_) => notes.drop(&path, v, "ignored: `logentry` is also present"),
        }
    }
    if let Some((text, template)) = found {
        ev.message = Some(text);
        ev.message_template = template;
    }
}

/// The text and the template of one message attribute; `None`, noted, when it says nothing.
fn read(v: Value, path: &Path<'_>, notes: &mut Notes) -> Option<(String, Option<String>)> {
    match v {
        Value::String(s) => (!s.is_empty()).then_some((s, None)),
        Value::Number(n) => Some((n.to_string(), None)),
        Value::Bool(b) => Some((b.to_string(), None)),
        Value::Object(mut m) => {
            if let Some(params) = m.get("params") {
                if !matches!(params, Value::Array(_) | Value::Object(_) | Value::Null) {
                    let params = m.remove("params").unwrap_or_default();
                    notes.wrong_type(&path.key("params"), params, "a list or an object");
                }
            }
            let v = Value::Object(m);
            match message_text(&v) {
                Some(text) => Some((text, message_template(&v))),
                None => {
                    notes.drop(path, v, "dropped: has neither `message` nor `formatted`");
                    None
                }
            }
        }
        other => {
            notes.wrong_type(path, other, "a string or {message, params, formatted}");
            None
        }
    }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tests::{map, notes};

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
    fn the_legacy_message_interface_is_a_logentry() {
        let ev = map(
            json!({"sentry.interfaces.Message": {"message": "user %s left", "params": ["ada"]}}),
        );
        assert_eq!(ev.message.as_deref(), Some("user ada left"));
        assert_eq!(ev.message_template.as_deref(), Some("user %s left"));
        assert!(ev.extra.is_empty(), "{:?}", ev.extra);
    }

    #[test]
    fn a_message_beside_a_different_logentry_is_kept_with_a_note() {
        let ev = map(json!({"logentry": {"formatted": "from logentry"}, "message": "other"}));
        assert_eq!(ev.message.as_deref(), Some("from logentry"));
        assert_eq!(
            notes(&ev),
            [("message", "ignored: `logentry` is also present")]
        );
        assert_eq!(ev.extra["dropped"]["message"], "other");
        let same = map(json!({"logentry": {"formatted": "x"}, "message": "x"}));
        assert!(same.processing_notes.is_empty());
    }

    #[test]
    fn unusable_messages_are_noted_and_the_next_one_is_used() {
        let ev = map(
            json!({"logentry": {"params": ["missing message or formatted"]}, "message": "plain"}),
        );
        assert_eq!(ev.message.as_deref(), Some("plain"));
        assert_eq!(
            notes(&ev),
            [("logentry", "dropped: has neither `message` nor `formatted`")]
        );
        let ev = map(json!({"message": ["a", "list"]}));
        assert_eq!(ev.message, None);
        assert_eq!(
            notes(&ev),
            [(
                "message",
                "dropped: expected a string or {message, params, formatted}, got an array"
            )]
        );
        let ev = map(json!({"logentry": {"message": "n=%s", "params": 5}}));
        assert_eq!(ev.message.as_deref(), Some("n=%s"));
        assert_eq!(
            notes(&ev),
            [(
                "logentry.params",
                "dropped: expected a list or an object, got a number"
            )]
        );
        assert_eq!(map(json!({"message": 404})).message.as_deref(), Some("404"));
    }
}
