//! Tests of the whole parser (pattern details are tested beside the code).

mod edit;
mod errors;
mod fuzz;
mod parses;
mod roundtrip;

use super::*;

fn term(filter: Filter) -> Term {
    filter.into()
}

fn not(filter: Filter) -> Term {
    Term::not(filter)
}

/// A pattern from `*`-wildcard text.
fn pat(s: &str) -> Pattern {
    Pattern::wildcard(s)
}

fn field(f: Field, values: &[&str]) -> Filter {
    Filter::Field(f, values.iter().map(|v| pat(v)).collect())
}

fn tag(key: &str, values: &[&str]) -> Filter {
    Filter::Tag(key.into(), values.iter().map(|v| pat(v)).collect())
}

fn text(s: &str) -> Filter {
    Filter::Text(pat(s))
}

fn ago(amount: u64, unit: TimeUnit) -> Ago {
    Ago { amount, unit }
}

fn day(s: &str) -> Timestamp {
    Timestamp::Date(s.parse().unwrap())
}

fn instant(s: &str) -> Timestamp {
    Timestamp::DateTime(chrono::DateTime::parse_from_rfc3339(s).unwrap())
}

#[track_caller]
fn parsed(input: &str) -> Query {
    parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {}", e.render(input)))
}
