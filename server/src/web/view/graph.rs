//! The services graph laid out for an SVG drawn on the server: callers left of the services
//! they call, one column per call depth. Pure geometry; the template escapes every name.

use std::collections::HashMap;

use crate::store::services::ServiceSummary;

pub const NODE_W: i64 = 170;
pub const NODE_H: i64 = 58;
const COL_GAP: i64 = 90;
const ROW_GAP: i64 = 30;
const MARGIN: i64 = 20;
/// Services drawn; the table below the graph lists them all.
pub const MAX_NODES: usize = 60;
/// Characters of a name shown in its box (the full name is its tooltip).
const NAME_CHARS: usize = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    /// The name cut to fit its box.
    pub label: String,
    pub x: i64,
    pub y: i64,
    /// Text x, centred.
    pub cx: i64,
    pub caption: String,
    /// `ok`, `warn` or `bad`, by error rate.
    pub health: &'static str,
    /// The issue list filtered to this service.
    pub href: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// SVG path data.
    pub d: String,
    pub label_x: i64,
    pub label_y: i64,
    pub calls: i64,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub width: i64,
    pub height: i64,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// `ok` under 1% error spans, `warn` under 10%, `bad` from there.
pub fn health(rate: f64) -> &'static str {
    if rate < 0.01 {
        "ok"
    } else if rate < 0.1 {
        "warn"
    } else {
        "bad"
    }
}

/// An error rate as people read it: `0%`, `0.4%`, `12%`.
pub fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p == 0.0 {
        "0%".into()
    } else if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// Lays out `services` (at most [`MAX_NODES`], the busiest) with their calls; `href` gives
/// each node's link.
pub fn layout(services: &[ServiceSummary], href: impl Fn(&str) -> String) -> Graph {
    let mut shown: Vec<&ServiceSummary> = services.iter().collect();
    shown.sort_by(|a, b| b.spans.cmp(&a.spans).then_with(|| a.name.cmp(&b.name)));
    shown.truncate(MAX_NODES);
    shown.sort_by(|a, b| a.name.cmp(&b.name));
    let index: HashMap<&str, usize> = shown
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let calls: Vec<(usize, usize, i64)> = shown
        .iter()
        .enumerate()
        .flat_map(|(from, s)| {
            let index = &index;
            s.calls
                .iter()
                .filter_map(move |(to, n)| index.get(to.as_str()).map(|&to| (from, to, *n)))
        })
        .filter(|(a, b, _)| a != b)
        .collect();
    // Longest call path from a service nobody calls; a cycle stops growing at n - 1.
    let n = shown.len();
    let mut depth = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for &(a, b, _) in &calls {
            let d = (depth[a] + 1).min(n.saturating_sub(1));
            if d > depth[b] {
                depth[b] = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut rows_in = vec![0i64; n.max(1)];
    let mut pos = vec![(0i64, 0i64); n];
    for i in 0..n {
        let col = depth[i];
        let row = rows_in[col];
        rows_in[col] += 1;
        pos[i] = (
            MARGIN + col as i64 * (NODE_W + COL_GAP),
            MARGIN + row * (NODE_H + ROW_GAP),
        );
    }
    let cols = depth.iter().max().map_or(0, |d| d + 1) as i64;
    let rows = rows_in.iter().copied().max().unwrap_or(0);
    let nodes = shown
        .iter()
        .zip(&pos)
        .map(|(s, &(x, y))| {
            let rate = s.error_rate();
            let label = if s.name.chars().count() > NAME_CHARS {
                let cut: String = s.name.chars().take(NAME_CHARS - 1).collect();
                format!("{cut}…")
            } else {
                s.name.clone()
            };
            Node {
                label,
                x,
                y,
                cx: x + NODE_W / 2,
                caption: format!("{} errors · {} spans", percent(rate), s.spans),
                health: health(rate),
                href: href(&s.name),
                name: s.name.clone(),
            }
        })
        .collect();
    let edges = calls
        .iter()
        .map(|&(a, b, n)| {
            let (ax, ay) = pos[a];
            let (bx, by) = pos[b];
            let forward = bx > ax;
            let (x1, y1, x2, y2) = if forward {
                (ax + NODE_W, ay + NODE_H / 2, bx, by + NODE_H / 2)
            } else {
                // Back to an earlier column (a cycle): leave and enter from below, bent down.
                (ax + NODE_W / 2, ay + NODE_H, bx + NODE_W / 2, by + NODE_H)
            };
            let (qx, qy) = if forward {
                ((x1 + x2) / 2, (y1 + y2) / 2)
            } else {
                ((x1 + x2) / 2, y1.max(y2) + ROW_GAP + 10)
            };
            Edge {
                d: format!("M {x1} {y1} Q {qx} {qy} {x2} {y2}"),
                label_x: (x1 + 2 * qx + x2) / 4,
                label_y: (y1 + 2 * qy + y2) / 4 - 4,
                calls: n,
                title: format!("{} → {}: {n} calls", shown[a].name, shown[b].name),
            }
        })
        .collect();
    Graph {
        width: 2 * MARGIN + cols * NODE_W + (cols - 1).max(0) * COL_GAP,
        height: 2 * MARGIN + rows * NODE_H + (rows - 1).max(0) * ROW_GAP + ROW_GAP + 10,
        nodes,
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, spans: i64, errors: i64, calls: &[(&str, i64)]) -> ServiceSummary {
        ServiceSummary {
            name: name.into(),
            spans,
            error_spans: errors,
            open_issues: 0,
            last_error: None,
            calls: calls.iter().map(|&(t, n)| (t.into(), n)).collect(),
        }
    }

    #[test]
    fn callers_are_drawn_left_of_what_they_call() {
        let services = [
            service("checkout", 100, 0, &[("payments", 40), ("stock", 3)]),
            service("payments", 40, 8, &[("bank", 40)]),
            service("stock", 3, 0, &[]),
            service("bank", 40, 40, &[]),
        ];
        let g = layout(&services, |n| format!("/issues?q={n}"));
        let x = |name: &str| g.nodes.iter().find(|n| n.name == name).unwrap().x;
        assert!(x("checkout") < x("payments"));
        assert_eq!(x("payments"), x("stock"));
        assert!(x("payments") < x("bank"));
        assert_eq!(g.edges.len(), 3);
        let bank = g.nodes.iter().find(|n| n.name == "bank").unwrap();
        assert_eq!(
            (bank.health, bank.caption.as_str()),
            ("bad", "100% errors · 40 spans")
        );
        assert_eq!(bank.href, "/issues?q=bank");
        assert!(g.width >= x("bank") + NODE_W);
    }

    #[test]
    fn a_cycle_and_a_call_to_itself_stay_bounded() {
        let services = [
            service("a", 1, 0, &[("b", 1), ("a", 5)]),
            service("b", 1, 0, &[("a", 1)]),
        ];
        let g = layout(&services, |n| n.to_owned());
        assert_eq!(g.nodes.len(), 2);
        assert_eq!(g.edges.len(), 2, "the call to itself is not drawn");
        assert!(g.edges.iter().all(|e| e.d.starts_with("M ")));
    }

    #[test]
    fn long_names_are_cut_and_rates_read_as_percent() {
        let g = layout(
            &[service("a-very-long-service-name-indeed", 1000, 4, &[])],
            |n| n.into(),
        );
        assert_eq!(g.nodes[0].label.chars().count(), NAME_CHARS);
        assert_eq!(percent(0.004), "0.4%");
        assert_eq!(percent(0.25), "25%");
        assert_eq!(health(0.004), "ok");
    }
}
