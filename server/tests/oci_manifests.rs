//! The OCI distribution API in process, manifests: validation and its errors, get by tag
//! and digest, tags with pagination, referrers with filters, the media type allow-list.
mod common;
mod oci_support;

use axum::http::StatusCode;
use common::Harness;
use oci_support::*;
use serde_json::json;

const NAME: &str = "alice/tools/hello";

async fn alice(h: &Harness) -> String {
    h.user("alice", false).await
}

#[tokio::test]
async fn manifests_by_tag_and_digest_with_validation() {
    let h = Harness::new().await;
    let token = alice(&h).await;
    let sif = b"SIF bytes for a manifest".to_vec();
    let d = push_sif(&h, &token, NAME, "v1", &sif).await;
    let body = serde_json::to_vec(&sif_manifest(&sif)).unwrap();
    assert_eq!(d, digest(&body));
    for reference in ["v1", d.as_str()] {
        let get = req(
            &h,
            "GET",
            &format!("/v2/{NAME}/manifests/{reference}"),
            None,
            &[],
            vec![],
        )
        .await;
        assert_eq!(get.status, StatusCode::OK);
        assert_eq!(get.body, body);
        assert_eq!(get.header("content-type").unwrap(), OCI_MANIFEST);
        assert_eq!(get.header("docker-content-digest").unwrap(), d);
    }
    let head = req(
        &h,
        "HEAD",
        &format!("/v2/{NAME}/manifests/v1"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("docker-content-digest").unwrap(), d);
    assert_eq!(head.header("content-type").unwrap(), OCI_MANIFEST);

    let unknown = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/manifests/nope"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&unknown, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN");
    let blob = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/blobs/{}", digest(b"absent")),
        None,
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&blob, StatusCode::NOT_FOUND, "BLOB_UNKNOWN");

    let mut missing = sif_manifest(b"never uploaded");
    missing["annotations"] = json!({"a": "b"});
    let r = put_manifest(&h, &token, NAME, "v2", &missing).await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN");
    let r = req(
        &h,
        "PUT",
        &format!("/v2/{NAME}/manifests/v2"),
        Some(&token),
        &[("content-type", OCI_MANIFEST)],
        b"{not json".to_vec(),
    )
    .await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "MANIFEST_INVALID");
    let r = req(
        &h,
        "PUT",
        &format!("/v2/{NAME}/manifests/v2"),
        Some(&token),
        &[("content-type", "application/vnd.oci.image.index.v1+json")],
        body.clone(),
    )
    .await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "MANIFEST_INVALID");
    let mut odd = sif_manifest(&sif);
    odd["mediaType"] = json!("application/x-unknown");
    let r = req(
        &h,
        "PUT",
        &format!("/v2/{NAME}/manifests/v2"),
        Some(&token),
        &[],
        serde_json::to_vec(&odd).unwrap(),
    )
    .await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "MANIFEST_INVALID");
    let r = put_manifest(&h, &token, NAME, &digest(b"another"), &sif_manifest(&sif)).await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "DIGEST_INVALID");
    let r = put_manifest(&h, &token, NAME, &d, &sif_manifest(&sif)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = put_manifest(&h, &token, NAME, "bad%20tag", &sif_manifest(&sif)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = req(
        &h,
        "GET",
        "/v2/Alice/tools/hello/tags/list",
        None,
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "NAME_INVALID");
}

#[tokio::test]
async fn tags_paginate_with_link() {
    let h = Harness::new().await;
    let token = alice(&h).await;
    let sif = b"tagged".to_vec();
    for tag in ["c", "a", "b"] {
        push_sif(&h, &token, NAME, tag, &sif).await;
    }
    let all = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/tags/list"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(all.json(), json!({"name": NAME, "tags": ["a", "b", "c"]}));
    assert!(all.header("link").is_none());
    let first = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/tags/list?n=2"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(first.json()["tags"], json!(["a", "b"]));
    let link = first.header("link").unwrap();
    assert_eq!(
        link,
        format!("</v2/{NAME}/tags/list?n=2&last=b>; rel=\"next\"")
    );
    let next = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/tags/list?n=2&last=b"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(next.json()["tags"], json!(["c"]));
    assert!(next.header("link").is_none());
    let none = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/tags/list?n=0"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(none.json()["tags"], json!([]));
}

#[tokio::test]
async fn referrers_with_artifact_type_filter() {
    let h = Harness::new().await;
    let token = alice(&h).await;
    let subject = push_sif(&h, &token, NAME, "v1", b"subject sif").await;
    let size = serde_json::to_vec(&sif_manifest(b"subject sif"))
        .unwrap()
        .len();
    upload(&h, &token, NAME, b"{}").await;
    let mut digests = Vec::new();
    for kind in [
        "application/vnd.example.sig",
        "application/vnd.example.sbom",
    ] {
        let m = json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": kind,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY, "size": 2},
            "layers": [],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": size},
            "annotations": {"kind": kind},
        });
        let r = put_manifest(
            &h,
            &token,
            NAME,
            &digest(&serde_json::to_vec(&m).unwrap()),
            &m,
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("oci-subject").unwrap(), subject);
        digests.push(r.header("docker-content-digest").unwrap());
    }
    let all = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/referrers/{subject}"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(
        all.header("content-type").unwrap(),
        "application/vnd.oci.image.index.v1+json"
    );
    let index = all.json();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
    assert_eq!(index["manifests"][0]["digest"], json!(digests[0]));
    assert_eq!(
        index["manifests"][0]["annotations"]["kind"],
        "application/vnd.example.sig"
    );
    let sbom = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/referrers/{subject}?artifactType=application/vnd.example.sbom"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(sbom.header("oci-filters-applied").unwrap(), "artifactType");
    let sbom = sbom.json();
    assert_eq!(sbom["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(
        sbom["manifests"][0]["artifactType"],
        "application/vnd.example.sbom"
    );
    let none = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/referrers/{}", digest(b"x")),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(none.json()["manifests"], json!([]));
    assert_eq!(none.json()["schemaVersion"], 2);
}

#[tokio::test]
async fn media_type_allow_list() {
    let h =
        Harness::with_config(|c| c.oci.allowed_media_types = vec!["application/x-ok".into()]).await;
    let token = alice(&h).await;
    upload(&h, &token, NAME, b"{}").await;
    let m = |config: &str| {
        json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
               "config": {"mediaType": config, "digest": EMPTY, "size": 2}, "layers": []})
    };
    let r = put_manifest(&h, &token, NAME, "v1", &m("application/x-other")).await;
    assert_oci_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED");
    let r = put_manifest(&h, &token, NAME, "v1", &m("application/x-ok")).await;
    assert_eq!(r.status, StatusCode::CREATED);
    push_sif(&h, &token, NAME, "sif", b"always allowed").await;
}

#[tokio::test]
async fn indexes_oversized_manifests_and_malformed_chunks() {
    let h = Harness::new().await;
    let token = alice(&h).await;
    let child = push_sif(&h, &token, NAME, "amd64", b"child sif").await;
    let size = serde_json::to_vec(&sif_manifest(b"child sif"))
        .unwrap()
        .len();
    let index = |digest: &str| {
        json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [{"mediaType": OCI_MANIFEST, "digest": digest, "size": size,
                              "platform": {"architecture": "amd64", "os": "linux"}}]})
    };
    let put_index = |v: serde_json::Value| {
        let h = &h;
        let token = token.clone();
        async move {
            req(
                h,
                "PUT",
                &format!("/v2/{NAME}/manifests/multi"),
                Some(&token),
                &[("content-type", "application/vnd.oci.image.index.v1+json")],
                serde_json::to_vec(&v).unwrap(),
            )
            .await
        }
    };
    let r = put_index(index(&digest(b"no such manifest"))).await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN");
    let r = put_index(index(&child)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let got = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/manifests/multi"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(
        got.header("content-type").unwrap(),
        "application/vnd.oci.image.index.v1+json"
    );

    let huge = vec![b' '; 4 * 1024 * 1024 + 1];
    let r = req(
        &h,
        "PUT",
        &format!("/v2/{NAME}/manifests/big"),
        Some(&token),
        &[("content-type", OCI_MANIFEST)],
        huge,
    )
    .await;
    // Larger than limits.oci_manifest_kib (default and maximum 4 MiB): refused by its size.
    assert_oci_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID");

    let start = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    let location = start.header("location").unwrap();
    for bad in ["abc", "5-1", "bytes=x-3"] {
        let r = req(
            &h,
            "PATCH",
            &location,
            Some(&token),
            &[("content-range", bad)],
            b"data".to_vec(),
        )
        .await;
        assert_oci_error(&r, StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID");
    }
    let r = req(&h, "PUT", &location, Some(&token), &[], vec![]).await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "DIGEST_INVALID");
}
