//! Message parameterization: the variable parts of a message (ids, numbers, addresses,
//! paths, times) become placeholders, so messages that differ only by them group together.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::Version;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("grouping regexes are valid")
}

static URL: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s<>"'`]*[^\s<>"'`.,;:!?)\]}]"#));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
});
static DATETIME: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?",
    )
});
static DATE: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b"));
static TIME: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?\b"));
/// Candidates only; [`replace_ip`] keeps what does not parse (`std::io`, `a::b`).
static IPV6: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*"));
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b"));
static HEX_PREFIXED: LazyLock<Regex> = LazyLock::new(|| regex(r"\b0[xX][0-9a-fA-F]+\b"));
static LONG_HEX: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[0-9a-fA-F]{8,}\b"));
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    regex(concat!(
        // Compact forms (`150ms`, `1h30m`) as Go and Rust print them; no bare `d`, which is a hex byte.
        r"\b(?:(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+",
        r"|[0-9]+(?:\.[0-9]+)? ?(?:nanoseconds?|microseconds?|milliseconds?|millis|msecs?|ns|us|µs|ms",
        r"|s|secs?|seconds?|mins?|minutes?|hrs?|hours?|days?|weeks?))\b",
    ))
});
/// A file system path standing alone: `/etc/app.toml`, `./data/x.csv`, `~/x`, `C:\\x\\y`.
/// The prefix group keeps what came before it.
static PATH: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r#"(^|[\s'"(\[=,:])((?:[A-Za-z]:\\|\\\\|~/|\.{1,2}/|/)[^\s'"()\[\],;<>]*[^\s'"()\[\],;<>.:!?])"#,
    )
});
/// Tokens of base64's alphabet long enough to be random (checked for mixed classes).
static BASE64: LazyLock<Regex> = LazyLock::new(|| regex(r"[A-Za-z0-9+/]{16,}={0,2}"));
static SIZE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b[0-9]+(?:\.[0-9]+)? ?(?:[KMGTP]i?B|[kK]B|bytes?|B)\b"));
/// Words joined by `-` or `_` (`INV-88213`, `k8s-node-3f`); ids when they mix letters and digits.
static JOINED_ID: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)+\b"));
static WORD: LazyLock<Regex> = LazyLock::new(|| regex(r"\b[A-Za-z0-9]+\b"));

static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[0-9]+(?:\.[0-9]+)*(?:[eE][+-]?[0-9]+)?"));

/// Replaces the variable parts of a message with placeholders, as `version` of the grouping
/// algorithm does: emails, URLs, uuids, dates and times, IPs, hex, durations and numbers; from
/// version 2 also file system paths, base64 tokens, sizes and ids that mix letters and digits
/// (`INV-88213`, `eu-west7-b`, `k8s-node-3f`, `a7Bx9kQ2`).
pub fn parameterize(message: &str, version: Version) -> String {
    let v2 = version == Version::V2;
    let mut s = replace_quoted(message);
    for (pattern, placeholder) in [
        (&URL, "<url>"),
        (&EMAIL, "<email>"),
        (&UUID, "<uuid>"),
        (&DATETIME, "<datetime>"),
        (&DATE, "<date>"),
        (&TIME, "<time>"),
    ] {
        s = pattern.replace_all(&s, placeholder).into_owned();
    }
    if v2 {
        s = PATH.replace_all(&s, "${1}<path>").into_owned();
    }
    s = replace_ip(&s, &IPV6, |c| {
        c.contains(|ch: char| ch.is_ascii_digit()) && c.parse::<Ipv6Addr>().is_ok()
    });
    s = replace_ip(&s, &IPV4, |c| c.parse::<Ipv4Addr>().is_ok());
    s = HEX_PREFIXED.replace_all(&s, "<hex>").into_owned();
    s = LONG_HEX
        .replace_all(&s, |caps: &Captures| {
            let m = &caps[0];
            let mixed =
                m.bytes().any(|b| b.is_ascii_digit()) && m.bytes().any(|b| b.is_ascii_alphabetic());
            if mixed {
                "<hex>".to_owned()
            } else {
                m.to_owned()
            }
        })
        .into_owned();
    if v2 {
        s = BASE64
            .replace_all(&s, |caps: &Captures| {
                let m = &caps[0];
                let classes = [
                    m.bytes().any(|b| b.is_ascii_uppercase()),
                    m.bytes().any(|b| b.is_ascii_lowercase()),
                    m.bytes().any(|b| b.is_ascii_digit()),
                ];
                if classes.iter().all(|&c| c) {
                    "<base64>".to_owned()
                } else {
                    m.to_owned()
                }
            })
            .into_owned();
    }
    s = DURATION.replace_all(&s, "<duration>").into_owned();
    if v2 {
        s = SIZE.replace_all(&s, "<size>").into_owned();
        s = JOINED_ID
            .replace_all(&s, |caps: &Captures| {
                let m = &caps[0];
                let mixed = m.bytes().any(|b| b.is_ascii_digit())
                    && m.bytes().any(|b| b.is_ascii_alphabetic());
                if mixed {
                    "<id>".to_owned()
                } else {
                    m.to_owned()
                }
            })
            .into_owned();
        s = WORD
            .replace_all(&s, |caps: &Captures| {
                let m = &caps[0];
                if m.len() >= 6 && class_changes(m) >= 2 {
                    "<id>".to_owned()
                } else {
                    m.to_owned()
                }
            })
            .into_owned();
    }
    replace_numbers(&s)
}

/// How often a word switches between letters and digits (`a7Bx9` switches 4 times, `sha256`
/// once): words of the language switch rarely, generated ids often.
fn class_changes(word: &str) -> usize {
    let digits: Vec<bool> = word.bytes().map(|b| b.is_ascii_digit()).collect();
    digits.windows(2).filter(|w| w[0] != w[1]).count()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `'…'`, `"…"` and `` `…` `` on one line, opened and closed at word boundaries, so the
/// apostrophes in `can't` and `users'` are not quotes.
fn replace_quoted(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let quote = chars[i];
        let opens = matches!(quote, '\'' | '"' | '`') && (i == 0 || !is_word(chars[i - 1]));
        let close = opens
            .then(|| {
                (i + 1..chars.len())
                    .take_while(|&j| chars[j] != '\n')
                    .find(|&j| {
                        chars[j] == quote
                            && chars[j - 1] != '\\'
                            && chars.get(j + 1).is_none_or(|&next| !is_word(next))
                    })
            })
            .flatten();
        match close {
            Some(close) => {
                out.push(quote);
                out.push_str("<quoted>");
                out.push(quote);
                i = close + 1;
            }
            None => {
                out.push(quote);
                i += 1;
            }
        }
    }
    out
}

/// Replaces candidates that stand alone (not inside a word or a longer address) and pass `valid`.
fn replace_ip(s: &str, candidates: &Regex, valid: impl Fn(&str) -> bool) -> String {
    candidates
        .replace_all(s, |caps: &Captures| {
            let m = caps.get(0).expect("group 0 always matches");
            let joined = |c: char| is_word(c) || c == ':' || c == '.';
            let alone = !s[..m.start()].chars().next_back().is_some_and(joined)
                && !s[m.end()..].chars().next().is_some_and(is_word);
            // `fe80::1:` at the end of a clause: the colon belongs to the sentence.
            let address = m.as_str().trim_end_matches([':', '.']);
            if alone && valid(m.as_str()) {
                "<ip>".to_owned()
            } else if alone && valid(address) {
                format!("<ip>{}", &m.as_str()[address.len()..])
            } else {
                m.as_str().to_owned()
            }
        })
        .into_owned()
}

/// Standalone numbers only: digits inside identifiers (`utf8`, `x86_64`, `python3.12`, `3rd`) stay.
fn replace_numbers(s: &str) -> String {
    NUMBER
        .replace_all(s, |caps: &Captures| {
            let m = caps.get(0).expect("group 0 always matches");
            let number = m.as_str();
            let before = s[..m.start()].chars().next_back();
            let after = s[m.end()..].chars().next();
            if before.is_some_and(is_word) || after.is_some_and(is_word) {
                return number.to_owned();
            }
            let dots = number.matches('.').count();
            if number.contains(['e', 'E']) || dots == 1 {
                "<float>".to_owned()
            } else if dots == 0 {
                "<int>".to_owned()
            } else {
                vec!["<int>"; dots + 1].join(".")
            }
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_replaces_variable_parts() {
        let cases = [
            ("user 42 not found", "user <int> not found"),
            ("price -3 is negative", "price -<int> is negative"),
            ("load average 0.75", "load average <float>"),
            ("overflow at 6.02e23", "overflow at <float>"),
            ("upgrade 1.2.3 failed", "upgrade <int>.<int>.<int> failed"),
            (
                "mail to alice@example.com bounced",
                "mail to <email> bounced",
            ),
            (
                "GET https://api.example.com/v1/users/42?x=1 failed.",
                "GET <url> failed.",
            ),
            ("from 10.0.3.17:5432", "from <ip>:<int>"),
            ("from 2001:db8::ff00:42:8329", "from <ip>"),
            ("bound [::1]:8080", "bound [<ip>]:<int>"),
            ("peer fe80::1: reset", "peer <ip>: reset"),
            ("order 3f2a9c1b-8d4e-4f6a-9b2c-7e5d1a0f3c8b", "order <uuid>"),
            ("segfault at 0x7ffd5fbff8a8", "segfault at <hex>"),
            (
                "blob sha256:9f86d081884c7d659a2feaa0c55ad015",
                "blob sha256:<hex>",
            ),
            ("commit 3f2a9c1b8d4e missing", "commit <hex> missing"),
            ("at 2026-11-01T12:34:56.789Z", "at <datetime>"),
            ("at 2026-11-01 12:34", "at <datetime>"),
            ("on 2026-11-01 only", "on <date> only"),
            ("at 12:34:56 sharp", "at <time> sharp"),
            ("took 150ms", "took <duration>"),
            ("took 2.5s", "took <duration>"),
            ("took 1h30m", "took <duration>"),
            ("took 10µs", "took <duration>"),
            ("retry in 3 minutes", "retry in <duration>"),
            ("retry in 5min", "retry in <duration>"),
            ("expires in 2 days", "expires in <duration>"),
            ("unknown key 'user_id'", "unknown key '<quoted>'"),
            ("no table \"orders\"", "no table \"<quoted>\""),
            (
                "called `Option::unwrap()` on a `None` value",
                "called `<quoted>` on a `<quoted>` value",
            ),
            (r#"bad json "a \"b\" c" here"#, "bad json \"<quoted>\" here"),
            ("can't parse 'don't'", "can't parse '<quoted>'"),
            ("users' cart 'x'", "users' cart '<quoted>'"),
        ];
        for (input, expected) in cases {
            assert_eq!(parameterize(input, Version::V1), expected, "{input}");
        }
    }

    #[test]
    fn version_1_keeps_words_and_identifiers() {
        let unchanged = [
            "invalid utf8 in header",
            "ipv4 only",
            "sha256 mismatch",
            "http2 stream reset",
            "unsupported target x86_64-unknown-linux-gnu",
            "python3.12 not found",
            "v1.2 of the api is gone",
            "3rd retry",
            "i18n bundle missing",
            "failed to resolve std::io::Error",
            "no such field deadbeef",
            "can't connect",
            "a::b::c",
            "Os { code: NotFound }",
            "hex bytes 4d 5e 0a",
            "",
        ];
        for input in unchanged {
            assert_eq!(parameterize(input, Version::V1), input);
        }
    }

    #[test]
    fn version_1_is_idempotent() {
        let message =
            "user 42 (alice@example.com) from 10.0.0.1 at 2026-11-01T12:34:56Z: 'x' took 150ms";
        let once = parameterize(message, Version::V1);
        assert_eq!(parameterize(&once, Version::V1), once);
    }

    #[test]
    fn version_2_also_replaces_paths_ids_base64_and_sizes() {
        let cases = [
            ("cannot load /etc/app/7731.toml", "cannot load <path>"),
            ("no such file: ./data/2026/x.csv", "no such file: <path>"),
            (r"denied: C:\Users\ada\report.docx.", r"denied: <path>."),
            ("read /dev/sda1: i/o error", "read <path>: i/o error"),
            ("GET /cart/42 failed", "GET <path> failed"),
            ("invoice INV-88213 is locked", "invoice <id> is locked"),
            ("zone eu-west7-b is down", "zone <id> is down"),
            ("node k8s-node-3f not ready", "node <id> not ready"),
            ("session a7Bx9kQ2 expired", "session <id> expired"),
            (
                "token eyJhbGciOiJIUzI1NiJ9 rejected",
                "token <base64> rejected",
            ),
            (
                "payload of 12 MB is too large",
                "payload of <size> is too large",
            ),
            ("wrote 4096 bytes", "wrote <size>"),
            ("heap at 1.5GiB", "heap at <size>"),
            (
                "relay smtp-7.example.net refused",
                "relay <id>.example.net refused",
            ),
            ("user 42 took 150ms", "user <int> took <duration>"),
        ];
        for (input, expected) in cases {
            assert_eq!(parameterize(input, Version::V2), expected, "{input}");
        }
    }

    #[test]
    fn version_2_keeps_the_words_of_the_language() {
        for input in [
            "invalid utf8 in header",
            "ipv4 only",
            "sha256 mismatch",
            "http2 stream reset",
            "3rd retry",
            "i18n bundle missing",
            "failed to resolve std::io::Error",
            "can't connect",
            "and/or i/o",
            "Os { code: NotFound }",
            "x-request-id missing",
            "Invoice %s was not sent to %s: mail relay %s refused it",
            "",
        ] {
            assert_eq!(parameterize(input, Version::V2), input);
        }
    }

    #[test]
    fn version_2_is_idempotent() {
        let message =
            "user 42 (alice@example.com) from 10.0.0.1 read /var/x/7.bin as INV-3 (12 MB)";
        let once = parameterize(message, Version::V2);
        assert_eq!(parameterize(&once, Version::V2), once);
    }
}
