//! Errors axum answers before a handler runs (a path segment that is not UTF-8, a method the
//! route does not take, a server function that does not exist) are plain text or empty. Each
//! protocol router passes its responses through [`library`], [`oci`], [`sregistry`] or
//! [`server_fn`], which put such an error into that protocol's own envelope, so
//! a client always gets the error shape its protocol defines. Responses already in an
//! envelope (JSON) pass untouched, and so do successful ones.
use axum::body::to_bytes;
use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};

/// The longest plain-text error read to be wrapped (axum's messages are a line or two).
const MAX_PLAIN_ERROR: usize = 16 * 1024;

/// Library API, web upload and REST API (which shares the library's envelope):
/// `{"error":{"code":<status>,"message":…}}`.
pub async fn library(response: Response) -> Response {
    rewrap(response, crate::library::error::envelope).await
}

/// OCI distribution: `{"errors":[{"code","message","detail"}]}` with the spec's codes.
pub async fn oci(response: Response) -> Response {
    rewrap(response, |status, message| {
        let code = match status {
            StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
            StatusCode::FORBIDDEN => "DENIED",
            StatusCode::NOT_FOUND => "NAME_UNKNOWN",
            StatusCode::PAYLOAD_TOO_LARGE => "SIZE_INVALID",
            StatusCode::TOO_MANY_REQUESTS => "TOOMANYREQUESTS",
            StatusCode::BAD_REQUEST if message.contains("URL") => "NAME_INVALID",
            _ => "UNSUPPORTED",
        };
        crate::oci::error::body(status, code, message)
    })
    .await
}

/// sregistry and shub: `{"detail": …}`.
pub async fn sregistry(response: Response) -> Response {
    rewrap(response, |status, message| {
        (status, axum::Json(serde_json::json!({"detail": message}))).into_response()
    })
    .await
}

/// The web interface's server functions: the JSON of `app::error::SiloError`. Leptos
/// answers arguments it cannot decode with 500 (the function never ran to set a status);
/// such an error's own status (400 for `BadRequest`) is put back.
pub async fn server_fn(response: Response) -> Response {
    let response = restore_server_fn_status(response).await;
    rewrap(response, |status, message| {
        let error = match status {
            StatusCode::UNAUTHORIZED => app::error::SiloError::Unauthenticated,
            StatusCode::FORBIDDEN => app::error::SiloError::Forbidden(message.to_string()),
            StatusCode::NOT_FOUND => app::error::SiloError::NotFound,
            _ => app::error::SiloError::BadRequest(message.to_string()),
        };
        (status, axum::Json(error)).into_response()
    })
    .await
}

async fn restore_server_fn_status(response: Response) -> Response {
    if !response.status().is_server_error() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_PLAIN_ERROR).await else {
        return (parts.status, "the registry could not send its error").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<app::error::SiloError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.status()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Replaces a plain-text or empty error response by `envelope(status, message)`, keeping its
/// other headers (`Allow`, `Retry-After`, `WWW-Authenticate`).
async fn rewrap(response: Response, envelope: impl Fn(StatusCode, &str) -> Response) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    let plain = match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value
            .to_str()
            .is_ok_and(|v| v.trim_start().starts_with("text/plain")),
    };
    if !is_error || !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match to_bytes(body, MAX_PLAIN_ERROR).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => String::new(),
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut wrapped = envelope(status, &message);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            wrapped.headers_mut().append(name, value.clone());
        }
    }
    wrapped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(status: StatusCode, text: &'static str) -> Response {
        (status, [(header::ALLOW, "GET")], text).into_response()
    }

    async fn json(response: Response) -> serde_json::Value {
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn plain_errors_are_wrapped_in_each_envelope() {
        let bad = || {
            plain(
                StatusCode::BAD_REQUEST,
                "Invalid URL: Invalid UTF-8 in `name`",
            )
        };
        let wrapped = library(bad()).await;
        assert_eq!(wrapped.status(), StatusCode::BAD_REQUEST);
        assert_eq!(wrapped.headers()[header::ALLOW], "GET");
        let v = json(wrapped).await;
        assert_eq!(v["error"]["code"], 400);
        assert_eq!(
            v["error"]["message"],
            "Invalid URL: Invalid UTF-8 in `name`"
        );
        assert_eq!(
            json(oci(bad()).await).await["errors"][0]["code"],
            "NAME_INVALID"
        );
        assert!(json(sregistry(bad()).await).await["detail"].is_string());
        assert!(json(server_fn(bad()).await).await.is_object());
        // A server function's argument error comes back with its own status.
        let args = (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(app::error::SiloError::BadRequest(
                "malformed request".into(),
            )),
        )
            .into_response();
        assert_eq!(server_fn(args).await.status(), StatusCode::BAD_REQUEST);
        let internal = (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(app::error::SiloError::Internal),
        )
            .into_response();
        assert_eq!(
            server_fn(internal).await.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        // An empty 405 gets the status's reason as its message.
        let empty = StatusCode::METHOD_NOT_ALLOWED.into_response();
        let v = json(oci(empty).await).await;
        assert_eq!(v["errors"][0]["message"], "Method Not Allowed");
    }

    #[tokio::test]
    async fn json_errors_and_successes_pass_untouched() {
        let already = crate::library::error::envelope(StatusCode::NOT_FOUND, "no such image");
        let v = json(oci(already).await).await;
        assert_eq!(v["error"]["message"], "no such image");
        let ok = (StatusCode::OK, "plain success").into_response();
        let passed = library(ok).await;
        assert_eq!(passed.status(), StatusCode::OK);
        let bytes = to_bytes(passed.into_body(), 1024).await.unwrap();
        assert_eq!(&bytes[..], b"plain success");
    }
}
