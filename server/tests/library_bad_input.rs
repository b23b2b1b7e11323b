//! Bad input, missing rights and private images on the library API: every refusal is a 4xx
//! with the library envelope, and nothing half-stored stays visible.
mod common;

use axum::body::Body;
use axum::http::StatusCode;
use common::{sha256_hex, Harness};
use futures::stream;
use serde_json::json;
use silo_domain::services::NewToken;

async fn registered_image(h: &Harness, token: &str, path: &str, bytes: &[u8]) -> (String, String) {
    let cont = h.container(token, path, false).await;
    let hash = sha256_hex(bytes);
    let image = h
        .post_json(
            "/v1/images",
            Some(token),
            json!({"hash": format!("sha256.{hash}"), "container": cont}),
        )
        .await;
    assert_eq!(image.status, StatusCode::OK);
    (cont, image.data()["id"].as_str().unwrap().to_string())
}

async fn upload_url(
    h: &Harness,
    token: &str,
    image_id: &str,
    size: usize,
    sha: Option<&str>,
) -> String {
    let mut body = json!({"filesize": size});
    if let Some(sha) = sha {
        body["sha256sum"] = json!(sha);
    }
    let start = h
        .post_json(&format!("/v2/imagefile/{image_id}"), Some(token), body)
        .await;
    assert_eq!(
        start.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&start.body)
    );
    start.data()["uploadURL"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn malformed_json_and_invalid_names_are_400() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let r = h
        .call(
            "POST",
            "/v1/entities",
            Some(&token),
            Body::from("{not json"),
        )
        .await;
    assert!(r
        .assert_error(StatusCode::BAD_REQUEST)
        .contains("malformed JSON"));
    let r = h
        .call("POST", "/v1/entities", Some(&token), Body::from("[1,2]"))
        .await;
    r.assert_error(StatusCode::BAD_REQUEST);
    for bad in ["Alice", "al ice", "-alice", "alice/x", ""] {
        let r = h
            .post_json("/v1/entities", Some(&token), json!({"name": bad}))
            .await;
        r.assert_error(StatusCode::BAD_REQUEST);
    }
    let entity = h
        .post_json("/v1/entities", Some(&token), json!({"name": "alice"}))
        .await;
    let id = entity.data()["id"].as_str().unwrap().to_string();
    let r = h
        .post_json(
            "/v1/collections",
            Some(&token),
            json!({"name": "Bad_Name!", "entity": id}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST);
    let r = h
        .post_json(
            "/v1/collections",
            Some(&token),
            json!({"name": "ok", "entity": "not-an-id"}),
        )
        .await;
    r.assert_error(StatusCode::NOT_FOUND);
    let r = h
        .post_json(
            "/v1/images",
            Some(&token),
            json!({"hash": "md5.abc", "container": "1"}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST);
    h.get("/v1/images/a/b/c:bad%20tag", None)
        .await
        .assert_error(StatusCode::BAD_REQUEST);
    h.get("/v1/images/a/b/c/d/e:v1", None)
        .await
        .assert_error(StatusCode::BAD_REQUEST);
    // Creating what exists, as its owner, returns it: concurrent first pushes race to create.
    let first = h.get("/v1/entities/alice", Some(&token)).await;
    let again = h
        .post_json("/v1/entities", Some(&token), json!({"name": "alice"}))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.data()["id"], first.data()["id"]);
    // Someone else's entity is still refused.
    let bob = h.user("bob", false).await;
    h.post_json("/v1/entities", Some(&bob), json!({"name": "alice"}))
        .await
        .assert_error(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn wrong_hash_is_refused_and_nothing_is_kept() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let bytes = b"the real content".to_vec();
    let (_, image_id) = registered_image(&h, &token, "alice/t/x", &bytes).await;
    let url = upload_url(&h, &token, &image_id, bytes.len(), None).await;
    let wrong = b"other content!!!".to_vec();
    assert_eq!(wrong.len(), bytes.len());
    let r = h.call("PUT", &url, None, Body::from(wrong)).await;
    assert!(r
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY)
        .contains("sha256 mismatch"));
    assert_eq!(h.blob_count(), 0);
    assert_eq!(h.temp_files(), 0);
    let img = h
        .get(
            &format!("/v1/images/alice/t/x:sha256.{}", sha256_hex(&bytes)),
            Some(&token),
        )
        .await;
    assert_eq!(img.data()["uploaded"], false);
    h.put_json(
        &format!("/v2/imagefile/{image_id}/_complete"),
        Some(&token),
        json!({}),
    )
    .await
    .assert_error(StatusCode::CONFLICT);
    // A declared sha256sum that differs from the image record is refused up front.
    let r = h
        .post_json(
            &format!("/v2/imagefile/{image_id}"),
            Some(&token),
            json!({"filesize": 3, "sha256sum": "a".repeat(64)}),
        )
        .await;
    r.assert_error(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn size_mismatch_and_truncated_uploads_leave_nothing() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let bytes = vec![7u8; 50_000];
    let (_, image_id) = registered_image(&h, &token, "alice/t/y", &bytes).await;

    let url = upload_url(&h, &token, &image_id, bytes.len() + 10, None).await;
    let r = h.call("PUT", &url, None, Body::from(bytes.clone())).await;
    assert!(r
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY)
        .contains("size mismatch"));

    let url = upload_url(&h, &token, &image_id, bytes.len() - 10, None).await;
    let r = h.call("PUT", &url, None, Body::from(bytes.clone())).await;
    r.assert_error(StatusCode::UNPROCESSABLE_ENTITY);

    // The client disconnects half-way: the body stream fails.
    let url = upload_url(&h, &token, &image_id, bytes.len(), None).await;
    let half = bytes[..25_000].to_vec();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "peer gone",
        )),
    ];
    let r = h
        .call("PUT", &url, None, Body::from_stream(stream::iter(chunks)))
        .await;
    r.assert_error(StatusCode::BAD_REQUEST);

    assert_eq!(h.blob_count(), 0);
    assert_eq!(h.temp_files(), 0);
    h.get("/v1/imagefile/alice/t/y:sha256.".to_string().as_str(), None)
        .await;
    let img = h
        .get(
            &format!("/v1/images/alice/t/y:sha256.{}", sha256_hex(&bytes)),
            Some(&token),
        )
        .await;
    assert_eq!(img.data()["uploaded"], false);
    let pull = h
        .get(
            &format!("/v1/imagefile/alice/t/y:sha256.{}", sha256_hex(&bytes)),
            Some(&token),
        )
        .await;
    pull.assert_error(StatusCode::NOT_FOUND);

    // The session survives a failed attempt, so a retry with the right bytes succeeds.
    let r = h.call("PUT", &url, None, Body::from(bytes.clone())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(h.blob_count(), 1);
}

#[tokio::test]
async fn unknown_upload_session_and_ids_are_404() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    h.call(
        "PUT",
        "/v2/imagefile/_upload/deadbeef",
        None,
        Body::from("x"),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND);
    h.post_json("/v2/imagefile/999", Some(&token), json!({"filesize": 1}))
        .await
        .assert_error(StatusCode::NOT_FOUND);
    h.post_json("/v2/imagefile/abc", Some(&token), json!({"filesize": 1}))
        .await
        .assert_error(StatusCode::NOT_FOUND);
    h.get("/v1/tags/999", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    h.get("/v2/tags/nope", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    h.get("/v1/entities/nobody", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn missing_wrong_expired_and_foreign_tokens_are_refused() {
    let h = Harness::new().await;
    let alice = h.user("alice", false).await;
    let bob = h.user("bob", false).await;
    h.post_json("/v1/entities", None, json!({"name": "alice"}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    h.post_json("/v1/entities", Some("silo_wrong"), json!({"name": "alice"}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    // Users create only the entity named after them.
    h.post_json("/v1/entities", Some(&bob), json!({"name": "alice"}))
        .await
        .assert_error(StatusCode::FORBIDDEN);

    let bytes = b"alice's image".to_vec();
    let (cont, image_id) = registered_image(&h, &alice, "alice/t/z", &bytes).await;
    let coll = h.get("/v1/collections/alice/t", Some(&bob)).await.data()["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.post_json(
        "/v1/containers",
        Some(&bob),
        json!({"name": "evil", "collection": coll}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    h.post_json(
        "/v1/images",
        Some(&bob),
        json!({"hash": format!("sha256.{}", "b".repeat(64)), "container": cont}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    h.post_json(
        &format!("/v2/imagefile/{image_id}"),
        Some(&bob),
        json!({"filesize": bytes.len()}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    h.post_json(
        &format!("/v2/imagefile/{image_id}"),
        None,
        json!({"filesize": bytes.len()}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
    let url = upload_url(&h, &alice, &image_id, bytes.len(), None).await;
    assert_eq!(
        h.call("PUT", &url, None, Body::from(bytes.clone()))
            .await
            .status,
        StatusCode::OK
    );
    h.post_json(
        &format!("/v2/tags/{cont}"),
        Some(&bob),
        json!({"Arch": "amd64", "Tag": "evil", "ImageID": image_id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    h.put_json(
        &format!("/v2/imagefile/{image_id}/_complete"),
        Some(&bob),
        json!({}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);

    // Read-only and expired tokens.
    let read_only = h
        .registry
        .create_token(
            "alice",
            NewToken {
                label: "ro".into(),
                scope: Some(silo_domain::Scope::Read),
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .secret;
    h.post_json(
        &format!("/v2/tags/{cont}"),
        Some(&read_only),
        json!({"Arch": "amd64", "Tag": "ro", "ImageID": image_id}),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    let expired = h
        .registry
        .create_token(
            "alice",
            NewToken {
                label: "old".into(),
                scope: None,
                expires_in_days: Some(0),
            },
        )
        .await
        .unwrap()
        .secret;
    h.get("/v1/token-status", Some(&expired))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    // A user cannot hold an admin token.
    assert!(h
        .registry
        .create_token(
            "alice",
            NewToken {
                label: "x".into(),
                scope: Some(silo_domain::Scope::Admin),
                expires_in_days: None
            }
        )
        .await
        .is_err());
}

#[tokio::test]
async fn private_collections_are_invisible_to_others_on_every_call() {
    let h = Harness::new().await;
    let alice = h.user("alice", false).await;
    let bob = h.user("bob", false).await;
    let root = h.user("root", true).await;
    let cont = h.container(&alice, "alice/secret/model", true).await;
    h.push(&alice, &cont, b"private weights", "v1").await;
    let hash = sha256_hex(b"private weights");
    let reads = [
        "/v1/collections/alice/secret".to_string(),
        "/v1/containers/alice/secret/model".to_string(),
        "/v1/images/alice/secret/model:v1?arch=amd64".to_string(),
        format!("/v1/images/alice/secret/model:sha256.{hash}"),
        "/v1/imagefile/alice/secret/model:v1?arch=amd64".to_string(),
        format!("/v1/tags/{cont}"),
        format!("/v2/tags/{cont}"),
    ];
    for path in &reads {
        h.get(path, None).await.assert_error(StatusCode::NOT_FOUND);
        h.get(path, Some(&bob))
            .await
            .assert_error(StatusCode::NOT_FOUND);
        assert_eq!(
            h.get(path, Some(&alice)).await.status,
            StatusCode::OK,
            "{path} for the owner"
        );
        assert_eq!(
            h.get(path, Some(&root)).await.status,
            StatusCode::OK,
            "{path} for an admin"
        );
    }
    for who in [None, Some(bob.as_str())] {
        let found = h.get("/v1/search?value=secret", who).await.data();
        assert_eq!(found["collection"], json!([]));
        let found = h.get("/v1/search?value=model", who).await.data();
        assert_eq!(found["image"], json!([]));
        assert_eq!(found["container"], json!([]));
    }
    let mine = h.get("/v1/search?value=model", Some(&alice)).await.data();
    assert_eq!(mine["image"][0]["containerName"], "model");
    let entity = h.get("/v1/entities/alice", None).await.data();
    assert_eq!(
        entity["collections"],
        json!([]),
        "private collection ids are not listed"
    );
    h.call(
        "DELETE",
        "/v1/images/alice/secret/model:v1?arch=amd64",
        Some(&bob),
        Body::empty(),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND);
}

/// Apptainer's client creates a missing container after looking it up: concurrent first
/// pushes into one new container all get the same container, none a 409.
#[tokio::test]
async fn concurrent_creates_of_one_container_all_get_it() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    h.container(&token, "alice/tools/first", false).await;
    let collection = h
        .get("/v1/collections/alice/tools", Some(&token))
        .await
        .data()["id"]
        .clone();
    let creates = (0..8).map(|_| {
        h.post_json(
            "/v1/containers",
            Some(&token),
            json!({"collection": collection, "name": "bwa"}),
        )
    });
    let replies = futures::future::join_all(creates).await;
    let ids: std::collections::HashSet<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
            r.data()["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
}
