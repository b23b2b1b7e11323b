//! Health, metrics and logs: `/readyz`, `/metrics`, request IDs and the request log with
//! secrets hidden. `/healthz` (liveness) stays in `router.rs`.
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

use crate::state::AppState;

pub mod logging;
pub mod metrics;
mod process;
pub mod readiness;
pub mod redact;
pub mod request;
pub mod settings;

pub use request::{ObserveLayer, REQUEST_ID_HEADER};
pub use settings::{LogFormat, LogSettings, MetricsSettings};

/// What the observability layer shares across requests (one per server).
#[derive(Default)]
pub struct Observability {
    pub metrics: Arc<metrics::Metrics>,
}

impl Observability {
    /// The layer `router.rs` puts around every route.
    pub fn layer(&self) -> ObserveLayer {
        ObserveLayer::new(self.metrics.clone())
    }
}

/// `/readyz` and `/metrics`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/readyz", get(readiness::readyz))
        .route("/metrics", get(metrics::serve))
}
