//! `bugle-server ownership show|set`: a project's ownership rules from the command line. `set`
//! reads the rules from a file or stdin (one a line, as `crate::ownership` documents); rules
//! that do not parse are refused with the line and the reason, and nothing is saved.

use std::io::Read as _;

use anyhow::{bail, Context};
use bugle_server::config::Config;
use bugle_server::store::{Store, StoreError};
use clap::Subcommand;
use serde_json::json;

#[derive(Subcommand)]
pub enum OwnershipCommand {
    /// Print a project's ownership rules as written.
    Show {
        slug: String,
        /// Print `{"rules": "..."}`.
        #[arg(long)]
        json: bool,
    },
    /// Replace a project's ownership rules (empty input removes them), e.g.
    /// `echo 'path:src/payments/** -> ada@example.com' | bugle-server ownership set shop`.
    Set {
        slug: String,
        /// Read the rules from this file (default: stdin).
        #[arg(long)]
        file: Option<std::path::PathBuf>,
    },
}

pub async fn run(cmd: OwnershipCommand, config: &Config) -> anyhow::Result<()> {
    let slug = match &cmd {
        OwnershipCommand::Show { slug, .. } | OwnershipCommand::Set { slug, .. } => slug.clone(),
    };
    let store = Store::open(config).await?;
    let project = store
        .project_by_slug(&slug)
        .await
        .with_context(|| format!("no project {slug:?}"))?;
    match cmd {
        OwnershipCommand::Show { json, .. } => {
            let rules = store.ownership_rules(project.id).await?;
            if json {
                println!("{}", json!({ "rules": rules }));
            } else if rules.trim().is_empty() {
                println!("{} has no ownership rules", project.slug);
            } else {
                print!("{}", with_newline(&rules));
            }
        }
        OwnershipCommand::Set { file, .. } => {
            let rules = match file {
                Some(path) => std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?,
                None => {
                    let mut text = String::new();
                    std::io::stdin().read_to_string(&mut text)?;
                    text
                }
            };
            let count = bugle_server::ownership::parse(&rules)
                .map(|r| r.len())
                .unwrap_or_default();
            match store.set_ownership_rules(project.id, &rules).await {
                Ok(()) if count == 0 => println!("removed the ownership rules of {}", project.slug),
                Ok(()) => println!("saved {count} ownership rules for {}", project.slug),
                Err(StoreError::Invalid(why)) => bail!("ownership rules not saved: {why}"),
                Err(e) => return Err(e.into()),
            }
        }
    }
    store.close().await;
    Ok(())
}

fn with_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_owned()
    } else {
        format!("{text}\n")
    }
}
