//! The Prometheus metrics and `GET /metrics` (text exposition format 0.0.4).
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry as MetricRegistry, Unit};
use silo_domain::services::StoreTotals;
use std::time::{Duration, Instant};

use crate::state::AppState;

/// Store totals are counted in the database at most this often, however often scraped.
pub const STORE_TOTALS_MAX_AGE: Duration = Duration::from_secs(30);

/// Latency buckets, in seconds: from a cached page to a multi-gigabyte transfer's head.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The matched route template (`/v1/images/{*reference}`), `fallback` for the web
    /// interface's pages: never the raw path.
    pub route: String,
    /// `2xx`, `4xx`, …
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Every metric `silo serve` exports; cheap to update from any request.
pub struct Metrics {
    registry: MetricRegistry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: LatencyFamily,
    pub bytes_received: Counter,
    pub bytes_sent: Counter,
    uploads_in_progress: Gauge,
    store_bytes: Gauge,
    store_blobs: Gauge,
    images: Gauge,
    containers: Gauge,
    upload_sessions: Gauge,
    process: super::process::ProcessGauges,
    /// When the store totals were last counted.
    totals_counted: tokio::sync::Mutex<Option<Instant>>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = MetricRegistry::default();
        let process = super::process::ProcessGauges::register(&mut registry);
        let silo = registry.sub_registry_with_prefix("silo");
        let requests = Family::<RequestLabels, Counter>::default();
        silo.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status class",
            requests.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        silo.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its response head (bodies stream on)",
            Unit::Seconds,
            latency.clone(),
        );
        let bytes_received = Counter::default();
        silo.register_with_unit(
            "http_received",
            "Request body bytes received, counted as they stream in",
            Unit::Bytes,
            bytes_received.clone(),
        );
        let bytes_sent = Counter::default();
        silo.register_with_unit(
            "http_sent",
            "Response body bytes sent, counted as they stream out",
            Unit::Bytes,
            bytes_sent.clone(),
        );
        let gauge = |registry: &mut MetricRegistry, name: &str, help: &str, unit: Option<Unit>| {
            let g = Gauge::default();
            match unit {
                Some(unit) => registry.register_with_unit(name, help, unit, g.clone()),
                None => registry.register(name, help, g.clone()),
            }
            g
        };
        let uploads_in_progress = gauge(
            silo,
            "uploads_in_progress",
            "Uploads whose bytes are streaming into the store now (every protocol)",
            None,
        );
        let store_bytes = gauge(
            silo,
            "store_size",
            "Bytes of the distinct blobs the database references",
            Some(Unit::Bytes),
        );
        let store_blobs = gauge(silo, "store_blobs", "Distinct blobs", None);
        let images = gauge(silo, "images", "Uploaded images", None);
        let containers = gauge(silo, "containers", "Containers", None);
        let upload_sessions = gauge(
            silo,
            "upload_sessions",
            "Library multipart and OCI upload sessions not yet completed",
            None,
        );
        Metrics {
            registry,
            requests,
            latency,
            bytes_received,
            bytes_sent,
            uploads_in_progress,
            store_bytes,
            store_blobs,
            images,
            containers,
            upload_sessions,
            process,
            totals_counted: tokio::sync::Mutex::new(None),
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn record(&self, method: &http::Method, route: &str, status: StatusCode, took: Duration) {
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                method: method.clone(),
                route: route.to_string(),
                status: format!("{}xx", status.as_u16() / 100),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method,
                route: route.to_string(),
            })
            .observe(took.as_secs_f64());
    }

    fn set_totals(&self, totals: &StoreTotals) {
        self.store_bytes.set(totals.blob_bytes);
        self.store_blobs.set(totals.blobs);
        self.images.set(totals.images);
        self.containers.set(totals.containers);
        self.upload_sessions.set(totals.upload_sessions);
    }

    /// Refreshes the gauges and encodes everything.
    pub async fn render(&self, registry: &silo_domain::Registry) -> String {
        self.uploads_in_progress.set(registry.uploads_in_progress());
        {
            let mut counted = self.totals_counted.lock().await;
            if counted.is_none_or(|at| at.elapsed() >= STORE_TOTALS_MAX_AGE) {
                match registry.store_totals().await {
                    Ok(totals) => {
                        self.set_totals(&totals);
                        *counted = Some(Instant::now());
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot count the store for /metrics"),
                }
            }
        }
        self.process.refresh();
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// Known methods by name; anything else as `OTHER` (labels stay few).
fn method_label(method: &http::Method) -> String {
    const KNOWN: [http::Method; 7] = [
        http::Method::GET,
        http::Method::HEAD,
        http::Method::POST,
        http::Method::PUT,
        http::Method::PATCH,
        http::Method::DELETE,
        http::Method::OPTIONS,
    ];
    if KNOWN.contains(method) {
        method.as_str().to_string()
    } else {
        "OTHER".to_string()
    }
}

/// `GET /metrics`: 404 when `[metrics] enabled = false`; with `[metrics] token`, 401 unless
/// the request carries it as a bearer token.
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let settings = &state.config.metrics;
    if !settings.enabled {
        return (StatusCode::NOT_FOUND, "metrics are disabled\n").into_response();
    }
    if !settings.token.is_empty() && !bearer_matches(&headers, &settings.token) {
        return (
            StatusCode::UNAUTHORIZED,
            [(http::header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\"")],
            "a bearer token is required\n",
        )
            .into_response();
    }
    let body = state.observability.metrics.render(&state.registry).await;
    (
        [(
            http::header::CONTENT_TYPE,
            prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        )],
        body,
    )
        .into_response()
}

/// True when `Authorization: Bearer <token>` names `token` (compared in constant time).
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, credential)| credential.trim())
    else {
        return false;
    };
    use sha2::Digest;
    let (a, b) = (sha2::Sha256::digest(given), sha2::Sha256::digest(token));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
