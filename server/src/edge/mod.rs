//! The edge of the server, between the network and the protocol adapters: TLS, the accept
//! loop and its timeouts, the client address behind trusted proxies, security headers,
//! request body limits and request rate limits. Operators' view: `docs/OPERATIONS.md`.
pub mod envelopes;
pub mod limits;
pub mod proxy;
pub mod rate_limits;
pub mod security_headers;
pub mod serve;
pub mod tls;

use axum::http::HeaderValue;

use crate::config::Config;

/// What the edge works out once from the configuration.
pub struct Edge {
    /// The `Strict-Transport-Security` value, when it is sent at all.
    pub hsts: Option<HeaderValue>,
    /// Who the client of a request is (`[proxy]`).
    pub clients: proxy::ClientResolver,
    /// Anonymous pull and token request counters (`[limits]`).
    pub requests: rate_limits::RequestLimiter,
    /// The origin of an absolute `branding.logo_url`, allowed as an image source.
    pub logo_origin: Option<String>,
}

impl Edge {
    pub fn new(config: &Config, registry: silo_domain::Registry) -> Self {
        Edge {
            hsts: security_headers::hsts_value(config),
            clients: proxy::ClientResolver::new(
                &config.proxy,
                config.auth.rate_limit.client_ip_header.as_deref(),
            ),
            requests: rate_limits::RequestLimiter::new(&config.limits, registry),
            logo_origin: security_headers::origin_of(&config.branding.logo_url),
        }
    }
}
