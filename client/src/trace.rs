//! The trace the current thread works for, set from a W3C `traceparent` (the header a
//! request came with, or what an OpenTelemetry propagator injects): every event captured on
//! this thread then carries its trace and span ids, so the server lists it with the other
//! errors of that trace, whichever service or SDK reported them.
//!
//! With the `opentelemetry` feature, an event captured where no `traceparent` was set carries
//! the ids of the active span instead: the current `tracing` span's OpenTelemetry context
//! (tracing-opentelemetry), else OpenTelemetry's current context (a span entered through the
//! OpenTelemetry API). A `traceparent` set by hand wins over both: it is what the app said
//! explicitly, for example for work done on behalf of a request whose span lives elsewhere.

use std::cell::RefCell;

use bugle_wire::Trace;

thread_local! {
    static CURRENT: RefCell<Option<Trace>> = const { RefCell::new(None) };
}

/// Parses `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>` (W3C Trace Context); a
/// later version may add fields after the flags. All-zero ids are invalid.
pub(crate) fn parse_traceparent(header: &str) -> Option<Trace> {
    let mut parts = header.trim().split('-');
    let version = parts.next()?;
    let trace_id = parts.next()?;
    let span_id = parts.next()?;
    let flags = parts.next()?;
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            && s.bytes().any(|b| b != b'0')
    };
    let version_ok = version.len() == 2
        && version != "ff"
        && version.bytes().all(|b| b.is_ascii_hexdigit())
        && (version != "00" || parts.next().is_none());
    let flags_ok = flags.len() == 2 && flags.bytes().all(|b| b.is_ascii_hexdigit());
    (version_ok && flags_ok && hex(trace_id, 32) && hex(span_id, 16)).then(|| Trace {
        trace_id: Some(trace_id.to_owned()),
        span_id: Some(span_id.to_owned()),
    })
}

/// Sets the current thread's trace from a `traceparent` value; false (and the thread's trace
/// cleared) when it is not a valid one.
pub(crate) fn set(header: &str) -> bool {
    let trace = parse_traceparent(header);
    let ok = trace.is_some();
    CURRENT.with(|c| *c.borrow_mut() = trace);
    ok
}

pub(crate) fn clear() {
    CURRENT.with(|c| *c.borrow_mut() = None);
}

/// The current thread's trace: the one set by hand, else (with the `opentelemetry` feature)
/// the active span's.
pub(crate) fn current() -> Option<Trace> {
    let set = CURRENT.with(|c| c.borrow().clone());
    #[cfg(feature = "opentelemetry")]
    let set = set.or_else(active_span);
    set
}

/// The trace and span ids of the active span, if it is a valid (sampled or not) one.
#[cfg(feature = "opentelemetry")]
fn active_span() -> Option<Trace> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    let of = |cx: &opentelemetry::Context| {
        let span = cx.span();
        let sc = span.span_context();
        sc.is_valid().then(|| Trace {
            trace_id: Some(sc.trace_id().to_string()),
            span_id: Some(sc.span_id().to_string()),
        })
    };
    // Inside a subscriber's own callback (the Bugle layer's `on_event` under a scoped
    // subscriber) `Span::current()` is disabled; the context tracing-opentelemetry activated
    // when the span was entered is still current then.
    of(&tracing::Span::current().context()).or_else(|| of(&opentelemetry::Context::current()))
}

#[cfg(test)]
mod tests {
    use super::parse_traceparent;

    #[test]
    fn traceparent_headers_are_read_as_w3c_says() {
        let t =
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(
            t.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(t.span_id.as_deref(), Some("00f067aa0ba902b7"));
        // A later version may add fields; version 00 may not.
        assert!(
            parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x")
                .is_some()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(parse_traceparent(bad).is_none(), "{bad:?}");
        }
    }
}
