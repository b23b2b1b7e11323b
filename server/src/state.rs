//! What every request handler shares.
use silo_domain::{Actor, DomainError, Registry};
use std::sync::Arc;

use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub registry: Registry,
    pub config: Arc<Config>,
    /// `config.public_url()`, computed once.
    pub public_url: Arc<str>,
    /// Cancelled when the server shuts down, so long-lived responses (`/api/events`) end
    /// and graceful shutdown does not wait for them.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Failed sign-ins counted per user name and client (`[auth.rate_limit]`), in the
    /// database.
    pub login_limiter: Arc<crate::auth::rate_limit::LoginLimiter>,
    /// Request metrics (`observability/`).
    pub observability: Arc<crate::observability::Observability>,
    /// TLS, proxies, security headers and request limits (`crate::edge`).
    pub edge: Arc<crate::edge::Edge>,
}

impl AppState {
    pub fn new(registry: Registry, config: Config) -> Self {
        let public_url: Arc<str> = config.public_url().into();
        let login_limiter = Arc::new(crate::auth::rate_limit::LoginLimiter::new(
            config.auth.rate_limit.clone(),
            registry.clone(),
        ));
        let edge = Arc::new(crate::edge::Edge::new(&config, registry.clone()));
        AppState {
            edge,
            registry,
            config: Arc::new(config),
            public_url,
            shutdown: tokio_util::sync::CancellationToken::new(),
            login_limiter,
            observability: Arc::default(),
        }
    }

    /// The actor behind an `Authorization` header. No header means anonymous; a header that
    /// names no valid credential is refused rather than downgraded to anonymous.
    pub async fn actor(&self, headers: &http::HeaderMap) -> Result<Actor, DomainError> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Ok(Actor::Anonymous);
        };
        let value = value.to_str().map_err(|_| DomainError::Unauthenticated)?;
        let (scheme, credential) = value
            .trim()
            .split_once(' ')
            .ok_or(DomainError::Unauthenticated)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(DomainError::Unauthenticated);
        }
        self.registry.authenticate(credential).await
    }
}
