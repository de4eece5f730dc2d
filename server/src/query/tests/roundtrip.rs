//! `Display` writes canonical text that parses back to the same query.

use super::*;

/// (typed, canonical)
const CANONICAL: &[(&str, &str)] = &[
    ("", ""),
    (
        "   is:unresolved    level:error  ",
        "is:unresolved level:error",
    ),
    ("IS:Archived", "is:ignored"),
    ("level:fatal level:WARN", "level:critical level:warning"),
    ("level:>=warn", "level:>=warning"),
    ("level:[error, fatal]", "level:[error,critical]"),
    ("level:[error]", "level:error"),
    ("assigned:[Me,NONE,a@b.c]", "assigned:[me,none,a@b.c]"),
    ("Environment:prod", "environment:prod"),
    ("user.email:\"a b\"", "user.email:\"a b\""),
    ("k:\"plain\"", "k:plain"),
    ("k:\"a,b\"", "k:\"a,b\""),
    ("k:\">x\"", "k:\">x\""),
    ("k:\"[x\"", "k:\"[x\""),
    ("k:\"\\\"q\\\"\"", "k:\"\\\"q\\\"\""),
    ("k:a\\*b*", "k:a\\*b*"),
    ("path:C:\\Users", "path:C:\\\\Users"),
    ("release:latest", "release:latest"),
    ("release:LATEST", "release:latest"),
    ("release:\"latest\"", "release:\"latest\""),
    ("release:[\"Latest\",latest]", "release:[\"Latest\",latest]"),
    ("tags[level]:x", "tags[level]:x"),
    ("tags[browser]:x", "browser:x"),
    ("has:tags[first_seen]", "has:tags[first_seen]"),
    ("has:tags[browser]", "has:browser"),
    ("!has:User.Email", "!has:user.email"),
    ("age:-24h", "firstSeen:-24h"),
    (
        "first_seen:+7d last_seen:-30m",
        "firstSeen:+7d lastSeen:-30m",
    ),
    ("firstSeen:>2026-11-01", "firstSeen:>2026-11-01"),
    (
        "lastSeen:<=2026-11-01T12:30:00+02:00",
        "lastSeen:<=2026-11-01T12:30:00+02:00",
    ),
    (
        "lastSeen:<2026-11-01T12:30:00.5",
        "lastSeen:<2026-11-01T12:30:00.500Z",
    ),
    ("times_seen:100", "timesSeen:100"),
    ("timesSeen:>=7", "timesSeen:>=7"),
    ("\"timeout\"", "timeout"),
    ("\"connection reset\"", "\"connection reset\""),
    ("\"TypeError: x\"", "\"TypeError: x\""),
    ("\"!bang\"", "\"!bang\""),
    ("!\"!bang\"", "!\"!bang\""),
    ("\"tags[x]\"", "\"tags[x]\""),
    ("(foo:bar", "\"(foo:bar\""),
    ("Timeout*", "Timeout*"),
    ("\"a\\*\"", "a\\*"),
];

#[test]
fn display_is_canonical_and_parses_back() {
    for &(typed, canonical) in CANONICAL {
        let q = parsed(typed);
        assert_eq!(q.to_string(), canonical, "{typed:?}");
        assert_eq!(parsed(canonical), q, "{canonical:?}");
    }
}

#[test]
fn every_example_of_the_parse_table_round_trips() {
    let queries = [
        "is:unresolved level:error release:latest browser:Firefox !environment:staging \"timeout\"",
        "assigned:[me,none] level:>=warning url:\"*/checkout\" !message:\"*Timeout\"",
        "browser:\"Firefox 1*\" k:[\"a]\",\"\\\"\"] 城市:東京 💥 ошибка",
        "firstSeen:2026-11-01 lastSeen:>=2026-11-01T12:30:00.250Z timesSeen:<=0",
        "!tags[is]:x has:tags[level] !has:environment user.id:42 trace:abc service:api host:h",
    ];
    for input in queries {
        let q = parsed(input);
        let text = q.to_string();
        assert_eq!(parsed(&text), q, "{input:?} → {text:?}");
        assert_eq!(parsed(&text).to_string(), text, "canonical text is stable");
    }
}

#[test]
fn built_queries_render_as_the_dashboard_would_write_them() {
    let q = Query::default()
        .with(Filter::Status(Status::Unresolved))
        .with(Filter::level(Level::Error))
        .with(Filter::field(Field::Environment, "pre prod"))
        .with(Filter::release("latest"))
        .with(Filter::tag("level", "x"))
        .with(Filter::Text(Pattern::literal("50% *off*")));
    let text = q.to_string();
    assert_eq!(
        text,
        "is:unresolved level:error environment:\"pre prod\" release:\"latest\" tags[level]:x \
         \"50% \\*off\\*\""
    );
    assert_eq!(parsed(&text), q);
}
