//! The benchmark's OTLP workload: traces across three services (frontend → checkout →
//! payments), exported as each service's SDK would, one OTLP/HTTP JSON request per service
//! and batch; about 2% of payments' spans fail, half of those with an exception event.

use serde_json::{json, Value};

use crate::bench::Rng;

/// Spans in each trace: two calls between services, five spans.
pub const SPANS_PER_TRACE: usize = 5;

/// Requests of `traces_per_request` traces each, every service's spans in its own request;
/// returns the bodies and how many (spans, calls) they hold.
pub fn workload(
    seed: u64,
    traces: usize,
    traces_per_request: usize,
) -> (Vec<Vec<u8>>, usize, usize) {
    let mut rng = Rng::new(seed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut bodies = Vec::new();
    for chunk in (0..traces).collect::<Vec<_>>().chunks(traces_per_request) {
        let mut by_service: [Vec<Value>; 3] = Default::default();
        for _ in chunk {
            let trace = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
            let ids: Vec<String> = (0..SPANS_PER_TRACE)
                .map(|_| format!("{:016x}", rng.next_u64() | 1))
                .collect();
            let t = now - rng.range(0, 1_000_000_000);
            let span = |i: usize, parent: Option<usize>, name: &str, kind: i64| {
                json!({
                    "traceId": trace, "spanId": ids[i],
                    "parentSpanId": parent.map(|p| ids[p].clone()).unwrap_or_default(),
                    "name": name, "kind": kind,
                    "startTimeUnixNano": (t + i as u64 * 1_000_000).to_string(),
                    "endTimeUnixNano": (t + 9_000_000).to_string(),
                    "attributes": [{"key": "http.request.method", "value": {"stringValue": "POST"}}],
                })
            };
            by_service[0].push(span(0, None, "POST /orders", 2));
            by_service[0].push(span(1, Some(0), "POST checkout", 3));
            by_service[1].push(span(2, Some(1), "POST /checkout", 2));
            by_service[1].push(span(3, Some(2), "POST payments", 3));
            let mut charge = span(4, Some(3), "POST /charge", 2);
            match rng.range(0, 99) {
                0 => {
                    charge["status"] = json!({"code": 2, "message": "declined"});
                    charge["events"] = json!([{
                        "name": "exception", "timeUnixNano": (t + 5_000_000).to_string(),
                        "attributes": [
                            {"key": "exception.type", "value": {"stringValue": "CardDeclined"}},
                            {"key": "exception.message", "value": {"stringValue": format!("card {} declined", rng.range(1000, 9999))}},
                            {"key": "exception.stacktrace", "value": {"stringValue":
                                "Traceback (most recent call last):\n  File \"/app/payments/views.py\", line 60, in charge\n    raise CardDeclined(card)\npayments.CardDeclined: declined\n"}},
                        ],
                    }]);
                }
                1 => charge["status"] = json!({"code": 2}),
                _ => {}
            }
            by_service[2].push(charge);
        }
        for (service, spans) in ["frontend", "checkout", "payments"].iter().zip(by_service) {
            let body = json!({"resourceSpans": [{
                "resource": {"attributes": [
                    {"key": "service.name", "value": {"stringValue": service}},
                    {"key": "service.version", "value": {"stringValue": "1.4.2"}},
                    {"key": "telemetry.sdk.language", "value": {"stringValue": "python"}},
                ]},
                "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}],
            }]});
            bodies.push(body.to_string().into_bytes());
        }
    }
    (bodies, traces * SPANS_PER_TRACE, traces * 2)
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_request_is_one_service_and_the_counts_add_up() {
        let (bodies, spans, calls) = super::workload(1, 50, 20);
        assert_eq!(bodies.len(), 9);
        assert_eq!((spans, calls), (250, 100));
        let first: serde_json::Value = serde_json::from_slice(&bodies[0]).unwrap();
        assert_eq!(
            first["resourceSpans"][0]["scopeSpans"][0]["spans"]
                .as_array()
                .unwrap()
                .len(),
            40
        );
    }
}
