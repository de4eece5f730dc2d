//! Wiring shared by `serve` and the tests: opens the store, starts the writer, builds the
//! actix app on a bound listener (port 0 works), and shuts down in order.

use std::net::{SocketAddr, TcpListener};

use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::error::ApiError;
use crate::ingest::KeyCache;
use crate::metrics::Metrics;
use crate::otlp::calls::CallMatcher;
use crate::routes::{Route, Routes};
use crate::state::AppState;
use crate::store::retention::RetentionPolicy;
use crate::store::writer::{Writer, WriterHandle};
use crate::store::{Backend, Store};
use crate::{api, body_timeout, ingest, ops, telemetry};

pub struct Application {
    addr: SocketAddr,
    server: actix_web::dev::Server,
    writer: WriterHandle,
    store: Store,
    stop_background: watch::Sender<bool>,
    background: JoinSet<()>,
}

impl Application {
    /// Opens and migrates the store and binds `config.listen`.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::open(&config).await.with_context(|| {
            format!(
                "opening database {}",
                crate::config::redact_url(&config.database_url)
            )
        })?;
        let listener = TcpListener::bind(config.listen)
            .with_context(|| format!("binding {}", config.listen))?;
        Self::with_listener(config, store, listener)
    }

    pub fn with_listener(
        mut config: Config,
        store: Store,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        // Links and DSNs name the port really bound (port 0 picks one).
        config.listen = addr;
        let i = &config.ingest;
        let metrics = Arc::new(Metrics::default());
        let (mut writer, writer_handle) = Writer::spawn(
            store.clone(),
            i.queue_capacity,
            i.batch_max,
            i.writers.unwrap_or(match store.backend() {
                Backend::Sqlite => 1,
                // Measured on 2 cores, 256 connections: 5,230-5,540 events/s with one writer,
                // 5,720-6,430 with two, 6,480 with three.
                Backend::Postgres => 2,
            }),
            metrics.clone(),
        );
        writer = writer.with_timeout(config.store_timeout());
        if i.bench_discard {
            tracing::warn!("BUGLE_BENCH_DISCARD is set: events are parsed and dropped, not stored");
            writer = writer.discarding();
        }
        let state = web::Data::new(AppState {
            config: config.clone(),
            store: store.clone(),
            writer,
            keys: KeyCache::default(),
            metrics: metrics.clone(),
            calls: CallMatcher::default(),
        });
        let (stop_background, background) = spawn_background(&config, &store, &metrics)?;
        let h = config.http.clone();
        let body_limit = Duration::from_millis(h.body_timeout_ms.max(1));
        let workers = h.workers.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let server =
            HttpServer::new(move || {
                App::new()
                    .wrap_fn(move |req, srv| body_timeout::limit_body_time(req, srv, body_limit))
                    .wrap_fn(telemetry::log_request)
                    .app_data(state.clone())
                    .app_data(web::PathConfig::default().error_handler(|e, _| {
                        ApiError::NotFound(format!("invalid path: {e}")).into()
                    }))
                    .app_data(web::QueryConfig::default().error_handler(|e, _| {
                        ApiError::BadRequest(format!("invalid query: {e}")).into()
                    }))
                    .configure(|cfg| register(&mut Routes::app(cfg)))
                    .default_service(web::to(no_such_endpoint))
            })
            .workers(workers)
            // actix counts per worker; the setting is for the whole server.
            .max_connections(h.max_connections.div_ceil(workers))
            .client_request_timeout(Duration::from_millis(h.head_timeout_ms))
            .client_disconnect_timeout(Duration::from_millis(h.disconnect_timeout_ms))
            .keep_alive(Duration::from_secs(h.keep_alive_secs))
            .listen(listener)?
            .shutdown_timeout(config.shutdown_timeout().as_secs())
            .run();
        Ok(Self {
            addr,
            server,
            writer: writer_handle,
            store,
            stop_background,
            background,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests, commits the queue and
    /// closes the database.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await.context("HTTP server failed")?;
        self.writer.shutdown().await;
        let _ = self.stop_background.send(true);
        let mut background = self.background;
        while background.join_next().await.is_some() {}
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Tasks that run beside the server: retention, the mail worker and the channel worker.
fn spawn_background(
    config: &Config,
    store: &Store,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<(watch::Sender<bool>, JoinSet<()>)> {
    let (stop, mut stopped) = watch::channel(false);
    let mut tasks = JoinSet::new();
    match crate::notify::mail::Mailer::from_config(&config.mail)? {
        Some(mailer) => {
            tasks.spawn(crate::notify::run_worker_until_stopped(
                store.clone(),
                mailer,
                config.mail.clone(),
                config.base_url(),
                metrics.clone(),
                stopped.clone(),
            ));
        }
        None => tracing::info!("mail is off: set BUGLE_SMTP_URL to send notifications"),
    }
    tasks.spawn(crate::notify::alerts::run_worker_until_stopped(
        store.clone(),
        crate::notify::alerts::Deliverer::from_config(config),
        metrics.clone(),
        stopped.clone(),
    ));
    let (store, policy) = (store.clone(), RetentionPolicy::from(&config.retention));
    let every = Duration::from_secs(config.retention.interval_secs);
    tasks.spawn(async move {
        // Not at once: a server that restarts often still sweeps, and starts quickly.
        let first = every.min(Duration::from_secs(60));
        tokio::select! {
            _ = tokio::time::sleep(first) => {}
            _ = stopped.wait_for(|&s| s) => return,
        }
        loop {
            match store.sweep_retention(policy).await {
                Ok(swept) if swept != Default::default() => {
                    tracing::info!(?swept, "retention pass");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention pass failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stopped.wait_for(|&s| s) => return,
            }
        }
    });
    Ok((stop, tasks))
}

/// Every route of the server, in matching order (the first match wins).
fn register(r: &mut Routes) {
    ingest::native::routes(r);
    ingest::sentry::routes(r);
    ingest::security::routes(r);
    ingest::rollbar::routes(r);
    ingest::otlp::routes(r);
    ingest::rollbar_deploy::routes(r);
    ingest::user_feedback::routes(r);
    api::routes(r);
    crate::notify::unsubscribe::routes(r);
    crate::web::routes(r);
    ops::routes(r);
}

/// The route table `register` builds, as data (`bugle-server routes`, the authorization matrix).
pub fn route_table() -> Vec<Route> {
    let mut out = Vec::new();
    register(&mut Routes::list(&mut out));
    out
}

async fn no_such_endpoint() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such endpoint".into()))
}
