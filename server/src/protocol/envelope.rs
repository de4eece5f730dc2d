//! Sentry envelope framing, pure over bytes.
//!
//! ```text
//! {"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://e12d@bugle.example/42"}\n
//! {"type":"attachment","length":10,"filename":"hello.txt"}\n
//! \xef\xbb\xbfHello\r\n\n
//! {"type":"event"}\n
//! {"message":"hello world","level":"error"}\n
//! ```
//!
//! `Envelope = Headers { "\n" Item } [ "\n" ]` and `Item = Headers "\n" Payload`, where every
//! `Headers` is one line of JSON. An item header's `length` (bytes) wins: exactly that many bytes
//! follow, then `\n` or the end of the body. Without `length` the payload runs to the next `\n`
//! or the end. A `\r` before a `\n` belongs to the payload, never to the framing. Item types this
//! code does not know are kept as [`ItemType::Unknown`]: SDKs add types over time (client
//! reports broke servers that rejected them), so the caller decides to skip them.

use std::fmt;

use serde_json::{Map, Value};
use uuid::Uuid;

/// A parsed envelope: its headers and its items, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `event_id`, `dsn`, `sdk`, `sent_at`, `trace`, ... (an empty map for `{}`).
    pub headers: Map<String, Value>,
    pub items: Vec<Item>,
}

/// One item: its type, all of its headers (including `type` and `length`), and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub ty: ItemType,
    pub headers: Map<String, Value>,
    pub payload: Vec<u8>,
}

/// The item types Bugle tells apart; anything else is kept as `Unknown` with its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemType {
    Event,
    Transaction,
    Attachment,
    Session,
    Sessions,
    ClientReport,
    UserReport,
    Feedback,
    CheckIn,
    Unknown(String),
}

impl ItemType {
    pub fn from_name(name: &str) -> Self {
        match name {
            "event" => Self::Event,
            "transaction" => Self::Transaction,
            "attachment" => Self::Attachment,
            "session" => Self::Session,
            "sessions" => Self::Sessions,
            "client_report" => Self::ClientReport,
            "user_report" => Self::UserReport,
            "feedback" => Self::Feedback,
            "check_in" => Self::CheckIn,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The wire name, e.g. `client_report`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Event => "event",
            Self::Transaction => "transaction",
            Self::Attachment => "attachment",
            Self::Session => "session",
            Self::Sessions => "sessions",
            Self::ClientReport => "client_report",
            Self::UserReport => "user_report",
            Self::Feedback => "feedback",
            Self::CheckIn => "check_in",
            Self::Unknown(name) => name,
        }
    }
}

impl fmt::Display for ItemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One variant per way an envelope can be malformed; `index` counts items from 0.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("missing envelope header")]
    MissingHeader,
    #[error("invalid envelope header")]
    InvalidHeader(#[source] serde_json::Error),
    #[error("item {index}: invalid item header")]
    InvalidItemHeader {
        index: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("item {index}: item header has no `type`")]
    MissingItemType { index: usize },
    #[error("item {index}: item `type` must be a string")]
    InvalidItemType { index: usize },
    #[error("item {index}: item `length` must be a non-negative integer")]
    InvalidLength { index: usize },
    #[error("item {index}: length {length} runs past the body ({available} bytes left)")]
    Truncated {
        index: usize,
        length: u64,
        available: usize,
    },
    #[error("item {index}: expected a newline after the {length}-byte payload")]
    MissingNewline { index: usize, length: u64 },
}

impl Envelope {
    /// The envelope's `event_id` header (32 hex digits or a dashed UUID); it wins over the id
    /// in the event payload. `None` when absent or not a UUID.
    pub fn event_id(&self) -> Option<Uuid> {
        self.headers
            .get("event_id")?
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
    }

    /// The `dsn` header, one of the ways a Sentry client authenticates.
    pub fn dsn(&self) -> Option<&str> {
        self.headers.get("dsn")?.as_str()
    }

    /// The first item of a type.
    pub fn item(&self, ty: &ItemType) -> Option<&Item> {
        self.items.iter().find(|item| &item.ty == ty)
    }
}

/// Splits an envelope into headers and items, refusing it at its first unreadable item. See
/// the module docs for the grammar; [`parse_envelope_lenient`] goes on past bad items.
pub fn parse_envelope(body: &[u8]) -> Result<Envelope, EnvelopeError> {
    let (envelope, skipped) = parse_envelope_lenient(body)?;
    match skipped.into_iter().next() {
        Some(first) => Err(first.error),
        None => Ok(envelope),
    }
}

/// Parses one item at the start of `bytes`; returns it and the bytes after its terminator.
fn parse_item(bytes: &[u8], index: usize) -> Result<(Item, &[u8]), EnvelopeError> {
    let (header_line, rest) = split_line(bytes);
    let headers: Map<String, Value> = serde_json::from_slice(header_line)
        .map_err(|source| EnvelopeError::InvalidItemHeader { index, source })?;
    let ty = match headers.get("type") {
        None | Some(Value::Null) => return Err(EnvelopeError::MissingItemType { index }),
        Some(Value::String(name)) => ItemType::from_name(name),
        Some(_) => return Err(EnvelopeError::InvalidItemType { index }),
    };
    let (payload, after) = match headers.get("length") {
        None | Some(Value::Null) => split_line(rest),
        Some(v) => {
            let length = v.as_u64().ok_or(EnvelopeError::InvalidLength { index })?;
            take_exact(rest, length, index)?
        }
    };
    let item = Item {
        ty,
        headers,
        payload: payload.to_vec(),
    };
    Ok((item, after))
}

/// An item that could not be read, and where the reader went on from.
#[derive(Debug)]
pub struct SkippedItem {
    pub index: usize,
    pub error: EnvelopeError,
}

/// Splits an envelope as [`parse_envelope`] does, but judges it item by item: an item that
/// cannot be read is skipped (and returned, to be counted) and the reader goes on with the
/// next one where it can tell where that starts. Only a missing or malformed envelope header
/// fails the whole envelope.
///
/// Recovery: an item header that is not JSON, or whose `length` is unusable, is taken to have
/// a newline-terminated payload (both lines are skipped); a header without a usable `type`
/// but with a `length` skips that many bytes; a payload not followed by a newline skips to the
/// next one; a `length` past the end ends the envelope.
pub fn parse_envelope_lenient(body: &[u8]) -> Result<(Envelope, Vec<SkippedItem>), EnvelopeError> {
    if body.is_empty() {
        return Err(EnvelopeError::MissingHeader);
    }
    let (header_line, mut rest) = split_line(body);
    if header_line.iter().all(u8::is_ascii_whitespace) {
        return Err(EnvelopeError::MissingHeader);
    }
    let headers: Map<String, Value> =
        serde_json::from_slice(header_line).map_err(EnvelopeError::InvalidHeader)?;
    let (mut items, mut skipped) = (Vec::new(), Vec::new());
    let mut index = 0;
    while !rest.iter().all(u8::is_ascii_whitespace) {
        match parse_item(rest, index) {
            Ok((item, after)) => {
                items.push(item);
                rest = after;
            }
            Err(error) => {
                let (header_line, after_header) = split_line(rest);
                rest = match &error {
                    EnvelopeError::Truncated { .. } => &[],
                    EnvelopeError::MissingNewline { length, .. } => {
                        let skip = usize::try_from(*length).unwrap_or(usize::MAX);
                        let tail = after_header.get(skip..).unwrap_or_default();
                        split_line(tail).1
                    }
                    EnvelopeError::MissingItemType { .. }
                    | EnvelopeError::InvalidItemType { .. } => {
                        let length = serde_json::from_slice::<Map<String, Value>>(header_line)
                            .ok()
                            .and_then(|h| h.get("length").and_then(Value::as_u64));
                        match length {
                            Some(n) => match take_exact(after_header, n, index) {
                                Ok((_, after)) => after,
                                Err(_) => &[],
                            },
                            None => split_line(after_header).1,
                        }
                    }
                    _ => split_line(after_header).1,
                };
                skipped.push(SkippedItem { index, error });
            }
        }
        index += 1;
    }
    Ok((Envelope { headers, items }, skipped))
}

/// Exactly `length` bytes, which must be followed by `\n` (consumed) or the end of the body.
fn take_exact(bytes: &[u8], length: u64, index: usize) -> Result<(&[u8], &[u8]), EnvelopeError> {
    let truncated = EnvelopeError::Truncated {
        index,
        length,
        available: bytes.len(),
    };
    let len = usize::try_from(length).map_err(|_| truncated)?;
    if len > bytes.len() {
        return Err(EnvelopeError::Truncated {
            index,
            length,
            available: bytes.len(),
        });
    }
    let (payload, rest) = bytes.split_at(len);
    match rest.first() {
        None => Ok((payload, rest)),
        Some(b'\n') => Ok((payload, &rest[1..])),
        Some(_) => Err(EnvelopeError::MissingNewline { index, length }),
    }
}

/// The bytes up to the first `\n` (not included; a `\r` before it is kept) and the bytes after
/// it. Without a `\n`, the whole input and an empty rest.
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lenient_read_skips_bad_items_and_keeps_the_others() {
        let body = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n\
{\"type\":\"event\"}\n{\"message\":\"ok\"}\n\
not json\nits payload\n\
{\"length\":3}\nabc\n\
{\"type\":\"attachment\",\"length\":2}\nxyz\n\
{\"type\":\"session\"}\n{}\n\
{\"type\":\"attachment\",\"length\":99}\nshort";
        let (env, skipped) = parse_envelope_lenient(body).unwrap();
        let kinds: Vec<_> = env.items.iter().map(|i| i.ty.as_str().to_owned()).collect();
        assert_eq!(kinds, ["event", "session"]);
        let reasons: Vec<_> = skipped
            .iter()
            .map(|s| (s.index, s.error.to_string()))
            .collect();
        assert_eq!(reasons.len(), 4, "{reasons:?}");
        assert!(matches!(
            skipped[0].error,
            EnvelopeError::InvalidItemHeader { .. }
        ));
        assert!(matches!(
            skipped[1].error,
            EnvelopeError::MissingItemType { .. }
        ));
        assert!(matches!(
            skipped[2].error,
            EnvelopeError::MissingNewline { .. }
        ));
        assert!(matches!(skipped[3].error, EnvelopeError::Truncated { .. }));
        assert!(parse_envelope_lenient(b"not json\n").is_err());
        assert!(parse_envelope_lenient(b"").is_err());
    }

    fn parse(body: &[u8]) -> Envelope {
        parse_envelope(body).unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(body)))
    }

    fn payloads(env: &Envelope) -> Vec<&[u8]> {
        env.items.iter().map(|i| i.payload.as_slice()).collect()
    }

    #[test]
    fn an_envelope_with_only_headers_is_valid() {
        for body in [
            &b"{}"[..],
            b"{}\n",
            b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n",
        ] {
            let env = parse(body);
            assert!(env.items.is_empty(), "{body:?}");
        }
    }

    #[test]
    fn the_empty_header_is_valid_and_items_follow_it() {
        let env = parse(b"{}\n{\"type\":\"event\"}\n{\"message\":\"hi\"}\n");
        assert!(env.headers.is_empty());
        assert_eq!(env.items.len(), 1);
        assert_eq!(env.items[0].ty, ItemType::Event);
        assert_eq!(payloads(&env), [&b"{\"message\":\"hi\"}"[..]]);
    }

    #[test]
    fn the_trailing_newline_is_optional() {
        let with = parse(b"{}\n{\"type\":\"event\"}\n{\"a\":1}\n");
        let without = parse(b"{}\n{\"type\":\"event\"}\n{\"a\":1}");
        assert_eq!(with, without);
        let with = parse(b"{}\n{\"type\":\"attachment\",\"length\":3}\nabc\n");
        let without = parse(b"{}\n{\"type\":\"attachment\",\"length\":3}\nabc");
        assert_eq!(with, without);
        assert_eq!(payloads(&with), [&b"abc"[..]]);
    }

    #[test]
    fn an_explicit_length_wins_over_newlines_in_the_payload() {
        let env = parse(
            b"{}\n{\"type\":\"attachment\",\"length\":6}\nab\ncd\n\n{\"type\":\"event\"}\n{}\n",
        );
        assert_eq!(payloads(&env), [&b"ab\ncd\n"[..], b"{}"]);
        assert_eq!(env.items[0].headers["length"], 6);
    }

    #[test]
    fn without_length_the_payload_runs_to_the_next_newline() {
        let env =
            parse(b"{}\n{\"type\":\"session\"}\n{\"sid\":\"x\"}\n{\"type\":\"event\"}\n{\"b\":2}");
        assert_eq!(payloads(&env), [&b"{\"sid\":\"x\"}"[..], b"{\"b\":2}"]);
    }

    #[test]
    fn a_zero_length_payload_is_empty() {
        let env = parse(
            b"{}\n{\"type\":\"attachment\",\"length\":0}\n\n{\"type\":\"event\",\"length\":0}\n",
        );
        assert_eq!(payloads(&env), [&b""[..], b""]);
        let env = parse(b"{}\n{\"type\":\"attachment\",\"length\":0}");
        assert_eq!(payloads(&env), [&b""[..]]);
    }

    #[test]
    fn an_implicit_empty_payload_at_the_end_is_empty() {
        let env = parse(b"{}\n{\"type\":\"event\"}\n");
        assert_eq!(payloads(&env), [&b""[..]]);
        let env = parse(b"{}\n{\"type\":\"event\"}");
        assert_eq!(payloads(&env), [&b""[..]]);
    }

    #[test]
    fn a_carriage_return_before_the_newline_belongs_to_the_payload() {
        let env = parse(b"{}\r\n{\"type\":\"event\"}\r\n{\"a\":1}\r\n{\"type\":\"attachment\",\"length\":2}\r\nhi\n");
        assert_eq!(payloads(&env), [&b"{\"a\":1}\r"[..], b"hi"]);
        // With an explicit length, a `\r` after the payload is not a terminator.
        let err =
            parse_envelope(b"{}\n{\"type\":\"attachment\",\"length\":2}\nhi\r\n").unwrap_err();
        assert!(
            matches!(
                err,
                EnvelopeError::MissingNewline {
                    index: 0,
                    length: 2
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn unknown_item_types_are_kept_not_rejected() {
        let env = parse(
            b"{}\n{\"type\":\"replay_video\",\"length\":2}\nxy\n{\"type\":\"client_report\"}\n{}\n",
        );
        assert_eq!(env.items[0].ty, ItemType::Unknown("replay_video".into()));
        assert_eq!(env.items[0].ty.as_str(), "replay_video");
        assert_eq!(env.items[1].ty, ItemType::ClientReport);
    }

    #[test]
    fn every_known_item_type_round_trips_its_name() {
        for name in [
            "event",
            "transaction",
            "attachment",
            "session",
            "sessions",
            "client_report",
            "user_report",
            "feedback",
            "check_in",
            "profile",
        ] {
            assert_eq!(ItemType::from_name(name).as_str(), name);
        }
    }

    #[test]
    fn item_headers_are_kept_whole() {
        let env = parse(b"{}\n{\"type\":\"attachment\",\"length\":1,\"filename\":\"a.txt\",\"attachment_type\":\"event.attachment\"}\nx");
        let h = &env.items[0].headers;
        assert_eq!(h["filename"], "a.txt");
        assert_eq!(h["attachment_type"], "event.attachment");
        assert_eq!(h["type"], "attachment");
    }

    #[test]
    fn envelope_headers_give_event_id_and_dsn() {
        let env = parse(
            b"{\"event_id\":\"9ec79c33-ec99-42ab-8353-589fcb2e04dc\",\"dsn\":\"https://k@h/1\"}\n",
        );
        assert_eq!(
            env.event_id().unwrap().simple().to_string(),
            "9ec79c33ec9942ab8353589fcb2e04dc"
        );
        assert_eq!(env.dsn(), Some("https://k@h/1"));
        assert!(parse(b"{\"event_id\":\"nope\"}").event_id().is_none());
    }

    #[test]
    fn trailing_blank_lines_after_the_last_item_are_ignored() {
        let env = parse(b"{}\n{\"type\":\"event\"}\n{}\n\n\r\n");
        assert_eq!(env.items.len(), 1);
    }

    #[test]
    fn malformed_envelopes_fail_with_a_precise_error() {
        type Check = fn(&EnvelopeError) -> bool;
        let cases: &[(&str, &[u8], Check)] = &[
            ("empty body", b"", |e| {
                matches!(e, EnvelopeError::MissingHeader)
            }),
            ("blank header", b"\n{\"type\":\"event\"}\n{}", |e| {
                matches!(e, EnvelopeError::MissingHeader)
            }),
            ("header not JSON", b"{nope\n", |e| {
                matches!(e, EnvelopeError::InvalidHeader(_))
            }),
            ("header not an object", b"[1]\n", |e| {
                matches!(e, EnvelopeError::InvalidHeader(_))
            }),
            ("item header not JSON", b"{}\n{\"type\":\n{}", |e| {
                matches!(e, EnvelopeError::InvalidItemHeader { index: 0, .. })
            }),
            (
                "blank line between items",
                b"{}\n{\"type\":\"event\"}\n{}\n\n{\"type\":\"event\"}\n{}",
                |e| matches!(e, EnvelopeError::InvalidItemHeader { index: 1, .. }),
            ),
            ("item without type", b"{}\n{\"length\":0}\n", |e| {
                matches!(e, EnvelopeError::MissingItemType { index: 0 })
            }),
            ("type not a string", b"{}\n{\"type\":7}\n{}", |e| {
                matches!(e, EnvelopeError::InvalidItemType { index: 0 })
            }),
            (
                "negative length",
                b"{}\n{\"type\":\"event\",\"length\":-1}\n{}",
                |e| matches!(e, EnvelopeError::InvalidLength { index: 0 }),
            ),
            (
                "length as a string",
                b"{}\n{\"type\":\"event\",\"length\":\"2\"}\n{}",
                |e| matches!(e, EnvelopeError::InvalidLength { index: 0 }),
            ),
            (
                "length past the body",
                b"{}\n{\"type\":\"attachment\",\"length\":10}\nabc",
                |e| {
                    matches!(
                        e,
                        EnvelopeError::Truncated {
                            index: 0,
                            length: 10,
                            available: 3
                        }
                    )
                },
            ),
            (
                "huge length",
                b"{}\n{\"type\":\"attachment\",\"length\":18446744073709551615}\nabc",
                |e| matches!(e, EnvelopeError::Truncated { index: 0, .. }),
            ),
            (
                "no newline after payload",
                b"{}\n{\"type\":\"event\"}\n{}\n{\"type\":\"attachment\",\"length\":2}\nabc\n",
                |e| {
                    matches!(
                        e,
                        EnvelopeError::MissingNewline {
                            index: 1,
                            length: 2
                        }
                    )
                },
            ),
        ];
        for (name, body, check) in cases {
            match parse_envelope(body) {
                Ok(env) => panic!("{name}: parsed as {env:?}"),
                Err(e) => assert!(check(&e), "{name}: unexpected error {e:?}"),
            }
        }
    }

    #[test]
    fn errors_keep_the_json_cause() {
        use std::error::Error as _;
        let err = parse_envelope(b"{}\n{\"type\"}\n").unwrap_err();
        assert_eq!(err.to_string(), "item 0: invalid item header");
        assert!(err.source().is_some());
    }
}
