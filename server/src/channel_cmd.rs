//! `bugle-server channel add|list|remove|test`: alert channels from the command line.

use anyhow::{bail, Context};
use bugle_server::config::Config;
use bugle_server::notify::channel_admin::{self, Request};
use bugle_server::store::Store;
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum ChannelCommand {
    /// Add a channel to a project; a webhook's signing secret is printed this once.
    Add {
        slug: String,
        /// slack | discord | mattermost | teams | webhook
        #[arg(long)]
        kind: String,
        /// The incoming-webhook URL (it carries a secret: keep it out of shell history).
        #[arg(long)]
        url: String,
        #[arg(long)]
        name: Option<String>,
        /// Which alerts it gets: comma-separated new_issue, regression, seen_again, spike,
        /// milestone (default: all).
        #[arg(long)]
        events: Option<String>,
        /// Only issues at this level or above: debug, info, warning, error, critical.
        #[arg(long)]
        min_level: Option<String>,
        /// Only alerts about this environment, e.g. production.
        #[arg(long)]
        environment: Option<String>,
        /// Print `{"id":..,"secret":..}`.
        #[arg(long)]
        json: bool,
    },
    /// A project's channels (URLs masked) with their last deliveries.
    List {
        slug: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a channel and its pending alerts.
    Remove { slug: String, id: i64 },
    /// Post a test message now and say how the receiver answered.
    Test { slug: String, id: i64 },
}

pub async fn run(cmd: ChannelCommand, config: &Config) -> anyhow::Result<()> {
    let store = Store::open(config).await?;
    let slug = match &cmd {
        ChannelCommand::Add { slug, .. }
        | ChannelCommand::List { slug, .. }
        | ChannelCommand::Remove { slug, .. }
        | ChannelCommand::Test { slug, .. } => slug.clone(),
    };
    let project = store
        .project_by_slug(&slug)
        .await
        .with_context(|| format!("no project {slug:?}"))?;
    match cmd {
        ChannelCommand::Add {
            kind,
            url,
            name,
            events,
            min_level,
            environment,
            json,
            ..
        } => {
            let req = Request {
                kind: &kind,
                url: &url,
                name: name.as_deref(),
                events: events.as_deref(),
                min_level: min_level.as_deref(),
                environment: environment.as_deref(),
            };
            let added = match channel_admin::add(&store, config, project.id, &req).await {
                Ok(added) => added,
                Err(why) => bail!("{why}"),
            };
            if json {
                println!(
                    "{}",
                    json!({"id": added.channel.id, "secret": added.secret})
                );
            } else {
                println!(
                    "added {} channel {} ({}) to {}",
                    added.channel.kind,
                    added.channel.id,
                    added.channel.masked_url(),
                    project.slug
                );
                if let Some(secret) = added.secret {
                    println!("signing secret (shown once): {secret}");
                }
            }
        }
        ChannelCommand::List { json, .. } => {
            let channels = store.project_channels(project.id).await?;
            if json {
                let mut list = Vec::new();
                for c in &channels {
                    let mut v = channel_admin::to_json(c);
                    v["deliveries"] = json!(store.channel_deliveries(c.id, 20).await?);
                    list.push(v);
                }
                println!("{}", json!({ "channels": list }));
            } else {
                for c in &channels {
                    let state = match &c.disabled_reason {
                        Some(why) => format!("disabled: {why}"),
                        None => "enabled".into(),
                    };
                    println!(
                        "{}\t{}\t{}\t{}\t{state}",
                        c.id,
                        c.kind,
                        c.name,
                        c.masked_url()
                    );
                }
            }
        }
        ChannelCommand::Remove { id, .. } => {
            store
                .remove_channel(project.id, id)
                .await
                .with_context(|| format!("no channel {id} in {}", project.slug))?;
            println!("removed channel {id}");
        }
        ChannelCommand::Test { id, .. } => {
            let channel = store
                .channel(id)
                .await
                .ok()
                .filter(|c| c.project_id == project.id);
            let Some(channel) = channel else {
                bail!("no channel {id} in {}", project.slug);
            };
            let result = channel_admin::send_test(&store, config, &channel).await?;
            if result["delivered"] == true {
                println!("delivered (HTTP {})", result["status"]);
            } else {
                bail!("not delivered: {}", result["error"].as_str().unwrap_or("?"));
            }
        }
    }
    store.close().await;
    Ok(())
}
