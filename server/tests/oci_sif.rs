//! SIF images across protocols: an OCI-pushed SIF artifact pulled through the library API,
//! and a library-pushed image pulled as an OCI artifact, with downloads counted as `oras`.
mod common;
mod oci_support;

use axum::http::StatusCode;
use common::Harness;
use oci_support::*;

#[tokio::test]
async fn oras_push_is_pulled_by_the_library_api() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let sif = b"a SIF pushed with oras".to_vec();
    push_sif(&h, &token, "alice/tools/hello", "1.0", &sif).await;
    let image = h
        .get("/v1/images/alice/tools/hello:1.0?arch=amd64", Some(&token))
        .await;
    assert_eq!(
        image.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&image.body)
    );
    assert_eq!(
        image.data()["hash"],
        format!("sha256.{}", common::sha256_hex(&sif))
    );
    assert_eq!(image.data()["size"], sif.len());
    let pulled = h
        .get("/v1/imagefile/alice/tools/hello:1.0?arch=amd64", None)
        .await;
    assert_eq!(pulled.status, StatusCode::OK);
    assert_eq!(pulled.body, sif);
}

#[tokio::test]
async fn library_push_is_pulled_as_an_oci_artifact() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/tools/lib", false).await;
    let sif = b"a SIF pushed with the library client".to_vec();
    h.push(&token, &cont, &sif, "v2").await;
    let name = "alice/tools/lib";

    let m = req(
        &h,
        "GET",
        &format!("/v2/{name}/manifests/v2"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        m.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&m.body)
    );
    assert_eq!(m.header("content-type").unwrap(), OCI_MANIFEST);
    let d = m.header("docker-content-digest").unwrap();
    assert_eq!(d, digest(&m.body));
    let manifest = m.json();
    assert_eq!(manifest["config"]["digest"], EMPTY);
    assert_eq!(manifest["config"]["size"], 2);
    assert_eq!(manifest["layers"][0]["mediaType"], SIF_LAYER);
    assert_eq!(manifest["layers"][0]["digest"], digest(&sif));
    assert_eq!(manifest["layers"][0]["size"], sif.len());
    assert!(manifest["layers"][0]["annotations"]["org.opencontainers.image.title"].is_string());
    // Deterministic, and reachable by its digest.
    let again = req(
        &h,
        "GET",
        &format!("/v2/{name}/manifests/v2"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(again.body, m.body);
    let by_digest = req(
        &h,
        "GET",
        &format!("/v2/{name}/manifests/{d}"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(by_digest.body, m.body);
    let tags = req(
        &h,
        "GET",
        &format!("/v2/{name}/tags/list"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(tags.json()["tags"], serde_json::json!(["v2"]));

    // The empty config is servable from any repository.
    let config = req(
        &h,
        "GET",
        &format!("/v2/{name}/blobs/{EMPTY}"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(config.status, StatusCode::OK);
    assert_eq!(config.body, b"{}");

    // A whole GET of the layer counts one `oras` download; HEAD and ranges do not.
    let layer = digest(&sif);
    req(
        &h,
        "HEAD",
        &format!("/v2/{name}/blobs/{layer}"),
        None,
        &[],
        vec![],
    )
    .await;
    req(
        &h,
        "GET",
        &format!("/v2/{name}/blobs/{layer}"),
        None,
        &[("range", "bytes=0-3")],
        vec![],
    )
    .await;
    let blob = req(
        &h,
        "GET",
        &format!("/v2/{name}/blobs/{layer}"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(blob.body, sif);
    assert_eq!(
        blob.header("content-length").unwrap(),
        sif.len().to_string()
    );
    let container = h.get(&format!("/v1/containers/{name}"), None).await;
    assert_eq!(container.data()["downloadCount"], 1);
}

#[tokio::test]
async fn sif_layers_are_inspected_like_library_uploads() {
    let h = Harness::sif_only().await;
    let token = h.user("alice", false).await;
    let name = "alice/tools/real";
    // Not a SIF image: the manifest is refused and no library image appears.
    upload(&h, &token, name, b"{}").await;
    let fake = b"not a SIF at all".to_vec();
    upload(&h, &token, name, &fake).await;
    let r = put_manifest(&h, &token, name, "1.0", &sif_manifest(&fake)).await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "MANIFEST_INVALID");
    let image = h
        .get(&format!("/v1/images/{name}:1.0?arch=amd64"), Some(&token))
        .await;
    assert_eq!(image.status, StatusCode::NOT_FOUND);

    // A real SIF: its architecture comes from inspection.
    let sif = include_bytes!("../../domain/tests/fixtures/minimal.sif").to_vec();
    push_sif(&h, &token, name, "1.0", &sif).await;
    let image = h
        .get(&format!("/v1/images/{name}:1.0?arch=amd64"), Some(&token))
        .await;
    assert_eq!(
        image.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&image.body)
    );
    assert_eq!(image.data()["arch"], "amd64");
    let pulled = h
        .get(&format!("/v1/imagefile/{name}:1.0?arch=amd64"), None)
        .await;
    assert_eq!(pulled.body, sif);
}
