//! Spans counted, not stored: per service, its spans and error spans (status ERROR), and the
//! calls between services ([`super::calls`]), as one request adds them.

use std::collections::BTreeMap;

use super::calls::{CallMatcher, CallSpan, Side};
use super::proto::{AttributesExt, ExportTraceServiceRequest, SpanKind, StatusCode};
use crate::store::services::SpanCounts;
use crate::time::HOUR_MS;

/// The service of spans whose resource names none (the OpenTelemetry SDKs' own default).
pub const UNKNOWN_SERVICE: &str = "unknown_service";
/// Distinct services counted from one request; spans of further services are left out, so a
/// hostile request cannot add rows without end.
pub const MAX_SERVICES_PER_REQUEST: usize = 100;
/// Longest service name kept, as for tags.
const MAX_SERVICE_CHARS: usize = 255;

fn service_name(attrs: &[super::proto::KeyValue]) -> String {
    let name: String = attrs
        .attr_string("service.name")
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|&c| c != '\0')
        .take(MAX_SERVICE_CHARS)
        .collect();
    if name.is_empty() {
        UNKNOWN_SERVICE.to_owned()
    } else {
        name
    }
}

fn id_u128(id: &[u8]) -> Option<u128> {
    Some(u128::from_be_bytes(id.try_into().ok()?)).filter(|&v| v != 0)
}

fn id_u64(id: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(id.try_into().ok()?)).filter(|&v| v != 0)
}

/// Counts a request's spans into the hour of `received_ms`, matching calls with `matcher`.
pub fn count(
    project_id: i64,
    request: &ExportTraceServiceRequest,
    matcher: &CallMatcher,
    received_ms: i64,
) -> SpanCounts {
    let mut services: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    // Services by resource, so spans can borrow their name.
    let mut names: Vec<String> = Vec::with_capacity(request.resource_spans.len());
    for rs in &request.resource_spans {
        let attrs = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes);
        names.push(service_name(attrs));
    }
    let mut call_spans = Vec::new();
    for (rs, name) in request.resource_spans.iter().zip(&names) {
        if !services.contains_key(name) && services.len() >= MAX_SERVICES_PER_REQUEST {
            continue;
        }
        let counts = services.entry(name.clone()).or_default();
        for span in rs.scope_spans.iter().flat_map(|ss| &ss.spans) {
            counts.0 += 1;
            if span.status_code() == StatusCode::Error {
                counts.1 += 1;
            }
            let side = match span.kind() {
                SpanKind::Client | SpanKind::Producer => Side::Caller,
                SpanKind::Server | SpanKind::Consumer => Side::Callee,
                _ => Side::Other,
            };
            let (Some(trace_id), Some(span_id)) = (id_u128(&span.trace_id), id_u64(&span.span_id))
            else {
                continue;
            };
            call_spans.push(CallSpan {
                trace_id,
                span_id,
                parent_span_id: id_u64(&span.parent_span_id).unwrap_or(0),
                service: name,
                side,
            });
        }
    }
    let mut edges: BTreeMap<(String, String), i64> = BTreeMap::new();
    for call in matcher.match_calls(project_id, &call_spans) {
        *edges.entry(call).or_default() += 1;
    }
    services.retain(|_, c| c.0 > 0);
    SpanCounts {
        hour: received_ms - received_ms.rem_euclid(HOUR_MS),
        services,
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::proto::{
        AnyValue, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanStatus,
    };

    fn span(id: u8, parent: u8, kind: SpanKind, error: bool) -> Span {
        Span {
            trace_id: vec![9; 16],
            span_id: vec![0, 0, 0, 0, 0, 0, 0, id],
            parent_span_id: if parent == 0 {
                Vec::new()
            } else {
                vec![0, 0, 0, 0, 0, 0, 0, parent]
            },
            kind: kind as i32,
            status: error.then(|| SpanStatus {
                code: StatusCode::Error as i32,
                message: String::new(),
            }),
            ..Span::default()
        }
    }

    fn request(service: Option<&str>, spans: Vec<Span>) -> ExportTraceServiceRequest {
        let attributes = service
            .map(|s| {
                vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue::string(s)),
                }]
            })
            .unwrap_or_default();
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes,
                    ..Resource::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..ScopeSpans::default()
                }],
                ..ResourceSpans::default()
            }],
        }
    }

    #[test]
    fn spans_error_spans_and_calls_across_requests() {
        let m = CallMatcher::default();
        let hour = 5 * HOUR_MS;
        let payments = count(
            1,
            &request(
                Some("payments"),
                vec![
                    span(2, 1, SpanKind::Server, true),
                    span(3, 2, SpanKind::Internal, false),
                ],
            ),
            &m,
            hour + 1234,
        );
        assert_eq!(payments.hour, hour);
        assert_eq!(payments.services["payments"], (2, 1));
        assert!(payments.edges.is_empty());
        let checkout = count(
            1,
            &request(
                Some("checkout"),
                vec![
                    span(1, 4, SpanKind::Client, true),
                    span(4, 0, SpanKind::Server, false),
                ],
            ),
            &m,
            hour + 2000,
        );
        assert_eq!(checkout.services["checkout"], (2, 1));
        assert_eq!(
            checkout.edges[&("checkout".to_owned(), "payments".to_owned())],
            1
        );
    }

    #[test]
    fn spans_without_a_service_count_as_unknown() {
        let m = CallMatcher::default();
        let c = count(
            1,
            &request(None, vec![span(1, 0, SpanKind::Internal, false)]),
            &m,
            0,
        );
        assert_eq!(c.services[UNKNOWN_SERVICE], (1, 0));
    }
}
