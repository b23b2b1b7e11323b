//! The OCI distribution API in process: uploads (monolithic, chunked, out of order), blobs,
//! manifests, tags with pagination, referrers, mounts and deletes, with the spec's errors.
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
async fn monolithic_upload_then_blob_head_and_get() {
    let h = Harness::new().await;
    let token = alice(&h).await;
    let bytes = b"some blob bytes".to_vec();
    let d = digest(&bytes);
    let r = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/?digest={d}"),
        Some(&token),
        &[],
        bytes.clone(),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v2/{NAME}/blobs/{d}")
    );
    let head = req(
        &h,
        "HEAD",
        &format!("/v2/{NAME}/blobs/{d}"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(
        head.header("content-length").unwrap(),
        bytes.len().to_string()
    );
    assert_eq!(head.header("docker-content-digest").unwrap(), d);
    assert!(head.body.is_empty());
    let get = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/blobs/{d}"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(get.status, StatusCode::OK);
    assert_eq!(get.body, bytes);
    let part = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/blobs/{d}"),
        None,
        &[("range", "bytes=5-8")],
        vec![],
    )
    .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, b"blob");
    // The same upload through a session and a PUT with the body.
    assert_eq!(upload(&h, &token, "alice/tools/other", &bytes).await, d);
}

#[tokio::test]
async fn chunked_upload_in_order_and_out_of_order() {
    let h = Harness::new().await;
    let token = alice(&h).await;
    let bytes = b"0123456789abcdefghij".to_vec();
    let start = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(start.status, StatusCode::ACCEPTED);
    let location = start.header("location").unwrap();
    assert!(location.starts_with(&format!("/v2/{NAME}/blobs/uploads/")));
    // Without and with the `bytes=` prefix.
    let p1 = req(
        &h,
        "PATCH",
        &location,
        Some(&token),
        &[("content-range", "0-9")],
        bytes[..10].to_vec(),
    )
    .await;
    assert_eq!(
        p1.status,
        StatusCode::ACCEPTED,
        "{}",
        String::from_utf8_lossy(&p1.body)
    );
    assert_eq!(p1.header("range").unwrap(), "0-9");
    let location = p1.header("location").unwrap();
    let gap = req(
        &h,
        "PATCH",
        &location,
        Some(&token),
        &[("content-range", "12-15")],
        bytes[12..16].to_vec(),
    )
    .await;
    assert_oci_error(
        &gap,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "BLOB_UPLOAD_INVALID",
    );
    assert_eq!(gap.header("range").unwrap(), "0-9");
    let p2 = req(
        &h,
        "PATCH",
        &location,
        Some(&token),
        &[("content-range", "bytes=10-14")],
        bytes[10..15].to_vec(),
    )
    .await;
    assert_eq!(p2.status, StatusCode::ACCEPTED);
    let status = req(&h, "GET", &location, Some(&token), &[], vec![]).await;
    assert_eq!(status.status, StatusCode::NO_CONTENT);
    assert_eq!(status.header("range").unwrap(), "0-14");
    let d = digest(&bytes);
    let done = req(
        &h,
        "PUT",
        &format!("{location}?digest={d}"),
        Some(&token),
        &[],
        bytes[15..].to_vec(),
    )
    .await;
    assert_eq!(
        done.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&done.body)
    );
    let get = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/blobs/{d}"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(get.body, bytes);
    // The session is gone.
    let again = req(&h, "GET", &location, Some(&token), &[], vec![]).await;
    assert_oci_error(&again, StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN");
    assert_eq!(h.temp_files(), 0);
}

#[tokio::test]
async fn failed_uploads_leave_nothing_visible() {
    let h = Harness::new().await;
    let token = alice(&h).await;
    let wrong = digest(b"other");
    let r = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/?digest={wrong}"),
        Some(&token),
        &[],
        b"data".to_vec(),
    )
    .await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "DIGEST_INVALID");
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
    let r = req(
        &h,
        "PUT",
        &format!("{location}?digest={wrong}"),
        Some(&token),
        &[],
        b"data".to_vec(),
    )
    .await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "DIGEST_INVALID");
    let r = req(
        &h,
        "PUT",
        &format!("{location}?digest={wrong}"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    // A failed finish ends the session.
    assert_oci_error(&r, StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN");
    let head = req(
        &h,
        "HEAD",
        &format!("/v2/{NAME}/blobs/{}", digest(b"data")),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(head.status, StatusCode::NOT_FOUND);
    let r = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/?digest=sha256:xyz"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&r, StatusCode::BAD_REQUEST, "DIGEST_INVALID");
    let r = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/blobs/md5:abc"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED");
    // Cancel discards the bytes.
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
    req(
        &h,
        "PATCH",
        &location,
        Some(&token),
        &[],
        b"partial".to_vec(),
    )
    .await;
    let r = req(&h, "DELETE", &location, Some(&token), &[], vec![]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h.temp_files(), 0);
    assert_eq!(h.blob_count(), 0);
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
async fn mount_and_deletes() {
    let h = Harness::new().await;
    let token = alice(&h).await;
    let d = upload(&h, &token, "alice/tools/a", b"shared layer").await;
    let r = req(
        &h,
        "POST",
        &format!("/v2/alice/tools/b/blobs/uploads/?mount={d}&from=alice/tools/a"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(
        r.header("location").unwrap(),
        format!("/v2/alice/tools/b/blobs/{d}")
    );
    let head = req(
        &h,
        "HEAD",
        &format!("/v2/alice/tools/b/blobs/{d}"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(head.status, StatusCode::OK);
    let r = req(
        &h,
        "POST",
        &format!("/v2/alice/tools/c/blobs/uploads/?mount={d}&from=alice/tools/none"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);

    let m = push_sif(&h, &token, NAME, "v1", b"to delete").await;
    let r = req(
        &h,
        "DELETE",
        &format!("/v2/{NAME}/manifests/v1"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let gone = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/manifests/v1"),
        None,
        &[],
        vec![],
    )
    .await;
    // The library tag made by the SIF push still answers with a synthesized manifest.
    assert_eq!(gone.status, StatusCode::OK);
    let r = req(
        &h,
        "DELETE",
        &format!("/v2/{NAME}/manifests/{m}"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let r = req(
        &h,
        "DELETE",
        &format!("/v2/{NAME}/manifests/{m}"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&r, StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN");
    let r = req(
        &h,
        "DELETE",
        &format!("/v2/alice/tools/b/blobs/{d}"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let head = req(
        &h,
        "HEAD",
        &format!("/v2/alice/tools/b/blobs/{d}"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(head.status, StatusCode::NOT_FOUND);
    let still = req(
        &h,
        "GET",
        &format!("/v2/alice/tools/a/blobs/{d}"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_eq!(still.body, b"shared layer");
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
