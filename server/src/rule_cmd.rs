//! `bugle-server rule add|list|remove`: alert rules from the command line.

use anyhow::{bail, Context};
use bugle_server::config::Config;
use bugle_server::notify::rule_admin::{self, RuleRequest};
use bugle_server::store::alert_rules::Spike;
use bugle_server::store::Store;
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum RuleCommand {
    /// Add an alert rule; once a project has one, only its rules decide what alerts go out.
    Add {
        slug: String,
        /// Comma-separated new_issue, regression, seen_again, spike, milestone.
        #[arg(long)]
        events: String,
        #[arg(long)]
        name: Option<String>,
        /// For spike: N events in M minutes, written `N/M` (e.g. 100/10).
        #[arg(long)]
        spike: Option<String>,
        /// For milestone: comma-separated counts (default 10, 100, 1000, ...).
        #[arg(long)]
        milestones: Option<String>,
        /// A query in the search language, e.g. 'level:>=error environment:production'.
        #[arg(long, default_value = "")]
        filter: String,
        /// A channel by name or id (repeat for several).
        #[arg(long = "channel")]
        channels: Vec<String>,
        /// Mail the project's recipients too.
        #[arg(long)]
        mail: bool,
        /// Print the rule as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A project's alert rules.
    List {
        slug: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove an alert rule.
    Remove { slug: String, id: i64 },
}

fn spike(text: &str) -> anyhow::Result<Spike> {
    let parsed = text
        .split_once('/')
        .and_then(|(n, m)| Some((n.trim().parse().ok()?, m.trim().parse().ok()?)));
    let Some((count, minutes)) = parsed else {
        bail!("--spike takes N/M (N events in M minutes), not {text:?}");
    };
    Ok(Spike { count, minutes })
}

fn milestones(text: &str) -> anyhow::Result<Vec<i64>> {
    text.split(',')
        .map(|m| {
            m.trim()
                .parse()
                .with_context(|| format!("--milestones takes counts, not {m:?}"))
        })
        .collect()
}

pub async fn run(cmd: RuleCommand, config: &Config) -> anyhow::Result<()> {
    let store = Store::open(config).await?;
    let slug = match &cmd {
        RuleCommand::Add { slug, .. }
        | RuleCommand::List { slug, .. }
        | RuleCommand::Remove { slug, .. } => slug.clone(),
    };
    let project = store
        .project_by_slug(&slug)
        .await
        .with_context(|| format!("no project {slug:?}"))?;
    let channels = store.project_channels(project.id).await?;
    match cmd {
        RuleCommand::Add {
            events,
            name,
            spike: spike_text,
            milestones: milestones_text,
            filter,
            channels: names,
            mail,
            json,
            ..
        } => {
            let req = RuleRequest {
                name,
                events: vec![events],
                spike: spike_text.as_deref().map(spike).transpose()?,
                milestones: milestones_text.as_deref().map(milestones).transpose()?,
                filter,
                channels: names.into_iter().map(serde_json::Value::String).collect(),
                mail,
            };
            let rule = match rule_admin::check(&req, &channels) {
                Ok(rule) => rule,
                Err(why) => bail!("{why}"),
            };
            let rule = store.add_alert_rule(project.id, &rule).await?;
            if json {
                println!("{}", rule_admin::to_json(&rule, &channels));
            } else {
                println!(
                    "added rule {}: {}",
                    rule.id,
                    rule_admin::describe(&rule, &channels)
                );
            }
        }
        RuleCommand::List { json, .. } => {
            let rules = store.alert_rules(project.id).await?;
            if json {
                let list: Vec<_> = rules
                    .iter()
                    .map(|r| rule_admin::to_json(r, &channels))
                    .collect();
                println!("{}", json!({ "rules": list }));
            } else {
                for r in &rules {
                    println!(
                        "{}\t{}\t{}",
                        r.id,
                        r.name,
                        rule_admin::describe(r, &channels)
                    );
                }
            }
        }
        RuleCommand::Remove { id, .. } => {
            store
                .remove_alert_rule(project.id, id)
                .await
                .with_context(|| format!("no rule {id} in {}", project.slug))?;
            println!("removed rule {id}");
        }
    }
    store.close().await;
    Ok(())
}
