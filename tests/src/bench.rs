//! The benchmark's workload and measurements (the command is `src/bin/bugle-bench.rs`).
//!
//! The workload is generated from a seed before anything is timed: realistic events of 3-25 KB
//! with 10-30 frames, a few hundred fingerprints with a long tail, about 2% new issues, sent as
//! native JSON, Sentry envelopes and gzip-compressed native bodies.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A deterministic generator (xorshift64*): the same seed gives the same workload.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    /// A long tail over `0..n`: low indexes are far more frequent (roughly Zipf).
    pub fn skewed(&mut self, n: u64) -> u64 {
        let u = (self.next_u64() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64).powf(u) - 1.0) as u64 % n
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Native,
    NativeGzip,
    SentryEnvelope,
}

/// One request of the workload.
pub struct Body {
    pub wire: Wire,
    pub bytes: Vec<u8>,
    /// Size of the event JSON before any compression or framing.
    pub raw_len: usize,
}

const REGIONS: [&str; 3] = ["eu-west", "us-east", "ap-south"];

const WORDS: &[&str] = &[
    "order",
    "cart",
    "payment",
    "user",
    "session",
    "invoice",
    "shipment",
    "token",
    "config",
    "cache",
    "queue",
    "worker",
    "request",
    "response",
    "timeout",
    "database",
    "connection",
];

fn frame(rng: &mut Rng, fingerprint: u64, depth: usize, in_app: bool) -> Value {
    let module = if in_app {
        format!(
            "shop.{}.{}",
            WORDS[(fingerprint as usize + depth) % WORDS.len()],
            depth
        )
    } else {
        format!("framework.core.layer{}", depth % 7)
    };
    let context: Vec<String> = (0..5)
        .map(|i| {
            format!(
                "    value_{i} = compute_{}(input, {})",
                WORDS[(i + depth) % WORDS.len()],
                rng.range(1, 999)
            )
        })
        .collect();
    json!({
        "filename": format!("{}.py", module.replace('.', "/")),
        "module": module,
        "function": format!("handle_{}_{}", WORDS[(fingerprint as usize * 3 + depth) % WORDS.len()], depth),
        "lineno": rng.range(10, 900),
        "in_app": in_app,
        "context_line": format!("    result = process(item_{}, retries={})", depth, rng.range(1, 5)),
        "pre_context": context[..3],
        "post_context": context[3..],
        "vars": {"item": format!("<Item {}>", rng.range(1, 100_000)), "retries": rng.range(0, 3)},
    })
}

/// One event of fingerprint `fingerprint` (`None`: a brand-new issue).
pub fn event(rng: &mut Rng, fingerprint: Option<u64>) -> Value {
    let fp = fingerprint.unwrap_or_else(|| 1_000_000 + rng.next_u64() % 1_000_000_000);
    let depth = 10 + (fp % 21) as usize;
    let frames: Vec<Value> = (0..depth)
        .map(|d| frame(rng, fp, d, d >= depth / 2))
        .collect();
    // Padding in custom data brings sizes to 3-25 KB, as request bodies and breadcrumbs do.
    let target = rng.range(3_000, 25_000) as usize;
    let mut event = json!({
        "uuid": uuid::Uuid::from_u64_pair(rng.next_u64(), rng.next_u64()).to_string(),
        "level": "error",
        "environment": if fp.is_multiple_of(5) { "staging" } else { "production" },
        "release": format!("2.{}.{}", fp % 4, rng.range(0, 9)),
        "server": {"host": format!("web-{}", rng.range(1, 12)), "pid": rng.range(100, 60_000)},
        "exceptions": [{
            "type": format!("{}Error{}", WORDS[fp as usize % WORDS.len()], fp),
            "value": format!("{} {} failed after {} ms", WORDS[fp as usize % WORDS.len()], rng.range(1, 1_000_000), rng.range(1, 5000)),
            "frames": frames,
        }],
        "tags": {"region": REGIONS[rng.range(0, 2) as usize]},
        "breadcrumbs": (0..rng.range(2, 10)).map(|i| json!({"category": "http", "message": format!("GET /api/items/{}", i * 7)})).collect::<Vec<_>>(),
    });
    let size = event.to_string().len();
    if size < target {
        let filler: String = (0..(target - size))
            .map(|i| (b'a' + (i % 26) as u8) as char)
            .collect();
        event["custom"] = json!({"request_body": filler});
    }
    event
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("in memory");
    enc.finish().expect("in memory")
}

/// The event as a Sentry SDK would send it.
fn sentry_envelope(event: &Value) -> Vec<u8> {
    let e = &event["exceptions"][0];
    let id = event["uuid"].as_str().unwrap().replace('-', "");
    let payload = json!({
        "event_id": id,
        "platform": "python",
        "level": "error",
        "environment": event["environment"],
        "release": event["release"],
        "server_name": event["server"]["host"],
        "exception": {"values": [{"type": e["type"], "value": e["value"], "stacktrace": {"frames": e["frames"]}}]},
        "extra": event["custom"],
    })
    .to_string();
    format!(
        "{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n{payload}\n",
        payload.len()
    )
    .into_bytes()
}

/// The benchmark's usual share of events that open a new issue, in percent.
pub const NEW_ISSUES_PERCENT: f64 = 2.0;

/// `n` request bodies: `new_percent` % new issues, the rest spread over `fingerprints` with a
/// long tail; 60% native, 25% Sentry envelopes, 15% gzip native.
pub fn workload(seed: u64, n: usize, fingerprints: u64, new_percent: f64) -> Vec<Body> {
    let mut rng = Rng::new(seed);
    let new_per_10k = (new_percent * 100.0).round() as u64;
    (0..n)
        .map(|_| {
            let fingerprint =
                (rng.range(0, 9_999) >= new_per_10k).then(|| rng.skewed(fingerprints));
            let event = event(&mut rng, fingerprint);
            let json = event.to_string().into_bytes();
            let raw_len = json.len();
            match rng.range(0, 99) {
                0..=59 => Body {
                    wire: Wire::Native,
                    bytes: json,
                    raw_len,
                },
                60..=84 => Body {
                    wire: Wire::SentryEnvelope,
                    bytes: sentry_envelope(&event),
                    raw_len,
                },
                _ => Body {
                    wire: Wire::NativeGzip,
                    bytes: gzip(&json),
                    raw_len,
                },
            }
        })
        .collect()
}

/// Latencies of one run, reduced to what the report prints.
#[derive(Debug, Clone, Default)]
pub struct Latencies(pub Vec<Duration>);

impl Latencies {
    pub fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.0.clone();
        sorted.sort();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[i]
    }
    pub fn max(&self) -> Duration {
        self.0.iter().max().copied().unwrap_or_default()
    }
}

/// CPU seconds (user + system) a process has used so far, from /proc.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields after the command: state is 0, utime is 11, stime is 12.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds so far of each PostgreSQL backend serving `database_url` (a server on this
/// machine; empty for SQLite, whose work is the server's own), by pid. Beside the server's
/// CPU it gives what an event costs in all, which moves less between runs than throughput.
pub fn database_cpu(database_url: &str) -> std::collections::HashMap<u32, f64> {
    if !database_url.starts_with("postgres") {
        return Default::default();
    }
    let out = std::process::Command::new("psql")
        .args([
            database_url,
            "-Atc",
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ])
        .output();
    let text = out.map(|o| o.stdout).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .map(|pid| (pid, cpu_seconds(pid)))
        .collect()
}

/// The database's CPU seconds between two [`database_cpu`] readings (a backend that started
/// in between counts from zero).
pub fn database_cpu_between(
    before: &std::collections::HashMap<u32, f64>,
    after: &std::collections::HashMap<u32, f64>,
) -> f64 {
    after
        .iter()
        .map(|(pid, t)| t - before.get(pid).copied().unwrap_or(0.0))
        .sum()
}

/// (current RSS, peak RSS) of a process in MB, from /proc.
pub fn rss_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kb("VmRSS:") / 1024.0, kb("VmHWM:") / 1024.0)
}

/// Elapsed time of `f`.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_is_realistic_and_repeatable() {
        let a = workload(7, 200, 300, NEW_ISSUES_PERCENT);
        let b = workload(7, 200, 300, NEW_ISSUES_PERCENT);
        assert_eq!(
            a.iter().map(|x| x.bytes.len()).sum::<usize>(),
            b.iter().map(|x| x.bytes.len()).sum::<usize>()
        );
        for body in &a {
            assert!((2_500..=26_000).contains(&body.raw_len), "{}", body.raw_len);
        }
        let kinds = |w| a.iter().filter(|x| x.wire == w).count();
        assert!(
            kinds(Wire::Native) > 80
                && kinds(Wire::SentryEnvelope) > 20
                && kinds(Wire::NativeGzip) > 10
        );
        let mut rng = Rng::new(3);
        let e = event(&mut rng, Some(4));
        let frames = e["exceptions"][0]["frames"].as_array().unwrap().len();
        assert!((10..=30).contains(&frames));
    }
}
