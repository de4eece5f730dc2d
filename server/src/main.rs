//! `bugle-server`: the server and its admin commands, all reading one configuration.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use bugle_server::config::{dsn, Config};
use bugle_server::startup::Application;
use bugle_server::store::Store;
use bugle_server::{secrets, telemetry};
use clap::{Parser, Subcommand};

mod channel_cmd;
mod ownership_cmd;
mod rule_cmd;

/// musl's allocator (the static Docker image) serializes threads on a lock and returns memory
/// eagerly; mimalloc measured ~20% of ingest CPU back and keeps RSS flat under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use serde_json::json;

#[derive(Parser)]
#[command(name = "bugle-server", version, about = "Self-hosted error tracking")]
struct Cli {
    /// TOML configuration file; `BUGLE_*` environment variables override it.
    #[arg(long, global = true, env = "BUGLE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (creates and migrates the database on first start).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080; port 0 picks a free port.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage alert channels (Slack, Discord, Mattermost, Teams, signed webhooks).
    #[command(subcommand)]
    Channel(channel_cmd::ChannelCommand),
    /// Manage alert rules (which events, which filter, which channels).
    #[command(subcommand)]
    Rule(rule_cmd::RuleCommand),
    /// Manage ownership rules (who owns a new issue: `path:src/payments/** -> ada@example.com`).
    #[command(subcommand)]
    Ownership(ownership_cmd::OwnershipCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Record releases and deploys (for deploy scripts).
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Send a test mail with the configured SMTP settings and say what is wrong, if anything.
    SendTestEmail { address: String },
    /// Copy the SQLite database to PATH while the server runs (PostgreSQL: use pg_dump).
    Backup { path: PathBuf },
    /// Print every HTTP route the server answers, one `METHOD /path/{param}` a line.
    Routes,
    /// Exit 0 when the server answers its readiness check, 1 otherwise (for Docker).
    Healthcheck {
        /// Base URL of the server; defaults to the configured listen address.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum ProjectCommand {
    /// Create a project and print its ingest token and Sentry DSN.
    Create {
        name: String,
        /// URL name; derived from the name when absent.
        #[arg(long)]
        slug: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List projects.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Let a user see a project.
    AddMember { slug: String, email: String },
    /// Extra addresses mailed about a project, besides its members.
    Notify {
        slug: String,
        #[arg(long)]
        add: Vec<String>,
        #[arg(long)]
        remove: Vec<String>,
    },
    /// Keep a project's occurrences for DAYS and at most N per issue (`default`: the server's).
    Retention {
        slug: String,
        #[arg(long)]
        days: Option<String>,
        #[arg(long)]
        max_per_issue: Option<String>,
    },
    /// Show a project's grouping rules, replace them from a file (`-` for stdin), or preview
    /// what a file's rules would do to the project's newest 1,000 occurrences.
    Grouping {
        slug: String,
        /// Saves the rules of FILE (checked first: nothing is saved when they do not parse).
        #[arg(long, value_name = "FILE", conflicts_with = "preview_file")]
        set_file: Option<String>,
        /// Prints, as JSON, how the rules of FILE would group the newest occurrences.
        #[arg(long, value_name = "FILE")]
        preview_file: Option<String>,
    },
    /// Limit how many events per minute a project may send (`off` for no limit).
    RateLimit {
        slug: String,
        /// Events per minute, or `off`.
        per_minute: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Choose which mails an address gets: a comma-separated list of new_issue, regression,
    /// seen_again, spike, milestone; `all` for every kind.
    Mail { email: String, kinds: String },
    /// Create a user.
    Create {
        email: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Admins see and manage every project.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
enum ReleaseCommand {
    /// Create a release of a project (nothing changes if it exists).
    Create {
        slug: String,
        version: String,
        /// Also mark it released now.
        #[arg(long)]
        finalize: bool,
    },
    /// Record a deploy of a release (created if missing) to an environment.
    Deploy {
        slug: String,
        version: String,
        #[arg(short = 'e', long = "env", default_value = "production")]
        environment: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user (shown once).
    Create {
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// `read` (GET only) or `write`.
        #[arg(long, default_value = "write", value_parser = ["read", "write"])]
        scope: String,
        /// Limit the token to this project (repeat for several); default: all the user's.
        #[arg(long = "project")]
        projects: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

/// Transparent huge pages grew mimalloc's memory in 2 MB steps: idle RSS 24 -> 11 MB, and the
/// peak under 256 connections on PostgreSQL 123-156 -> 96 MB without them, at the same
/// throughput (6,068 events/s). Set first, before the process has touched much memory.
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    disable_transparent_huge_pages();
    // Before anything opens a database.
    if !bugle_server::sqlite_alloc::use_process_allocator() {
        eprintln!("warning: SQLite keeps the C library's allocator");
    }
    let cli = Cli::parse();
    let result = Config::load(cli.config.as_deref()).and_then(|config| {
        telemetry::init(config.log_format);
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?
            .block_on(run(cli.command, config))
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, mut config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve { listen } => {
            if let Some(listen) = listen {
                config.listen = listen;
            }
            let app = Application::build(config.clone()).await?;
            // The first line of stdout tells scripts and tests the real port.
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on http://{}", app.addr())?;
            out.flush()?;
            drop(out);
            tracing::info!(addr = %app.addr(), database = %bugle_server::config::redact_url(&config.database_url), "serving");
            config.listen = app.addr();
            bugle_server::web::announce_setup_link(app.store(), &config.base_url()).await?;
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            Store::open(&config).await?.close().await;
            println!("database is up to date");
        }
        Command::Project(cmd) => project(cmd, &config).await?,
        Command::Channel(cmd) => channel_cmd::run(cmd, &config).await?,
        Command::Rule(cmd) => rule_cmd::run(cmd, &config).await?,
        Command::Ownership(cmd) => ownership_cmd::run(cmd, &config).await?,
        Command::User(UserCommand::Mail { email, kinds }) => {
            const KINDS: [&str; 5] = [
                "new_issue",
                "regression",
                "seen_again",
                "spike",
                "milestone",
            ];
            let chosen = match kinds.as_str() {
                "all" => None,
                list => {
                    let parts: Vec<&str> = list.split(',').map(str::trim).collect();
                    if let Some(bad) = parts.iter().find(|k| !KINDS.contains(k)) {
                        bail!("unknown kind {bad:?}: use {} or all", KINDS.join(", "));
                    }
                    Some(parts.join(","))
                }
            };
            let store = Store::open(&config).await?;
            store.set_mail_kinds(&email, chosen.as_deref()).await?;
            println!(
                "{email} gets {}",
                chosen.as_deref().unwrap_or("every kind of mail")
            );
        }
        Command::User(UserCommand::Create {
            email,
            password_stdin,
            admin,
        }) => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let password = line.trim_end_matches(['\r', '\n']).to_owned();
                if password.len() < 8 {
                    bail!("the password must have at least 8 characters");
                }
                Some(secrets::hash_password(&password)?)
            } else {
                None
            };
            let store = Store::open(&config).await?;
            let user = store
                .create_user(&email, password.as_deref(), admin)
                .await?;
            println!(
                "created {}user {}{}",
                if admin { "admin " } else { "" },
                user.email,
                if password.is_none() {
                    " (no password: API tokens only)"
                } else {
                    ""
                }
            );
        }
        Command::Token(TokenCommand::Create {
            email,
            name,
            scope,
            projects,
            json,
        }) => {
            let store = Store::open(&config).await?;
            let user = store
                .user_by_email(&email)
                .await
                .with_context(|| format!("no user {email}"))?;
            let mut ids = Vec::new();
            for slug in &projects {
                let project = store
                    .project_by_slug(slug)
                    .await
                    .with_context(|| format!("no project {slug}"))?;
                ids.push(project.id);
            }
            let scope = bugle_server::store::users::TokenScope {
                write: scope == "write",
                projects: (!ids.is_empty()).then_some(ids),
            };
            let token = store
                .create_scoped_api_token(user.id, name.as_deref(), &scope)
                .await?;
            if json {
                println!("{}", json!({ "token": token }));
            } else {
                println!("{token}");
            }
        }
        Command::Release(cmd) => {
            let store = Store::open(&config).await?;
            match cmd {
                ReleaseCommand::Create {
                    slug,
                    version,
                    finalize,
                } => {
                    let project = store
                        .project_by_slug(&slug)
                        .await
                        .with_context(|| format!("no project {slug}"))?;
                    let changes = bugle_server::store::releases::ReleaseChanges {
                        date_released: finalize.then(bugle_server::time::now_ms),
                        ..Default::default()
                    };
                    let (release, created) = store
                        .ensure_release(project.id, &version, &changes)
                        .await
                        .map_err(|e| anyhow::anyhow!("release {version:?}: {e}"))?;
                    let what = if created { "created" } else { "exists" };
                    println!("{} {} {what}", project.slug, release.version);
                }
                ReleaseCommand::Deploy {
                    slug,
                    version,
                    environment,
                    name,
                } => {
                    let project = store
                        .project_by_slug(&slug)
                        .await
                        .with_context(|| format!("no project {slug}"))?;
                    let deploy = bugle_server::store::releases::NewDeploy {
                        environment,
                        name,
                        created_by: std::env::var("USER").ok(),
                        source: "bugle",
                        ..Default::default()
                    };
                    let deploy = store
                        .add_deploy(project.id, &version, &deploy)
                        .await
                        .map_err(|e| anyhow::anyhow!("deploy of {version:?}: {e}"))?;
                    println!(
                        "{} {} deployed to {} (deploy {})",
                        project.slug, deploy.version, deploy.environment, deploy.id
                    );
                }
            }
        }
        Command::SendTestEmail { address } => {
            let mailer = bugle_server::notify::mail::Mailer::from_config(&config.mail)?.context(
                "no SMTP server configured: set BUGLE_SMTP_URL (e.g. smtp://user:pass@host:587)",
            )?;
            let mail = bugle_server::notify::mail::Mail {
                subject: "Bugle test mail".into(),
                text: format!(
                    "This is a test mail from Bugle at {}. Notifications will reach you.\n",
                    config.base_url()
                ),
                html: "<p>This is a test mail from Bugle. Notifications will reach you.</p>".into(),
                unsubscribe: format!("{}/", config.base_url()),
            };
            match mailer.send(&address, &mail).await {
                Ok(()) => println!("sent a test mail to {address}"),
                Err(e) => bail!("could not send to {address}: {e}"),
            }
        }
        Command::Backup { path } => {
            let store = Store::open(&config).await?;
            let target = path.to_str().context("the backup path must be UTF-8")?;
            store.backup_sqlite(target).await?;
            store.close().await;
            println!("backed up to {}", path.display());
        }
        Command::Routes => {
            let mut out = std::io::stdout().lock();
            for route in bugle_server::startup::route_table() {
                writeln!(out, "{} {}", route.method, route.path)?;
            }
        }
        Command::Healthcheck { url } => {
            let url = url.unwrap_or_else(|| format!("http://{}", config.listen));
            return Ok(match healthcheck(&url) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("unhealthy: {e:#}");
                    ExitCode::FAILURE
                }
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn project(cmd: ProjectCommand, config: &Config) -> anyhow::Result<()> {
    let store = Store::open(config).await?;
    match cmd {
        ProjectCommand::Create { name, slug, json } => {
            let (project, token) = store.create_project(&name, slug.as_deref()).await?;
            let dsn = dsn(&config.base_url(), &token, project.id);
            if json {
                println!(
                    "{}",
                    json!({"id": project.id, "slug": project.slug, "name": project.name, "token": token, "dsn": dsn})
                );
            } else {
                println!("created project {} ({})", project.name, project.slug);
                println!("token: {token}");
                println!("dsn:   {dsn}");
            }
        }
        ProjectCommand::List { json } => {
            let projects = store.list_projects().await?;
            if json {
                let mut list = Vec::new();
                for p in &projects {
                    let tokens = store.project_keys(p.id).await?;
                    let dsn = tokens.first().map(|t| dsn(&config.base_url(), t, p.id));
                    list.push(json!({"id": p.id, "slug": p.slug, "name": p.name, "tokens": tokens, "dsn": dsn}));
                }
                println!("{}", json!({ "projects": list }));
            } else {
                for p in &projects {
                    println!("{}\t{}\t{}", p.id, p.slug, p.name);
                }
            }
        }
        ProjectCommand::Notify { slug, add, remove } => {
            let project = store
                .project_by_slug(&slug)
                .await
                .with_context(|| format!("no project {slug}"))?;
            for email in &add {
                store.add_recipient(project.id, email).await?;
            }
            for email in &remove {
                store.remove_recipient(project.id, email).await?;
            }
            let extra = store.project_recipients(project.id).await?;
            println!(
                "{} mails its members{}{}",
                project.slug,
                if extra.is_empty() { "" } else { " and " },
                extra.join(", ")
            );
        }
        ProjectCommand::Retention {
            slug,
            days,
            max_per_issue,
        } => {
            let project = store
                .project_by_slug(&slug)
                .await
                .with_context(|| format!("no project {slug}"))?;
            let setting = |value: Option<String>, what: &str| -> anyhow::Result<Option<i64>> {
                match value.as_deref() {
                    None | Some("default") => Ok(None),
                    Some(n) => n
                        .parse::<i64>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .map(Some)
                        .with_context(|| {
                            format!("{what} must be a number of at least 1 or `default`, not {n:?}")
                        }),
                }
            };
            let days = setting(days, "--days")?;
            let max = setting(max_per_issue, "--max-per-issue")?;
            store.set_retention(project.id, days, max).await?;
            let show = |v: Option<i64>| v.map_or("server default".to_owned(), |n| n.to_string());
            println!(
                "{}: occurrences kept {} days, at most {} per issue",
                project.slug,
                show(days),
                show(max)
            );
        }
        ProjectCommand::Grouping {
            slug,
            set_file,
            preview_file,
        } => {
            let project = store
                .project_by_slug(&slug)
                .await
                .with_context(|| format!("no project {slug}"))?;
            let read = |path: &str| -> anyhow::Result<String> {
                if path == "-" {
                    let mut text = String::new();
                    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
                    Ok(text)
                } else {
                    std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
                }
            };
            let parse = |text: &str, path: &str| {
                bugle_server::grouping::rules::parse(text)
                    .map_err(|e| anyhow::anyhow!("{path}: {e} (nothing saved)"))
            };
            if let Some(path) = set_file {
                let text = read(&path)?;
                let rules = parse(&text, &path)?;
                store.set_grouping_rules(project.id, Some(&text)).await?;
                println!(
                    "{}: grouping rules saved ({} rules); new events use them within 30 s",
                    project.slug,
                    rules.len()
                );
            } else if let Some(path) = preview_file {
                let text = read(&path)?;
                let rules = parse(&text, &path)?;
                let preview =
                    bugle_server::regroup::preview_project(&store, project.id, &rules).await?;
                println!("{}", serde_json::to_string_pretty(&preview)?);
            } else {
                let rules = store.project_settings(project.id).await?.grouping_rules;
                print!("{}", rules.unwrap_or_default());
            }
        }
        ProjectCommand::RateLimit { slug, per_minute } => {
            let project = store
                .project_by_slug(&slug)
                .await
                .with_context(|| format!("no project {slug}"))?;
            let limit = match per_minute.as_str() {
                "off" | "none" => None,
                n => Some(n.parse::<i64>().with_context(|| {
                    format!("{n:?} is not a number of events per minute or `off`")
                })?),
            };
            store.set_rate_limit(project.id, limit).await?;
            match limit {
                Some(n) => println!("{} may send {n} events per minute", project.slug),
                None => println!("{} has no rate limit", project.slug),
            }
        }
        ProjectCommand::AddMember { slug, email } => {
            let project = store
                .project_by_slug(&slug)
                .await
                .with_context(|| format!("no project {slug}"))?;
            let user = store
                .user_by_email(&email)
                .await
                .with_context(|| format!("no user {email}"))?;
            store.add_member(project.id, user.id).await?;
            println!("{} is now a member of {}", user.email, project.slug);
        }
    }
    store.close().await;
    Ok(())
}

/// GET /readyz over plain HTTP with the standard library, so a minimal image needs no curl.
fn healthcheck(base_url: &str) -> anyhow::Result<()> {
    let rest = base_url
        .strip_prefix("http://")
        .context("healthcheck needs an http:// URL")?;
    let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.replace("0.0.0.0", "127.0.0.1");
    let timeout = std::time::Duration::from_secs(5);
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&host)?
        .next()
        .with_context(|| format!("cannot resolve {host}"))?;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("connecting to {host}"))?;
    stream.set_read_timeout(Some(timeout))?;
    let path = format!("/{}/readyz", prefix.trim_matches('/')).replace("//", "/");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        bail!("{path} answered {status:?}")
    }
}
