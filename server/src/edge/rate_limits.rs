//! Request rate limits per client address (`[limits]`): image downloads without credentials
//! (`anonymous_pulls_per_minute`) and token requests (`token_requests_per_minute`).
//!
//! Counts are kept in the database in one-minute fixed windows
//! (`Registry::count_request`, one upsert per counted request), so replicas sharing the
//! database share the counts. Past the limit a request gets 429 with `Retry-After` (the
//! seconds until the window ends) in its protocol's error envelope. When the database cannot
//! be asked, the request is let through (it needs the database anyway and fails on its own).
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use silo_domain::{Actor, Registry};
use std::net::IpAddr;

use super::limits::LimitSettings;
use super::proxy::ClientAddress;

/// Requests are counted per minute.
const WINDOW_SECONDS: i64 = 60;

/// The refusal once a client is over a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many requests from your address; try again in {retry_after_secs} s")]
pub struct TooManyRequests {
    /// Whole seconds until the window ends (at least 1).
    pub retry_after_secs: u64,
}

/// What a request is counted as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counted {
    AnonymousPull,
    TokenRequest,
}

impl Counted {
    fn key_prefix(self) -> &'static str {
        match self {
            Counted::AnonymousPull => "pull",
            Counted::TokenRequest => "token",
        }
    }
}

/// Counts requests per client in the database.
#[derive(Clone)]
pub struct RequestLimiter {
    registry: Registry,
    anonymous_pulls_per_minute: u32,
    token_requests_per_minute: u32,
}

impl RequestLimiter {
    pub fn new(settings: &LimitSettings, registry: Registry) -> Self {
        RequestLimiter {
            registry,
            anonymous_pulls_per_minute: settings.anonymous_pulls_per_minute,
            token_requests_per_minute: settings.token_requests_per_minute,
        }
    }

    /// Counts a download by `actor` from `client` when the actor is anonymous; refuses it
    /// once the client is over `anonymous_pulls_per_minute`. Signed-in pulls pass uncounted.
    pub async fn check_pull(
        &self,
        actor: &Actor,
        client: ClientAddress,
    ) -> Result<(), TooManyRequests> {
        if !matches!(actor, Actor::Anonymous) {
            return Ok(());
        }
        self.check(
            Counted::AnonymousPull,
            self.anonymous_pulls_per_minute,
            client,
        )
        .await
    }

    /// Counts a token request (OCI `/v2/token`, token sign-in, token creation) from
    /// `client`; refuses it once the client is over `token_requests_per_minute`.
    pub async fn check_token_request(&self, client: ClientAddress) -> Result<(), TooManyRequests> {
        self.check(
            Counted::TokenRequest,
            self.token_requests_per_minute,
            client,
        )
        .await
    }

    async fn check(
        &self,
        counted: Counted,
        per_minute: u32,
        client: ClientAddress,
    ) -> Result<(), TooManyRequests> {
        let (Some(ip), true) = (client.ip, per_minute > 0) else {
            return Ok(());
        };
        let key = format!("{}:{}", counted.key_prefix(), network(ip));
        let now = Utc::now();
        let window = chrono::Duration::seconds(WINDOW_SECONDS);
        match self.registry.count_request(&key, window, now).await {
            Ok(counted) if counted.count > u64::from(per_minute) => {
                let wait = (counted.window_ends - now).num_milliseconds().max(1);
                let retry_after_secs = u64::try_from((wait + 999) / 1000).unwrap_or(1);
                Err(TooManyRequests { retry_after_secs })
            }
            Ok(_) => Ok(()),
            Err(err) => {
                tracing::error!(error = %err, "could not count a request for its rate limit");
                Ok(())
            }
        }
    }
}

/// IPv4 addresses count alone; IPv6 clients by their /64 (one host usually owns a whole /64).
fn network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

impl TooManyRequests {
    fn with_retry_after(self, mut response: Response) -> Response {
        if let Ok(value) = HeaderValue::from_str(&self.retry_after_secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }

    /// 429 in the library API's envelope `{"error":{"code":429,"message":…}}`.
    pub fn library_response(self) -> Response {
        let response =
            crate::library::error::envelope(StatusCode::TOO_MANY_REQUESTS, &self.to_string());
        self.with_retry_after(response)
    }

    /// 429 in the OCI envelope with the distribution spec's `TOOMANYREQUESTS` code.
    pub fn oci_response(self) -> Response {
        let body = serde_json::json!({"errors": [{
            "code": "TOOMANYREQUESTS",
            "message": self.to_string(),
            "detail": null,
        }]});
        self.with_retry_after((StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response())
    }

    /// 429 in the shub/sregistry envelope `{"detail": …}`.
    pub fn sregistry_response(self) -> Response {
        let body = serde_json::json!({"detail": self.to_string()});
        self.with_retry_after((StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response())
    }

    /// 429 in the web interface's server-function error format.
    pub fn server_fn_response(self) -> Response {
        let body = axum::Json(app::error::SiloError::Forbidden(self.to_string()));
        self.with_retry_after((StatusCode::TOO_MANY_REQUESTS, body).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64() {
        assert_eq!(
            network("2001:db8:1:2:3:4:5:6".parse().unwrap()),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            network("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn refusals_carry_retry_after_in_each_envelope() {
        let refusal = TooManyRequests {
            retry_after_secs: 17,
        };
        for response in [
            refusal.library_response(),
            refusal.oci_response(),
            refusal.sregistry_response(),
            refusal.server_fn_response(),
        ] {
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
            assert_eq!(response.headers()[header::RETRY_AFTER], "17");
        }
    }
}
