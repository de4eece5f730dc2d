//! Random and garbage input: never a panic, errors point inside the input, and whatever
//! parses round-trips through `Display`.

use super::*;

/// xorshift64*: deterministic, so a failure reproduces (the seed is in the message).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Pieces that reach the parser's corners when glued together at random.
const FRAGMENTS: &[&str] = &[
    "is:",
    "level:",
    "release:",
    "assigned:",
    "has:",
    "age:",
    "firstSeen:",
    "lastSeen:",
    "timesSeen:",
    "tags[",
    "]",
    "[",
    ",",
    ":",
    "\"",
    "\\",
    "\\\"",
    "\\*",
    "*",
    "!",
    ">",
    "<",
    ">=",
    "<=",
    "-",
    "+",
    " ",
    "  ",
    "\t",
    "\n",
    "error",
    "fatal",
    "latest",
    "me",
    "none",
    "a@b.c",
    "unresolved",
    "24h",
    "-1w",
    "+3d",
    "2026-11-01",
    "2026-11-01T12:00:00Z",
    "100",
    "99999999999999999999",
    "x",
    "browser",
    "user.email",
    "é",
    "日本",
    "💥",
    "\u{0}",
    "\u{200b}",
    "\u{feff}",
    "ǅ",
    "İ",
    "tags[level]",
    "environment",
    "_",
    ".",
    "/",
];

fn random_query(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(12) {
        if rng.below(4) == 0 {
            // Any scalar value at all, multi-byte ones included.
            let c = char::from_u32(rng.next() as u32 % 0x11_0000).unwrap_or('\u{fffd}');
            s.push(c);
        } else {
            s.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        }
    }
    s
}

fn check(input: &str) {
    match parse(input) {
        Ok(q) => {
            let text = q.to_string();
            let again = parse(&text)
                .unwrap_or_else(|e| panic!("{input:?} → {text:?} fails: {}", e.render(&text)));
            assert_eq!(again, q, "{input:?} → {text:?}");
            assert_eq!(again.to_string(), text, "{input:?}");
        }
        Err(e) => {
            let len = input.chars().count();
            assert!(e.start <= e.end && e.end <= len, "{input:?}: {e:?}");
            assert!(!e.reason.is_empty());
            let _ = e.render(input);
            let _ = e.to_string();
        }
    }
}

#[test]
fn random_queries_never_panic_and_round_trip() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut bad) = (0, 0);
    for _ in 0..30_000 {
        let input = random_query(&mut rng);
        check(&input);
        if parse(&input).is_ok() {
            ok += 1;
        } else {
            bad += 1;
        }
    }
    // Both paths must have been exercised for the test to mean anything.
    assert!(ok > 1_000 && bad > 1_000, "ok {ok}, bad {bad}");
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..5_000 {
        let len = rng.below(40);
        let input: String = (0..len)
            .map(|_| char::from_u32(rng.next() as u32 % 0x11_0000).unwrap_or('\u{fffd}'))
            .collect();
        check(&input);
    }
    for input in [
        "\"",
        "\\",
        "[",
        "tags[",
        "k:[",
        "k:[\"",
        "k:\\",
        "k:\"\\",
        "!\"",
        "age:-",
        "age:+",
        "firstSeen:>",
        "level:[,",
        "::::",
        "!:x",
        "*",
        "\u{0}:\u{0}",
        "é:\"日本",
        &"x:".repeat(1000),
        &"[".repeat(1000),
        &"!".repeat(1000),
    ] {
        check(input);
    }
}
