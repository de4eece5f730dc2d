//! Wiring shared by `serve` and the tests: opens the store, starts the writer, builds the
//! actix app on a bound listener (port 0 works), and shuts down in order.

use std::net::{SocketAddr, TcpListener};

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use serde_json::json;

use crate::config::Config;
use crate::error::ApiError;
use crate::ingest::KeyCache;
use crate::metrics::Metrics;
use crate::store::writer::{Writer, WriterHandle};
use crate::store::Store;
use crate::{api, ingest};

/// What every request handler can reach.
pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub writer: Writer,
    pub keys: KeyCache,
    pub metrics: Metrics,
}

pub struct Application {
    addr: SocketAddr,
    server: actix_web::dev::Server,
    writer: WriterHandle,
    store: Store,
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
        config: Config,
        store: Store,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let i = &config.ingest;
        let (mut writer, writer_handle) =
            Writer::spawn(store.clone(), i.queue_capacity, i.batch_max, i.writers);
        if i.bench_discard {
            tracing::warn!("BUGLE_BENCH_DISCARD is set: events are parsed and dropped, not stored");
            writer = writer.discarding();
        }
        let state = web::Data::new(AppState {
            config: config.clone(),
            store: store.clone(),
            writer,
            keys: KeyCache::default(),
            metrics: Metrics::default(),
        });
        let server =
            HttpServer::new(move || {
                App::new()
                    .app_data(state.clone())
                    .app_data(web::PathConfig::default().error_handler(|e, _| {
                        ApiError::NotFound(format!("invalid path: {e}")).into()
                    }))
                    .app_data(web::QueryConfig::default().error_handler(|e, _| {
                        ApiError::BadRequest(format!("invalid query: {e}")).into()
                    }))
                    .service(ingest::native::ingest_event)
                    .configure(ingest::sentry::routes)
                    .configure(ingest::rollbar::routes)
                    .configure(api::routes)
                    .route("/healthz", web::get().to(healthz))
                    .route("/readyz", web::get().to(readyz))
                    .route("/metrics", web::get().to(metrics))
                    .default_service(web::to(no_such_endpoint))
            })
            .listen(listener)?
            .shutdown_timeout(config.shutdown_timeout().as_secs())
            .run();
        Ok(Self {
            addr,
            server,
            writer: writer_handle,
            store,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests, commits the queue and
    /// closes the database.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.server.await.context("HTTP server failed")?;
        self.writer.shutdown().await;
        self.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(state.writer.queue_depth()))
}

async fn no_such_endpoint() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound("no such endpoint".into()))
}
