//! Bad queries ⇒ exact reason and span.

use super::*;

/// (query, reason, start, end): positions are character indexes.
const CASES: &[(&str, &str, usize, usize)] = &[
    ("level:", "expected a value after `level:`", 6, 6),
    ("level: error", "expected a value after `level:`", 6, 6),
    (
        "level:loud",
        "unknown level `loud` (expected debug, info, warning, error or critical)",
        6,
        10,
    ),
    (
        "level:[error,loud]",
        "unknown level `loud` (expected debug, info, warning, error or critical)",
        13,
        17,
    ),
    ("level:>=", "expected a value after `level:>=`", 8, 8),
    (
        "TypeError: x",
        "expected a value after `TypeError:` (to search for text with a `:`, quote it)",
        10,
        10,
    ),
    ("tags[level]:", "expected a value after `tags[level]:` (to search for text with a `:`, quote it)", 12, 12),
    ("level:>[error,fatal]", "a comparison takes one value, not a list", 7, 8),
    ("is:[resolved,ignored]", "`is:` takes no lists", 3, 21),
    (
        "is:foo",
        "unknown status `foo` for `is:` (expected unresolved, resolved, ignored, regressed, new, \
         assigned or unassigned)",
        3,
        6,
    ),
    ("is:>new", "`is:` takes no comparisons", 3, 4),
    ("user.email:\"a b", "unterminated quote", 11, 15),
    ("\"timeout", "unterminated quote", 0, 8),
    ("timesSeen:lots", "`timesSeen` needs a number, got `lots`", 10, 14),
    ("times_seen:>-5", "`times_seen` needs a number, got `-5`", 12, 14),
    ("timesSeen:+5", "`timesSeen` needs a number, got `+5`", 10, 12),
    (
        "timesSeen:99999999999999999999",
        "`timesSeen` number `99999999999999999999` is too large",
        10,
        30,
    ),
    ("timesSeen:[1,2]", "`timesSeen:` takes no lists", 10, 15),
    (
        "environment:>prod",
        "`environment:` takes no comparisons (quote the value to search for one starting with `>`)",
        12,
        13,
    ),
    (
        "environment:\"\"",
        "empty value after `environment:` (for issues without one, use `!has:environment`)",
        12,
        14,
    ),
    (
        "tags[level]:\"\"",
        "empty value after `tags[level]:` (for issues without one, use `!has:tags[level]`)",
        12,
        14,
    ),
    ("k:[a,\"\"]", "empty value after `k:` (for issues without one, use `!has:k`)", 5, 7),
    ("\"\"", "empty search text", 0, 2),
    ("!", "expected a term after `!`", 0, 1),
    ("a ! b", "expected a term after `!`", 2, 3),
    ("!!x", "negate a term with a single `!`", 0, 2),
    ("\"foo\"bar", "expected a space after the closing quote", 5, 6),
    ("k:\"a\"b", "expected a space after the closing quote", 5, 6),
    ("k:[a,b]c", "expected a space after `]`", 7, 8),
    ("k:[a,b", "unterminated list (expected `]`)", 2, 6),
    ("k:[a b]", "expected `,` or `]` in list", 5, 6),
    ("k:[]", "empty list", 2, 4),
    ("k:[a,,b]", "empty value in list", 5, 6),
    ("k:[,a]", "empty value in list", 3, 4),
    (
        "k:ab\"cd",
        "unexpected `\"` inside a word (quote the whole value, and write `\\\"` for a literal quote)",
        4,
        5,
    ),
    ("tags[]:x", "expected a tag name inside `tags[]`", 0, 6),
    ("tags[a b]:x", "unterminated `tags[` (expected `]`)", 0, 6),
    (
        "tags[a:b]:x",
        "`:` cannot be part of a tag name (letters, digits, `_ - . /`)",
        6,
        7,
    ),
    ("tags[a]x", "expected `:` after `tags[a]`", 7, 8),
    ("tags[a]", "expected `:` after `tags[a]`", 7, 7),
    (
        "assigned:bob",
        "`assigned:` takes me, none or an email address, got `bob`",
        9,
        12,
    ),
    ("assigned:*@x.org", "`assigned:` takes no wildcards", 9, 16),
    ("assigned:<me", "`assigned:` takes no comparisons", 9, 10),
    (
        "has:level",
        "`has:` takes a tag or field name (environment, release, host, service, trace, user.id, \
         user.email, url or message), got `level`",
        4,
        9,
    ),
    (
        "has:a*",
        "`has:` takes a tag or field name (environment, release, host, service, trace, user.id, \
         user.email, url or message), got `a*`",
        4,
        6,
    ),
    ("has:[a,b]", "`has:` takes no lists", 4, 9),
    (
        "age:24h",
        "`age:` needs `-` or `+` before a relative time: -24h is within the last 24h, +24h \
         longer ago",
        4,
        7,
    ),
    (
        "age:-3y",
        "unknown time unit `y` in `-3y` (expected m, h, d or w)",
        4,
        7,
    ),
    ("lastSeen:-24", "missing time unit in `-24` (expected m, h, d or w)", 9, 12),
    (
        "firstSeen:>-24h",
        "a relative time takes no comparison: -24h is within the last 24 hours, +24h longer ago",
        10,
        15,
    ),
    (
        "firstSeen:yesterday",
        "`firstSeen:` needs a relative time (-24h, +7d) or a date (2026-11-01, \
         2026-11-01T12:00:00Z), got `yesterday`",
        10,
        19,
    ),
    (
        "firstSeen:>2026-13-01",
        "`firstSeen:` needs a relative time (-24h, +7d) or a date (2026-11-01, \
         2026-11-01T12:00:00Z), got `2026-13-01`",
        11,
        21,
    ),
    (
        "firstSeen:-2026-11-01",
        "`firstSeen:` needs a relative time (-24h, +7d) or a date (2026-11-01, \
         2026-11-01T12:00:00Z), got `-2026-11-01`",
        10,
        21,
    ),
    (
        "age:-99999999999999999w",
        "relative time `-99999999999999999w` is too long",
        4,
        23,
    ),
    (
        "firstSeen:2026-1-1T1:1",
        "`firstSeen:` needs a relative time (-24h, +7d) or a date (2026-11-01, \
         2026-11-01T12:00:00Z), got `2026-1-1T1:1`",
        10,
        22,
    ),
    ("firstSeen:[-1h,-2h]", "`firstSeen:` takes no lists", 10, 19),
    // Positions count characters, not bytes.
    (
        "Zürich 東京 level:loud",
        "unknown level `loud` (expected debug, info, warning, error or critical)",
        16,
        20,
    ),
    ("ü \"é", "unterminated quote", 2, 4),
];

#[test]
fn bad_queries_give_the_reason_and_the_span() {
    for &(input, reason, start, end) in CASES {
        let err = parse(input).expect_err(input);
        assert_eq!(
            (err.reason.as_str(), err.start, err.end),
            (reason, start, end),
            "{input:?}\n{}",
            err.render(input)
        );
    }
}

#[test]
fn display_names_the_column() {
    let err = parse("level:loud").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown level `loud` (expected debug, info, warning, error or critical) (column 7)"
    );
    assert_eq!(err.column(), 7);
    assert_eq!(err.span(), (6, 10));
}

#[test]
fn render_points_at_the_span() {
    let input = "is:unresolved\tlevel:loud";
    let err = parse(input).unwrap_err();
    assert_eq!(
        err.render(input),
        format!(
            "is:unresolved level:loud\n{}^^^^ unknown level `loud` (expected debug, info, \
             warning, error or critical)",
            " ".repeat(20)
        )
    );
    // Something missing at the end: one caret just past the input.
    let err = parse("level:").unwrap_err();
    assert_eq!(
        err.render("level:"),
        "level:\n      ^ expected a value after `level:`"
    );
}
