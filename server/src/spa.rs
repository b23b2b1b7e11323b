//! Serving the SPA built by Trunk: from the copy embedded at build time, or from a directory
//! (`spa_dir`). Unknown paths get `index.html` so client-side routes survive a reload; API
//! prefixes never do (they get the JSON 404 of their protocol instead).
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use std::borrow::Cow;

use crate::state::AppState;

/// The Trunk output (`dist/` at the workspace root), embedded in release builds and read
/// from disk in debug builds.
#[derive(RustEmbed)]
#[folder = "../dist"]
#[allow_missing = true]
struct EmbeddedSpa;

/// Paths that belong to protocol APIs; they never fall back to the SPA.
const API_PREFIXES: &[&str] = &[
    "/v1/",
    "/v2/",
    "/api/",
    "/rpc/",
    "/pks/",
    "/download/",
    "/assets/config/",
];

pub fn is_api_path(path: &str) -> bool {
    API_PREFIXES.iter().any(|p| path.starts_with(p)) || path == "/v2"
}

async fn read_asset(state: &AppState, path: &str) -> Option<Cow<'static, [u8]>> {
    match &state.config.spa_dir {
        Some(dir) => {
            if path.split('/').any(|seg| seg == "..") {
                return None;
            }
            tokio::fs::read(dir.join(path)).await.ok().map(Cow::Owned)
        }
        None => EmbeddedSpa::get(path).map(|f| f.data),
    }
}

/// The fallback handler of the whole router.
pub async fn serve(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if is_api_path(path) {
        return crate::library::not_found().await;
    }
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let asset = path.trim_start_matches('/');
    if !asset.is_empty() {
        if let Some(bytes) = read_asset(&state, asset).await {
            let mime = mime_guess::from_path(asset).first_or_octet_stream();
            let cache = if is_content_hashed(asset) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            if asset == "index.html" {
                return page_response(&state, bytes);
            }
            return file_response(bytes, mime.as_ref(), cache);
        }
    }
    match read_asset(&state, "index.html").await {
        Some(bytes) => page_response(&state, bytes),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "The Silo web interface was not built into this binary; run `make spa` (Trunk) and rebuild, or set spa_dir.",
        )
            .into_response(),
    }
}

/// Trunk names built assets `<stem>-<hex hash>[_bg].<ext>`; those never change content.
fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    let Some((_, tail)) = stem.rsplit_once('-') else {
        return false;
    };
    let hash_len = tail.bytes().take_while(u8::is_ascii_hexdigit).count();
    hash_len >= 12 && (hash_len == tail.len() || tail[hash_len..].starts_with('_'))
}

/// `index.html`, with a Content-Security-Policy allowing exactly its inline scripts and
/// styles (by hash; Trunk writes the script that starts the WebAssembly app inline).
fn page_response(state: &AppState, bytes: Cow<'static, [u8]>) -> Response {
    let policy = crate::edge::security_headers::html_policy(
        &String::from_utf8_lossy(&bytes),
        state.edge.logo_origin.as_deref(),
    );
    let mut response = file_response(bytes, "text/html; charset=utf-8", "no-cache");
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

fn file_response(bytes: Cow<'static, [u8]>, mime: &str, cache: &'static str) -> Response {
    let mut response = Response::new(Body::from(bytes.into_owned()));
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_assets_are_immutable() {
        assert!(is_content_hashed("frontend-3f2a9c0d1e4b5a67.js"));
        assert!(is_content_hashed("frontend-430d1d4b3f686114_bg.wasm"));
        assert!(is_content_hashed("favicon-bae9f146b8cda4e.svg"));
        assert!(!is_content_hashed("my-logo.svg"));
        assert!(!is_content_hashed("logo.svg"));
        assert!(!is_content_hashed("favicon.svg"));
        assert!(!is_content_hashed("index.html"));
    }

    #[test]
    fn api_prefixes_never_reach_the_spa() {
        assert!(is_api_path("/v1/anything"));
        assert!(is_api_path("/v2/"));
        assert!(is_api_path("/api/get_home"));
        assert!(!is_api_path("/c/alice/tools/bwa"));
        assert!(!is_api_path("/collections"));
    }
}
