//! `[limits]`: request body sizes, connection timeouts and request rates.
//!
//! JSON and form bodies (library API, REST API, server functions, sregistry, OCI manifests)
//! are read with [`read_small_body`] up to a configured size; each protocol adapter answers
//! a larger one with 413 in its own error envelope. Upload routes stream their bodies and
//! have no size limit here (quotas apply instead).
use axum::body::Body;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[limits]`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Largest JSON or form body accepted by the library API, the REST API, the web
    /// interface's server functions and sregistry, in KiB.
    pub json_body_kib: u64,
    /// Largest OCI manifest accepted, in KiB (at most 4096).
    pub oci_manifest_kib: u64,
    /// A client must send a request's headers (and finish a TLS handshake) within this many
    /// seconds; keep-alive connections idle this long are closed.
    pub header_read_timeout_seconds: u64,
    /// A request body that sends nothing for this many seconds is cut off. A body that
    /// keeps moving is never cut, however long the upload takes.
    pub body_idle_timeout_seconds: u64,
    /// Image downloads (library, OCI manifests and blobs, shub/sregistry) allowed per
    /// client address and minute without credentials; 0 is no limit. Signed-in pulls are
    /// never counted.
    pub anonymous_pulls_per_minute: u32,
    /// Token requests (OCI `/v2/token`, token sign-in, token creation) allowed per client
    /// address and minute; 0 is no limit.
    pub token_requests_per_minute: u32,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            json_body_kib: 1024,
            oci_manifest_kib: 4096,
            header_read_timeout_seconds: 30,
            body_idle_timeout_seconds: 300,
            anonymous_pulls_per_minute: 600,
            token_requests_per_minute: 60,
        }
    }
}

impl LimitSettings {
    /// Everything wrong with these settings.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut check = |name: &str, value: u64, range: std::ops::RangeInclusive<u64>| {
            if !range.contains(&value) {
                problems.push(format!(
                    "limits.{name} = {value} (SILO_LIMITS__{}): use {} to {}",
                    name.to_uppercase(),
                    range.start(),
                    range.end()
                ));
            }
        };
        check("json_body_kib", self.json_body_kib, 1..=1024 * 1024);
        // The domain never stores a manifest over MAX_MANIFEST_SIZE (4 MiB).
        let manifest_max = silo_domain::services::oci::MAX_MANIFEST_SIZE as u64 / 1024;
        check("oci_manifest_kib", self.oci_manifest_kib, 1..=manifest_max);
        check(
            "header_read_timeout_seconds",
            self.header_read_timeout_seconds,
            1..=3600,
        );
        check(
            "body_idle_timeout_seconds",
            self.body_idle_timeout_seconds,
            1..=86_400,
        );
        problems
    }

    pub fn json_body_bytes(&self) -> usize {
        kib_to_bytes(self.json_body_kib)
    }

    pub fn oci_manifest_bytes(&self) -> usize {
        kib_to_bytes(self.oci_manifest_kib)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_seconds.max(1))
    }

    pub fn body_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.body_idle_timeout_seconds.max(1))
    }
}

fn kib_to_bytes(kib: u64) -> usize {
    usize::try_from(kib.saturating_mul(1024)).unwrap_or(usize::MAX)
}

/// Why a small body could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Larger than the limit (declared or counted).
    #[error("request body larger than {} KiB", limit / 1024)]
    TooLarge { limit: usize },
    /// The client stopped sending or the connection broke.
    #[error("request body unreadable: {0}")]
    Unreadable(String),
}

impl BodyError {
    /// The refusal's HTTP status: 413 for a body too large, 400 otherwise.
    pub fn status(&self) -> http::StatusCode {
        match self {
            BodyError::TooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Unreadable(_) => http::StatusCode::BAD_REQUEST,
        }
    }
}

/// Reads a whole JSON or form body of at most `limit` bytes. A declared `Content-Length`
/// over the limit is refused before reading anything.
pub async fn read_small_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let declared = axum::body::HttpBody::size_hint(&body).lower();
    if declared > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut stream = body.into_data_stream();
    let mut read = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::Unreadable(e.to_string()))?;
        if read.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        read.extend_from_slice(&chunk);
    }
    Ok(read.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_up_to_the_limit_are_read_and_larger_ones_refused() {
        let body = Body::from("x".repeat(10));
        assert_eq!(read_small_body(body, 10).await.unwrap().len(), 10);
        let body = Body::from("x".repeat(11));
        assert_eq!(
            read_small_body(body, 10).await.unwrap_err(),
            BodyError::TooLarge { limit: 10 }
        );
        // A streamed body of unknown length is counted as it comes.
        let chunks = futures::stream::iter(vec![
            Ok::<_, std::io::Error>(Bytes::from_static(b"12345")),
            Ok(Bytes::from_static(b"67890")),
            Ok(Bytes::from_static(b"!")),
        ]);
        let err = read_small_body(Body::from_stream(chunks), 10)
            .await
            .unwrap_err();
        assert_eq!(err.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn settings_are_checked() {
        assert!(LimitSettings::default().problems().is_empty());
        let bad = LimitSettings {
            json_body_kib: 0,
            header_read_timeout_seconds: 0,
            ..LimitSettings::default()
        };
        assert_eq!(bad.problems().len(), 2);
        assert_eq!(LimitSettings::default().json_body_bytes(), 1024 * 1024);
    }
}
