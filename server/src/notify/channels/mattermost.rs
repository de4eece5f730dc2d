//! Mattermost incoming webhooks: Slack-compatible `{text, attachments}`, where `text` is
//! Markdown (`### title`) and attachments carry the facts as fields.
//!
//! Mattermost pings on plain `@channel`, `@all`, `@here` and `@user`, and reads Slack's `<!channel>`
//! too; values get a zero-width space after `@` and a backslash before Markdown punctuation.

use serde_json::{json, Value};

use super::{facts, first_line, truncate, Alert, MAX_LISTED};

/// Escapes a value for Mattermost's Markdown.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '@' => out.push_str("@\u{200b}"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '!'
            | '<' | '>' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

pub fn render(alert: &Alert) -> Value {
    let mut text = format!(
        "### {}\n{} in {}",
        escape(&truncate(first_line(&summary_title(alert)), 200)),
        escape(&alert.headline),
        escape(&alert.project_name)
    );
    let mut fields = Vec::new();
    match alert.issues.as_slice() {
        [one] if alert.count <= 1 => {
            for (k, v) in facts(alert, one) {
                fields.push(json!({"title": k, "value": escape(&v), "short": k != "Where"}));
            }
        }
        issues => {
            for i in issues.iter().take(MAX_LISTED) {
                text.push_str(&format!(
                    "\n- [{}]({}) ({}, {}×)",
                    escape(&truncate(first_line(&i.title), 120)),
                    i.url,
                    escape(&i.level),
                    i.count
                ));
            }
        }
    }
    text.push_str(&format!("\n[Open in Bugle]({})", alert.link()));
    json!({
        "text": text,
        "attachments": [{
            "fallback": escape(&alert.summary_line()),
            "color": color(alert),
            "fields": fields,
        }],
    })
}

fn summary_title(alert: &Alert) -> String {
    match alert.issues.as_slice() {
        [one] if alert.count <= 1 => one.title.clone(),
        _ => alert.headline.clone(),
    }
}

fn color(alert: &Alert) -> &'static str {
    match alert.issues.first().map(|i| i.level.as_str()) {
        Some("critical" | "error") => "#d1242f",
        Some("warning") => "#bf8700",
        _ => "#0969da",
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn mentions_and_markdown_are_neutral() {
        assert_eq!(escape("@channel"), "@\u{200b}channel");
        assert_eq!(escape("<!all> *x*"), "\\<\\!all\\> \\*x\\*");
    }

    #[test]
    fn a_new_issue_is_a_heading_with_fields() {
        let body = render(&fixtures::alert("ValueError: bad cart"));
        assert!(body["text"]
            .as_str()
            .unwrap()
            .starts_with("### ValueError: bad cart\nNew issue in Checkout"));
        assert_eq!(body["attachments"][0]["fields"][2]["title"], "Environment");
        assert_eq!(body["attachments"][0]["fields"][2]["value"], "production");
    }
}
