//! The legacy sregistry client's API, request for request as `sregistry` 0.2.x sends them:
//! signed push and upload, pull with a signed retry, search, delete, and every refusal.
mod common;
#[path = "common/sregistry.rs"]
mod sreg;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{sha256_hex, Harness, PUBLIC_URL};
use sreg::{key, push, send, sign, sign_at, timestamp_hours_ago};

fn detail(r: &common::Reply) -> String {
    r.json()["detail"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn push_pull_search_delete() {
    let h = Harness::new().await;
    h.user("alice", false).await;
    h.user("bob", false).await;
    let alice = key(&h, "alice").await;
    let bob = key(&h, "bob").await;
    let bytes = b"SIF bytes pushed by the sregistry client".repeat(1000);

    let (first, second) = push(&h, &alice, "alice/tools", "hello", "1.0", &bytes).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.json()["cid"], "alice/tools");
    let second = second.unwrap();
    assert_eq!(second.status, StatusCode::OK, "{}", detail(&second));
    assert!(second.json()["message"]
        .as_str()
        .unwrap()
        .contains("Upload Complete"));

    // Pull: the unsigned manifest, then HEAD and GET of the image URL without credentials.
    let manifest = h.get("/api/container/alice/tools/hello:1.0", None).await;
    assert_eq!(manifest.status, StatusCode::OK);
    let m = manifest.json();
    assert_eq!(m["collection"], "alice/tools");
    assert_eq!(m["name"], "hello");
    assert_eq!(m["tag"], "1.0");
    assert_eq!(m["version"], sha256_hex(&bytes));
    let url = m["image"].as_str().unwrap();
    assert!(url.starts_with(&format!("{PUBLIC_URL}/download/")), "{url}");
    assert_eq!(
        h.call("HEAD", url, None, Body::empty()).await.status,
        StatusCode::OK
    );
    let got = h.get(url, None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, bytes);
    assert_eq!(
        sreg::downloads(&h, "sregistry").await + sreg::downloads(&h, "shub").await,
        1
    );

    // Search, in every form the client sends.
    let all = h.get("/api/collections/", None).await.json();
    assert!(all["next"].is_null());
    assert_eq!(all["results"][0]["name"], "alice/tools");
    assert_eq!(
        all["results"][0]["containers"][0]["uri"],
        "alice/tools/hello:1.0"
    );
    for uri in [
        "/api/collection/alice/tools",
        "/api/collection/tools",
        "/api/collection/alice",
    ] {
        let c = h.get(uri, None).await;
        assert_eq!(c.status, StatusCode::OK, "{uri}");
        assert_eq!(c.json()["containers"][0]["name"], "hello", "{uri}");
    }
    h.get("/api/collection/nothing", None)
        .await
        .status
        .eq(&StatusCode::NOT_FOUND)
        .then_some(())
        .unwrap();
    for uri in [
        "/api/container/search/collection/tools/name/hello/tag/1.0",
        "/api/container/search/collection/alice/tools/name/hello",
        "/api/container/search/name/hello/tag/1.0",
        "/api/container/search/name/hello",
    ] {
        let s = h.get(uri, None).await;
        assert_eq!(s.status, StatusCode::OK, "{uri}");
        assert_eq!(s.json()[0]["collection"], "alice/tools", "{uri}");
        assert_eq!(s.json()[0]["tag"], "1.0", "{uri}");
    }
    let none = h
        .get("/api/container/search/name/hello/tag/2.0", None)
        .await;
    assert_eq!(none.json().as_array().unwrap().len(), 0);
    let identity = h.get("/api/registry/identity", None).await.json();
    assert_eq!(identity["url"], PUBLIC_URL);

    // Delete: another user's signature is refused, the owner's removes the image.
    let uri = "/api/container/alice/tools/hello:1.0";
    let by_bob = sign(&bob, "delete", "alice/tools", "hello", "1.0");
    let refused = send(&h, "DELETE", uri, Some(&by_bob), Body::empty()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(h.get(uri, None).await.status, StatusCode::OK);
    let unsigned = send(&h, "DELETE", uri, None, Body::empty()).await;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN);
    let by_alice = sign(&alice, "delete", "alice/tools", "hello", "1.0");
    let deleted = send(
        &h,
        "DELETE",
        "/container/alice/tools/hello:1.0",
        Some(&by_alice),
        Body::empty(),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(h.get(uri, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.blob_count(),
        1,
        "bytes are deleted by garbage collection only"
    );
    let gc = silo_domain::services::GcOptions {
        grace: std::time::Duration::ZERO,
        ..Default::default()
    };
    h.registry.collect_garbage(&gc).await.unwrap();
    assert_eq!(h.blob_count(), 0);
}

#[tokio::test]
async fn signatures_are_checked() {
    let h = Harness::new().await;
    h.user("alice", false).await;
    h.user("bob", false).await;
    let alice = key(&h, "alice").await;
    let bob = key(&h, "bob").await;
    let body = || Body::from(r#"{"collection":"alice/tools","name":"hello","tag":"1.0"}"#);
    let start = "/api/upload/chunked_upload";

    // bob's key under alice's name, bob's own signature into alice's entity, an expired
    // timestamp, the wrong kind, an unknown user, a tampered claim, a malformed header.
    let forged = sreg::Key {
        username: "alice".into(),
        secret: bob.secret.clone(),
    };
    let cases = [
        sign(&forged, "push", "alice/tools", "hello", "1.0"),
        sign(&bob, "push", "alice/tools", "hello", "1.0"),
        sign_at(
            &alice,
            "push",
            "alice/tools",
            "hello",
            "1.0",
            &timestamp_hours_ago(2),
        ),
        sign_at(
            &alice,
            "push",
            "alice/tools",
            "hello",
            "1.0",
            &timestamp_hours_ago(-1),
        ),
        sign(&alice, "pull", "alice/tools", "hello", "1.0"),
        sign(
            &sreg::Key {
                username: "carol".into(),
                secret: alice.secret.clone(),
            },
            "push",
            "alice/tools",
            "hello",
            "1.0",
        ),
        sign(&alice, "push", "alice/tools", "hello", "2.0"),
    ];
    for (i, auth) in cases.iter().enumerate() {
        let r = send(&h, "POST", start, Some(auth), body()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "case {i}: {}", detail(&r));
        assert!(!detail(&r).is_empty());
    }
    let malformed = send(
        &h,
        "POST",
        start,
        Some("SREGISTRY-HMAC-SHA256 Credential=push"),
        body(),
    )
    .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let unsigned = send(&h, "POST", start, None, body()).await;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN);
    // The previous hour is still accepted.
    let ok = sign_at(
        &alice,
        "push",
        "alice/tools",
        "hello",
        "1.0",
        &timestamp_hours_ago(1),
    );
    assert_eq!(
        send(&h, "POST", start, Some(&ok), body()).await.status,
        StatusCode::OK
    );

    // A read-scoped credential cannot push; nothing was created by any of this.
    let read = h
        .registry
        .create_sregistry_secret(
            "alice",
            silo_domain::services::NewToken {
                label: "ro".into(),
                scope: Some(silo_domain::Scope::Read),
                expires_in_days: None,
            },
        )
        .await
        .unwrap();
    let read = sreg::Key {
        username: "alice".into(),
        secret: read.secret,
    };
    let r = send(
        &h,
        "POST",
        start,
        Some(&sign(&read, "push", "alice/tools", "hello", "1.0")),
        body(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.get("/api/collections/", None).await.json()["results"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn uploads_that_fail_leave_nothing() {
    let h = Harness::new().await;
    h.user("alice", false).await;
    h.user("bob", false).await;
    let alice = key(&h, "alice").await;
    let bob = key(&h, "bob").await;
    let bytes = b"image".repeat(100);

    // bob signs an upload into alice's entity: refused before any byte is stored.
    let auth = sign(&bob, "upload", "alice/tools", "hello", "1.0");
    let r = sreg::upload(
        &h,
        &auth,
        sreg::form(&auth, "hello", "alice/tools", "1.0", &bytes),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Malformed multipart bodies and a missing content type.
    let auth = sign(&alice, "upload", "alice/tools", "hello", "1.0");
    let mut cut = sreg::form(&auth, "hello", "alice/tools", "1.0", &bytes);
    cut.truncate(cut.len() - 30);
    assert_eq!(
        sreg::upload(&h, &auth, cut).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        sreg::upload(&h, &auth, b"garbage".to_vec()).await.status,
        StatusCode::BAD_REQUEST
    );
    let plain = send(&h, "POST", "/upload", Some(&auth), Body::from("x")).await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);

    // The file before the fields it needs; a form without a file.
    let form = sreg::form(&auth, "hello", "alice/tools", "1.0", &bytes);
    let text = String::from_utf8_lossy(&form).to_string();
    let file_at = text
        .find("--silo-test-boundary-1234\r\nContent-Disposition: form-data; name=\"file1\"")
        .unwrap();
    let only_file = form[file_at..].to_vec();
    assert_eq!(
        sreg::upload(&h, &auth, only_file).await.status,
        StatusCode::BAD_REQUEST
    );
    let no_file = "--silo-test-boundary-1234\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nhello\r\n--silo-test-boundary-1234--\r\n";
    assert_eq!(
        sreg::upload(&h, &auth, no_file.as_bytes().to_vec())
            .await
            .status,
        StatusCode::BAD_REQUEST
    );

    // A body that breaks off mid-file.
    let mut head = sreg::form(&auth, "hello", "alice/tools", "1.0", &bytes);
    head.truncate(head.len() - 40);
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
        Ok(bytes::Bytes::from(head)),
        Err(std::io::Error::other("connection reset")),
    ];
    let request = Request::builder()
        .method("POST")
        .uri("/upload")
        .header("authorization", &auth)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={}", sreg::BOUNDARY),
        )
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .unwrap();
    assert_eq!(h.send(request).await.status, StatusCode::BAD_REQUEST);

    assert_eq!(h.blob_count(), 0);
    assert_eq!(h.temp_files(), 0);
    assert_eq!(
        h.get("/api/collections/", None).await.json()["results"],
        serde_json::json!([])
    );
    assert_eq!(
        h.get("/v1/entities/alice", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn private_images_need_a_signature_and_only_owners_overwrite() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    h.user("bob", false).await;
    let alice = key(&h, "alice").await;
    let bob = key(&h, "bob").await;
    let container = h.container(&token, "alice/secret/app", true).await;
    let bytes = b"private".repeat(50);
    h.push(&token, &container, &bytes, "1.0").await;

    let uri = "/api/container/alice/secret/app:1.0";
    assert_eq!(h.get(uri, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.get("/api/collections/", None).await.json()["results"],
        serde_json::json!([])
    );
    let by_bob = sign(&bob, "pull", "alice/secret", "app", "1.0");
    assert_eq!(
        send(&h, "GET", uri, Some(&by_bob), Body::empty())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let by_alice = sign(&alice, "pull", "alice/secret", "app", "1.0");
    let m = send(&h, "GET", uri, Some(&by_alice), Body::empty()).await;
    assert_eq!(m.status, StatusCode::OK);
    let url = m.json()["image"].as_str().unwrap().to_string();
    assert_eq!(
        h.call("HEAD", &url, None, Body::empty()).await.status,
        StatusCode::OK
    );
    assert_eq!(h.get(&url, None).await.body, bytes);
    assert_eq!(sreg::downloads(&h, "sregistry").await, 1);
    // A pull signature does not open other images.
    let other = send(
        &h,
        "GET",
        "/api/container/alice/secret/app:2.0",
        Some(&by_alice),
        Body::empty(),
    )
    .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);

    // bob cannot overwrite alice's tag; alice can.
    let (r, _) = push(&h, &bob, "alice/secret", "app", "1.0", b"bob's").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (r, up) = push(&h, &alice, "alice/secret", "app", "1.0", b"new content").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(up.unwrap().status, StatusCode::OK);
    let m = send(
        &h,
        "GET",
        uri,
        Some(&sign(&alice, "pull", "alice/secret", "app", "1.0")),
        Body::empty(),
    )
    .await;
    assert_eq!(m.json()["version"], sha256_hex(b"new content"));
}

#[tokio::test]
async fn two_part_names_are_the_default_entity() {
    let h = Harness::new().await;
    h.user("admin", true).await;
    h.user("alice", false).await;
    let admin = key(&h, "admin").await;
    let alice = key(&h, "alice").await;
    let (r, _) = push(&h, &alice, "tools", "hello", "latest", b"x").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (r, up) = push(&h, &admin, "tools", "hello", "latest", b"shared image").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["cid"], "tools");
    assert_eq!(up.unwrap().status, StatusCode::OK);
    for uri in [
        "/api/container/tools/hello:latest",
        "/api/container/tools/hello",
        "/api/container/default/tools/hello:latest",
    ] {
        let m = h.get(uri, None).await;
        assert_eq!(m.status, StatusCode::OK, "{uri}");
        assert_eq!(m.json()["version"], sha256_hex(b"shared image"));
    }
    assert_eq!(
        h.get("/api/container/tools/hello", None).await.json()["collection"],
        "tools"
    );
    assert_eq!(
        h.get("/v1/images/default/tools/hello:latest", None)
            .await
            .status,
        StatusCode::OK
    );
    // Bad references are 400s, not 500s.
    for uri in [
        "/api/container/hello",
        "/api/container/a/b/c/d",
        "/api/container/Tools/hello",
        "/api/container/tools/hello:bad%20tag",
    ] {
        assert_eq!(
            h.get(uri, None).await.status,
            StatusCode::BAD_REQUEST,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn non_sif_uploads_are_refused_by_default() {
    let h = Harness::sif_only().await;
    h.user("alice", false).await;
    let alice = key(&h, "alice").await;
    let (first, second) = push(&h, &alice, "alice/tools", "junk", "1.0", b"not a SIF image").await;
    assert_eq!(first.status, StatusCode::OK);
    let second = second.unwrap();
    assert_eq!(
        second.status,
        StatusCode::BAD_REQUEST,
        "{}",
        detail(&second)
    );
    assert_eq!(h.blob_count(), 0);
    assert_eq!(h.temp_files(), 0);
    let manifest = h.get("/api/container/alice/tools/junk:1.0", None).await;
    assert_eq!(manifest.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.get("/api/collections/", None).await.json()["results"],
        serde_json::json!([])
    );
}
