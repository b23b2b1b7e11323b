//! `/api/openapi.json` and `/api/docs`, a self-contained page (no external assets) that
//! renders the document.
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const PAGE: &str = include_str!("docs.html");

/// The page's policy: its own inline script and style (by hash) and requests to this origin.
static POLICY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::edge::security_headers::html_policy(PAGE, None));

pub async fn openapi_json() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        super::openapi_json(),
    )
        .into_response()
}

pub async fn page() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&POLICY).unwrap_or(HeaderValue::from_static(
                    crate::edge::security_headers::API_POLICY,
                )),
            ),
        ],
        PAGE,
    )
        .into_response()
}
