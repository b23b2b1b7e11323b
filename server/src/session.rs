//! Who is behind a web-interface request (server functions and the browser upload), and the
//! same-origin rule for requests a browser authenticates with the session cookie.
//!
//! The rule (documented in docs/architecture.md): a request that carries the session cookie,
//! and every sign-in, sign-out and upload, must prove it comes from a page of this registry.
//! `Sec-Fetch-Site` must be `same-origin` when the browser sends it; without it, `Origin`
//! must be the public URL's origin or name the host the request was sent to. Requests with
//! neither header are refused (scripts authenticate with `Authorization: Bearer`, which a
//! foreign page cannot make a browser send, and are not checked).
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use silo_domain::{Actor, DomainError};

use crate::state::AppState;

/// The caller of a web-interface request.
pub struct WebCaller {
    pub actor: Actor,
    /// The session cookie's secret, when it named a live session.
    pub session_secret: Option<String>,
}

/// The refusal for requests that fail the same-origin rule.
pub const CROSS_ORIGIN: &str =
    "cross-origin request refused: sign-in sessions work only from this registry's own pages";

/// Resolves the caller: a bearer token, else the session cookie (checked against the
/// same-origin rule), else anonymous. `always_same_origin` applies the rule even without a
/// cookie (sign-in, sign-out, uploads). An unknown or ended session is anonymous.
pub async fn web_caller(
    state: &AppState,
    headers: &HeaderMap,
    always_same_origin: bool,
) -> Result<WebCaller, DomainError> {
    if headers.contains_key(header::AUTHORIZATION) {
        return Ok(WebCaller {
            actor: state.actor(headers).await?,
            session_secret: None,
        });
    }
    let cookie = app::context::session_cookie::read(headers);
    if (cookie.is_some() || always_same_origin) && !same_origin(headers, &state.public_url) {
        return Err(DomainError::forbidden(CROSS_ORIGIN));
    }
    let Some(secret) = cookie else {
        return Ok(WebCaller {
            actor: Actor::Anonymous,
            session_secret: None,
        });
    };
    let limits = state.config.web.session_limits();
    match state.registry.resolve_session(&secret, limits).await? {
        Some(actor) => Ok(WebCaller {
            actor,
            session_secret: Some(secret),
        }),
        None => Ok(WebCaller {
            actor: Actor::Anonymous,
            session_secret: None,
        }),
    }
}

/// Whether the browser says the request comes from this registry's own pages.
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin.trim()) else {
        return false;
    };
    if !matches!(origin.scheme(), "http" | "https") {
        return false;
    }
    let public = url::Url::parse(public_url).ok().map(|u| u.origin());
    if public.is_some_and(|p| p == origin.origin()) {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let authority = match (origin.host_str(), origin.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return false,
    };
    authority.eq_ignore_ascii_case(host.trim())
}

/// A refusal in the server functions' error format (`SiloError` as JSON).
pub fn server_fn_refusal(err: DomainError) -> Response {
    let err = app::error::SiloError::from(err);
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::FORBIDDEN);
    (status, axum::Json(err)).into_response()
}

#[cfg(test)]
mod tests {
    use super::same_origin;
    use axum::http::HeaderMap;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn same_origin_rule() {
        let public = "https://registry.example.edu";
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            public
        ));
        let cross = [("sec-fetch-site", "cross-site"), ("origin", public)];
        assert!(
            !same_origin(&headers(&cross), public),
            "fetch metadata wins"
        );
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            public
        ));
        assert!(same_origin(&headers(&[("origin", public)]), public));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            public
        ));
        assert!(!same_origin(&headers(&[("origin", "null")]), public));
        assert!(
            !same_origin(&headers(&[]), public),
            "no proof, no cookie use"
        );
        let via_host = [
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ];
        assert!(same_origin(&headers(&via_host), public));
        let other_port = [("origin", "http://127.0.0.1:9"), ("host", "127.0.0.1:8080")];
        assert!(!same_origin(&headers(&other_port), public));
    }
}
