//! Turning stored data into what templates show: times, charts, and an event laid out for
//! reading. Pure functions; the templates only loop and escape.
//!
//! - [`chart`]: bar charts of counts.
//! - [`event`]: a stored occurrence laid out section by section ([`event_view`]).
//! - [`graph`]: the services graph, laid out for SVG.
//! - [`stack`]: exceptions, frames, threads and the binaries of native code.
//! - [`trace`]: the other errors of an occurrence's trace.
//! - [`values`]: JSON values cut to a readable size, and secrets masked.

mod chart;
mod event;
pub mod graph;
mod stack;
pub mod trace;
mod values;

pub use chart::{chart, day_label, hour_label, Chart};
pub use event::{event_view, EventView};

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

/// A name and a value, for the key/value tables (tags, request headers, context, ...).
/// `block` values are several lines (pretty JSON) and shown preformatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub key: String,
    pub value: String,
    pub block: bool,
}

/// A one-line pair.
fn pair(key: &str, value: impl Into<String>) -> Pair {
    Pair {
        key: key.to_owned(),
        value: value.into(),
        block: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(url_encode("/issues?q=a b&c"), "/issues%3Fq%3Da%20b%26c");
    }
}
