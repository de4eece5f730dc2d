//! The `opentelemetry` feature: events carry the active span's trace and span ids, from a real
//! `tracing` subscriber with the tracing-opentelemetry layer over the real SDK's tracer
//! provider, or from the OpenTelemetry API alone; a `traceparent` set by hand wins.
#![cfg(feature = "opentelemetry")]

use bugle::test::with_captured_events;
use bugle::{Event, Level};
use opentelemetry::trace::{SpanContext, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::prelude::*;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn provider() -> SdkTracerProvider {
    SdkTracerProvider::builder().build()
}

fn ids(event: &Event) -> (Option<&str>, Option<&str>) {
    let trace = event.trace.as_ref().expect("the event has a trace");
    (trace.trace_id.as_deref(), trace.span_id.as_deref())
}

fn expected(sc: &SpanContext) -> (String, String) {
    (sc.trace_id().to_string(), sc.span_id().to_string())
}

fn assert_ids(event: &Event, sc: &SpanContext) {
    let (trace, span) = expected(sc);
    assert_eq!(ids(event), (Some(trace.as_str()), Some(span.as_str())));
}

#[test]
fn an_error_captured_in_a_tracing_span_carries_its_otel_ids() {
    let provider = provider();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("shop"));
    let subscriber = tracing_subscriber::registry().with(otel);
    let mut seen = None;
    let events = with_captured_events(|| {
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("POST /orders");
            let _outer = outer.enter();
            let inner = tracing::info_span!("charge");
            let _inner = inner.enter();
            let cx = tracing::Span::current().context();
            seen = Some(cx.span().span_context().clone());
            bugle::capture_error(&std::io::Error::other("card declined"));
        });
        // Outside every span: no trace.
        bugle::capture_message("idle", Level::Info);
    });
    let sc = seen.unwrap();
    assert!(sc.is_valid());
    assert_eq!(events.len(), 2);
    assert_ids(&events[0], &sc);
    assert!(events[1].trace.is_none(), "{:?}", events[1].trace);
}

#[cfg(feature = "tracing")]
#[test]
fn an_error_event_through_the_bugle_layer_carries_the_span_it_was_logged_in() {
    let provider = provider();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("shop")))
        .with(bugle::integrations::tracing::layer());
    let mut seen = None;
    let events = with_captured_events(|| {
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("refund", order = 7);
            let _entered = span.enter();
            seen = Some(span.context().span().span_context().clone());
            tracing::error!(order = 7, "refund failed");
        });
    });
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("refund failed"));
    assert_ids(&events[0], &seen.unwrap());
}

#[test]
fn a_span_of_the_opentelemetry_api_alone_is_read_from_the_current_context() {
    let provider = provider();
    let tracer = provider.tracer("worker");
    let mut seen = None;
    let events = with_captured_events(|| {
        tracer.in_span("nightly export", |cx| {
            seen = Some(cx.span().span_context().clone());
            bugle::capture_message("export failed", Level::Error);
        });
    });
    assert_ids(&events[0], &seen.unwrap());
}

#[test]
fn a_traceparent_set_by_hand_wins_over_the_active_span() {
    let provider = provider();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("shop"));
    let subscriber = tracing_subscriber::registry().with(otel);
    let mut seen = None;
    let events = with_captured_events(|| {
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("job");
            let _entered = span.enter();
            seen = Some(span.context().span().span_context().clone());
            assert!(bugle::set_traceparent(TRACEPARENT));
            bugle::capture_message("for the request", Level::Error);
            bugle::clear_traceparent();
            bugle::capture_message("for the span", Level::Error);
        });
    });
    assert_eq!(
        ids(&events[0]),
        (
            Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            Some("00f067aa0ba902b7")
        )
    );
    assert_ids(&events[1], &seen.unwrap());
}
