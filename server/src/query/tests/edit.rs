//! Editing a query (the dashboard's drop-downs) and resolving what it means.

use super::*;

#[test]
fn set_replaces_in_place_and_drops_other_terms_on_the_key() {
    let mut q = parsed("is:resolved timeout level:error !level:debug browser:x");
    q.set(Filter::level(Level::Warning).into());
    assert_eq!(q.to_string(), "is:resolved timeout level:warning browser:x");
    q.set(Filter::field(Field::Environment, "prod").into());
    assert_eq!(
        q.to_string(),
        "is:resolved timeout level:warning browser:x environment:prod"
    );
    q.set(Term::not(Filter::Status(Status::Ignored)));
    assert_eq!(
        q.to_string(),
        "!is:ignored timeout level:warning browser:x environment:prod"
    );
}

#[test]
fn without_removes_every_term_on_the_key_and_nothing_else() {
    let q = parsed("level:error timeout level:>=info browser:x os:linux \"a b\"");
    assert_eq!(
        q.clone().without(&Key::Level).to_string(),
        "timeout browser:x os:linux \"a b\""
    );
    assert_eq!(
        q.clone().without(&Key::Text).to_string(),
        "level:error level:>=info browser:x os:linux"
    );
    assert_eq!(
        q.clone().without(&Key::Tag("browser".into())).to_string(),
        "level:error timeout level:>=info os:linux \"a b\""
    );
    assert_eq!(q.clone().without(&Key::Status), q);
    assert!(parsed("is:new").without(&Key::Status).is_empty());
}

#[test]
fn get_finds_the_terms_of_a_key() {
    let q = parsed("release:latest environment:prod !environment:dev");
    let env: Vec<String> = q.get(&Key::Environment).map(|t| t.to_string()).collect();
    assert_eq!(env, ["environment:prod", "!environment:dev"]);
    assert_eq!(q.get(&Key::Release).count(), 1);
    assert_eq!(q.get(&Key::Host).count(), 0);
}

#[test]
fn keys_name_what_set_and_without_act_on() {
    let keys: Vec<Key> = parsed(
        "is:new assigned:me level:error environment:a release:b host:c service:d trace:e \
         user.id:f user.email:g url:h message:i firstSeen:-1h lastSeen:-1h timesSeen:1 has:j \
         k:l text tags[host]:m",
    )
    .terms
    .iter()
    .map(Term::key)
    .collect();
    assert_eq!(
        keys,
        [
            Key::Status,
            Key::Assigned,
            Key::Level,
            Key::Environment,
            Key::Release,
            Key::Host,
            Key::Service,
            Key::Trace,
            Key::UserId,
            Key::UserEmail,
            Key::Url,
            Key::Message,
            Key::FirstSeen,
            Key::LastSeen,
            Key::TimesSeen,
            Key::Has,
            Key::Tag("k".into()),
            Key::Text,
            Key::Tag("host".into()),
        ]
    );
}

fn range(query: &str, now: i64) -> TimeRange {
    match &parsed(query).terms[0].filter {
        Filter::Time(_, t) => t.range(now),
        other => panic!("{other:?}"),
    }
}

#[test]
fn relative_times_resolve_against_now() {
    const H: i64 = 3_600_000;
    let now = 1_800_000_000_000;
    let within = |start| TimeRange {
        start: Some(start),
        end: None,
    };
    let before = |end| TimeRange {
        start: None,
        end: Some(end),
    };
    assert_eq!(range("age:-24h", now), within(now - 24 * H));
    assert_eq!(range("age:+12h", now), before(now - 12 * H));
    assert_eq!(range("lastSeen:-30m", now), within(now - 30 * 60_000));
    assert_eq!(range("lastSeen:-2d", now), within(now - 48 * H));
    assert_eq!(range("lastSeen:+1w", now), before(now - 7 * 24 * H));
    // Saturates instead of overflowing near the ends of time.
    assert_eq!(range("age:-1000w", i64::MIN + 1), within(i64::MIN));
    let r = range("age:-24h", now);
    assert!(r.contains(now) && r.contains(now - 24 * H) && !r.contains(now - 24 * H - 1));
}

#[test]
fn absolute_times_resolve_to_half_open_ranges() {
    let day = 1_793_491_200_000; // 2026-11-01T00:00:00Z
    let next = day + 86_400_000;
    let r = |start, end| TimeRange { start, end };
    assert_eq!(range("firstSeen:2026-11-01", 0), r(Some(day), Some(next)));
    assert_eq!(range("firstSeen:>2026-11-01", 0), r(Some(next), None));
    assert_eq!(range("firstSeen:>=2026-11-01", 0), r(Some(day), None));
    assert_eq!(range("firstSeen:<2026-11-01", 0), r(None, Some(day)));
    assert_eq!(range("firstSeen:<=2026-11-01", 0), r(None, Some(next)));
    let noon = day + 12 * 3_600_000;
    assert_eq!(
        range("lastSeen:>2026-11-01T14:00:00+02:00", 0),
        r(Some(noon + 1), None)
    );
    assert_eq!(
        range("lastSeen:<=2026-11-01T12:00:00Z", 0),
        r(None, Some(noon + 1))
    );
    assert_eq!(
        range("lastSeen:2026-11-01T12:00:00Z", 0),
        r(Some(noon), Some(noon + 1))
    );
}

#[test]
fn level_matches_list_the_levels_for_sql() {
    let levels = |q: &str| match &parsed(q).terms[0].filter {
        Filter::Level(m) => m.levels(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        levels("level:>=warning"),
        [Level::Warning, Level::Error, Level::Critical]
    );
    assert_eq!(levels("level:<warning"), [Level::Debug, Level::Info]);
    assert_eq!(levels("level:>critical"), []);
    assert_eq!(
        levels("level:[fatal,debug]"),
        [Level::Debug, Level::Critical]
    );
    assert_eq!(
        LevelMatch::Cmp(Cmp::Eq, Level::Info).levels(),
        [Level::Info]
    );
}

#[test]
fn comparisons_for_sql_and_memory() {
    assert_eq!(
        [Cmp::Eq, Cmp::Gt, Cmp::Ge, Cmp::Lt, Cmp::Le].map(Cmp::as_sql),
        ["=", ">", ">=", "<", "<="]
    );
    assert!(Cmp::Gt.holds(&101, &100) && !Cmp::Gt.holds(&100, &100));
    assert!(Cmp::Le.holds(&100, &100) && Cmp::Eq.holds(&1, &1));
}
