//! Adding, testing and showing channels: what the CLI, the JSON API and the settings page
//! share, so each checks a channel the same way.

use serde_json::{json, Value};

use super::alerts::{Deliverer, Posted};
use super::channels::{webhook, Alert, Kind};
use super::outbound;
use crate::config::Config;
use crate::store::channels::{Channel, NewChannel};
use crate::store::Store;
use crate::time::now_ms;

/// The kinds of alert a channel's own filter (and a rule) can name.
pub use crate::store::alert_rules::EVENTS;

/// A saved channel and, for a webhook, its signing secret (shown this once).
pub struct Added {
    pub channel: Channel,
    pub secret: Option<String>,
}

/// What a user asks for.
pub struct Request<'a> {
    pub kind: &'a str,
    pub url: &'a str,
    pub name: Option<&'a str>,
    /// Comma-separated kinds of alert (None: all).
    pub events: Option<&'a str>,
    pub min_level: Option<&'a str>,
    /// Only alerts about this environment (None: any).
    pub environment: Option<&'a str>,
}

impl Deliverer {
    pub fn from_config(config: &Config) -> Self {
        Deliverer {
            client: outbound::Client::new(config.alerts.allow_private_targets),
            alerts: config.alerts.clone(),
            mail: config.mail.clone(),
            base_url: config.base_url(),
        }
    }
}

/// Checks and saves a channel; the error says what is wrong (for a 400 or the CLI).
pub async fn add(
    store: &Store,
    config: &Config,
    project_id: i64,
    req: &Request<'_>,
) -> Result<Added, String> {
    let kind = Kind::parse(req.kind).ok_or_else(|| {
        format!(
            "kind must be one of slack, discord, mattermost, teams, webhook (not {:?})",
            req.kind
        )
    })?;
    outbound::check_url(req.url.trim(), config.alerts.allow_private_targets).await?;
    let events = match req
        .events
        .map(str::trim)
        .filter(|e| !e.is_empty() && *e != "all")
    {
        None => None,
        Some(list) => {
            let kinds: Vec<&str> = list.split(',').map(str::trim).collect();
            if let Some(bad) = kinds.iter().find(|k| !EVENTS.contains(k)) {
                return Err(format!(
                    "unknown event {bad:?}: use {} or all",
                    EVENTS.join(", ")
                ));
            }
            Some(kinds.join(","))
        }
    };
    let min_level = req.min_level.map(str::trim).filter(|l| !l.is_empty());
    if let Some(level) = min_level {
        if !["debug", "info", "warning", "error", "critical"].contains(&level) {
            return Err(format!(
                "unknown level {level:?}: use debug, info, warning, error or critical"
            ));
        }
    }
    let name = req
        .name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(kind.as_str());
    if name.chars().count() > 100 {
        return Err("name is longer than 100 characters".into());
    }
    let secret = (kind == Kind::Webhook).then(webhook::new_secret);
    let channel = store
        .add_channel(&NewChannel {
            project_id,
            kind: kind.as_str(),
            name,
            url: req.url.trim(),
            secret: secret.as_deref(),
            events: events.as_deref(),
            min_level,
            environment: req.environment.map(str::trim).filter(|e| !e.is_empty()),
        })
        .await
        .map_err(|e| format!("saving the channel: {e}"))?;
    Ok(Added { channel, secret })
}

/// Posts a test message now (not through the outbox) and says how the receiver answered.
pub async fn send_test(store: &Store, config: &Config, channel: &Channel) -> anyhow::Result<Value> {
    let project = store.project(channel.project_id).await?;
    let deliverer = Deliverer::from_config(config);
    let alert = Alert::test(&project, &config.base_url());
    let id = format!("msg_bugle_test_{}_{}", channel.id, now_ms());
    let posted = deliverer
        .post(store, channel, &alert, &id, None, "test")
        .await?;
    let last = store.channel_deliveries(channel.id, 1).await?;
    let status = last.first().and_then(|d| d.status);
    Ok(match posted {
        Posted::Delivered => json!({"delivered": true, "status": status}),
        Posted::Retry { error, .. } | Posted::GaveUp(error) => {
            json!({"delivered": false, "status": status, "error": error})
        }
    })
}

/// A channel as the API shows it: the URL masked, the secret never.
pub fn to_json(channel: &Channel) -> Value {
    json!({
        "id": channel.id,
        "kind": channel.kind,
        "name": channel.name,
        "url": channel.masked_url(),
        "events": channel.events,
        "min_level": channel.min_level,
        "environment": channel.environment,
        "created_at": crate::time::json(channel.created_at),
        "disabled": channel.disabled_at.is_some(),
        "disabled_reason": channel.disabled_reason,
    })
}
