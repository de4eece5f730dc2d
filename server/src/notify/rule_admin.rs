//! Checking and showing alert rules: what the CLI, the JSON API and the settings page share,
//! so each accepts and rejects a rule the same way.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::store::alert_rules::{AlertRule, NewRule, Spike, EVENTS, MAX_SPIKE_MINUTES};
use crate::store::channels::Channel;

/// A rule as a user writes it (the API's body; the CLI and the form fill the same).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRequest {
    pub name: Option<String>,
    /// Kinds of alert: new_issue, regression, seen_again, spike, milestone.
    pub events: Vec<String>,
    pub spike: Option<Spike>,
    pub milestones: Option<Vec<i64>>,
    /// A query in the search language (`level:>=error environment:production`).
    #[serde(default)]
    pub filter: String,
    /// Channels by id or by name.
    #[serde(default)]
    pub channels: Vec<Value>,
    #[serde(default)]
    pub mail: bool,
}

const MAX_MILESTONES: usize = 20;
const MAX_FILTER_CHARS: usize = 1000;

/// Checks a request against the project's channels; the error says what is wrong.
pub fn check(req: &RuleRequest, channels: &[Channel]) -> Result<NewRule, String> {
    let mut events: Vec<String> = Vec::new();
    for e in req.events.iter().flat_map(|e| e.split(',')).map(str::trim) {
        if !EVENTS.contains(&e) {
            return Err(format!("unknown event {e:?}: use {}", EVENTS.join(", ")));
        }
        if !events.iter().any(|k| k == e) {
            events.push(e.to_owned());
        }
    }
    if events.is_empty() {
        return Err(format!(
            "events must name at least one of {}",
            EVENTS.join(", ")
        ));
    }
    let wants = |k: &str| events.iter().any(|e| e == k);
    let spike = match (req.spike, wants("spike")) {
        (None, true) => {
            return Err("a spike rule needs spike: {\"count\": N, \"minutes\": M}".into())
        }
        (Some(_), false) => return Err("spike is only for rules with the spike event".into()),
        (Some(s), true) => {
            if !(1..=1_000_000_000).contains(&s.count) {
                return Err("spike.count must be between 1 and 1000000000".into());
            }
            if !(1..=MAX_SPIKE_MINUTES).contains(&s.minutes) {
                return Err(format!(
                    "spike.minutes must be between 1 and {MAX_SPIKE_MINUTES}"
                ));
            }
            Some(s)
        }
        (None, false) => None,
    };
    let milestones = match &req.milestones {
        None => None,
        Some(_) if !wants("milestone") => {
            return Err("milestones are only for rules with the milestone event".into())
        }
        Some(list) => {
            if list.is_empty() || list.len() > MAX_MILESTONES {
                return Err(format!("milestones must list 1 to {MAX_MILESTONES} counts"));
            }
            if let Some(bad) = list
                .iter()
                .find(|&&m| !(1..=1_000_000_000_000).contains(&m))
            {
                return Err(format!("milestone {bad} must be between 1 and 10^12"));
            }
            let mut list = list.clone();
            list.sort_unstable();
            list.dedup();
            Some(list)
        }
    };
    let filter = req.filter.trim();
    if filter.chars().count() > MAX_FILTER_CHARS {
        return Err(format!(
            "filter is longer than {MAX_FILTER_CHARS} characters"
        ));
    }
    let query = crate::query::parse(filter).map_err(|e| format!("filter: {e}"))?;
    if query
        .terms
        .iter()
        .any(|t| matches!(&t.filter, crate::query::Filter::Assigned(a) if a.contains(&crate::query::Assignee::Me)))
    {
        return Err("filter: assigned:me means nobody in an alert rule (name the email)".into());
    }
    let mut ids = Vec::new();
    for c in &req.channels {
        let found = match c {
            Value::Number(n) => channels.iter().find(|ch| n.as_i64() == Some(ch.id)),
            Value::String(s) => {
                let s = s.trim().trim_start_matches('#');
                channels
                    .iter()
                    .find(|ch| ch.name == s || s.parse() == Ok(ch.id))
            }
            _ => return Err("channels must be channel ids or names".into()),
        };
        let Some(ch) = found else {
            return Err(format!("no channel {c} in this project"));
        };
        if !ids.contains(&ch.id) {
            ids.push(ch.id);
        }
    }
    if ids.is_empty() && !req.mail {
        return Err("a rule needs at least one channel or mail: true".into());
    }
    let name = req
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| events.join(", "));
    if name.chars().count() > 100 {
        return Err("name is longer than 100 characters".into());
    }
    Ok(NewRule {
        name,
        events,
        spike,
        milestones,
        filter: query.to_string(),
        channels: ids,
        mail: req.mail,
    })
}

/// A rule as the API shows it, with its channels' names.
pub fn to_json(rule: &AlertRule, channels: &[Channel]) -> Value {
    let named: Vec<Value> = rule
        .channels
        .iter()
        .filter_map(|id| channels.iter().find(|c| c.id == *id))
        .map(|c| json!({"id": c.id, "name": c.name, "kind": c.kind}))
        .collect();
    json!({
        "id": rule.id,
        "name": rule.name,
        "events": rule.events,
        "spike": rule.spike,
        "milestones": rule.milestones,
        "filter": rule.filter,
        "channels": named,
        "mail": rule.mail,
        "created_at": crate::time::json(rule.created_at),
        "updated_at": crate::time::json(rule.updated_at),
    })
}

/// One line per rule, for the CLI and the settings page.
pub fn describe(rule: &AlertRule, channels: &[Channel]) -> String {
    let mut what: Vec<String> = rule
        .events
        .iter()
        .map(|e| match (e.as_str(), rule.spike, &rule.milestones) {
            ("spike", Some(s), _) => format!("spike ({} in {} min)", s.count, s.minutes),
            ("milestone", _, Some(m)) => format!(
                "milestone ({})",
                m.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            ),
            (e, _, _) => e.to_owned(),
        })
        .collect();
    if !rule.filter.is_empty() {
        what.push(format!("where {}", rule.filter));
    }
    let mut to: Vec<String> = rule
        .channels
        .iter()
        .filter_map(|id| channels.iter().find(|c| c.id == *id))
        .map(|c| format!("#{}", c.name))
        .collect();
    if rule.mail {
        to.push("mail".into());
    }
    format!("{} → {}", what.join(", "), to.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slack() -> Channel {
        Channel {
            id: 7,
            project_id: 1,
            kind: "slack".into(),
            name: "ops".into(),
            url: String::new(),
            secret: None,
            events: None,
            min_level: None,
            environment: None,
            created_at: 0,
            disabled_at: None,
            disabled_reason: None,
        }
    }

    fn req(events: &[&str]) -> RuleRequest {
        RuleRequest {
            events: events.iter().map(|e| e.to_string()).collect(),
            channels: vec![json!("#ops")],
            ..RuleRequest::default()
        }
    }

    #[test]
    fn a_rule_is_checked_and_its_filter_written_canonically() {
        let mut r = req(&["spike", "new_issue"]);
        r.spike = Some(Spike {
            count: 100,
            minutes: 10,
        });
        r.filter = "  level:>=error   environment:production ".into();
        let rule = check(&r, &[slack()]).unwrap();
        assert_eq!(rule.channels, [7]);
        assert_eq!(rule.filter, "level:>=error environment:production");
        assert_eq!(rule.name, "spike, new_issue");
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        let ch = [slack()];
        let err = |r: RuleRequest| check(&r, &ch).unwrap_err();
        assert!(err(req(&[])).contains("at least one"));
        assert!(err(req(&["loud"])).contains("unknown event \"loud\""));
        assert!(err(req(&["spike"])).contains("needs spike"));
        let mut r = req(&["new_issue"]);
        r.filter = "level:loud".into();
        assert!(err(r).starts_with("filter: unknown level"));
        let mut r = req(&["new_issue"]);
        r.channels = vec![json!("nope")];
        assert!(err(r).contains("no channel \"nope\""));
        let mut r = req(&["new_issue"]);
        r.channels = vec![];
        assert!(err(r).contains("at least one channel or mail"));
        let mut r = req(&["milestone"]);
        r.milestones = Some(vec![0]);
        assert!(err(r).contains("between 1"));
        let mut r = req(&["spike"]);
        r.spike = Some(Spike {
            count: 5,
            minutes: 5000,
        });
        assert!(err(r).contains("spike.minutes"));
    }
}
