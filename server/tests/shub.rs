//! `shub://` exactly as Apptainer's shub client pulls: an unauthenticated manifest GET, then
//! an unauthenticated GET of `image` (size checked against Content-Length), cached under
//! `commit`. Images pushed through the library API are served byte-identically.
mod common;
#[path = "common/sregistry.rs"]
mod sreg;

use axum::http::StatusCode;
use common::{sha256_hex, Harness, PUBLIC_URL};

/// What the shub client does for a manifest URL; returns the manifest and the bytes.
async fn shub_pull(h: &Harness, manifest_uri: &str) -> (serde_json::Value, Vec<u8>) {
    let manifest = h.get(manifest_uri, None).await;
    assert_eq!(
        manifest.status,
        StatusCode::OK,
        "{manifest_uri}: {}",
        String::from_utf8_lossy(&manifest.body)
    );
    let m = manifest.json();
    for field in ["image", "name", "tag", "version", "commit"] {
        assert!(m[field].is_string(), "{field} missing in {m}");
    }
    let commit = m["commit"].as_str().unwrap();
    assert!(!commit.is_empty());
    assert!(
        commit.bytes().all(|b| b.is_ascii_alphanumeric()),
        "commit {commit:?} is not filename-safe"
    );
    let url = m["image"].as_str().unwrap();
    assert!(
        url.starts_with(PUBLIC_URL),
        "image URL {url} is not absolute"
    );
    let download = h.get(url, None).await;
    assert_eq!(download.status, StatusCode::OK);
    let length: usize = download.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, download.body.len());
    assert_eq!(sha256_hex(&download.body), commit);
    (m, download.body)
}

#[tokio::test]
async fn library_pushes_pull_through_shub_and_sregistry() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let container = h.container(&token, "alice/tools/hello", false).await;
    let bytes = b"a SIF pushed through the library API".repeat(500);
    h.push(&token, &container, &bytes, "1.0").await;
    h.push(&token, &container, &bytes, "latest").await;
    let sha = sha256_hex(&bytes);

    // shub://host/alice/tools/hello:1.0
    let (m, got) = shub_pull(&h, "/alice/api/container/tools/hello:1.0").await;
    assert_eq!(got, bytes);
    assert_eq!(m["name"], "hello");
    assert_eq!(m["tag"], "1.0");
    assert_eq!(m["version"], sha);
    assert_eq!(m["collection"], "alice/tools");
    // No tag means latest; @version takes 32 or 40 hex digits (the client's limits) or more.
    let (m, _) = shub_pull(&h, "/alice/api/container/tools/hello").await;
    assert_eq!(m["tag"], "latest");
    for len in [32, 40, 64] {
        let uri = format!("/alice/api/container/tools/hello@{}", &sha[..len]);
        let (m, got) = shub_pull(&h, &uri).await;
        assert_eq!(got, bytes);
        assert_eq!(m["version"], sha);
    }
    let (m, _) = shub_pull(
        &h,
        &format!("/alice/api/container/tools/hello:1.0@{}", &sha[..40]),
    )
    .await;
    assert_eq!(m["tag"], "1.0");
    assert_eq!(sreg::downloads(&h, "shub").await, 6);

    // The sregistry client's pull of the same image (its user agent, the full name).
    let request = axum::http::Request::builder()
        .uri("/api/container/alice/tools/hello:1.0")
        .header("user-agent", "python-requests/2.32.3")
        .body(axum::body::Body::empty())
        .unwrap();
    let m = h.send(request).await.json();
    assert_eq!(h.get(m["image"].as_str().unwrap(), None).await.body, bytes);
    assert_eq!(sreg::downloads(&h, "sregistry").await, 1);
    // HEAD does not count as a download.
    h.call(
        "HEAD",
        m["image"].as_str().unwrap(),
        None,
        axum::body::Body::empty(),
    )
    .await;
    assert_eq!(sreg::downloads(&h, "sregistry").await, 1);
}

#[tokio::test]
async fn two_part_refs_are_the_default_entity() {
    let h = Harness::new().await;
    let admin = h.user("admin", true).await;
    let container = h.container(&admin, "default/tools/hello", false).await;
    let bytes = b"default entity image".to_vec();
    h.push(&admin, &container, &bytes, "latest").await;
    // shub://host/tools/hello
    let (m, got) = shub_pull(&h, "/api/container/tools/hello:latest").await;
    assert_eq!(got, bytes);
    assert_eq!(m["collection"], "tools");
    let (_, got) = shub_pull(&h, "/default/api/container/tools/hello").await;
    assert_eq!(got, bytes);
}

#[tokio::test]
async fn private_missing_and_malformed() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let container = h.container(&token, "alice/secret/app", true).await;
    h.push(&token, &container, b"private bytes", "1.0").await;

    // Private looks absent to the (unauthenticated) shub client.
    let r = h.get("/alice/api/container/secret/app:1.0", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.json()["detail"].is_string());
    assert_eq!(
        h.get("/alice/api/container/secret/app:2.0", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        h.get("/nobody/api/container/c/n:1.0", None).await.status,
        StatusCode::NOT_FOUND
    );
    // The owner's bearer token opens it.
    let m = h
        .get("/alice/api/container/secret/app:1.0", Some(&token))
        .await;
    assert_eq!(m.status, StatusCode::OK);
    assert_eq!(
        h.get(m.json()["image"].as_str().unwrap(), None).await.body,
        b"private bytes"
    );

    for uri in [
        "/alice/api/container/secret",
        "/alice/api/container/x/secret/app:1.0",
        "/alice/api/container/secret/app@xyz",
        "/alice/api/container/secret/app@0123",
        "/Alice/api/container/secret/app:1.0",
    ] {
        let r = h.get(uri, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
    }
    // A made-up download token is a 404.
    assert_eq!(
        h.get("/download/1.0.shub.99999999999.00", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
