//! Release health: Sentry's `session` and `sessions` envelope items read into what the store
//! counts, and the crash-free rates computed from the counts. Pure.
//!
//! How a session is counted (Sentry's model, <https://develop.sentry.dev/sdk/sessions/>): a
//! session is counted as `started` by the update that has `init: true` (the SDK marks its first
//! update so), and by how it ended from the first update whose status is no longer `ok`:
//! `crashed`, `abnormal`, `errored`, or `exited` (`errored` too when it exited with `errors >
//! 0`). A session still running is errored as soon as an update says `errors > 0`; without
//! errors it is healthy, as is one that never says how it ended. The store counts the start
//! once per session id and the end once, moving it when a later update ends it worse (errored,
//! then crashed: one crashed session, no longer an errored one), so a resent update does not
//! count again. An aggregate (`sessions` item, what server-mode SDKs send per request) is a count of
//! sessions that already ended: each bucket adds its total to `started` and each status to its
//! own. Counts go to the hour the session started in.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{validate_environment, validate_version};

/// How a session ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ending {
    Exited,
    Errored,
    Abnormal,
    Crashed,
}

impl Ending {
    pub const ALL: [Ending; 4] = [
        Ending::Exited,
        Ending::Errored,
        Ending::Abnormal,
        Ending::Crashed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Exited => "exited",
            Ending::Errored => "errored",
            Ending::Abnormal => "abnormal",
            Ending::Crashed => "crashed",
        }
    }
}

/// What one item adds, for one release, environment and hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUpdate {
    pub release: String,
    pub environment: String,
    /// The hour the session (or aggregate bucket) started in, unix ms.
    pub hour: i64,
    /// The distinct user (`did`), when the SDK sends one.
    pub did: Option<String>,
    pub kind: UpdateKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateKind {
    /// One session's update: counted as started when `init`, as ended when `ended`; each
    /// once per `sid`.
    Single {
        sid: String,
        init: bool,
        ended: Option<Ending>,
    },
    /// Sessions that ended, counted by how (in [`Ending::ALL`] order).
    Aggregate { ended: [i64; 4] },
}

const HOUR_MS: i64 = 3_600_000;

/// The update's hour: when it started, unless that is missing, unreadable or in the future
/// (a wrong client clock), then when it arrived.
fn hour_of(started: Option<&Value>, received_at: i64) -> i64 {
    let at = started
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
        .filter(|&t| t > 0 && t <= received_at + HOUR_MS)
        .unwrap_or(received_at);
    at.div_euclid(HOUR_MS) * HOUR_MS
}

/// `attrs.release` (required: Sentry drops sessions without one) and `attrs.environment`
/// (`production` when absent, as Sentry's).
fn attrs(v: &Value) -> Result<(String, String), String> {
    let attrs = v.get("attrs").ok_or("missing `attrs`")?;
    let release = attrs
        .get("release")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("missing `attrs.release`")?;
    validate_version(release).map_err(|e| format!("`attrs.release`: {e}"))?;
    let environment = match attrs.get("environment").and_then(Value::as_str) {
        Some(e) if !e.trim().is_empty() => e.trim(),
        _ => "production",
    };
    validate_environment(environment).map_err(|e| format!("`attrs.environment`: {e}"))?;
    Ok((release.to_owned(), environment.to_owned()))
}

fn did(v: &Value) -> Option<String> {
    let did = match v.get("did")? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!did.is_empty() && did.len() <= 200).then_some(did)
}

/// A `session` item: one session's current state.
pub fn parse_session(payload: &[u8], received_at: i64) -> Result<SessionUpdate, String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("invalid JSON: {e}"))?;
    let (release, environment) = attrs(&v)?;
    let sid = v
        .get("sid")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 100)
        .ok_or("missing `sid`")?
        .to_owned();
    let init = v.get("init").and_then(Value::as_bool).unwrap_or(false);
    let errors = v.get("errors").and_then(Value::as_i64).unwrap_or(0);
    let ended = match v.get("status").and_then(Value::as_str).unwrap_or("ok") {
        // Still running, but an error happened: errored now (a later crash moves it on).
        "ok" | "exited" if errors > 0 => Some(Ending::Errored),
        "ok" => None,
        "exited" => Some(Ending::Exited),
        "errored" => Some(Ending::Errored),
        "abnormal" => Some(Ending::Abnormal),
        "crashed" => Some(Ending::Crashed),
        other => return Err(format!("unknown session status {other:?}")),
    };
    Ok(SessionUpdate {
        release,
        environment,
        hour: hour_of(v.get("started"), received_at),
        did: did(&v),
        kind: UpdateKind::Single { sid, init, ended },
    })
}

/// A `sessions` item: `attrs` and `aggregates` of `{started, did?, exited, errored, abnormal,
/// crashed}`, one update per bucket with any session in it.
pub fn parse_sessions(payload: &[u8], received_at: i64) -> Result<Vec<SessionUpdate>, String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("invalid JSON: {e}"))?;
    let (release, environment) = attrs(&v)?;
    let buckets = v
        .get("aggregates")
        .and_then(Value::as_array)
        .ok_or("missing `aggregates`")?;
    let mut out = Vec::with_capacity(buckets.len());
    for b in buckets {
        let mut ended = [0i64; 4];
        for (n, ending) in ended.iter_mut().zip(Ending::ALL) {
            *n = match b.get(ending.as_str()) {
                None | Some(Value::Null) => 0,
                Some(x) => x
                    .as_i64()
                    .filter(|&n| (0..=1_000_000_000).contains(&n))
                    .ok_or_else(|| format!("`aggregates[].{}` must be a count", ending.as_str()))?,
            };
        }
        if ended.iter().all(|&n| n == 0) {
            continue;
        }
        out.push(SessionUpdate {
            release: release.clone(),
            environment: environment.clone(),
            hour: hour_of(b.get("started"), received_at),
            did: did(b),
            kind: UpdateKind::Aggregate { ended },
        });
    }
    Ok(out)
}

/// A release's (or environment's) session counts, as shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    pub sessions: i64,
    pub exited: i64,
    pub errored: i64,
    pub abnormal: i64,
    pub crashed: i64,
    pub users: i64,
    pub crashed_users: i64,
}

impl Health {
    /// 1 - crashed / sessions; `None` without sessions. A crash reported for a session whose
    /// start was never sent can make crashed exceed started: the rate is then 0, not negative.
    pub fn crash_free_sessions(&self) -> Option<f64> {
        rate(self.crashed, self.sessions)
    }

    pub fn crash_free_users(&self) -> Option<f64> {
        rate(self.crashed_users, self.users)
    }

    pub fn add(&mut self, other: &Health) {
        self.sessions += other.sessions;
        self.exited += other.exited;
        self.errored += other.errored;
        self.abnormal += other.abnormal;
        self.crashed += other.crashed;
        self.users += other.users;
        self.crashed_users += other.crashed_users;
    }
}

fn rate(bad: i64, total: i64) -> Option<f64> {
    (total > 0).then(|| (1.0 - bad as f64 / total as f64).clamp(0.0, 1.0))
}

/// A rate as the pages show it: `99.5%`, `100%`, `–` without sessions.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        None => "–".into(),
        Some(r) if r >= 1.0 => "100%".into(),
        // Truncated, not rounded: 99.96% crash-free must not read as 100%.
        Some(r) => format!("{:.1}%", (r * 1000.0).floor() / 10.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000_000;

    #[test]
    fn single_sessions_read_their_start_and_ending() {
        let s = parse_session(
            br#"{"sid":"7c7b6585f90143518f8d0123456789ab","did":"42","init":true,"started":"2025-11-24T15:35:00Z",
                "status":"exited","errors":2,"attrs":{"release":"shop@1.0","environment":"staging"}}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(s.release, "shop@1.0");
        assert_eq!(s.environment, "staging");
        assert_eq!(s.did.as_deref(), Some("42"));
        assert_eq!(s.hour, 1_763_996_400_000, "15:00 of its start");
        assert_eq!(
            s.kind,
            UpdateKind::Single {
                sid: "7c7b6585f90143518f8d0123456789ab".into(),
                init: true,
                ended: Some(Ending::Errored)
            }
        );
        let running = parse_session(
            br#"{"sid":"a","status":"ok","errors":1,"attrs":{"release":"1.0"}}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(running.environment, "production");
        assert_eq!(
            running.kind,
            UpdateKind::Single {
                sid: "a".into(),
                init: false,
                ended: Some(Ending::Errored)
            },
            "running, but an error happened: errored now"
        );
        let healthy = parse_session(
            br#"{"sid":"a","status":"ok","errors":0,"attrs":{"release":"1.0"}}"#,
            NOW,
        )
        .unwrap();
        assert!(matches!(
            healthy.kind,
            UpdateKind::Single { ended: None, .. }
        ));
        assert_eq!(running.hour, NOW.div_euclid(HOUR_MS) * HOUR_MS);
        for (status, ending) in [
            ("crashed", Ending::Crashed),
            ("abnormal", Ending::Abnormal),
            ("errored", Ending::Errored),
            ("exited", Ending::Exited),
        ] {
            let body = format!(r#"{{"sid":"a","status":"{status}","attrs":{{"release":"1.0"}}}}"#);
            let s = parse_session(body.as_bytes(), NOW).unwrap();
            assert!(matches!(s.kind, UpdateKind::Single { ended: Some(e), .. } if e == ending));
        }
    }

    #[test]
    fn bad_sessions_say_what_is_wrong() {
        let err = |body: &str| parse_session(body.as_bytes(), NOW).unwrap_err();
        assert!(err("{").contains("invalid JSON"));
        assert!(err(r#"{"sid":"a"}"#).contains("attrs"));
        assert!(err(r#"{"sid":"a","attrs":{}}"#).contains("attrs.release"));
        assert!(err(r#"{"attrs":{"release":"1.0"}}"#).contains("sid"));
        assert!(err(r#"{"sid":"a","status":"gone","attrs":{"release":"1.0"}}"#).contains("gone"));
        assert!(err(r#"{"sid":"a","attrs":{"release":"a/b"}}"#).contains("release"));
        assert!(parse_sessions(
            br#"{"attrs":{"release":"1.0"},"aggregates":[{"exited":-1}]}"#,
            NOW
        )
        .unwrap_err()
        .contains("exited"));
    }

    #[test]
    fn aggregates_count_ended_sessions_per_bucket() {
        let out = parse_sessions(
            br#"{"attrs":{"release":"api@2","environment":"prod"},"aggregates":[
                {"started":"2025-11-24T15:00:00Z","exited":10,"errored":2,"crashed":1},
                {"started":"2025-11-24T16:00:00Z","did":"u1","abnormal":1},
                {"started":"2025-11-24T16:00:00Z"}]}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(out.len(), 2, "empty buckets add nothing");
        assert_eq!(
            out[0].kind,
            UpdateKind::Aggregate {
                ended: [10, 2, 0, 1]
            }
        );
        assert_eq!(out[1].did.as_deref(), Some("u1"));
        assert_eq!(out[1].hour - out[0].hour, HOUR_MS);
    }

    #[test]
    fn crash_free_rates_are_bounded_and_truncated() {
        let h = Health {
            sessions: 3,
            crashed: 1,
            users: 0,
            ..Health::default()
        };
        assert_eq!(percent(h.crash_free_sessions()), "66.6%");
        assert_eq!(percent(h.crash_free_users()), "–");
        let odd = Health {
            sessions: 1,
            crashed: 2,
            ..Health::default()
        };
        assert_eq!(odd.crash_free_sessions(), Some(0.0));
        let almost = Health {
            sessions: 10_000,
            crashed: 4,
            ..Health::default()
        };
        assert_eq!(percent(almost.crash_free_sessions()), "99.9%");
        assert_eq!(percent(Health::default().crash_free_sessions()), "–");
        assert_eq!(
            percent(
                Health {
                    sessions: 5,
                    ..Health::default()
                }
                .crash_free_sessions()
            ),
            "100%"
        );
    }
}
