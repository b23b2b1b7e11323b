//! Helpers for the OCI API tests: raw requests with headers, blob uploads, SIF artifacts.
#![allow(dead_code)]
use crate::common::{sha256_hex, Harness, Reply};
use axum::http::StatusCode;
use serde_json::{json, Value};

pub const EMPTY: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const SIF_CONFIG: &str = "application/vnd.sylabs.sif.config.v1+json";
pub const SIF_LAYER: &str = "application/vnd.sylabs.sif.layer.v1.sif";

pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(bytes))
}

pub use crate::common::request as req;

/// Asserts an OCI error body with this status and code.
pub fn assert_oci_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(
        r.status,
        status,
        "body: {}",
        String::from_utf8_lossy(&r.body)
    );
    let v = r.json();
    assert_eq!(v["errors"][0]["code"], code, "{v}");
    assert!(v["errors"][0]["message"].is_string());
}

/// Uploads a blob monolithically (POST then PUT, as oras-py does); returns its digest.
pub async fn upload(h: &Harness, token: &str, name: &str, bytes: &[u8]) -> String {
    let d = digest(bytes);
    let start = req(
        h,
        "POST",
        &format!("/v2/{name}/blobs/uploads/"),
        Some(token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        start.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&start.body)
    );
    let location = start.header("location").unwrap();
    let sep = if location.contains('?') { '&' } else { '?' };
    let put = req(
        h,
        "PUT",
        &format!("{location}{sep}digest={d}"),
        Some(token),
        &[],
        bytes.to_vec(),
    )
    .await;
    assert_eq!(
        put.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&put.body)
    );
    assert_eq!(put.header("docker-content-digest").unwrap(), d);
    d
}

/// A SIF artifact manifest for `sif` (the layer), as Apptainer and oras-py build it.
pub fn sif_manifest(sif: &[u8]) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": SIF_CONFIG, "digest": EMPTY, "size": 2},
        "layers": [{"mediaType": SIF_LAYER, "digest": digest(sif), "size": sif.len(),
                    "annotations": {"org.opencontainers.image.title": "image.sif"}}],
    })
}

pub async fn put_manifest(
    h: &Harness,
    token: &str,
    name: &str,
    reference: &str,
    manifest: &Value,
) -> Reply {
    req(
        h,
        "PUT",
        &format!("/v2/{name}/manifests/{reference}"),
        Some(token),
        &[("content-type", OCI_MANIFEST)],
        serde_json::to_vec(manifest).unwrap(),
    )
    .await
}

/// Pushes a SIF artifact (config, layer, manifest) under `tag`; returns the manifest digest.
pub async fn push_sif(h: &Harness, token: &str, name: &str, tag: &str, sif: &[u8]) -> String {
    upload(h, token, name, b"{}").await;
    upload(h, token, name, sif).await;
    let r = put_manifest(h, token, name, tag, &sif_manifest(sif)).await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    r.header("docker-content-digest").unwrap()
}

/// A registry token from `/v2/token` for `scope`, with Basic credentials when given.
pub async fn registry_token(h: &Harness, basic: Option<(&str, &str)>, scope: &str) -> Reply {
    let mut headers = Vec::new();
    let auth;
    if let Some((user, password)) = basic {
        use base64::Engine;
        auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        );
        headers.push(("authorization", auth.as_str()));
    }
    req(
        h,
        "GET",
        &format!("/v2/token?service=registry.test&scope={scope}"),
        None,
        &headers,
        vec![],
    )
    .await
}
