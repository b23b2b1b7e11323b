//! SIF inspection through the library API: real images get their arch, signature and labels
//! recorded and searchable; bytes that are not a SIF are refused (by default) with a 400 in
//! the library envelope and leave nothing behind.
mod common;

use axum::body::Body;
use axum::http::StatusCode;
use common::{sha256_hex, Harness};
use serde_json::json;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../domain/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn image_by_hash(h: &Harness, token: &str, path: &str, bytes: &[u8]) -> serde_json::Value {
    let r = h
        .get(
            &format!("/v1/images/{path}:sha256.{}", sha256_hex(bytes)),
            Some(token),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    r.data()
}

#[tokio::test]
async fn signed_and_unsigned_images_report_arch_and_fingerprints() {
    let h = Harness::sif_only().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/tools/hello", false).await;

    let signed = fixture("signed.sif");
    let fingerprint = String::from_utf8(fixture("signed.sif.fingerprint")).unwrap();
    h.push(&token, &cont, &signed, "1.0").await;
    let r = h
        .get("/v1/images/alice/tools/hello:1.0", Some(&token))
        .await;
    let image = r.data();
    assert_eq!(image["uploaded"], true);
    assert_eq!(image["arch"], "amd64");
    assert_eq!(image["signed"], true);
    assert_eq!(image["fingerprints"], json!([fingerprint.trim()]));

    let full = fixture("full.sif");
    h.push(&token, &cont, &full, "2.0").await;
    let image = image_by_hash(&h, &token, "alice/tools/hello", &full).await;
    assert_eq!(image["arch"], "arm64");
    assert_eq!(image["signed"], false);
    assert_eq!(image["fingerprints"], json!([]));

    let meta = h
        .registry
        .image_metadata(
            &h.registry
                .image(
                    &silo_domain::Actor::Anonymous,
                    &silo_domain::names::ImageRef::parse(&format!(
                        "alice/tools/hello:sha256.{}",
                        sha256_hex(&full)
                    ))
                    .unwrap(),
                    None,
                )
                .await
                .unwrap(),
        )
        .await
        .unwrap()
        .expect("metadata recorded");
    assert!(meta.definition.unwrap().starts_with("Bootstrap: docker"));
    assert_eq!(meta.labels["maintainer"], "research-computing");
    assert!(meta.environment.unwrap().contains("GREETING=hello"));
    assert!(meta.runscript.unwrap().contains("from the container"));
    assert!(meta.sif_created_at.is_some());
}

#[tokio::test]
async fn labels_are_searchable() {
    let h = Harness::sif_only().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/tools/hello", false).await;
    h.push(&token, &cont, &fixture("full.sif"), "latest").await;
    let other = h.container(&token, "alice/tools/plain", false).await;
    h.push(&token, &other, &fixture("minimal.sif"), "latest")
        .await;

    // By label value, case-insensitively, and by label name.
    for needle in ["Research-Computing", "schema-version"] {
        let r = h.get(&format!("/v1/search?value={needle}"), None).await;
        assert_eq!(r.status, StatusCode::OK);
        let data = r.data();
        let names: Vec<&str> = data["container"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, vec!["hello"], "{needle}");
        assert_eq!(data["image"][0]["arch"], "arm64");
    }
    let r = h.get("/v1/search?value=no-such-label", None).await;
    assert_eq!(r.data()["container"], json!([]));
}

#[tokio::test]
async fn non_sif_uploads_are_refused_and_leave_nothing() {
    let h = Harness::sif_only().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/t/x", false).await;
    let truncated = fixture("full.sif")[..5000].to_vec();
    let mut bad_magic = fixture("minimal.sif");
    bad_magic[32] = b'X';
    for bytes in [b"identical content".to_vec(), truncated, bad_magic] {
        let hash = sha256_hex(&bytes);
        let image = h
            .post_json(
                "/v1/images",
                Some(&token),
                json!({"hash": format!("sha256.{hash}"), "container": cont}),
            )
            .await;
        let image_id = image.data()["id"].as_str().unwrap().to_string();
        let start = h
            .post_json(
                &format!("/v2/imagefile/{image_id}"),
                Some(&token),
                json!({"filesize": bytes.len(), "sha256sum": hash}),
            )
            .await;
        let url = start.data()["uploadURL"].as_str().unwrap().to_string();
        let r = h.call("PUT", &url, None, Body::from(bytes.clone())).await;
        let message = r.assert_error(StatusCode::BAD_REQUEST);
        assert!(message.starts_with("not a valid SIF image"), "{message}");
        assert_eq!(h.blob_count(), 0);
        assert_eq!(h.temp_files(), 0);
        let image = image_by_hash(&h, &token, "alice/t/x", &bytes).await;
        assert_eq!(image["uploaded"], false);
        h.put_json(
            &format!("/v2/imagefile/{image_id}/_complete"),
            Some(&token),
            json!({}),
        )
        .await
        .assert_error(StatusCode::CONFLICT);
        // The legacy one-request upload refuses it the same way.
        let r = h
            .call(
                "POST",
                &format!("/v1/imagefile/{image_id}"),
                Some(&token),
                Body::from(bytes.clone()),
            )
            .await;
        r.assert_error(StatusCode::BAD_REQUEST);
        assert_eq!(h.blob_count(), 0);
        h.get(
            &format!("/v1/imagefile/alice/t/x:sha256.{hash}"),
            Some(&token),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn non_sif_uploads_are_kept_when_configured() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/t/x", false).await;
    h.push(&token, &cont, b"an oras blob", "latest").await;
    let r = h.get("/v1/images/alice/t/x:latest", Some(&token)).await;
    assert_eq!(r.data()["uploaded"], true);
    assert_eq!(r.data()["fingerprints"], json!([]));
    assert_eq!(h.blob_count(), 1);
}

/// Uploads `bytes` through the v2 multipart flow; returns the completion reply.
async fn multipart_push(h: &Harness, token: &str, path: &str, bytes: &[u8]) -> common::Reply {
    let cont = h.container(token, path, false).await;
    let body = json!({"hash": format!("sha256.{}", sha256_hex(bytes)), "container": cont});
    let image = h.post_json("/v1/images", Some(token), body).await.data()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ticket = h
        .post_json(
            &format!("/v2/imagefile/{image}/_multipart"),
            Some(token),
            json!({"filesize": bytes.len()}),
        )
        .await
        .data();
    let upload = ticket["uploadID"].as_str().unwrap().to_string();
    let part_size = ticket["partSize"].as_u64().unwrap() as usize;
    let mut completed = Vec::new();
    for (i, part) in bytes.chunks(part_size).enumerate() {
        let body = json!({"partSize": part.len(), "uploadID": upload, "partNumber": i + 1,
            "sha256sum": sha256_hex(part)});
        let url = h
            .put_json(
                &format!("/v2/imagefile/{image}/_multipart"),
                Some(token),
                body,
            )
            .await
            .data()["presignedURL"]
            .as_str()
            .unwrap()
            .to_string();
        let r = h.call("PUT", &url, None, Body::from(part.to_vec())).await;
        assert_eq!(r.status, StatusCode::OK);
        completed.push(json!({"partNumber": i + 1, "token": r.header("etag").unwrap()}));
    }
    h.put_json(
        &format!("/v2/imagefile/{image}/_multipart_complete"),
        Some(token),
        json!({"uploadID": upload, "completedParts": completed}),
    )
    .await
}

#[tokio::test]
async fn multipart_uploads_are_inspected_too() {
    let h = Harness::with_config(|c| {
        c.accept_non_sif = false;
        c.library.multipart_part_size_mib = 5;
    })
    .await;
    let token = h.user("alice", false).await;
    // Bytes after the last object do not make a SIF invalid.
    let mut sif = fixture("full.sif");
    sif.resize(6 * 1024 * 1024, 0);
    let done = multipart_push(&h, &token, "alice/big/ok", &sif).await;
    assert_eq!(
        done.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&done.body)
    );
    let image = image_by_hash(&h, &token, "alice/big/ok", &sif).await;
    assert_eq!(image["arch"], "arm64");
    assert_eq!(image["uploaded"], true);

    let junk = vec![7u8; 6 * 1024 * 1024];
    let done = multipart_push(&h, &token, "alice/big/junk", &junk).await;
    let message = done.assert_error(StatusCode::BAD_REQUEST);
    assert!(message.starts_with("not a valid SIF image"), "{message}");
    assert_eq!(h.blob_count(), 1, "only the SIF is stored");
    assert_eq!(h.temp_files(), 0);
    let image = image_by_hash(&h, &token, "alice/big/junk", &junk).await;
    assert_eq!(image["uploaded"], false);
}

#[tokio::test]
async fn tags_must_match_the_image_architecture() {
    let h = Harness::sif_only().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/arch/check", false).await;
    let image_id = h.push(&token, &cont, &fixture("full.sif"), "v1").await;
    let tags = h.get(&format!("/v2/tags/{cont}"), None).await;
    assert_eq!(
        tags.data()["arm64"]["v1"],
        image_id.as_str(),
        "tagged for its own arch"
    );
    let wrong = json!({"Arch": "amd64", "Tag": "v2", "ImageID": image_id});
    let r = h
        .post_json(&format!("/v2/tags/{cont}"), Some(&token), wrong)
        .await;
    assert!(r
        .assert_error(StatusCode::BAD_REQUEST)
        .contains("built for arm64"));
    h.get("/v1/images/alice/arch/check:v2?arch=amd64", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
}
