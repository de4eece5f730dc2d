//! Calls between services, matched across export requests in bounded memory.
//!
//! A call is a CLIENT or PRODUCER span whose SERVER or CONSUMER child belongs to another
//! service. The two spans usually come in different requests (each service exports its own
//! batches, in either order), so the matcher keeps the recent callers by span id, and the
//! children whose caller has not arrived yet by their parent's span id. Both maps are capped
//! and forget entries older than [`WINDOW`], oldest first. One matcher per process: a caller
//! and its child exported to different instances are not matched.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a span waits for the other side of its call.
pub const WINDOW: Duration = Duration::from_secs(120);
/// Entries kept per map: ~100 bytes each, so the two maps stay under ~20 MB.
pub const CAPACITY: usize = 100_000;

/// (project, trace id, span id): span ids are only unique within a trace.
type Key = (i64, u128, u64);

/// A recent entry's service, with its insertion order and time for eviction.
struct Seen {
    service: String,
    seq: u64,
}

/// Entries in insertion order, capped and aged out.
struct Recent {
    map: HashMap<Key, Seen>,
    order: VecDeque<(Key, u64, Instant)>,
    next: u64,
}

impl Recent {
    fn new() -> Self {
        Recent {
            map: HashMap::new(),
            order: VecDeque::new(),
            next: 0,
        }
    }

    fn insert(&mut self, key: Key, service: &str, now: Instant) {
        let seq = self.next;
        self.next += 1;
        self.map.insert(
            key,
            Seen {
                service: service.to_owned(),
                seq,
            },
        );
        self.order.push_back((key, seq, now));
    }

    fn take(&mut self, key: &Key) -> Option<String> {
        self.map.remove(key).map(|s| s.service)
    }

    fn get(&self, key: &Key) -> Option<&str> {
        self.map.get(key).map(|s| s.service.as_str())
    }

    /// Drops what is past the window or the cap. `order` may hold entries already taken
    /// (their seq no longer matches): those are dropped without touching the map.
    fn evict(&mut self, now: Instant, capacity: usize) {
        while let Some(&(key, seq, at)) = self.order.front() {
            let old = now.duration_since(at) > WINDOW;
            if !old && self.order.len() <= capacity {
                break;
            }
            self.order.pop_front();
            if self.map.get(&key).is_some_and(|s| s.seq == seq) {
                self.map.remove(&key);
            }
        }
    }
}

/// A span as the matcher sees it.
#[derive(Debug, Clone, Copy)]
pub struct CallSpan<'a> {
    pub trace_id: u128,
    pub span_id: u64,
    /// 0 for a root span.
    pub parent_span_id: u64,
    pub service: &'a str,
    pub side: Side,
}

/// Which end of a call a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// CLIENT or PRODUCER.
    Caller,
    /// SERVER or CONSUMER.
    Callee,
    Other,
}

/// Recent callers and waiting callees of every project, shared by the process's requests.
pub struct CallMatcher {
    inner: Mutex<Maps>,
    capacity: usize,
}

struct Maps {
    callers: Recent,
    waiting: Recent,
}

impl Default for CallMatcher {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl CallMatcher {
    pub fn with_capacity(capacity: usize) -> Self {
        CallMatcher {
            inner: Mutex::new(Maps {
                callers: Recent::new(),
                waiting: Recent::new(),
            }),
            capacity,
        }
    }

    /// Matches one request's spans (callers first, so a call within the request matches
    /// whatever the order) against each other and the recent ones; returns each call found as
    /// (caller service, callee service). Calls within one service are not calls between
    /// services and are left out.
    pub fn match_calls(&self, project_id: i64, spans: &[CallSpan<'_>]) -> Vec<(String, String)> {
        self.match_calls_at(project_id, spans, Instant::now())
    }

    fn match_calls_at(
        &self,
        project_id: i64,
        spans: &[CallSpan<'_>],
        now: Instant,
    ) -> Vec<(String, String)> {
        let mut calls = Vec::new();
        let mut maps = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        maps.callers.evict(now, self.capacity);
        maps.waiting.evict(now, self.capacity);
        for s in spans.iter().filter(|s| s.side == Side::Caller) {
            let key = (project_id, s.trace_id, s.span_id);
            // A child that came first: its parent's id is this span's id.
            if let Some(callee) = maps.waiting.take(&key) {
                if callee != s.service {
                    calls.push((s.service.to_owned(), callee));
                }
            }
            maps.callers.insert(key, s.service, now);
        }
        // A parent in this request that is no caller will not come later: nothing to wait for.
        let here: std::collections::HashSet<u64> = spans.iter().map(|s| s.span_id).collect();
        for s in spans
            .iter()
            .filter(|s| s.side == Side::Callee && s.parent_span_id != 0)
        {
            let parent = (project_id, s.trace_id, s.parent_span_id);
            match maps.callers.get(&parent) {
                Some(caller) if caller != s.service => {
                    calls.push((caller.to_owned(), s.service.to_owned()));
                }
                Some(_) => {}
                None if here.contains(&s.parent_span_id) => {}
                None => maps.waiting.insert(parent, s.service, now),
            }
        }
        maps.callers.evict(now, self.capacity);
        maps.waiting.evict(now, self.capacity);
        calls
    }

    /// Entries held (callers, waiting callees), for tests and metrics.
    pub fn len(&self) -> (usize, usize) {
        let maps = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (maps.callers.map.len(), maps.waiting.map.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(span_id: u64, parent: u64, service: &str, side: Side) -> CallSpan<'_> {
        CallSpan {
            trace_id: 7,
            span_id,
            parent_span_id: parent,
            service,
            side,
        }
    }

    #[test]
    fn a_call_is_matched_whichever_side_arrives_first() {
        let m = CallMatcher::default();
        let callee_first = m.match_calls(1, &[span(2, 1, "payments", Side::Callee)]);
        assert!(callee_first.is_empty());
        let calls = m.match_calls(1, &[span(1, 0, "checkout", Side::Caller)]);
        assert_eq!(calls, [("checkout".into(), "payments".into())]);

        let calls = m.match_calls(1, &[span(3, 0, "checkout", Side::Caller)]);
        assert!(calls.is_empty());
        let calls = m.match_calls(1, &[span(4, 3, "payments", Side::Callee)]);
        assert_eq!(calls, [("checkout".into(), "payments".into())]);
        // Matched waiting children are gone; callers stay for their other children.
        assert_eq!(m.len(), (2, 0));
    }

    #[test]
    fn calls_within_a_request_within_a_service_and_across_projects() {
        let m = CallMatcher::default();
        let calls = m.match_calls(
            1,
            &[
                span(2, 1, "payments", Side::Callee),
                span(1, 0, "checkout", Side::Caller),
                span(5, 4, "checkout", Side::Callee),
                span(4, 0, "checkout", Side::Caller),
                span(6, 1, "payments", Side::Other),
            ],
        );
        assert_eq!(calls, [("checkout".into(), "payments".into())]);
        // Another project's child of the same ids is not matched.
        assert!(m
            .match_calls(2, &[span(2, 1, "payments", Side::Callee)])
            .is_empty());
    }

    #[test]
    fn memory_is_capped_and_old_spans_age_out() {
        let m = CallMatcher::with_capacity(3);
        let now = Instant::now();
        for id in 1..=10 {
            m.match_calls_at(1, &[span(id, 0, "checkout", Side::Caller)], now);
        }
        assert_eq!(m.len(), (3, 0));
        // The oldest were evicted: a child of span 1 now waits instead of matching.
        assert!(m
            .match_calls_at(1, &[span(20, 1, "payments", Side::Callee)], now)
            .is_empty());
        let calls = m.match_calls_at(1, &[span(21, 10, "payments", Side::Callee)], now);
        assert_eq!(calls.len(), 1);
        let later = now + WINDOW + Duration::from_secs(1);
        m.match_calls_at(1, &[], later);
        assert_eq!(m.len(), (0, 0));
    }
}
