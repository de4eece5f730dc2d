//! What an issue is called: its title, and its culprit (where it failed).

use super::frames;
use super::Version;
use crate::event::Event;

/// Longest title, in chars; it is indexed and shown in lists and mail subjects.
pub const MAX_TITLE_CHARS: usize = 255;

/// What an event with nothing to title is called, as Sentry calls it.
pub const UNLABELED: &str = "<unlabeled event>";

/// The client's title; else `Type: first line of the message` of the reported exception; else
/// the message template's first line (the issue page shows the latest formatted message); else
/// the message's first line. ≤ 255 chars.
pub fn title(event: &Event, version: Version) -> String {
    let title = if let Some(title) = event.title.as_deref().and_then(first_line) {
        title.to_owned()
    } else if let Some(exc) = event.exceptions.first() {
        match exc.value.as_deref().and_then(first_line) {
            Some(value) => format!("{}: {value}", exc.ty.trim()),
            None => exc.ty.trim().to_owned(),
        }
    } else {
        let template = match version {
            Version::V1 => None,
            Version::V2 => event.message_template.as_deref().and_then(first_line),
        };
        let unlabeled = match version {
            Version::V1 => "(no message)",
            Version::V2 => UNLABELED,
        };
        template
            .or_else(|| event.message.as_deref().and_then(first_line))
            .unwrap_or(unlabeled)
            .to_owned()
    };
    truncate_chars(&title, MAX_TITLE_CHARS)
}

pub fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|line| !line.is_empty())
}

pub fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max - 1) {
        Some((cut, _)) if s[cut..].chars().nth(1).is_some() => format!("{}…", &s[..cut]),
        _ => s.to_owned(),
    }
}

/// The innermost in-app frame of the outermost exception that has frames, else its last frame.
pub fn culprit(event: &Event, root: Option<&str>) -> Option<String> {
    let frames: Vec<(String, bool)> = event
        .exceptions
        .iter()
        .map(|exc| {
            exc.frames
                .iter()
                .filter_map(|f| {
                    let label = frames::label(f, root, Version::V1)?;
                    Some((label, f.in_app == Some(true)))
                })
                .collect::<Vec<_>>()
        })
        .find(|frames| !frames.is_empty())?;
    let index = frames
        .iter()
        .rposition(|(_, in_app)| *in_app)
        .unwrap_or(frames.len() - 1);
    frames.into_iter().nth(index).map(|(label, _)| label)
}
