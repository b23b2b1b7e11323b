//! Security headers on every response: a Content-Security-Policy, `frame-ancestors 'none'`
//! with `X-Frame-Options: DENY`, `nosniff`, `Referrer-Policy` and, when clients reach Silo
//! over HTTPS, `Strict-Transport-Security`.
//!
//! HTML pages get a policy made for their content ([`html_policy`]): their inline `<script>`
//! and `<style>` elements are allowed by their SHA-256 hashes, never by `'unsafe-inline'`.
//! Every other response gets [`API_POLICY`], which allows nothing to load.
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The policy of every response that is not an HTML page (JSON, images, downloads).
pub const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The policy for an HTML page of this server: scripts only from this origin or inline ones
/// with the hashes found in `html`, WebAssembly compilation (`'wasm-unsafe-eval'`, needed by
/// the SPA), styles only from this origin or inline `<style>` elements found in `html`.
/// `style` attributes are allowed (`style-src-attr 'unsafe-inline'`): the SPA positions
/// tooltips with them, and a style attribute cannot run script. Images may also come from
/// `image_origin` (the origin of an absolute `branding.logo_url`).
pub fn html_policy(html: &str, image_origin: Option<&str>) -> String {
    let scripts = inline_element_hashes(html, "script");
    let styles = inline_element_hashes(html, "style");
    let mut policy = String::from("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'");
    for hash in &scripts {
        policy.push_str(&format!(" '{hash}'"));
    }
    policy.push_str("; style-src 'self'");
    for hash in &styles {
        policy.push_str(&format!(" '{hash}'"));
    }
    policy.push_str("; style-src-attr 'unsafe-inline'; img-src 'self' data:");
    if let Some(origin) = image_origin {
        policy.push(' ');
        policy.push_str(origin);
    }
    policy.push_str(
        "; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
         frame-ancestors 'none'",
    );
    policy
}

/// `sha256-<base64>` of the content of every `<tag …>content</tag>` element in `html` that
/// has no `src` attribute (inline scripts or styles), in document order.
pub fn inline_element_hashes(html: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let lower = html.to_ascii_lowercase();
    let mut hashes = Vec::new();
    let mut from = 0;
    while let Some(start) = lower[from..].find(&open).map(|i| i + from) {
        let after_name = start + open.len();
        // `<scripts>` or `<style-x>` are other elements.
        if !lower[after_name..].starts_with(['>', ' ', '\t', '\n', '\r', '/']) {
            from = after_name;
            continue;
        }
        let Some(tag_end) = lower[after_name..].find('>').map(|i| i + after_name) else {
            break;
        };
        let attributes = &lower[after_name..tag_end];
        let Some(content_end) = lower[tag_end..].find(&close).map(|i| i + tag_end) else {
            break;
        };
        if !has_src_attribute(attributes) {
            let content = &html[tag_end + 1..content_end];
            let digest = Sha256::digest(content.as_bytes());
            hashes.push(format!(
                "sha256-{}",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        from = content_end + close.len();
    }
    hashes
}

fn has_src_attribute(attributes: &str) -> bool {
    attributes
        .split(|c: char| c.is_ascii_whitespace())
        .any(|a| a == "src" || a.starts_with("src="))
}

/// The origin (`scheme://host[:port]`) of an absolute http(s) URL, else None.
pub fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    Some(parsed.origin().ascii_serialization())
}

/// The `Strict-Transport-Security` value to send, if any: when Silo serves TLS itself or its
/// public URL is https, and `hsts_max_age_seconds` is not 0.
pub fn hsts_value(config: &crate::config::Config) -> Option<HeaderValue> {
    let over_tls = config.tls.enabled() || config.public_url().starts_with("https://");
    let max_age = config.tls.hsts_max_age_seconds;
    if !over_tls || max_age == 0 {
        return None;
    }
    HeaderValue::from_str(&format!("max-age={max_age}")).ok()
}

/// Middleware adding the security headers to every response that has not set its own.
pub async fn add_security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(API_POLICY));
    headers
        .entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    headers
        .entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    if let Some(hsts) = &state.edge.hsts {
        headers
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(hsts.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(text: &str) -> String {
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
        )
    }

    #[test]
    fn inline_scripts_and_styles_are_hashed_and_external_ones_skipped() {
        let html = r#"<html><head>
<script type="module">import init from '/a.js';init();</script>
<script src="/x.js"></script><SCRIPT>b()</SCRIPT><scripts>no</scripts>
<style>body{margin:0}</style><link rel="stylesheet" href="/s.css"></head></html>"#;
        assert_eq!(
            inline_element_hashes(html, "script"),
            [sha("import init from '/a.js';init();"), sha("b()")]
        );
        assert_eq!(
            inline_element_hashes(html, "style"),
            [sha("body{margin:0}")]
        );
        let policy = html_policy(html, Some("https://cdn.example.edu"));
        assert!(policy.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' '{}' '{}';",
            sha("import init from '/a.js';init();"),
            sha("b()")
        )));
        assert!(policy.contains(&format!("style-src 'self' '{}';", sha("body{margin:0}"))));
        assert!(policy.contains("img-src 'self' data: https://cdn.example.edu;"));
        assert!(policy.ends_with("frame-ancestors 'none'"));
        assert!(!policy.contains("'unsafe-inline';") || policy.contains("style-src-attr"));
        assert!(!policy.contains("script-src 'unsafe-inline'"));
    }

    #[test]
    fn an_unclosed_element_hashes_nothing() {
        assert!(inline_element_hashes("<script>never closed", "script").is_empty());
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://cdn.example.edu:8443/logo.svg").as_deref(),
            Some("https://cdn.example.edu:8443")
        );
        assert_eq!(origin_of("/logo.svg"), None);
        assert_eq!(origin_of("javascript:alert(1)"), None);
    }
}
