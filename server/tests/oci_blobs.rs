//! The OCI distribution API in process, blobs: uploads (monolithic, chunked, out of order,
//! failed, cancelled), HEAD/GET with ranges, mounts and deletes, with the spec's errors.
mod common;
mod oci_support;

use axum::http::StatusCode;
use common::Harness;
use oci_support::*;

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
