//! The login rate limit ([`super::rate_limit`]) applied to HTTP sign-in surfaces: the client's
//! address of a request, the token sign-in server function wrapped in the limiter, and the
//! refusal in the server functions' error format.
use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

use super::rate_limit::TooManyAttempts;
use crate::state::AppState;

/// Largest sign-in form read (user name, secret, return address).
pub const SIGN_IN_FORM_MAX: usize = 16 * 1024;

/// The address the request came from (the TCP peer, or the client a trusted proxy names:
/// see `crate::edge::proxy`).
pub fn request_client_ip(extensions: &http::Extensions) -> Option<IpAddr> {
    crate::edge::proxy::ClientAddress::of(extensions).ip
}

/// One field of a URL-encoded form ("" when absent).
pub fn form_field(body: &[u8], name: &str) -> String {
    url::form_urlencoded::parse(body)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Runs the token sign-in server function (`/rpc/login`, handled by `run`) under the login
/// rate limit: refused with 429 while the user name or the client is over its limit; a 403
/// answer counts as a failure, a 2xx answer clears the user name's failures.
pub async fn limit_token_login<F, Fut>(state: &AppState, request: Request<Body>, run: F) -> Response
where
    F: FnOnce(Request<Body>) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, SIGN_IN_FORM_MAX).await else {
        return crate::session::server_fn_refusal(silo_domain::DomainError::invalid(
            "the sign-in request is too large",
        ));
    };
    let username = form_field(&bytes, "username");
    let client = request_client_ip(&parts.extensions);
    if let Err(refusal) = state.login_limiter.check(client, &username).await {
        return too_many_attempts(refusal);
    }
    let response = run(Request::from_parts(parts, Body::from(bytes))).await;
    match response.status() {
        status if status.is_success() => state.login_limiter.record_success(&username).await,
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => {
            state.login_limiter.record_failure(client, &username).await;
        }
        _ => {}
    }
    response
}

/// 429 in the server functions' error format, with `Retry-After`.
pub fn too_many_attempts(refusal: TooManyAttempts) -> Response {
    let body = axum::Json(app::error::SiloError::Forbidden(refusal.to_string()));
    let mut response = (StatusCode::TOO_MANY_REQUESTS, body).into_response();
    add_retry_after(&mut response, refusal);
    response
}

/// Adds `Retry-After: <seconds>`.
pub fn add_retry_after(response: &mut Response, refusal: TooManyAttempts) {
    if let Ok(value) = HeaderValue::from_str(&refusal.retry_after_secs().to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_fields_are_decoded() {
        let body = b"username=al%20ice&token=a%2Bb&x=1";
        assert_eq!(super::form_field(body, "username"), "al ice");
        assert_eq!(super::form_field(body, "token"), "a+b");
        assert_eq!(super::form_field(body, "missing"), "");
    }
}
