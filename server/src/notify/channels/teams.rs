//! Microsoft Teams Workflows webhooks: a message with one Adaptive Card (1.4) attachment, a
//! title TextBlock, a FactSet and an Action.OpenUrl. (Old O365 MessageCards fail on Workflows.)
//!
//! TextBlock and Fact text is a Markdown subset, and Teams mentions need `msteams.entities`,
//! which Bugle never sends; Markdown punctuation gets a backslash and `@` a zero-width space.

use serde_json::{json, Value};

use super::{facts, first_line, truncate, Alert, MAX_LISTED};

/// Escapes a value for Adaptive Card text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '@' => out.push_str("@\u{200b}"),
            '\\' | '*' | '_' | '~' | '`' | '[' | ']' | '(' | ')' | '#' | '-' | '+' | '!' | '<'
            | '>' | '&' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

pub fn render(alert: &Alert) -> Value {
    let title = match alert.issues.as_slice() {
        [one] if alert.count <= 1 => first_line(&one.title).to_owned(),
        _ => alert.headline.clone(),
    };
    let mut body = vec![
        json!({"type": "TextBlock", "text": escape(&truncate(&title, 300)), "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "TextBlock", "text": escape(&format!("{} in {}", alert.headline, alert.project_name)), "isSubtle": true, "wrap": true, "spacing": "None"}),
    ];
    match alert.issues.as_slice() {
        [one] if alert.count <= 1 => {
            let facts: Vec<Value> = facts(alert, one)
                .into_iter()
                .map(|(k, v)| json!({"title": k, "value": escape(&truncate(&v, 500))}))
                .collect();
            body.push(json!({"type": "FactSet", "facts": facts}));
        }
        issues => {
            for i in issues.iter().take(MAX_LISTED) {
                body.push(json!({"type": "TextBlock", "wrap": true, "text": format!(
                    "[{}]({}) ({}, {}×)",
                    escape(&truncate(first_line(&i.title), 120)),
                    i.url,
                    escape(&i.level),
                    i.count
                )}));
            }
        }
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": [{"type": "Action.OpenUrl", "title": "Open in Bugle", "url": alert.link()}],
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn card_text_is_escaped() {
        assert_eq!(escape("<at>x</at> @all"), "\\<at\\>x\\</at\\> @\u{200b}all");
    }

    #[test]
    fn a_new_issue_is_an_adaptive_card() {
        let body = render(&fixtures::alert("ValueError: bad cart"));
        let card = &body["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["version"], "1.4");
        assert_eq!(card["content"]["body"][0]["text"], "ValueError: bad cart");
        assert_eq!(card["content"]["body"][2]["type"], "FactSet");
        assert_eq!(
            card["content"]["actions"][0]["url"],
            "http://b.example/issues/7"
        );
    }
}
