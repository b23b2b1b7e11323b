//! The layer around every route: a request ID and a log span per request, the request
//! metrics, and body bytes counted as they stream (nothing is buffered).
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use futures::future::BoxFuture;
use http::HeaderValue;
use http_body::Frame;
use prometheus_client::metrics::counter::Counter;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Layer, Service};
use tracing::Instrument;

use super::metrics::Metrics;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Longest client-chosen request ID that is kept.
const REQUEST_ID_MAX: usize = 64;

/// The client's `X-Request-Id` when it is a short token of letters, digits, `-`, `_`, `.`
/// (safe in any log line), else a new random one.
pub fn request_id(headers: &http::HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= REQUEST_ID_MAX
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| silo_domain::services::random_hex(12))
}

/// Adds [`Observe`] to every route (`Router::layer`, so that the matched route is known).
#[derive(Clone)]
pub struct ObserveLayer {
    metrics: Arc<Metrics>,
}

impl ObserveLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        ObserveLayer { metrics }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;
    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The clone is not ready; take the one that is (the usual tower pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let id = request_id(request.headers());
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_string());
        let method = request.method().clone();
        let target = super::redact::loggable_target(request.uri(), route.as_deref());
        let span = tracing::info_span!("request", id = %id, method = %method, target = %target);
        let request = request.map(|body| {
            Body::new(Counted::new(
                body,
                metrics.bytes_received.clone(),
                span.clone(),
            ))
        });
        Box::pin(async move {
            let response = inner.call(request).instrument(span.clone()).await?;
            let status = response.status();
            let took = started.elapsed();
            metrics.record(
                &method,
                route.as_deref().unwrap_or("fallback"),
                status,
                took,
            );
            span.in_scope(|| {
                tracing::info!(
                    status = status.as_u16(),
                    latency_ms = took.as_millis() as u64,
                    "response"
                )
            });
            let (mut parts, body) = response.into_parts();
            if let Ok(value) = HeaderValue::from_str(&id) {
                parts.headers.insert(REQUEST_ID_HEADER, value);
            }
            let body = Body::new(Counted::new(body, metrics.bytes_sent.clone(), span));
            Ok(Response::from_parts(parts, body))
        })
    }
}

/// A body that adds the size of each data frame to `bytes` as it passes, inside the
/// request's span (so log lines of a streaming body carry the request ID too).
struct Counted {
    inner: Body,
    bytes: Counter,
    span: tracing::Span,
}

impl Counted {
    fn new(inner: Body, bytes: Counter, span: tracing::Span) -> Self {
        Counted { inner, bytes, span }
    }
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                this.bytes.inc_by(data.len() as u64);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_client_ids_are_kept_and_others_replaced() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(request_id(&headers).len(), 24);
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("trace-42.a_b"));
        assert_eq!(request_id(&headers), "trace-42.a_b");
        for bad in ["a b", "x\"}{", &"y".repeat(65), ""] {
            headers.insert(REQUEST_ID_HEADER, HeaderValue::from_str(bad).unwrap());
            let id = request_id(&headers);
            assert_ne!(id, bad);
            assert_eq!(id.len(), 24);
        }
    }
}
