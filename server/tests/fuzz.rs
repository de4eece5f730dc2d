//! Fuzzing on the stable toolchain: every parser that reads bytes from the network is fed
//! mutations of the recorded payloads in `fixtures/` for a bounded time, and must answer with a
//! value or an error, never a panic or a hang. The mutator is ours (a seeded xorshift with
//! byte-level and JSON-aware mutations, splicing between seeds), so it needs no nightly
//! compiler and no extra dependency, and a run is reproducible from its seed.
//!
//! `BUGLE_FUZZ_SECS` bounds each target (default 1 s; 12 s under `CI=true`, a few minutes in
//! all), `BUGLE_FUZZ_SEED` picks the seed (default: from the clock, printed). A failing input is
//! written to `target/fuzz-crashes/<target>-<hash>.bin`; copy it into
//! `fixtures/fuzz/<target>/` and it is replayed by every run from then on, as a regression test.

#[path = "fuzz/mutate.rs"]
mod mutate;
#[path = "fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mutate::Mutator;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// An input that makes a target take longer than this is reported as a hang.
const SLOW_CASE: Duration = Duration::from_secs(3);

fn budget() -> Duration {
    let default = if std::env::var("CI").is_ok_and(|v| v == "true") {
        12.0
    } else {
        1.0
    };
    let secs = std::env::var("BUGLE_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(default);
    Duration::from_secs_f64(secs)
}

fn seed() -> u64 {
    std::env::var("BUGLE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

/// Every file under `fixtures/<dir>` whose name ends with one of `exts`, expected outputs
/// aside (sorted, for reproducible runs).
fn seeds(dirs: &[&str], exts: &[&str]) -> Vec<Vec<u8>> {
    seeds_named(dirs, |name| exts.iter().any(|e| name.ends_with(e)))
}

fn seeds_named(dirs: &[&str], wanted: impl Fn(&str) -> bool) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        collect(&Path::new(FIXTURES).join(dir), &wanted, &mut paths);
    }
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn collect(dir: &Path, wanted: &impl Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, wanted, out);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| wanted(n) && !n.contains(".expected."))
        {
            out.push(path);
        }
    }
}

/// Runs `target` on the regression inputs, then on mutations of `seeds` until the budget is
/// spent; panics with the list of failing inputs if any input panicked or hung.
fn fuzz(name: &str, seeds: Vec<Vec<u8>>, target: fn(&[u8])) {
    assert!(!seeds.is_empty(), "{name}: no seed inputs found");
    let seed = seed();
    let regressions = self::seeds(&[&format!("fuzz/{name}")], &[""]);
    let mut failures = Vec::new();
    let run = |input: &[u8], failures: &mut Vec<String>| {
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| target(input));
        let took = started.elapsed();
        let why = match outcome {
            Err(panic) => Some(panic_message(&panic)),
            Ok(()) if took > SLOW_CASE => Some(format!("took {took:?}")),
            Ok(()) => None,
        };
        if let Some(why) = why {
            failures.push(format!("{} ({why})", save_crash(name, input).display()));
        }
    };
    for input in &regressions {
        run(input, &mut failures);
    }
    for input in &seeds {
        run(input, &mut failures);
    }
    let mut mutator = Mutator::new(seed, seeds);
    let deadline = Instant::now() + budget();
    let mut cases = 0u64;
    while Instant::now() < deadline && failures.len() < 5 {
        let input = mutator.next_input();
        run(&input, &mut failures);
        cases += 1;
    }
    println!(
        "fuzz {name}: {cases} mutated cases and {} regression inputs, seed {seed}",
        regressions.len()
    );
    assert!(
        failures.is_empty(),
        "fuzz {name} (BUGLE_FUZZ_SEED={seed}) found inputs that fail:\n{}",
        failures.join("\n")
    );
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

fn save_crash(name: &str, input: &[u8]) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    input.hash(&mut h);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-crashes");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{name}-{:016x}.bin", h.finish()));
    let _ = std::fs::write(&path, input);
    path
}

#[test]
fn fuzz_sentry_envelope() {
    fuzz(
        "envelope",
        seeds(&["protocols"], &[".envelope"]),
        targets::envelope,
    );
}

#[test]
fn fuzz_sentry_event() {
    fuzz(
        "sentry",
        seeds_named(&["protocols"], |n| {
            n.starts_with("sentry_") && n.ends_with(".json")
        }),
        targets::sentry_event,
    );
}

#[test]
fn fuzz_rollbar_item() {
    fuzz(
        "rollbar",
        seeds_named(&["protocols"], |n| {
            n.starts_with("rollbar_") && n.ends_with(".json")
        }),
        targets::rollbar_item,
    );
}

#[test]
fn fuzz_native_event() {
    fuzz(
        "native",
        vec![
            br#"{"exceptions":[{"type":"ValueError","value":"bad cart 42","frames":[{"filename":"src/cart.rs","function":"cart::total","lineno":12,"in_app":true}]}],"environment":"production","release":"1.2.3","tags":{"a":"b"},"user":{"id":"7"}}"#.to_vec(),
            br#"{"message":"disk full on /var","level":"warning","host":"web-1","pid":42,"language":"rust"}"#.to_vec(),
        ],
        targets::native_event,
    );
}

#[test]
fn fuzz_security_reports() {
    fuzz(
        "security",
        seeds(&["security"], &[".json"]),
        targets::security_reports,
    );
}

#[test]
fn fuzz_decompression() {
    fuzz(
        "decompress",
        targets::compressed_seeds(&seeds(&["protocols"], &[".json", ".envelope"])),
        targets::decompress,
    );
}

#[test]
fn fuzz_otlp() {
    fuzz("otlp", seeds(&["otlp"], &[".pb", ".json"]), targets::otlp);
}

#[test]
fn fuzz_stacktrace_strings() {
    fuzz(
        "stacktrace",
        seeds(&["stacktraces"], &[".txt"]),
        targets::stacktrace,
    );
}

#[test]
fn fuzz_search_query() {
    fuzz("query", targets::query_seeds(), targets::query);
}
