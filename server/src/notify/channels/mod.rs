//! Alerts to chat services and signed webhooks: what one message says ([`Alert`]) and, per
//! service, the body that service documents. Pure: nothing here touches the network.
//!
//! Every value in an [`Alert`] may come from an event (titles, messages, environments,
//! releases, file names), so each format escapes all of them for its own markup; a message
//! `<!channel> @everyone` must reach a channel as text that pings nobody.

pub mod discord;
pub mod mattermost;
pub mod slack;
pub mod teams;
pub mod webhook;

use serde::Serialize;
use serde_json::Value;

use crate::store::issues::Issue;
use crate::store::projects::Project;

/// The services a channel can post to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Slack,
    Discord,
    Mattermost,
    Teams,
    Webhook,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Slack,
        Kind::Discord,
        Kind::Mattermost,
        Kind::Teams,
        Kind::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Slack => "slack",
            Kind::Discord => "discord",
            Kind::Mattermost => "mattermost",
            Kind::Teams => "teams",
            Kind::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One issue as a message shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlertIssue {
    pub id: i64,
    pub title: String,
    pub culprit: Option<String>,
    pub level: String,
    pub status: String,
    pub count: i64,
    /// RFC 3339.
    pub first_seen: String,
    pub last_seen: String,
    pub environment: Option<String>,
    pub release: Option<String>,
    /// The innermost in-app frame of the latest occurrence, `file:line in function`.
    pub top_frame: Option<String>,
    pub url: String,
}

impl AlertIssue {
    /// From a stored issue and its latest occurrence's event.
    pub fn new(issue: &Issue, event: Option<&Value>, base_url: &str) -> Self {
        let text = |key: &str| {
            event
                .and_then(|e| e[key].as_str())
                .map(str::to_owned)
                .filter(|s| !s.is_empty())
        };
        AlertIssue {
            id: issue.id,
            title: issue.title.clone(),
            culprit: issue.culprit.clone(),
            level: issue.level.clone(),
            status: issue.status.clone(),
            count: issue.count,
            first_seen: rfc3339(issue.first_seen),
            last_seen: rfc3339(issue.last_seen),
            environment: text("environment"),
            release: text("release"),
            top_frame: event.and_then(|e| super::templates::top_frames(e, 1).into_iter().next()),
            url: format!("{base_url}/issues/{}", issue.id),
        }
    }
}

fn rfc3339(ms: i64) -> String {
    crate::time::json(ms)
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// What one message says: why it was sent and the issues it is about (one, or several for a
/// digest or a "while alerts were off" summary).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// new_issue | regression | seen_again | spike | milestone | digest | summary | test
    pub event: String,
    /// "New issue", "Spike (100 in 5 minutes)", "12 alerts while alerts were off or failing".
    pub headline: String,
    pub project_slug: String,
    pub project_name: String,
    pub project_url: String,
    pub issues: Vec<AlertIssue>,
    /// Alerts a summary stands for (may exceed `issues.len()`, which is bounded).
    pub count: usize,
}

/// Most issues listed in one message; chat services bound message sizes.
pub const MAX_LISTED: usize = 10;

impl Alert {
    pub fn new(event: &str, headline: String, project: &Project, base_url: &str) -> Self {
        Alert {
            event: event.to_owned(),
            headline,
            project_slug: project.slug.clone(),
            project_name: project.name.clone(),
            project_url: format!("{base_url}/projects/{}", project.slug),
            issues: Vec::new(),
            count: 0,
        }
    }

    /// The message a channel's "send test" posts.
    pub fn test(project: &Project, base_url: &str) -> Self {
        Alert::new(
            "test",
            "Test message: this channel receives Bugle alerts".into(),
            project,
            base_url,
        )
    }

    /// The one-line summary every format starts with (unescaped).
    pub fn summary_line(&self) -> String {
        match self.issues.as_slice() {
            [one] if self.count <= 1 => format!(
                "{} in {}: {}",
                self.headline,
                self.project_name,
                first_line(&one.title)
            ),
            _ => format!("{} in {}", self.headline, self.project_name),
        }
    }

    /// The link a message points to: the issue, or the project for several.
    pub fn link(&self) -> &str {
        match self.issues.as_slice() {
            [one] if self.count <= 1 => &one.url,
            _ => &self.project_url,
        }
    }
}

/// The message's facts about one issue as (label, value) pairs, unescaped.
pub(crate) fn facts(alert: &Alert, issue: &AlertIssue) -> Vec<(&'static str, String)> {
    let mut facts = vec![
        ("Level", issue.level.clone()),
        ("Project", alert.project_name.clone()),
    ];
    facts.extend(issue.environment.clone().map(|v| ("Environment", v)));
    facts.extend(issue.release.clone().map(|v| ("Release", v)));
    facts.push(("Occurrences", issue.count.to_string()));
    facts.push(("First seen", issue.first_seen.clone()));
    facts.push(("Last seen", issue.last_seen.clone()));
    facts.extend(issue.top_frame.clone().map(|v| ("Where", v)));
    facts
}

pub(crate) fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

/// Cuts to at most `max` characters (services refuse longer fields), marking the cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The JSON body `kind` documents for `alert`.
pub fn render(kind: Kind, alert: &Alert) -> Value {
    match kind {
        Kind::Slack => slack::render(alert),
        Kind::Discord => discord::render(alert),
        Kind::Mattermost => mattermost::render(alert),
        Kind::Teams => teams::render(alert),
        Kind::Webhook => webhook::render(alert),
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub const HOSTILE: &str =
        "<!channel> @everyone @here <@123> *bold* _it_ [x](http://evil) & `c` # h";

    pub fn alert(title: &str) -> Alert {
        Alert {
            event: "new_issue".into(),
            headline: "New issue".into(),
            project_slug: "checkout".into(),
            project_name: "Checkout".into(),
            project_url: "http://b.example/projects/checkout".into(),
            issues: vec![AlertIssue {
                id: 7,
                title: title.into(),
                culprit: Some("app.cart".into()),
                level: "error".into(),
                status: "unresolved".into(),
                count: 3,
                first_seen: "2026-12-01T10:00:00.000Z".into(),
                last_seen: "2026-12-01T10:05:00.000Z".into(),
                environment: Some("production".into()),
                release: Some("1.4.2".into()),
                top_frame: Some("src/cart.rs:42 in cart::add".into()),
                url: "http://b.example/issues/7".into(),
            }],
            count: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_their_names_only() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("irc"), None);
    }

    #[test]
    fn long_values_are_cut_with_a_mark() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
    }

    #[test]
    fn a_hostile_message_pings_nobody_in_any_format() {
        let alert = fixtures::alert(fixtures::HOSTILE);
        // The generic webhook is for programs: it sends values as they are.
        for kind in Kind::ALL.into_iter().filter(|&k| k != Kind::Webhook) {
            let body = render(kind, &alert).to_string();
            for needle in ["<!channel>", "@everyone", "@here", "<@123>"] {
                assert!(!body.contains(needle), "{kind:?} carries {needle}: {body}");
            }
        }
    }
}
