//! Discord webhooks: `{content, embeds: [{title, description, url, color, fields}],
//! allowed_mentions}`. Limits: content 2000 characters, embed title 256, description 4096,
//! field name 256 and value 1024, 25 fields, 6000 characters across embeds.
//!
//! `allowed_mentions: {"parse": []}` is Discord's own switch for "ping nobody"; on top, `@` gets a
//! zero-width space and Markdown punctuation a backslash, so a message shows as sent.

use serde_json::{json, Value};

use super::{facts, first_line, truncate, Alert, MAX_LISTED};

/// Escapes a value for Discord's Markdown.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '@' => out.push_str("@\u{200b}"),
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '#' | '[' | ']' | '(' | ')' | '-' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

pub fn render(alert: &Alert) -> Value {
    let mut embed = json!({
        "title": truncate(&escape(first_line(&title(alert))), 256),
        "url": alert.link(),
        "color": color(alert),
        "description": escape(&format!("{} in {}", alert.headline, alert.project_name)),
    });
    match alert.issues.as_slice() {
        [one] if alert.count <= 1 => {
            let fields: Vec<Value> = facts(alert, one)
                .into_iter()
                .map(|(k, v)| json!({"name": k, "value": truncate(&escape(&v), 1024), "inline": k != "Where"}))
                .collect();
            embed["fields"] = Value::Array(fields);
        }
        issues => {
            let lines: Vec<String> = issues
                .iter()
                .take(MAX_LISTED)
                .map(|i| {
                    format!(
                        "• [{}]({}) ({}, {}×)",
                        escape(&truncate(first_line(&i.title), 120)),
                        i.url,
                        escape(&i.level),
                        i.count
                    )
                })
                .collect();
            let description = format!(
                "{}\n{}",
                embed["description"].as_str().unwrap_or_default(),
                lines.join("\n")
            );
            embed["description"] = Value::String(truncate(&description, 4096));
        }
    }
    json!({
        "content": truncate(&escape(&alert.summary_line()), 2000),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    })
}

fn title(alert: &Alert) -> String {
    match alert.issues.as_slice() {
        [one] if alert.count <= 1 => one.title.clone(),
        _ => alert.headline.clone(),
    }
}

fn color(alert: &Alert) -> u32 {
    match alert.issues.first().map(|i| i.level.as_str()) {
        Some("critical" | "error") => 0xd1242f,
        Some("warning") => 0xbf8700,
        _ => 0x0969da,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn mentions_and_markdown_are_neutral() {
        assert_eq!(escape("@everyone"), "@\u{200b}everyone");
        assert_eq!(escape("<@123> **x**"), "\\<@\u{200b}123\\> \\*\\*x\\*\\*");
    }

    #[test]
    fn a_new_issue_is_one_embed_that_pings_nobody() {
        let body = render(&fixtures::alert("ValueError: bad cart"));
        assert_eq!(body["allowed_mentions"], json!({"parse": []}));
        let embed = &body["embeds"][0];
        assert_eq!(embed["title"], "ValueError: bad cart");
        assert_eq!(embed["url"], "http://b.example/issues/7");
        assert_eq!(embed["color"], 0xd1242f);
        assert_eq!(
            embed["fields"][0],
            json!({"name": "Level", "value": "error", "inline": true})
        );
    }
}
