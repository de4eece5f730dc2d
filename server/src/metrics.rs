//! Process counters, rendered in Prometheus' text format at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// A Prometheus histogram with fixed upper bounds.
pub struct Histogram {
    bounds: &'static [f64],
    /// Per bound (and +Inf last), then sum.
    state: Mutex<(Vec<u64>, f64)>,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            state: Mutex::new((vec![0; bounds.len() + 1], 0.0)),
        }
    }

    pub fn observe(&self, value: f64) {
        let mut state = self.state.lock().expect("not poisoned");
        let slot = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len());
        state.0[slot] += 1;
        state.1 += value;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let state = self.state.lock().expect("not poisoned");
        let mut cumulative = 0;
        for (bound, n) in self.bounds.iter().zip(&state.0) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += state.0[self.bounds.len()];
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let _ = writeln!(out, "{name}_sum {}\n{name}_count {cumulative}", state.1);
    }
}

/// Counters keyed by label values; a mutex is fine at these rates (one lock per request).
pub struct Metrics {
    /// Events per committed batch.
    pub batch_size: Histogram,
    /// Seconds from the start of a batch's transaction to its commit.
    pub commit_seconds: Histogram,
    /// Batches that failed to commit, by reason (then retried one event at a time unless the
    /// database is unavailable).
    store_errors: Mutex<BTreeMap<&'static str, u64>>,
    /// Mail outcomes: sent, failed, suppressed.
    mails: Mutex<BTreeMap<&'static str, u64>>,
    /// Channel alert attempts of this instance: (kind, outcome).
    alerts: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// (protocol, outcome): outcome is `accepted`, `duplicate` or a rejection reason.
    events: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// Envelope items accepted without being stored, by item type.
    skipped_items: Mutex<BTreeMap<String, u64>>,
    /// Items refused while the rest of their envelope was kept: (item type, reason).
    dropped_items: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// Events Rust clients dropped before sending (full queue, out of retries), as they report them.
    client_dropped: Mutex<u64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            batch_size: Histogram::new(&[1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 512.0]),
            commit_seconds: Histogram::new(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            store_errors: Mutex::default(),
            mails: Mutex::default(),
            alerts: Mutex::default(),
            events: Mutex::default(),
            skipped_items: Mutex::default(),
            dropped_items: Mutex::default(),
            client_dropped: Mutex::new(0),
        }
    }
}

impl Metrics {
    pub fn count_mail(&self, outcome: &'static str) {
        *self
            .mails
            .lock()
            .expect("not poisoned")
            .entry(outcome)
            .or_default() += 1;
    }

    /// A channel alert handled: `delivered`, `failed` (to be retried) or `not_sent` (given up,
    /// suppressed by flood control or a rule, folded into a summary).
    pub fn count_alert(&self, kind: &str, outcome: &'static str) {
        let mut alerts = self.alerts.lock().expect("not poisoned");
        *alerts.entry((kind.to_owned(), outcome)).or_default() += 1;
    }

    /// A batch that failed to commit, by [`crate::store::StoreError::reason`].
    pub fn count_store_error(&self, reason: &'static str) {
        *self
            .store_errors
            .lock()
            .expect("not poisoned")
            .entry(reason)
            .or_default() += 1;
    }

    pub fn count_event(&self, protocol: &'static str, outcome: &str) {
        let mut events = self.events.lock().expect("not poisoned");
        *events.entry((protocol, outcome.to_owned())).or_default() += 1;
    }

    pub fn count_skipped_item(&self, item_type: &str) {
        let mut items = self.skipped_items.lock().expect("not poisoned");
        *items.entry(item_type.to_owned()).or_default() += 1;
    }

    /// An item refused (bad payload, too large, over a quota) while its envelope was kept.
    pub fn count_dropped_item(&self, item_type: &str, reason: &'static str) {
        let mut items = self.dropped_items.lock().expect("not poisoned");
        *items.entry((item_type.to_owned(), reason)).or_default() += 1;
    }

    pub fn dropped_items(&self, item_type: &str, reason: &str) -> u64 {
        let items = self.dropped_items.lock().expect("not poisoned");
        items
            .iter()
            .filter(|((t, r), _)| t == item_type && *r == reason)
            .map(|(_, n)| n)
            .sum()
    }

    /// A client's `X-Bugle-Dropped` header: events it lost since its last delivered send.
    pub fn count_client_dropped(&self, n: u64) {
        let mut total = self.client_dropped.lock().expect("not poisoned");
        *total = total.saturating_add(n);
    }

    pub fn skipped_items(&self, item_type: &str) -> u64 {
        let items = self.skipped_items.lock().expect("not poisoned");
        items.get(item_type).copied().unwrap_or(0)
    }

    /// Prometheus text exposition; `queue_depth` and `mail_pending` are read at render time.
    pub fn render(&self, queue_depth: usize) -> String {
        self.render_with(queue_depth, None)
    }

    pub fn render_with(&self, queue_depth: usize, mail_pending: Option<i64>) -> String {
        self.render_all(queue_depth, mail_pending, None)
    }

    /// With the outbox's channel alerts by kind: (kind, queued, pending), read at render time.
    pub fn render_all(
        &self,
        queue_depth: usize,
        mail_pending: Option<i64>,
        alerts: Option<&[(String, i64, i64)]>,
    ) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP bugle_alerts_total Channel alerts this instance handled, by kind and outcome.\n\
             # TYPE bugle_alerts_total counter\n",
        );
        for ((kind, outcome), n) in self.alerts.lock().expect("not poisoned").iter() {
            let _ = writeln!(
                out,
                "bugle_alerts_total{{kind=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape(kind)
            );
        }
        if let Some(alerts) = alerts {
            out.push_str(
                "# HELP bugle_alerts_queued Channel alerts in the outbox (pending, or sent within the 7 days it keeps them), by kind.\n\
                 # TYPE bugle_alerts_queued gauge\n",
            );
            for (kind, queued, _) in alerts {
                let _ = writeln!(
                    out,
                    "bugle_alerts_queued{{kind=\"{}\"}} {queued}",
                    escape(kind)
                );
            }
            out.push_str(
                "# HELP bugle_alerts_pending Channel alerts not delivered yet, by kind.\n\
                 # TYPE bugle_alerts_pending gauge\n",
            );
            for (kind, _, pending) in alerts {
                let _ = writeln!(
                    out,
                    "bugle_alerts_pending{{kind=\"{}\"}} {pending}",
                    escape(kind)
                );
            }
        }
        out.push_str("# HELP bugle_mails_total Notification mails, by outcome.\n");
        out.push_str("# TYPE bugle_mails_total counter\n");
        for (outcome, n) in self.mails.lock().expect("not poisoned").iter() {
            let _ = writeln!(out, "bugle_mails_total{{outcome=\"{outcome}\"}} {n}");
        }
        if let Some(pending) = mail_pending {
            let _ = writeln!(
                out,
                "# HELP bugle_mails_pending Notifications not sent yet.\n\
                 # TYPE bugle_mails_pending gauge\nbugle_mails_pending {pending}"
            );
        }
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
        out.push_str(
            "# HELP bugle_dropped_items_total Envelope items refused while the rest of the envelope was kept.\n",
        );
        out.push_str("# TYPE bugle_dropped_items_total counter\n");
        for ((ty, reason), n) in self.dropped_items.lock().expect("not poisoned").iter() {
            let _ = writeln!(
                out,
                "bugle_dropped_items_total{{type=\"{}\",reason=\"{reason}\"}} {n}",
                escape(ty)
            );
        }
        let client_dropped = *self.client_dropped.lock().expect("not poisoned");
        let _ = writeln!(
            out,
            "# HELP bugle_client_dropped_events_total Events clients dropped before sending (queue full, out of retries), as they reported.\n\
             # TYPE bugle_client_dropped_events_total counter\nbugle_client_dropped_events_total {client_dropped}"
        );
        self.batch_size.render(
            &mut out,
            "bugle_batch_size",
            "Events committed per transaction.",
        );
        self.commit_seconds.render(
            &mut out,
            "bugle_commit_seconds",
            "Time to commit one batch, in seconds.",
        );
        out.push_str(
            "# HELP bugle_store_errors_total Batches that failed to commit, by reason \
             (disk_full, read_only, unavailable, other).\n\
             # TYPE bugle_store_errors_total counter\n",
        );
        let errors = self.store_errors.lock().expect("not poisoned").clone();
        if errors.is_empty() {
            out.push_str("bugle_store_errors_total{reason=\"other\"} 0\n");
        }
        for (reason, n) in errors {
            let _ = writeln!(out, "bugle_store_errors_total{{reason=\"{reason}\"}} {n}");
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
        m.batch_size.observe(3.0);
        m.batch_size.observe(700.0);
        let text = m.render(0);
        assert!(
            text.contains("bugle_batch_size_bucket{le=\"5\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("bugle_batch_size_bucket{le=\"+Inf\"} 2"),
            "{text}"
        );
        assert!(text.contains("bugle_batch_size_count 2"), "{text}");
        assert_eq!(m.skipped_items("session"), 1);
    }

    #[test]
    fn alerts_render_by_kind() {
        let m = Metrics::default();
        m.count_alert("spike", "delivered");
        m.count_alert("spike", "delivered");
        m.count_alert("new_issue", "failed");
        let text = m.render_all(0, None, Some(&[("spike".into(), 5, 1)]));
        assert!(text.contains("bugle_alerts_total{kind=\"spike\",outcome=\"delivered\"} 2"));
        assert!(text.contains("bugle_alerts_total{kind=\"new_issue\",outcome=\"failed\"} 1"));
        assert!(
            text.contains("bugle_alerts_queued{kind=\"spike\"} 5"),
            "{text}"
        );
        assert!(
            text.contains("bugle_alerts_pending{kind=\"spike\"} 1"),
            "{text}"
        );
    }
}
