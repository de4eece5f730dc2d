//! Mail bodies. Everything that came from an event is attacker-controlled: the HTML part
//! escapes every such value, and the text part never becomes markup.

use serde_json::Value;

use super::mail::Mail;
use crate::store::issues::Issue;
use crate::store::projects::Project;
use crate::time;

/// What a mail is about.
pub struct Context<'a> {
    pub kind: &'a str,
    pub detail: Option<&'a str>,
    pub project: &'a Project,
    pub issue: &'a Issue,
    /// The latest occurrence's stored event.
    pub event: Option<&'a Value>,
    pub base_url: &'a str,
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

pub(crate) fn headline(kind: &str, detail: Option<&str>) -> String {
    match (kind, detail) {
        ("new_issue", _) => "New issue".into(),
        ("regression", Some(release)) => format!("Regression {release}"),
        ("regression", None) => "Regression".into(),
        ("milestone", Some(n)) => format!("{n} occurrences"),
        ("seen_again", _) => "Seen again after un-ignoring".into(),
        ("spike", Some(window)) => format!("Spike ({window})"),
        (other, _) => other.replace('_', " "),
    }
}

/// The first in-app frames of the outermost exception, innermost first, as `file:line in fn`.
pub(crate) fn top_frames(event: &Value, max: usize) -> Vec<String> {
    let Some(frames) = event["exceptions"][0]["frames"].as_array() else {
        return Vec::new();
    };
    let in_app: Vec<&Value> = frames.iter().filter(|f| f["in_app"] == true).collect();
    let chosen = if in_app.is_empty() {
        frames.iter().collect()
    } else {
        in_app
    };
    chosen
        .iter()
        .rev()
        .take(max)
        .map(|f| {
            let file = f["filename"]
                .as_str()
                .or(f["module"].as_str())
                .unwrap_or("?");
            let line = f["lineno"]
                .as_u64()
                .map(|l| format!(":{l}"))
                .unwrap_or_default();
            let function = f["function"].as_str().unwrap_or("?");
            format!("{file}{line} in {function}")
        })
        .collect()
}

pub fn render(ctx: &Context<'_>, unsubscribe: &str) -> Mail {
    let issue = ctx.issue;
    let headline = headline(ctx.kind, ctx.detail);
    let subject = format!(
        "[{}] {} {}: {}",
        ctx.project.name,
        headline,
        issue.level,
        issue.title.lines().next().unwrap_or_default()
    );
    let link = format!("{}/issues/{}", ctx.base_url, issue.id);
    let empty = Value::Null;
    let event = ctx.event.unwrap_or(&empty);
    let text_of = |v: &Value| v.as_str().map(str::to_owned);
    let facts: Vec<(&str, String)> = [
        ("Project", Some(ctx.project.name.clone())),
        ("Level", Some(issue.level.clone())),
        ("Culprit", issue.culprit.clone()),
        ("Owner", issue.owner_rule.clone()),
        ("Occurrences", Some(issue.count.to_string())),
        (
            "First seen",
            time::json(issue.first_seen).as_str().map(str::to_owned),
        ),
        (
            "Last seen",
            time::json(issue.last_seen).as_str().map(str::to_owned),
        ),
        ("Host", text_of(&event["server"]["host"])),
        ("Environment", text_of(&event["environment"])),
        ("Release", text_of(&event["release"])),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let exceptions: Vec<String> = event["exceptions"]
        .as_array()
        .map(|chain| {
            chain
                .iter()
                .map(|e| match e["value"].as_str() {
                    Some(v) => format!("{}: {v}", e["type"].as_str().unwrap_or("Error")),
                    None => e["type"].as_str().unwrap_or("Error").to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let message = event["message"].as_str();
    let frames = top_frames(event, 5);

    let mut text = format!("{headline} in {}\n\n{}\n\n", ctx.project.name, issue.title);
    for e in &exceptions {
        text.push_str(&format!("  {e}\n"));
    }
    if let Some(m) = message {
        text.push_str(&format!("\n{m}\n"));
    }
    if !frames.is_empty() {
        text.push_str("\nWhere:\n");
        for f in &frames {
            text.push_str(&format!("  {f}\n"));
        }
    }
    text.push('\n');
    for (k, v) in &facts {
        text.push_str(&format!("{k}: {v}\n"));
    }
    text.push_str(&format!(
        "\nOpen the issue: {link}\n\nStop these mails: {unsubscribe}\n"
    ));

    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;color:#1f2328\">",
    );
    html.push_str(&format!(
        "<p style=\"color:#57606a\">{} in {}</p><h2 style=\"margin:0 0 12px\">{}</h2>",
        escape(&headline),
        escape(&ctx.project.name),
        escape(&issue.title)
    ));
    if !exceptions.is_empty() {
        html.push_str("<pre style=\"background:#f6f8fa;padding:8px;white-space:pre-wrap\">");
        for e in &exceptions {
            html.push_str(&escape(e));
            html.push('\n');
        }
        html.push_str("</pre>");
    }
    if let Some(m) = message {
        html.push_str(&format!("<p>{}</p>", escape(m)));
    }
    if !frames.is_empty() {
        html.push_str("<p><b>Where</b></p><ul>");
        for f in &frames {
            html.push_str(&format!("<li><code>{}</code></li>", escape(f)));
        }
        html.push_str("</ul>");
    }
    html.push_str("<table cellpadding=\"4\">");
    for (k, v) in &facts {
        html.push_str(&format!(
            "<tr><td style=\"color:#57606a\">{}</td><td>{}</td></tr>",
            escape(k),
            escape(v)
        ));
    }
    html.push_str(&format!(
        "</table><p><a href=\"{}\">Open the issue</a></p>\
         <p style=\"color:#57606a;font-size:12px\"><a href=\"{}\">Stop these mails</a></p>\
         </body></html>",
        escape(&link),
        escape(unsubscribe)
    ));
    Mail {
        subject,
        text,
        html,
        unsubscribe: unsubscribe.to_owned(),
    }
}

/// One mail for many notifications of a project: a burst of new issues, or a note that the
/// hourly cap now holds mail back.
pub fn render_digest(
    project: &Project,
    headline: &str,
    issues: &[Issue],
    base_url: &str,
    unsubscribe: &str,
) -> Mail {
    let subject = format!("[{}] {headline}", project.name);
    let mut text = format!("{headline} in {}\n\n", project.name);
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif\"><h2>{}</h2><ul>",
        escape(&format!("{headline} in {}", project.name))
    );
    for issue in issues {
        let link = format!("{base_url}/issues/{}", issue.id);
        text.push_str(&format!(
            "- [{}] {} ({} x)\n  {link}\n",
            issue.level, issue.title, issue.count
        ));
        html.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <small>{} · {}×</small></li>",
            escape(&link),
            escape(&issue.title),
            escape(&issue.level),
            issue.count
        ));
    }
    text.push_str(&format!("\nStop these mails: {unsubscribe}\n"));
    html.push_str(&format!(
        "</ul><p style=\"font-size:12px\"><a href=\"{}\">Stop these mails</a></p></body></html>",
        escape(unsubscribe)
    ));
    Mail {
        subject,
        text,
        html,
        unsubscribe: unsubscribe.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attacker_controlled_values_are_escaped_in_html() {
        let project = Project {
            id: 1,
            slug: "web".into(),
            name: "Web <b>".into(),
            created_at: 0,
        };
        let issue = Issue {
            id: 7,
            project_id: 1,
            title: "Error: <script>alert(1)</script>".into(),
            culprit: Some("app in <img src=x onerror=alert(1)>".into()),
            level: "error".into(),
            status: "unresolved".into(),
            count: 1,
            first_seen: 0,
            last_seen: 0,
            resolved_at: None,
            regressed_at: None,
            merged_into: None,
            grouping_version: 1,
            components: vec![],
            assignee_id: None,
            snooze_until: None,
            snooze_count: None,
            first_release: None,
            resolved_in_release: None,
            resolved_next: false,
            owner_rule: None,
        };
        let event = json!({"exceptions": [{"type": "Error", "value": "<script>alert(1)</script>",
            "frames": [{"filename": "a.js", "lineno": 3, "function": "<b>f</b>", "in_app": true}]}]});
        let ctx = Context {
            kind: "new_issue",
            detail: None,
            project: &project,
            issue: &issue,
            event: Some(&event),
            base_url: "http://bugle",
        };
        let mail = render(&ctx, "http://bugle/unsubscribe/t");
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(!mail.html.contains("<img"), "{}", mail.html);
        assert!(mail.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(
            mail.text.contains("<script>alert(1)</script>"),
            "text stays literal"
        );
        assert_eq!(
            mail.subject,
            "[Web <b>] New issue error: Error: <script>alert(1)</script>"
        );
        assert!(mail.text.contains("http://bugle/issues/7"));
        assert!(mail.text.contains("a.js:3 in <b>f</b>"));
    }
}
