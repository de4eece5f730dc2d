//! Browser security reports inside an event: `csp`, `hpkp`, `expectct`, `expectstaple` and
//! `nel` (aliases `sentry.interfaces.Csp`, `.Hpkp`, `.ExpectCT`, `.ExpectStaple`, `.Nel`).
//!
//! Each report is kept whole as a context of its kind (`contexts.csp`...). When the event says
//! nothing else (no message, no exception) the report gives it a message to be titled and
//! grouped by, worded as Sentry words it: `Blocked 'script' from 'evil.example'`,
//! `Public key pinning validation failed for 'example.com'`, `Expect-CT failed for
//! 'example.com'`, `Expect-Staple failed for 'example.com'`. A CSP report also gives the tags
//! `effective-directive` and `blocked-uri` (the client's own tags win).

use serde_json::{Map, Value};

use super::take_aliased;
use crate::event::Event;
use crate::protocol::{security, Notes, Obj, Path};

const REPORTS: &[(&str, &str)] = &[
    ("csp", "sentry.interfaces.Csp"),
    ("hpkp", "sentry.interfaces.Hpkp"),
    ("expectct", "sentry.interfaces.ExpectCT"),
    ("expectstaple", "sentry.interfaces.ExpectStaple"),
    ("nel", "sentry.interfaces.Nel"),
];

pub(super) fn map(top: &mut Obj<'_>, ev: &mut Event, notes: &mut Notes) {
    for &(kind, legacy) in REPORTS {
        let Some((key, v)) = take_aliased(top, notes, kind, legacy) else {
            continue;
        };
        let report = match v {
            Value::Object(m) => m,
            other => {
                notes.wrong_type(&Path::top(key), other, "an object");
                continue;
            }
        };
        let message = match kind {
            "csp" => {
                if let Some(directive) = security::csp_directive(&report) {
                    ev.tags
                        .entry("effective-directive".into())
                        .or_insert(directive);
                }
                if let Some(uri) = text(&report, "blocked_uri") {
                    ev.tags
                        .entry("blocked-uri".into())
                        .or_insert_with(|| uri.to_owned());
                }
                Some(security::csp_report_title(&report))
            }
            "hpkp" | "expectct" | "expectstaple" => Some(security::certificate_title(
                kind,
                text(&report, "hostname").or_else(|| text(&report, "host_name")),
            )),
            _ => None,
        };
        if ev.message.is_none() && ev.exceptions.is_empty() {
            ev.message = message;
        }
        ev.contexts.insert(kind.to_owned(), Value::Object(report));
    }
}

fn text<'m>(m: &'m Map<String, Value>, key: &str) -> Option<&'m str> {
    m.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::tests::{map, notes};
    use super::*;

    fn csp(report: Value) -> String {
        security::csp_report_title(report.as_object().unwrap())
    }

    #[test]
    fn csp_messages_say_what_was_blocked_and_from_where() {
        let cases = [
            (
                json!({"effective_directive": "script-src", "blocked_uri": "https://evil.example/x.js"}),
                "Blocked 'script' from 'evil.example'",
            ),
            (
                json!({"violated_directive": "img-src 'self'", "blocked_uri": "http://cdn.example:8080/a.png"}),
                "Blocked 'image' from 'cdn.example:8080'",
            ),
            (
                json!({"effective_directive": "form-action", "blocked_uri": "https://phish.example/login"}),
                "Blocked 'form' action to 'phish.example'",
            ),
            (
                json!({"effective_directive": "font-src", "blocked_uri": "data:font/woff2;base64,AAA"}),
                "Blocked 'font' from 'data:'",
            ),
            (
                json!({"effective_directive": "style-src", "blocked_uri": ""}),
                "Blocked inline 'style'",
            ),
            (
                json!({"effective_directive": "script-src", "blocked_uri": "self", "violated_directive": "script-src 'self' 'unsafe-inline'"}),
                "Blocked unsafe eval() 'script'",
            ),
            (
                json!({"effective_directive": "script-src", "blocked_uri": "", "violated_directive": "script-src 'self' 'unsafe-eval'"}),
                "Blocked unsafe inline 'script'",
            ),
            (
                json!({"effective_directive": "script-src", "blocked_uri": "'self'"}),
                "Blocked unsafe (eval() or inline) 'script'",
            ),
            (
                json!({"effective_directive": "script-src-elem", "blocked_uri": "inline"}),
                "Blocked unsafe inline 'script'",
            ),
            (
                json!({"effective_directive": "script-src", "blocked_uri": "eval"}),
                "Blocked unsafe eval() 'script'",
            ),
            (
                json!({"effective_directive": "script-src-attr", "blocked_uri": "inline"}),
                "Blocked inline script attribute",
            ),
            (
                json!({"effective_directive": "sandbox", "blocked_uri": "https://x.example/"}),
                "Blocked 'sandbox' from 'x.example'",
            ),
            (json!({}), "Blocked by the Content Security Policy"),
        ];
        for (report, message) in cases {
            assert_eq!(csp(report.clone()), message, "{report}");
        }
    }

    #[test]
    fn each_report_interface_is_a_context_and_titles_a_bare_event() {
        let cases = [
            (
                "csp",
                json!({"effective_directive": "script-src", "blocked_uri": "https://evil.example/x.js",
                           "violated_directive": "script-src 'self'", "document_uri": "https://shop.example/"}),
                "Blocked 'script' from 'evil.example'",
            ),
            (
                "hpkp",
                json!({"hostname": "shop.example", "port": 443, "known_pins": ["pin-sha256=\"x\""]}),
                "Public key pinning validation failed for 'shop.example'",
            ),
            (
                "expectct",
                json!({"hostname": "shop.example", "port": 443, "scts": []}),
                "Expect-CT failed for 'shop.example'",
            ),
            (
                "expectstaple",
                json!({"hostname": "shop.example", "response_status": "ERROR_RESPONSE"}),
                "Expect-Staple failed for 'shop.example'",
            ),
        ];
        let legacy = [
            "sentry.interfaces.Csp",
            "sentry.interfaces.Hpkp",
            "sentry.interfaces.ExpectCT",
            "sentry.interfaces.ExpectStaple",
        ];
        for ((kind, report, message), legacy) in cases.into_iter().zip(legacy) {
            for key in [kind, legacy] {
                let ev = map(json!({key: report.clone()}));
                assert_eq!(ev.message.as_deref(), Some(message), "{key}");
                assert_eq!(ev.contexts[kind], report, "{key}");
                assert!(ev.processing_notes.is_empty(), "{key}");
            }
            let ev =
                map(json!({kind: report.clone(), "logentry": {"formatted": "the sender's own"}}));
            assert_eq!(ev.message.as_deref(), Some("the sender's own"));
        }
        let ev = map(
            json!({"csp": {"effective_directive": "img-src", "blocked_uri": "https://t.example/p.gif"},
                            "tags": {"blocked-uri": "mine"}}),
        );
        assert_eq!(ev.tags["effective-directive"], "img-src");
        assert_eq!(ev.tags["blocked-uri"], "mine");
        let ev =
            map(json!({"nel": {"type": "dns.name_not_resolved", "url": "https://shop.example/"}}));
        assert_eq!(ev.contexts["nel"]["type"], "dns.name_not_resolved");
        let ev = map(json!({"hpkp": "nope"}));
        assert_eq!(
            notes(&ev),
            [("hpkp", "dropped: expected an object, got \"nope\"")]
        );
    }
}
