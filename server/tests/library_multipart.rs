//! The v2 multipart upload, request for request as library client 1.4 sends it.
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{sha256_hex, Harness};
use serde_json::{json, Value};

const MIB: usize = 1024 * 1024;

fn image_bytes(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8)
        .collect()
}

/// Registers `bytes` as an image of a fresh container; returns (container id, image id).
async fn register(h: &Harness, token: &str, path: &str, hash_of: &[u8]) -> (String, String) {
    let cont = h.container(token, path, false).await;
    let body = json!({"hash": format!("sha256.{}", sha256_hex(hash_of)), "container": cont});
    let image = h.post_json("/v1/images", Some(token), body).await;
    (cont, image.data()["id"].as_str().unwrap().to_string())
}

async fn start(h: &Harness, token: &str, image: &str, size: usize) -> Value {
    let r = h
        .post_json(
            &format!("/v2/imagefile/{image}/_multipart"),
            Some(token),
            json!({"filesize": size}),
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

async fn part_url(
    h: &Harness,
    token: &str,
    image: &str,
    upload: &str,
    n: usize,
    part: &[u8],
    announce: bool,
) -> String {
    let sha = if announce {
        sha256_hex(part)
    } else {
        String::new()
    };
    let body =
        json!({"partSize": part.len(), "uploadID": upload, "partNumber": n, "sha256sum": sha});
    let r = h
        .put_json(
            &format!("/v2/imagefile/{image}/_multipart"),
            Some(token),
            body,
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    r.data()["presignedURL"].as_str().unwrap().to_string()
}

async fn put_part(h: &Harness, url: &str, part: &[u8]) -> common::Reply {
    let request = Request::put(url.strip_prefix(common::PUBLIC_URL).unwrap())
        .header("x-amz-content-sha256", sha256_hex(part))
        .body(Body::from(part.to_vec()))
        .unwrap();
    h.send(request).await
}

#[tokio::test]
async fn parts_in_any_order_assemble_into_a_verified_image() {
    let h = Harness::with_config(|c| c.library.multipart_part_size_mib = 5).await;
    let token = h.user("alice", false).await;
    let bytes = image_bytes(12 * MIB + 12345, 1);
    let (_, image) = register(&h, &token, "alice/big/model", &bytes).await;
    let ticket = start(&h, &token, &image, bytes.len()).await;
    let part_size = ticket["partSize"].as_u64().unwrap() as usize;
    let total = ticket["totalParts"].as_u64().unwrap() as usize;
    assert_eq!(ticket["options"]["s3compliant"], "true");
    assert!(part_size >= 5 * MIB);
    assert_eq!(
        total,
        bytes.len().div_ceil(part_size),
        "the client trusts totalParts"
    );
    let upload = ticket["uploadID"].as_str().unwrap().to_string();

    let parts: Vec<&[u8]> = bytes.chunks(part_size).collect();
    let mut completed = Vec::new();
    for n in (1..=total).rev() {
        let url = part_url(&h, &token, &image, &upload, n, parts[n - 1], true).await;
        let r = put_part(&h, &url, parts[n - 1]).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "exactly 200: {}",
            String::from_utf8_lossy(&r.body)
        );
        let etag = r.header("etag").expect("an ETag per part");
        assert_eq!(etag.trim_matches('"'), sha256_hex(parts[n - 1]));
        completed.push(json!({"partNumber": n, "token": etag}));
    }
    assert_eq!(h.blob_count(), 0, "nothing visible before completion");
    let done = h
        .put_json(
            &format!("/v2/imagefile/{image}/_multipart_complete"),
            Some(&token),
            json!({"uploadID": upload, "completedParts": completed}),
        )
        .await;
    assert_eq!(
        done.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&done.body)
    );
    assert_eq!(done.data()["containerUrl"], "c/alice/big/model");
    assert_eq!(h.temp_files(), 0);
    let got = h
        .get(
            &format!("/v1/images/alice/big/model:sha256.{}", sha256_hex(&bytes)),
            None,
        )
        .await;
    assert_eq!(got.data()["uploaded"], true);
    assert_eq!(got.data()["size"], bytes.len());
}

#[tokio::test]
async fn bad_parts_wrong_whole_hash_and_abort_leave_nothing() {
    let h = Harness::with_config(|c| c.library.multipart_part_size_mib = 5).await;
    let token = h.user("alice", false).await;
    let bob = h.user("bob", false).await;
    let bytes = image_bytes(6 * MIB, 2);
    let other = image_bytes(6 * MIB, 3);
    let (_, image) = register(&h, &token, "alice/big/bad", &bytes).await;

    // Foreign and anonymous callers cannot start or continue an upload.
    h.post_json(
        &format!("/v2/imagefile/{image}/_multipart"),
        Some(&bob),
        json!({"filesize": bytes.len()}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    h.post_json(
        &format!("/v2/imagefile/{image}/_multipart"),
        Some(&token),
        json!({"filesize": 0}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST);

    let ticket = start(&h, &token, &image, bytes.len()).await;
    let upload = ticket["uploadID"].as_str().unwrap().to_string();
    let part_size = ticket["partSize"].as_u64().unwrap() as usize;
    let parts: Vec<&[u8]> = bytes.chunks(part_size).collect();
    assert_eq!(parts.len(), 2);
    h.put_json(
        &format!("/v2/imagefile/{image}/_multipart"),
        None,
        json!({"partSize": part_size, "uploadID": upload, "partNumber": 1}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
    h.put_json(
        &format!("/v2/imagefile/{image}/_multipart"),
        Some(&token),
        json!({"partSize": part_size, "uploadID": upload, "partNumber": 3}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST);
    h.put_json(
        &format!("/v2/imagefile/{image}/_multipart"),
        Some(&token),
        json!({"partSize": part_size, "uploadID": "0123", "partNumber": 1}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND);

    // A part whose bytes differ from the announced sha256 is refused; the right bytes pass.
    let url1 = part_url(&h, &token, &image, &upload, 1, parts[0], true).await;
    let mut corrupted = parts[0].to_vec();
    corrupted[10] ^= 0xff;
    let r = h.call("PUT", &url1, None, Body::from(corrupted)).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(put_part(&h, &url1, parts[0]).await.status, StatusCode::OK);
    // A short part is refused.
    let url2 = part_url(&h, &token, &image, &upload, 2, parts[1], false).await;
    h.call("PUT", &url2, None, Body::from(parts[1][..100].to_vec()))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY);
    // Completing with a part missing is refused.
    h.put_json(
        &format!("/v2/imagefile/{image}/_multipart_complete"),
        Some(&token),
        json!({"uploadID": upload, "completedParts": []}),
    )
    .await
    .assert_error(StatusCode::CONFLICT);
    // Part 2 from another file: every part is fine alone, the whole hash is wrong.
    let foreign: Vec<&[u8]> = other.chunks(part_size).collect();
    assert_eq!(
        h.call("PUT", &url2, None, Body::from(foreign[1].to_vec()))
            .await
            .status,
        StatusCode::OK
    );
    let r = h
        .put_json(
            &format!("/v2/imagefile/{image}/_multipart_complete"),
            Some(&token),
            json!({"uploadID": upload, "completedParts": []}),
        )
        .await;
    assert!(r
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY)
        .contains("sha256 mismatch"));
    assert_eq!(h.blob_count(), 0);
    assert_eq!(h.temp_files(), 0);
    let img = h
        .get(
            &format!("/v1/images/alice/big/bad:sha256.{}", sha256_hex(&bytes)),
            Some(&token),
        )
        .await;
    assert_eq!(img.data()["uploaded"], false);
    h.call("PUT", &url1, None, Body::from(parts[0].to_vec()))
        .await
        .assert_error(StatusCode::NOT_FOUND);

    // Abort discards a started upload and its capability URLs.
    let ticket = start(&h, &token, &image, bytes.len()).await;
    let upload = ticket["uploadID"].as_str().unwrap().to_string();
    let url = part_url(&h, &token, &image, &upload, 1, parts[0], true).await;
    assert_eq!(put_part(&h, &url, parts[0]).await.status, StatusCode::OK);
    assert_eq!(h.temp_files(), 1);
    h.put_json(
        &format!("/v2/imagefile/{image}/_multipart_abort"),
        Some(&bob),
        json!({"uploadID": upload}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    let r = h
        .put_json(
            &format!("/v2/imagefile/{image}/_multipart_abort"),
            Some(&token),
            json!({"uploadID": upload}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(h.temp_files(), 0);
    put_part(&h, &url, parts[0])
        .await
        .assert_error(StatusCode::NOT_FOUND);
}
