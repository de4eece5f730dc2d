//! A `refunds` service instrumented with `tracing` and OpenTelemetry that fails one request,
//! which came with a W3C `traceparent` (from `TRACEPARENT`): its errors join that request's trace.
//!
//! ```sh
//! BUGLE_ENDPOINT=http://127.0.0.1:8080 BUGLE_TOKEN=<project token> \
//! TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \
//! cargo run -p bugle --features opentelemetry,tracing --example traced
//! ```
//! The request's span (a child of the `traceparent`, through tracing-opentelemetry) reports a
//! `RefundError` with `capture_error` and logs `refund failed` with `tracing::error!` (the Bugle
//! layer): both carry the span's trace and span ids, read by the `opentelemetry` feature. It prints
//! `span <trace id> <span id>`, then `captured <uuid>` for the `RefundError`.
//!
//! With `--by-hand` the span is a root of its own trace, and the app calls
//! `bugle::set_traceparent(TRACEPARENT)` instead: the one error it reports carries the ids of the
//! `traceparent`, which win over the active span's.

use std::collections::HashMap;
use std::fmt;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct RefundError(u32);

impl fmt::Display for RefundError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refund {} exceeds the payment", self.0)
    }
}

impl std::error::Error for RefundError {}

fn refund(id: u32) -> Result<(), RefundError> {
    Err(RefundError(id))
}

fn captured(uuid: Option<bugle::Uuid>) {
    match uuid {
        Some(uuid) => println!("captured {uuid}"),
        None => println!("not captured (reporting is off)"),
    }
}

fn main() {
    let by_hand = std::env::args().any(|a| a == "--by-hand");
    let traceparent = std::env::var("TRACEPARENT").unwrap_or_default();
    let bugle = bugle::init(bugle::Options::from_env().release("refunds@1.4.0"));
    // A real tracer provider; its spans are not exported anywhere, only their ids matter here.
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("refunds")))
        .with(bugle::integrations::tracing::layer());
    tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");

    let span = tracing::info_span!("POST /refunds", otel.kind = "server");
    if !by_hand {
        // What an HTTP framework's middleware does with the request's headers.
        let headers = HashMap::from([("traceparent".to_owned(), traceparent.clone())]);
        let parent = TraceContextPropagator::new().extract(&headers);
        span.set_parent(parent)
            .expect("the OpenTelemetry layer is installed");
    }
    let _entered = span.enter();
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    println!("span {} {}", sc.trace_id(), sc.span_id());
    if let Err(err) = refund(17) {
        if by_hand {
            assert!(bugle::set_traceparent(&traceparent), "bad TRACEPARENT");
            captured(bugle::capture_error(&err));
        } else {
            captured(bugle::capture_error(&err));
            tracing::error!(refund = 17, "refund failed");
        }
    }
    drop(_entered);
    drop(bugle); // flushes, up to the shutdown timeout
}
