//! A message's identity: its template when the sender knows it (Sentry `logentry.message`
//! with `params`, the Bugle client's `log` integration for a literal format string), else the
//! message, parameterized either way (a template may have been formatted already, as an
//! f-string logged as a template is).

use super::parameterize::parameterize;
use super::Version;
use crate::event::Event;

fn text(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

pub fn message_component(event: &Event) -> String {
    // One name for both: a message sent without its template groups with the same message
    // sent with it (a template without arguments is the message).
    if let Some(template) = text(event.message_template.as_deref()) {
        format!("message: {}", parameterize(template, Version::V2))
    } else if let Some(message) = text(event.message.as_deref()) {
        format!("message: {}", parameterize(message, Version::V2))
    } else {
        "unlabeled".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: Option<&str>, template: Option<&str>) -> Event {
        Event {
            message: message.map(str::to_owned),
            message_template: template.map(str::to_owned),
            ..Event::default()
        }
    }

    #[test]
    fn the_template_wins_and_a_message_without_one_reads_the_same() {
        let templated = event(Some("user 7 left"), Some("user %s left"));
        assert_eq!(message_component(&templated), "message: user %s left");
        // A template without arguments is the message: both ways of sending it agree.
        assert_eq!(
            message_component(&event(Some("disk full"), Some("disk full"))),
            message_component(&event(Some("disk full"), None))
        );
        assert_eq!(
            message_component(&event(None, Some("f-string 42 logged"))),
            "message: f-string <int> logged"
        );
        assert_eq!(message_component(&event(Some("  "), None)), "unlabeled");
    }
}
