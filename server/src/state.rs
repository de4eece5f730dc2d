//! What every request handler can reach, built once by `startup`.

use std::sync::Arc;

use crate::config::Config;
use crate::ingest::KeyCache;
use crate::metrics::Metrics;
use crate::otlp::calls::CallMatcher;
use crate::store::writer::Writer;
use crate::store::Store;

/// What every request handler can reach.
pub struct AppState {
    pub config: Config,
    pub store: Store,
    pub writer: Writer,
    pub keys: KeyCache,
    pub metrics: Arc<Metrics>,
    /// Recent OTLP callers and waiting callees, to count calls between services.
    pub calls: CallMatcher,
}
