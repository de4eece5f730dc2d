//! JSON values as the page shows them: short ones on one line, long ones pretty-printed, both
//! cut to a readable size with "…"; and the request's secrets masked.

use serde_json::{Map, Value};

use super::{pair, Pair};

/// Most characters a table cell shows of one value.
pub const CELL_CHARS: usize = 1_000;
/// Most characters a block (a request body, custom data, a breadcrumb's data) shows.
pub const BLOCK_CHARS: usize = 16_000;
/// Values whose one-line form is longer than this are shown pretty-printed instead.
pub const INLINE_CHARS: usize = 120;
/// What a masked value reads as.
pub const FILTERED: &str = "[Filtered]";

/// `s` with at most `max` characters, "…" marking a cut.
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

/// A string as it is, anything else as one-line JSON; cut for a cell.
pub fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => cut(s, CELL_CHARS),
        other => cut(&other.to_string(), CELL_CHARS),
    }
}

/// A string as it is, anything else as indented JSON; cut to `max` characters, at a line end
/// when one is near.
pub fn pretty(v: &Value, max: usize) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    match text.char_indices().nth(max) {
        None => text,
        Some((at, _)) => {
            let head = &text[..at];
            let at = match head.rfind('\n') {
                Some(nl) if nl > at / 2 => nl,
                _ => at,
            };
            format!("{}\n…", &text[..at])
        }
    }
}

/// A key and a value for a key/value table: scalars and short values on one line, longer
/// objects and lists pretty-printed.
pub fn json_pair(key: &str, v: &Value) -> Pair {
    let line = compact(v);
    let nested = matches!(v, Value::Object(_) | Value::Array(_));
    if nested && line.chars().count() > INLINE_CHARS {
        Pair {
            key: key.to_owned(),
            value: pretty(v, BLOCK_CHARS / 4),
            block: true,
        }
    } else {
        pair(key, line)
    }
}

/// One row per key of an object; anything else is one row named `value`.
pub fn json_pairs(v: &Value) -> Vec<Pair> {
    match v {
        Value::Object(map) => map.iter().map(|(k, v)| json_pair(k, v)).collect(),
        Value::Null => Vec::new(),
        other => vec![json_pair("value", other)],
    }
}

/// Whether a cookie, header, parameter or variable of this name likely holds a secret.
pub fn is_sensitive(name: &str) -> bool {
    const WORDS: [&str; 10] = [
        "cookie",
        "session",
        "token",
        "auth",
        "password",
        "passwd",
        "secret",
        "key",
        "csrf",
        "credential",
    ];
    let name = name.to_ascii_lowercase();
    WORDS.iter().any(|w| name.contains(w))
}

/// `v` with the values of sensitive keys replaced by [`FILTERED`], at any depth.
pub fn mask(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_sensitive(k) && !v.is_null() {
                        Value::String(FILTERED.into())
                    } else {
                        mask(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask).collect()),
        other => other.clone(),
    }
}

/// `a=1; b=2` (a `Cookie` header) or `a=1&b=2` (a query string) as name/value pairs.
fn split_pairs(text: &str, separator: char) -> Vec<(String, String)> {
    text.split(separator)
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| match part.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
            None => (part.to_owned(), String::new()),
        })
        .collect()
}

/// Cookies or query parameters (an object, or the raw `a=1; b=2` / `a=1&b=2` text) as rows,
/// sensitive ones masked.
pub fn masked_pairs(v: &Value, separator: char) -> Vec<Pair> {
    match v {
        Value::String(text) => split_pairs(text, separator)
            .into_iter()
            .map(|(k, v)| {
                let v = if is_sensitive(&k) && !v.is_empty() {
                    FILTERED.to_owned()
                } else {
                    cut(&v, CELL_CHARS)
                };
                pair(&k, v)
            })
            .collect(),
        other => json_pairs(&mask(other)),
    }
}

/// A stored event with its request's secrets masked as the page shows them: headers, cookies,
/// query, body and environment. For the raw JSON on the page.
pub fn mask_request(stored: &Value) -> Value {
    let mut event = stored.clone();
    let Some(request) = event.get_mut("request").and_then(Value::as_object_mut) else {
        return event;
    };
    for key in ["headers", "query", "data", "env"] {
        if let Some(v) = request.get_mut(key) {
            let masked = match &*v {
                Value::String(text) if key == "query" => Value::String(join_masked(text, '&')),
                other => mask(other),
            };
            *v = masked;
        }
    }
    if let Some(v) = request.get_mut("cookies") {
        let masked = match &*v {
            Value::String(text) => Value::String(join_masked(text, ';')),
            other => mask(other),
        };
        *v = masked;
    }
    event
}

fn join_masked(text: &str, separator: char) -> String {
    split_pairs(text, separator)
        .into_iter()
        .map(|(k, v)| {
            if is_sensitive(&k) && !v.is_empty() {
                format!("{k}={FILTERED}")
            } else if v.is_empty() {
                k
            } else {
                format!("{k}={v}")
            }
        })
        .collect::<Vec<_>>()
        .join(if separator == ';' { "; " } else { "&" })
}

/// The string under the first of `keys` that has one (numbers written as they are).
pub fn text_at(map: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .filter_map(|k| map.get(*k))
        .find_map(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("äöü", 3), "äöü");
        let long = json!({"list": (0..5000).collect::<Vec<_>>()});
        assert!(compact(&long).ends_with('…'));
        assert_eq!(compact(&long).chars().count(), CELL_CHARS + 1);
        let text = pretty(&long, 100);
        assert!(
            text.ends_with("\n…") && text.chars().count() <= 102,
            "{text}"
        );
        assert_eq!(compact(&json!("plain")), "plain");
    }

    #[test]
    fn short_values_stay_on_one_line_and_long_ones_are_blocks() {
        let short = json_pair("a", &json!({"x": 1}));
        assert_eq!((short.value.as_str(), short.block), (r#"{"x":1}"#, false));
        let long = json_pair("b", &json!({"x": "y".repeat(200)}));
        assert!(long.block && long.value.starts_with("{\n"));
        assert_eq!(json_pairs(&json!(3))[0].key, "value");
    }

    #[test]
    fn secrets_in_cookies_headers_and_bodies_are_masked() {
        assert!(is_sensitive("sessionid") && is_sensitive("X-Api-Key"));
        assert!(is_sensitive("Authorization") && is_sensitive("Cookie"));
        assert!(!is_sensitive("theme") && !is_sensitive("Content-Type"));
        let rows = masked_pairs(&json!("theme=dark; sessionid=s3cr3t; csrftoken=abc"), ';');
        let shown: Vec<_> = rows
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("theme", "dark"),
                ("sessionid", FILTERED),
                ("csrftoken", FILTERED)
            ]
        );
        let rows = masked_pairs(&json!({"auth_token": "t", "lang": "de"}), ';');
        assert_eq!(rows[0].value, FILTERED);
        assert_eq!(rows[1].value, "de");
        let body =
            mask(&json!({"user": {"name": "ada", "password": "pw"}, "items": [{"api_key": 1}]}));
        assert_eq!(
            body,
            json!({"user": {"name": "ada", "password": FILTERED}, "items": [{"api_key": FILTERED}]})
        );

        let stored = json!({"request": {
            "headers": {"Cookie": "sessionid=s3cr3t", "Authorization": "Bearer abc", "Accept": "*/*"},
            "cookies": "sessionid=s3cr3t; theme=dark",
            "query": "page=2&token=abc",
            "env": {"HTTP_COOKIE": "sessionid=s3cr3t", "REMOTE_ADDR": "10.0.0.1"}
        }});
        let masked = mask_request(&stored).to_string();
        assert!(
            !masked.contains("s3cr3t") && !masked.contains("abc"),
            "{masked}"
        );
        assert!(masked.contains("theme=dark") && masked.contains("page=2"));
        assert!(masked.contains("10.0.0.1") && masked.contains("*/*"));
    }
}
