//! Query text ⇒ expected terms, for every key and feature.

use super::*;

use Field::*;
use TimeUnit::*;

fn cases() -> Vec<(&'static str, Vec<Term>)> {
    let level = |l| term(Filter::level(l));
    vec![
        // Empty queries match everything.
        ("", vec![]),
        ("  \t\n ", vec![]),
        // Status, and its spellings.
        ("is:unresolved", vec![term(Filter::Status(Status::Unresolved))]),
        ("is:resolved", vec![term(Filter::Status(Status::Resolved))]),
        ("is:ignored", vec![term(Filter::Status(Status::Ignored))]),
        ("is:archived", vec![term(Filter::Status(Status::Ignored))]),
        ("is:regressed", vec![term(Filter::Status(Status::Regressed))]),
        ("is:new", vec![term(Filter::Status(Status::New))]),
        ("is:assigned", vec![term(Filter::Status(Status::Assigned))]),
        ("IS:Unassigned", vec![term(Filter::Status(Status::Unassigned))]),
        ("!is:resolved", vec![not(Filter::Status(Status::Resolved))]),
        // Assignees.
        ("assigned:me", vec![term(Filter::Assigned(vec![Assignee::Me]))]),
        ("assigned:none", vec![term(Filter::Assigned(vec![Assignee::Nobody]))]),
        (
            "assigned:Ann@Example.com",
            vec![term(Filter::Assigned(vec![Assignee::Email("Ann@Example.com".into())]))],
        ),
        (
            "assigned:[me, none]",
            vec![term(Filter::Assigned(vec![Assignee::Me, Assignee::Nobody]))],
        ),
        // Levels: names, aliases, comparisons, lists.
        ("level:error", vec![level(Level::Error)]),
        ("level:fatal", vec![level(Level::Critical)]),
        ("level:warn", vec![level(Level::Warning)]),
        ("level:DEBUG", vec![level(Level::Debug)]),
        ("level:info", vec![level(Level::Info)]),
        (
            "level:>=warning",
            vec![term(Filter::Level(LevelMatch::Cmp(Cmp::Ge, Level::Warning)))],
        ),
        ("level:>info", vec![term(Filter::Level(LevelMatch::Cmp(Cmp::Gt, Level::Info)))]),
        ("level:<error", vec![term(Filter::Level(LevelMatch::Cmp(Cmp::Lt, Level::Error)))]),
        ("level:<=debug", vec![term(Filter::Level(LevelMatch::Cmp(Cmp::Le, Level::Debug)))]),
        (
            "level:[error,fatal]",
            vec![term(Filter::Level(LevelMatch::AnyOf(vec![Level::Error, Level::Critical])))],
        ),
        ("!level:[debug]", vec![not(Filter::Level(LevelMatch::AnyOf(vec![Level::Debug])))]),
        // String fields.
        ("environment:production", vec![term(field(Environment, &["production"]))]),
        ("!environment:staging", vec![not(field(Environment, &["staging"]))]),
        ("host:web-1.example.com", vec![term(field(Host, &["web-1.example.com"]))]),
        ("service:checkout", vec![term(field(Service, &["checkout"]))]),
        ("trace:4bf92f3577b34da6a3ce929d0e0e4736", vec![term(field(
            Trace,
            &["4bf92f3577b34da6a3ce929d0e0e4736"],
        ))]),
        ("user.id:42", vec![term(field(UserId, &["42"]))]),
        ("user.email:\"a b\"", vec![term(field(UserEmail, &["a b"]))]),
        (
            "url:https://shop.example/cart?x=1",
            vec![term(field(Url, &["https://shop.example/cart?x=1"]))],
        ),
        ("!message:\"*Timeout\"", vec![not(field(Message, &["*Timeout"]))]),
        ("Environment:[prod, \"pre prod\"]", vec![term(field(Environment, &["prod", "pre prod"]))]),
        // Releases: `latest`, unless quoted.
        ("release:latest", vec![term(Filter::Release(vec![ReleaseValue::Latest]))]),
        (
            "release:\"latest\"",
            vec![term(Filter::Release(vec![ReleaseValue::Pattern(pat("latest"))]))],
        ),
        (
            "release:[latest,1.2.*]",
            vec![term(Filter::Release(vec![
                ReleaseValue::Latest,
                ReleaseValue::Pattern(pat("1.2.*")),
            ]))],
        ),
        ("release:2.0.1", vec![term(Filter::release("2.0.1"))]),
        // Tags, wildcards, escapes.
        ("browser:Firefox", vec![term(tag("browser", &["Firefox"]))]),
        ("browser:\"Firefox 1*\"", vec![term(tag("browser", &["Firefox 1*"]))]),
        ("os.name:Linux", vec![term(tag("os.name", &["Linux"]))]),
        ("k8s/pod_name-x:api-7", vec![term(tag("k8s/pod_name-x", &["api-7"]))]),
        ("tags[level]:high", vec![term(tag("level", &["high"]))]),
        ("!tags[is]:x", vec![not(tag("is", &["x"]))]),
        ("ratio:a:b", vec![term(tag("ratio", &["a:b"]))]),
        ("note:\"say \\\"hi\\\"\"", vec![term(tag("note", &["say \"hi\""]))]),
        ("path:C:\\Users", vec![term(tag("path", &["C:\\Users"]))]),
        (
            "k:\"a\\*b\"",
            vec![term(Filter::Tag("k".into(), vec![Pattern::literal("a*b")]))],
        ),
        ("k:a,b", vec![term(tag("k", &["a,b"]))]),
        ("k:[a , b]", vec![term(tag("k", &["a", "b"]))]),
        ("k:[\"a]\",\"\\\"\"]", vec![term(tag("k", &["a]", "\""]))]),
        ("ville:Zürich", vec![term(tag("ville", &["Zürich"]))]),
        ("城市:東京", vec![term(tag("城市", &["東京"]))]),
        // has:
        ("has:user.email", vec![term(Filter::Has(HasKey::Field(UserEmail)))]),
        ("!has:environment", vec![not(Filter::Has(HasKey::Field(Environment)))]),
        ("has:release", vec![term(Filter::Has(HasKey::Release))]),
        ("has:browser", vec![term(Filter::Has(HasKey::Tag("browser".into())))]),
        ("has:tags[level]", vec![term(Filter::Has(HasKey::Tag("level".into())))]),
        // Times: relative, absolute, spellings.
        ("age:-24h", vec![term(Filter::Time(TimeField::FirstSeen, TimeValue::Within(ago(24, Hours))))]),
        ("age:+12h", vec![term(Filter::Time(TimeField::FirstSeen, TimeValue::OlderThan(ago(12, Hours))))]),
        ("lastSeen:-1h", vec![term(Filter::Time(TimeField::LastSeen, TimeValue::Within(ago(1, Hours))))]),
        ("last_seen:-30m", vec![term(Filter::Time(TimeField::LastSeen, TimeValue::Within(ago(30, Minutes))))]),
        ("firstseen:+2w", vec![term(Filter::Time(TimeField::FirstSeen, TimeValue::OlderThan(ago(2, Weeks))))]),
        ("first_seen:-7d", vec![term(Filter::Time(TimeField::FirstSeen, TimeValue::Within(ago(7, Days))))]),
        (
            "firstSeen:>2026-11-01",
            vec![term(Filter::Time(TimeField::FirstSeen, TimeValue::At(Cmp::Gt, day("2026-11-01"))))],
        ),
        (
            "firstSeen:2026-11-01",
            vec![term(Filter::Time(TimeField::FirstSeen, TimeValue::At(Cmp::Eq, day("2026-11-01"))))],
        ),
        (
            "lastSeen:<=2026-11-01T12:30:00+02:00",
            vec![term(Filter::Time(
                TimeField::LastSeen,
                TimeValue::At(Cmp::Le, instant("2026-11-01T10:30:00Z")),
            ))],
        ),
        (
            "lastSeen:>=2026-11-01T12:30:00.250Z",
            vec![term(Filter::Time(
                TimeField::LastSeen,
                TimeValue::At(Cmp::Ge, instant("2026-11-01T12:30:00.250Z")),
            ))],
        ),
        (
            "firstSeen:<2026-11-01T12:30",
            vec![term(Filter::Time(
                TimeField::FirstSeen,
                TimeValue::At(Cmp::Lt, instant("2026-11-01T12:30:00Z")),
            ))],
        ),
        // Counts.
        ("timesSeen:>100", vec![term(Filter::TimesSeen(Cmp::Gt, 100))]),
        ("times_seen:5", vec![term(Filter::TimesSeen(Cmp::Eq, 5))]),
        ("timesseen:<=0", vec![term(Filter::TimesSeen(Cmp::Le, 0))]),
        ("!timesSeen:>=9223372036854775807", vec![not(Filter::TimesSeen(Cmp::Ge, i64::MAX as u64))]),
        // Free text: words, phrases, wildcards, negation.
        ("timeout", vec![term(text("timeout"))]),
        ("\"connection reset\"", vec![term(text("connection reset"))]),
        ("Read timeout", vec![term(text("Read")), term(text("timeout"))]),
        ("!\"foo bar\" !baz", vec![not(text("foo bar")), not(text("baz"))]),
        ("Timeout*Error", vec![term(text("Timeout*Error"))]),
        ("\"TypeError: x\"", vec![term(text("TypeError: x"))]),
        ("(foo:bar", vec![term(text("(foo:bar"))]),
        ("-24h", vec![term(text("-24h"))]),
        ("a!b", vec![term(text("a!b"))]),
        ("Tags[x]:y", vec![term(text("Tags[x]:y"))]),
        ("💥 ошибка", vec![term(text("💥")), term(text("ошибка"))]),
        // The issue's example: everything ANDed, in order.
        (
            "is:unresolved level:error release:latest browser:Firefox !environment:staging \"timeout\"",
            vec![
                term(Filter::Status(Status::Unresolved)),
                level(Level::Error),
                term(Filter::Release(vec![ReleaseValue::Latest])),
                term(tag("browser", &["Firefox"])),
                not(field(Environment, &["staging"])),
                term(text("timeout")),
            ],
        ),
    ]
}

#[test]
fn every_key_and_feature_parses_to_its_structure() {
    for (input, terms) in cases() {
        assert_eq!(parsed(input), Query { terms }, "{input:?}");
    }
}

#[test]
fn from_str_is_parse() {
    let q: Query = "is:new level:error".parse().unwrap();
    assert_eq!(q, parsed("is:new level:error"));
}

#[test]
fn wildcards_are_kept_apart_from_escaped_stars() {
    let q = parsed(r#"k:"a\*b*""#);
    let Filter::Tag(_, values) = &q.terms[0].filter else {
        panic!("{q:?}")
    };
    assert_eq!(values[0].pieces(), &[Piece::Lit("a*b".into()), Piece::Any]);
    assert_eq!(values[0].to_like(), "a*b%");
}
