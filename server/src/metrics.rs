//! Process counters, rendered in Prometheus' text format at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Counters keyed by label values; a mutex is fine at these rates (one lock per request).
#[derive(Default)]
pub struct Metrics {
    /// (protocol, outcome): outcome is `accepted`, `duplicate` or a rejection reason.
    events: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// Envelope items accepted without being stored, by item type.
    skipped_items: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    pub fn count_event(&self, protocol: &'static str, outcome: &str) {
        let mut events = self.events.lock().expect("not poisoned");
        *events.entry((protocol, outcome.to_owned())).or_default() += 1;
    }

    pub fn count_skipped_item(&self, item_type: &str) {
        let mut items = self.skipped_items.lock().expect("not poisoned");
        *items.entry(item_type.to_owned()).or_default() += 1;
    }

    pub fn skipped_items(&self, item_type: &str) -> u64 {
        let items = self.skipped_items.lock().expect("not poisoned");
        items.get(item_type).copied().unwrap_or(0)
    }

    /// Prometheus text exposition; `queue_depth` is read at render time.
    pub fn render(&self, queue_depth: usize) -> String {
        let mut out = String::new();
        out.push_str("# HELP bugle_events_total Events received, by protocol and outcome.\n");
        out.push_str("# TYPE bugle_events_total counter\n");
        for ((protocol, outcome), n) in self.events.lock().expect("not poisoned").iter() {
            let _ = writeln!(
                out,
                "bugle_events_total{{protocol=\"{protocol}\",outcome=\"{}\"}} {n}",
                escape(outcome)
            );
        }
        out.push_str("# HELP bugle_skipped_items_total Envelope items accepted and not stored.\n");
        out.push_str("# TYPE bugle_skipped_items_total counter\n");
        for (ty, n) in self.skipped_items.lock().expect("not poisoned").iter() {
            let _ = writeln!(
                out,
                "bugle_skipped_items_total{{type=\"{}\"}} {n}",
                escape(ty)
            );
        }
        out.push_str("# HELP bugle_ingest_queue_depth Events waiting for the writer.\n");
        out.push_str("# TYPE bugle_ingest_queue_depth gauge\n");
        let _ = writeln!(out, "bugle_ingest_queue_depth {queue_depth}");
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_text() {
        let m = Metrics::default();
        m.count_event("native", "accepted");
        m.count_event("native", "accepted");
        m.count_skipped_item("session");
        let text = m.render(3);
        assert!(text.contains("bugle_events_total{protocol=\"native\",outcome=\"accepted\"} 2"));
        assert!(text.contains("bugle_skipped_items_total{type=\"session\"} 1"));
        assert!(text.contains("bugle_ingest_queue_depth 3"));
        assert_eq!(m.skipped_items("session"), 1);
    }
}
