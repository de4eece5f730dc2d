//! Slack incoming webhooks: `{text, blocks}` (Block Kit). `text` is the notification fallback;
//! the blocks are a header, the summary, the facts as section fields and a link button.
//!
//! Slack parses `<…>` as links and mentions (`<!channel>`, `<@U123>`) in every text field and
//! wants exactly `&`, `<`, `>` escaped as HTML entities; a plain `@everyone` does not ping, but
//! gets a zero-width space anyway so a copy into another tool stays harmless.

use serde_json::{json, Value};

use super::{facts, first_line, truncate, Alert, MAX_LISTED};

/// Escapes a value for Slack's mrkdwn and plain_text alike.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => out.push_str("@\u{200b}"),
            // Formatting marks would turn an error message into bold or code.
            '*' | '_' | '~' | '`' => {
                out.push(c);
                out.push('\u{200b}');
            }
            _ => out.push(c),
        }
    }
    out
}

pub fn render(alert: &Alert) -> Value {
    json!({
        "text": escape(&alert.summary_line()),
        "blocks": blocks(alert),
    })
}

/// Block Kit blocks, shared with Mattermost's attachments text.
fn blocks(alert: &Alert) -> Vec<Value> {
    let header = match alert.issues.as_slice() {
        [one] if alert.count <= 1 => first_line(&one.title).to_owned(),
        _ => alert.headline.clone(),
    };
    let mut blocks = vec![
        // Slack refuses header text over 150 characters.
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&escape(&header), 150)}}),
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(&format!("{} in {}", alert.headline, alert.project_name))}]}),
    ];
    if let [one] = alert.issues.as_slice() {
        if alert.count <= 1 {
            let fields: Vec<Value> = facts(alert, one)
                .into_iter()
                .map(|(k, v)| {
                    json!({"type": "mrkdwn", "text": truncate(&format!("*{k}*\n{}", escape(&v)), 2000)})
                })
                .take(10)
                .collect();
            blocks.push(json!({"type": "section", "fields": fields}));
        }
    }
    if alert.issues.len() > 1 || alert.count > 1 {
        let lines: Vec<String> = alert
            .issues
            .iter()
            .take(MAX_LISTED)
            .map(|i| {
                format!(
                    "• <{}|{}> ({}, {}×)",
                    i.url,
                    escape(&truncate(first_line(&i.title), 120)).replace('|', "¦"),
                    escape(&i.level),
                    i.count
                )
            })
            .collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&lines.join("\n"), 3000)}}));
    }
    blocks.push(json!({"type": "actions", "elements": [{
        "type": "button",
        "text": {"type": "plain_text", "text": if alert.issues.len() == 1 { "Open issue" } else { "Open project" }},
        "url": alert.link(),
    }]}));
    blocks
}

#[cfg(test)]
mod tests {
    use super::super::fixtures;
    use super::*;

    #[test]
    fn mrkdwn_control_characters_are_entities() {
        assert_eq!(escape("<!channel> & >"), "&lt;!channel&gt; &amp; &gt;");
        assert_eq!(escape("@everyone"), "@\u{200b}everyone");
    }

    #[test]
    fn a_new_issue_has_its_title_facts_and_link() {
        let body = render(&fixtures::alert("ValueError: bad cart"));
        assert_eq!(body["text"], "New issue in Checkout: ValueError: bad cart");
        assert_eq!(body["blocks"][0]["type"], "header");
        assert_eq!(body["blocks"][0]["text"]["text"], "ValueError: bad cart");
        let fields = body["blocks"][2]["fields"].as_array().unwrap();
        let texts: Vec<&str> = fields.iter().map(|f| f["text"].as_str().unwrap()).collect();
        assert!(texts.contains(&"*Environment*\nproduction"), "{texts:?}");
        assert!(texts.contains(&"*Release*\n1.4.2"));
        assert!(texts.contains(&"*Where*\nsrc/cart.rs:42 in cart::add"));
        assert_eq!(
            body["blocks"][3]["elements"][0]["url"],
            "http://b.example/issues/7"
        );
    }
}
