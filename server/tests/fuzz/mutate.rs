//! The mutator: takes a seed input and changes it one to four times, by bytes (flip, set,
//! insert, delete, duplicate, truncate), by JSON tokens (a value swapped for one of the values
//! parsers trip on), by nesting, or by splicing in a piece of another seed.

/// xorshift64*: small, fast and good enough to pick mutations; reproducible from its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes that separate or end things in the formats we read.
const SPECIAL_BYTES: &[u8] = b"\0\n\r\t \"'\\{}[]:,./-+0eE%*!<>";

/// Values that have broken JSON readers before: wrong types, huge and odd numbers, escapes,
/// lone surrogates, empty containers.
const JSON_VALUES: &[&str] = &[
    "null",
    "true",
    "0",
    "-1",
    "1e309",
    "-0.0",
    "18446744073709551616",
    "9007199254740993",
    "\"\"",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "\"\u{202e}\u{0301}\"",
    "[]",
    "{}",
    "[null]",
    "{\"\":null}",
    "\"1970-01-01T00:00:00Z\"",
    "\"not a date\"",
    "1e-400",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
];

pub struct Mutator {
    rng: Rng,
    seeds: Vec<Vec<u8>>,
}

impl Mutator {
    pub fn new(seed: u64, seeds: Vec<Vec<u8>>) -> Mutator {
        Mutator {
            rng: Rng::new(seed),
            seeds,
        }
    }

    pub fn next_input(&mut self) -> Vec<u8> {
        let mut input = self.rng.pick(&self.seeds).clone();
        for _ in 0..1 + self.rng.below(4) {
            self.mutate(&mut input);
        }
        input
    }

    fn mutate(&mut self, input: &mut Vec<u8>) {
        if input.is_empty() {
            input.push(*self.rng.pick(SPECIAL_BYTES));
            return;
        }
        let at = self.rng.below(input.len());
        match self.rng.below(10) {
            0 => input[at] ^= 1 << self.rng.below(8),
            1 => input[at] = *self.rng.pick(SPECIAL_BYTES),
            2 => {
                let n = 1 + self.rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| self.rng.next() as u8).collect();
                input.splice(at..at, bytes);
            }
            3 => {
                let end = (at + 1 + self.rng.below(64)).min(input.len());
                input.drain(at..end);
            }
            4 => {
                let end = (at + 1 + self.rng.below(256)).min(input.len());
                let piece = input[at..end].to_vec();
                let to = self.rng.below(input.len());
                input.splice(to..to, piece);
            }
            5 => input.truncate(at),
            6 | 7 => self.swap_json_value(input),
            8 => self.nest(input, at),
            _ => self.splice_other_seed(input, at),
        }
    }

    /// Replaces the value after a `:` (or an array element after `[` or `,`) with a hostile one.
    fn swap_json_value(&mut self, input: &mut Vec<u8>) {
        let starts: Vec<usize> = input
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, b':' | b'[' | b','))
            .map(|(i, _)| i + 1)
            .collect();
        if starts.is_empty() {
            return;
        }
        let start = *self.rng.pick(&starts);
        let end = value_end(input, start);
        let value = self.rng.pick(JSON_VALUES).as_bytes().to_vec();
        input.splice(start..end, value);
    }

    /// Wraps a stretch in many brackets: deep nesting is what recursive readers choke on.
    fn nest(&mut self, input: &mut Vec<u8>, at: usize) {
        let max = if self.rng.below(8) == 0 { 5_000 } else { 50 };
        let depth = 1 + self.rng.below(max);
        let (open, close) = if self.rng.below(2) == 0 {
            (b'[', b']')
        } else {
            (b'{', b'}')
        };
        let closing = self.rng.below(2) == 0;
        let mut piece = vec![open; depth];
        if open == b'{' {
            // `{"a":{"a":...` keeps objects valid so the reader goes deep before it fails.
            piece = b"{\"a\":".repeat(depth);
        }
        if closing {
            piece.resize(piece.len() + depth, close);
        }
        input.splice(at..at, piece);
    }

    fn splice_other_seed(&mut self, input: &mut Vec<u8>, at: usize) {
        let other = self.rng.pick(&self.seeds).clone();
        if other.is_empty() {
            return;
        }
        let from = self.rng.below(other.len());
        let end = (from + 1 + self.rng.below(512)).min(other.len());
        input.splice(at..at, other[from..end].iter().copied());
    }
}

/// Where the JSON value starting at `start` ends, roughly: at the first `,` `}` `]` outside a
/// string and outside brackets opened after `start`.
fn value_end(input: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in input.iter().enumerate().skip(start) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' | b',' if depth == 0 => return i,
            b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    input.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_end_skips_strings_and_brackets() {
        let s = br#"{"a":"x,}","b":[1,{"c":2}],"d":3}"#;
        assert_eq!(value_end(s, 5), 10);
        assert_eq!(&s[15..value_end(s, 15)], br#"[1,{"c":2}]"#);
    }

    #[test]
    fn same_seed_same_inputs() {
        let seeds = vec![br#"{"a":[1,2,3]}"#.to_vec()];
        let mut a = Mutator::new(7, seeds.clone());
        let mut b = Mutator::new(7, seeds);
        for _ in 0..100 {
            assert_eq!(a.next_input(), b.next_input());
        }
    }
}
