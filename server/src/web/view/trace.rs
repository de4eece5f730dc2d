//! "Errors in this trace": the other occurrences of an occurrence's trace, in time order,
//! each placed relative to the one shown ("40 ms after").

use crate::store::traces::TraceOccurrence;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    pub href: String,
    pub title: String,
    pub project_name: String,
    pub service: Option<String>,
    /// `40 ms after`, `1.2 s before`, `at the same time`.
    pub delta: String,
}

/// How far `ms` (other minus this) lies from the occurrence shown.
pub fn delta(ms: i64) -> String {
    let side = if ms < 0 { "before" } else { "after" };
    let a = ms.unsigned_abs();
    let amount = match a {
        0 => return "at the same time".into(),
        1..=999 => format!("{a} ms"),
        1_000..=59_999 => format!("{:.1} s", a as f64 / 1000.0),
        60_000..=3_599_999 => format!("{:.1} min", a as f64 / 60_000.0),
        _ => format!("{:.1} h", a as f64 / 3_600_000.0),
    };
    format!("{amount} {side}")
}

/// The lines of the trace but `shown_id`, timed from `shown_at` (unix ms); in the order given.
pub fn trace_lines(all: &[TraceOccurrence], shown_id: i64, shown_at: i64) -> Vec<TraceLine> {
    all.iter()
        .filter(|o| o.id != shown_id)
        .map(|o| TraceLine {
            href: format!("/occurrences/{}", o.uuid),
            title: o.title.clone(),
            project_name: o.project_name.clone(),
            service: o.service.clone(),
            delta: delta(o.timestamp - shown_at),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_read_as_people_say_them() {
        assert_eq!(delta(40), "40 ms after");
        assert_eq!(delta(-1200), "1.2 s before");
        assert_eq!(delta(0), "at the same time");
        assert_eq!(delta(90_000), "1.5 min after");
        assert_eq!(delta(-7_200_000), "2.0 h before");
    }
}
