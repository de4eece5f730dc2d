//! Bar charts drawn as SVG rectangles, and the labels of their slots.

use chrono::{TimeZone, Utc};

/// Bars of an SVG chart, computed here so the template only places rectangles.
#[derive(Debug, Clone)]
pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
    pub total: i64,
    pub max: i64,
}

#[derive(Debug, Clone)]
pub struct Bar {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub label: String,
}

/// `counts` are equal slots ending now; `label(i)` names slot `i` for its tooltip.
pub fn chart(counts: &[i64], width: u32, height: u32, label: impl Fn(usize) -> String) -> Chart {
    let max = counts.iter().copied().max().unwrap_or(0);
    let n = counts.len().max(1) as f64;
    let slot = f64::from(width) / n;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            // A zero still shows a hairline, so an empty chart reads as "nothing", not broken.
            let h = if max > 0 {
                (c as f64 / max as f64 * f64::from(height - 1)).max(if c > 0 { 2.0 } else { 1.0 })
            } else {
                1.0
            };
            Bar {
                x: format!("{:.1}", i as f64 * slot),
                y: format!("{:.1}", f64::from(height) - h),
                w: format!("{:.1}", (slot - 1.0).max(1.0)),
                h: format!("{h:.1}"),
                label: format!("{}: {c}", label(i)),
            }
        })
        .collect();
    Chart {
        width,
        height,
        bars,
        total: counts.iter().sum(),
        max,
    }
}

/// Hourly slot labels for the last `n` hours ending with the current hour.
pub fn hour_label(now: i64, n: usize) -> impl Fn(usize) -> String {
    let end = now / 3_600_000;
    move |i| {
        let hour = (end - (n - 1 - i) as i64) * 3_600_000;
        Utc.timestamp_millis_opt(hour)
            .single()
            .map(|t| t.format("%b %d %H:00").to_string())
            .unwrap_or_default()
    }
}

pub fn day_label(now: i64, n: usize) -> impl Fn(usize) -> String {
    let end = now / 86_400_000;
    move |i| {
        let day = (end - (n - 1 - i) as i64) * 86_400_000;
        Utc.timestamp_millis_opt(day)
            .single()
            .map(|t| t.format("%b %d").to_string())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_scale_to_the_highest_bar() {
        let c = chart(&[0, 5, 10], 30, 21, |i| i.to_string());
        assert_eq!(c.max, 10);
        assert_eq!(c.total, 15);
        assert_eq!(c.bars[2].h, "20.0");
        assert_eq!(c.bars[0].h, "1.0");
        assert_eq!(c.bars[1].label, "1: 5");
    }
}
