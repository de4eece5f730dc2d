//! A Sentry envelope, judged item by item: the event is stored with its attachments, user
//! reports and feedback are stored beside it, session updates are counted for release health
//! in the event's transaction (`store::release_health`), everything else is counted and
//! skipped. A bad item
//! is dropped and counted (`bugle_dropped_items_total{type,reason}`) while the rest is kept; only
//! a malformed envelope header, a bad key or a size limit refuses the whole envelope (the
//! endpoint checks those before this runs).
//!
//! Attachments are bounded per attachment, per event and per project (`attachments.*`
//! settings). A minidump without an exception makes the event a native crash (its exception is
//! read from the minidump); a minidump without any event item makes an event of its own.
//! Attachments for an event stored earlier (a later envelope with the same `event_id`) join it.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{prepare, Admitted};
use crate::error::ApiError;
use crate::event::{Event, Level, ProcessingNote};
use crate::protocol::envelope::{Envelope, Item, ItemType, SkippedItem};
use crate::protocol::{minidump, sentry};
use crate::releases::health;
use crate::state::AppState;
use crate::store::attachments::NewAttachment;
use crate::store::feedback::NewFeedback;
use crate::store::release_health::NewSession;
use crate::store::{Committed, StoreError};

/// What became of an envelope.
pub struct Outcome {
    /// The event's commit, when the envelope carried one that was stored.
    pub committed: Option<Committed>,
    /// The envelope's event id (answered back as `{"id"}`), when it has one.
    pub event_id: Option<Uuid>,
}

/// An attachment item, read.
struct Incoming {
    item: usize,
    name: String,
    content_type: Option<String>,
    attachment_type: String,
    bytes: Vec<u8>,
}

pub async fn ingest(
    state: &AppState,
    admitted: &Admitted,
    envelope: Envelope,
    skipped: Vec<SkippedItem>,
    peer: Option<&str>,
    received_at: DateTime<Utc>,
) -> Result<Outcome, ApiError> {
    let metrics = &state.metrics;
    for s in &skipped {
        tracing::debug!(item = s.index, error = %s.error, "envelope item skipped");
        metrics.count_dropped_item("unknown", "malformed_item");
    }
    // Mixed envelopes keep their good items; one where nothing at all can be used is a 400,
    // so the sender learns why rather than being told its data was accepted.
    let mut refusals: Vec<String> = skipped.iter().map(|s| s.error.to_string()).collect();
    let limits = &state.config.attachments;
    // The event, and the index of the item it came from (its payload is the raw body).
    let mut event: Option<(Event, Option<usize>)> = None;
    let mut attachments: Vec<Incoming> = Vec::new();
    let mut feedback: Vec<NewFeedback> = Vec::new();
    let mut sessions: Vec<NewSession> = Vec::new();
    let mut notes: Vec<ProcessingNote> = Vec::new();
    let mut attached_bytes = 0usize;
    for (index, item) in envelope.items.iter().enumerate() {
        let ty = item.ty.as_str();
        match &item.ty {
            ItemType::Event if event.is_some() => metrics.count_dropped_item(ty, "second_event"),
            ItemType::Event => {
                if item.payload.len() > state.config.ingest.max_event_bytes {
                    return Err(ApiError::TooLarge(format!(
                        "event item exceeds {} bytes",
                        state.config.ingest.max_event_bytes
                    )));
                }
                match sentry::event_from_item(&envelope, item) {
                    Ok(Some(ev)) => event = Some((ev, Some(index))),
                    Ok(None) => metrics.count_dropped_item(ty, "invalid_event"),
                    Err(e) => {
                        tracing::debug!(error = %e.client_message(), "envelope event dropped");
                        metrics.count_dropped_item(ty, "invalid_event");
                        refusals.push(format!("item {index} (event): {}", e.client_message()));
                    }
                }
            }
            ItemType::Attachment => {
                let Some(incoming) = attachment(index, item) else {
                    metrics.count_dropped_item(ty, "invalid_attachment");
                    continue;
                };
                if incoming.bytes.len() > limits.max_bytes {
                    metrics.count_dropped_item(ty, "attachment_too_large");
                    notes.push(ProcessingNote::new(
                        format!("attachments[{}]", incoming.name),
                        format!("dropped: larger than {} bytes", limits.max_bytes),
                    ));
                } else if attached_bytes + incoming.bytes.len() > limits.max_event_bytes {
                    metrics.count_dropped_item(ty, "event_attachments_too_large");
                    notes.push(ProcessingNote::new(
                        format!("attachments[{}]", incoming.name),
                        format!(
                            "dropped: the event's attachments exceed {} bytes",
                            limits.max_event_bytes
                        ),
                    ));
                } else {
                    attached_bytes += incoming.bytes.len();
                    attachments.push(incoming);
                }
            }
            ItemType::UserReport => {
                match user_report(admitted.project_id, &item.payload, envelope.event_id()) {
                    Some(f) => feedback.push(f),
                    None => metrics.count_dropped_item(ty, "invalid_user_report"),
                }
            }
            ItemType::Feedback => match feedback_item(admitted.project_id, &item.payload) {
                Some(f) => feedback.push(f),
                None => metrics.count_dropped_item(ty, "invalid_feedback"),
            },
            ItemType::Session | ItemType::Sessions => {
                let received = received_at.timestamp_millis();
                let read = if item.ty == ItemType::Session {
                    health::parse_session(&item.payload, received).map(|u| vec![u])
                } else {
                    health::parse_sessions(&item.payload, received)
                };
                match read {
                    Ok(updates) => sessions.extend(updates.into_iter().map(|update| NewSession {
                        project_id: admitted.project_id,
                        update,
                    })),
                    Err(e) => {
                        tracing::debug!(error = %e, "session item dropped");
                        metrics.count_dropped_item(ty, "invalid_session");
                        refusals.push(format!("item {index} ({ty}): {e}"));
                    }
                }
            }
            // Transactions, client reports, check-ins, logs, profiles, replays...: accepted,
            // not stored (yet).
            _ => metrics.count_skipped_item(ty),
        }
    }

    let usable = event.is_some()
        || !attachments.is_empty()
        || !feedback.is_empty()
        || !sessions.is_empty()
        || envelope.items.iter().any(|i| {
            !matches!(
                i.ty,
                ItemType::Event
                    | ItemType::Attachment
                    | ItemType::UserReport
                    | ItemType::Feedback
                    | ItemType::Session
                    | ItemType::Sessions
            )
        });
    if !usable && !refusals.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "invalid envelope: no item could be used: {}",
            refusals.join("; ")
        )));
    }
    let minidump = attachments
        .iter()
        .find(|a| a.attachment_type == "event.minidump" || minidump::is_minidump(&a.bytes))
        .and_then(|a| minidump::read(&a.bytes));
    if event.is_none() && minidump.is_some() {
        // A crash sent as a minidump alone (Crashpad, Breakpad): the event is made from it.
        let ev = Event {
            uuid: envelope.event_id(),
            level: Some(Level::Critical),
            platform: Some("native".into()),
            language: Some("native".into()),
            ..Event::default()
        };
        event = Some((ev, None));
    }
    let event_id = envelope
        .event_id()
        .or_else(|| event.as_ref().and_then(|(e, _)| e.uuid));

    let committed = match event {
        Some((mut ev, raw)) => {
            if let Some(crash) = &minidump {
                if ev.exceptions.is_empty() {
                    ev.exceptions.push(crash.exception());
                }
                for (kind, context) in crash.contexts() {
                    ev.contexts.entry(kind.to_owned()).or_insert(context);
                }
            }
            crate::protocol::fill_client_ip(&mut ev, peer);
            ev.processing_notes.extend(notes);
            let mut occurrence = prepare(
                admitted.project_id,
                &admitted.rules,
                ev,
                "sentry",
                raw.map(|i| envelope.items[i].payload.as_slice())
                    .filter(|p| !p.is_empty()),
                received_at,
            )?;
            occurrence.attachments = within_quota(state, admitted.project_id, &attachments).await?;
            // The session updates an SDK sends with an error commit with it.
            state
                .writer
                .submit_with_sessions(Some(occurrence), std::mem::take(&mut sessions))
                .await?
        }
        None => {
            if let (Some(id), false) = (event_id, attachments.is_empty()) {
                let files = within_quota(state, admitted.project_id, &attachments).await?;
                match state.store.attach(admitted.project_id, id, &files).await {
                    Ok(_) => {}
                    Err(StoreError::NotFound) => {
                        for a in &attachments {
                            let ty = envelope.items[a.item].ty.as_str();
                            metrics.count_dropped_item(ty, "no_event");
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            } else {
                for a in &attachments {
                    metrics.count_dropped_item(envelope.items[a.item].ty.as_str(), "no_event");
                }
            }
            None
        }
    };
    if !sessions.is_empty() {
        state.writer.submit_with_sessions(None, sessions).await?;
    }
    for f in &feedback {
        state.store.add_feedback(f).await?;
    }
    Ok(Outcome {
        committed,
        event_id,
    })
}

fn header_str(item: &Item, name: &str) -> Option<String> {
    item.headers
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn attachment(index: usize, item: &Item) -> Option<Incoming> {
    let attachment_type =
        header_str(item, "attachment_type").unwrap_or_else(|| "event.attachment".into());
    let name = header_str(item, "filename").unwrap_or_else(|| match attachment_type.as_str() {
        "event.minidump" => "minidump.dmp".into(),
        "event.applecrashreport" => "crash.txt".into(),
        "event.view_hierarchy" => "view-hierarchy.json".into(),
        _ => format!("attachment-{index}"),
    });
    // A name is shown and offered as a download name: no paths, no control characters.
    let name: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if name.is_empty() {
        return None;
    }
    Some(Incoming {
        item: index,
        name,
        content_type: header_str(item, "content_type"),
        attachment_type,
        bytes: item.payload.clone(),
    })
}

/// Compresses the attachments that fit in the project's quota; the others are dropped.
async fn within_quota(
    state: &AppState,
    project_id: i64,
    attachments: &[Incoming],
) -> Result<Vec<NewAttachment>, ApiError> {
    if attachments.is_empty() {
        return Ok(Vec::new());
    }
    let (_, mut used) = state.store.attachment_usage(project_id).await?;
    let mut out = Vec::with_capacity(attachments.len());
    for a in attachments {
        let data = zstd::bulk::compress(&a.bytes, 3).map_err(|e| ApiError::Internal(e.into()))?;
        if used + data.len() as i64 > state.config.attachments.max_project_bytes {
            state
                .metrics
                .count_dropped_item("attachment", "project_quota");
            continue;
        }
        used += data.len() as i64;
        out.push(NewAttachment {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            attachment_type: a.attachment_type.clone(),
            size: a.bytes.len() as i64,
            data,
        });
    }
    Ok(out)
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn event_uuid(v: Option<&Value>) -> Option<Uuid> {
    v.and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
}

/// A legacy `user_report` item: `{event_id, name, email, comments}`.
pub fn user_report(
    project_id: i64,
    payload: &[u8],
    envelope_event: Option<Uuid>,
) -> Option<NewFeedback> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    Some(NewFeedback {
        project_id,
        event: event_uuid(v.get("event_id")).or(envelope_event),
        name: text(v.get("name")),
        email: text(v.get("email")),
        comments: text(v.get("comments"))?,
        url: None,
        source: "user_report",
    })
}

/// A `feedback` item: an event whose `contexts.feedback` holds `message`, `contact_email`,
/// `name`, `url` and `associated_event_id`.
pub fn feedback_item(project_id: i64, payload: &[u8]) -> Option<NewFeedback> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    let f = v.get("contexts")?.get("feedback")?;
    Some(NewFeedback {
        project_id,
        event: event_uuid(f.get("associated_event_id")),
        name: text(f.get("name")),
        email: text(f.get("contact_email")),
        comments: text(f.get("message"))?,
        url: text(f.get("url")),
        source: "feedback",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_reports_and_feedback_items_read_as_feedback() {
        let id = Uuid::new_v4();
        let r = user_report(
            1,
            format!(r#"{{"event_id":"{}","name":"Ada","email":"ada@example.com","comments":"It broke"}}"#, id.simple())
                .as_bytes(),
            None,
        )
        .unwrap();
        assert_eq!(
            (r.event, r.comments.as_str(), r.source),
            (Some(id), "It broke", "user_report")
        );
        assert!(user_report(1, br#"{"name":"no comments"}"#, None).is_none());
        let f = feedback_item(
            1,
            br#"{"type":"feedback","contexts":{"feedback":{"message":"Checkout hangs","contact_email":"bob@example.com",
                "url":"https://shop.example/cart","associated_event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}}}"#,
        )
        .unwrap();
        assert_eq!(f.email.as_deref(), Some("bob@example.com"));
        assert_eq!(f.url.as_deref(), Some("https://shop.example/cart"));
        assert!(f.event.is_some());
    }
}
