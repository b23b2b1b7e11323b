//! The request target as logs show it: capabilities in the path and secret query values are
//! replaced by `****`.
//!
//! Some URLs are credentials in themselves: signed downloads (`/download/{token}`), share
//! links (`/share/{secret}/download`), library upload sessions
//! (`/v2/imagefile/_upload/{session}`), OAuth callbacks (`?code=…&state=…`) and presigned
//! store URLs (`?X-Amz-Signature=…`).

/// Route parameters whose values are capabilities.
const SECRET_ROUTE_PARAMS: &[&str] = &["token", "secret", "session"];

/// A query parameter whose (decoded, lower-case) name contains one of these has its value
/// hidden.
const SECRET_QUERY_WORDS: &[&str] = &[
    "token",
    "sig",
    "secret",
    "code",
    "state",
    "pass",
    "key",
    "credential",
    "session",
    "auth",
];

/// Path segments of unrouted requests longer than this are hidden (tokens are long).
const LONG_SEGMENT: usize = 40;

pub const MASK: &str = "****";

/// `path?query` of `uri` fit for a log line; `route` is the matched route template
/// (`/download/{token}`), `None` when no route matched.
pub fn loggable_target(uri: &http::Uri, route: Option<&str>) -> String {
    let path = match route {
        Some(template) => redact_route_params(uri.path(), template),
        None => redact_long_segments(uri.path()),
    };
    match uri.query() {
        Some(query) => format!("{path}?{}", redact_query(query)),
        None => path,
    }
}

fn redact_route_params(path: &str, template: &str) -> String {
    let mut template_segments = template.split('/');
    let mut out = Vec::new();
    for segment in path.split('/') {
        match template_segments.next() {
            // A wildcard (`{*rest}`) is the last template segment: the rest stays as it is.
            Some(t) if is_secret_param(t) => out.push(MASK),
            _ => out.push(segment),
        }
    }
    out.join("/")
}

fn is_secret_param(template_segment: &str) -> bool {
    template_segment
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .is_some_and(|name| SECRET_ROUTE_PARAMS.contains(&name))
}

fn redact_long_segments(path: &str) -> String {
    path.split('/')
        .map(|s| if s.len() > LONG_SEGMENT { MASK } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let raw_key = pair.split('=').next().unwrap_or_default();
            let key: String = url::form_urlencoded::parse(raw_key.as_bytes())
                .next()
                .map(|(k, _)| k.to_ascii_lowercase())
                .unwrap_or_default();
            if SECRET_QUERY_WORDS.iter().any(|w| key.contains(w)) {
                format!("{raw_key}={MASK}")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(uri: &str, route: Option<&str>) -> String {
        loggable_target(&uri.parse().unwrap(), route)
    }

    #[test]
    fn capabilities_in_paths_are_hidden() {
        assert_eq!(
            target("/download/abc.def.ghi", Some("/download/{token}")),
            "/download/****"
        );
        assert_eq!(
            target(
                "/share/sh_x1y2/download?arch=amd64",
                Some("/share/{secret}/download")
            ),
            "/share/****/download?arch=amd64"
        );
        assert_eq!(
            target(
                "/v2/imagefile/_upload/0123abcd/3",
                Some("/v2/imagefile/_upload/{session}/{part}")
            ),
            "/v2/imagefile/_upload/****/3"
        );
        assert_eq!(
            target(
                "/v1/images/alice/c/n:latest",
                Some("/v1/images/{*reference}")
            ),
            "/v1/images/alice/c/n:latest"
        );
        let long = "x".repeat(60);
        assert_eq!(
            target(&format!("/nowhere/{long}/y"), None),
            "/nowhere/****/y"
        );
    }

    #[test]
    fn secret_query_values_are_hidden_and_others_kept() {
        assert_eq!(
            target(
                "/auth/callback/gh?code=c0de&state=st4te&x=1",
                Some("/auth/callback/{id}")
            ),
            "/auth/callback/gh?code=****&state=****&x=1"
        );
        assert_eq!(
            target(
                "/o?X-Amz-Signature=abc&X-Amz-Credential=k%2F1&X-Amz-Expires=60",
                None
            ),
            "/o?X-Amz-Signature=****&X-Amz-Credential=****&X-Amz-Expires=60"
        );
        // Encoding the name does not smuggle a value past.
        assert_eq!(target("/o?%74oken=t0k", None), "/o?%74oken=****");
        assert_eq!(
            target("/v1/search?value=busybox", Some("/v1/search")),
            "/v1/search?value=busybox"
        );
    }
}
