//! The lookup cache seen through HTTP: `GET /v1/images` and shub manifests answer from
//! memory when nothing changed, and every write request (push, retag, delete) is visible to
//! the very next read, on every surface.
mod common;

use axum::http::StatusCode;
use common::Harness;

#[tokio::test]
async fn reads_after_writes_see_the_writes() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let container = h.container(&token, "alice/tools/app", false).await;
    let first = h.push(&token, &container, b"first image", "latest").await;

    let library = "/v1/images/alice/tools/app:latest";
    let shub = "/alice/api/container/tools/app:latest";
    for _ in 0..3 {
        let got = h.get(library, None).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.data()["id"], first.as_str());
        let got = h.get(shub, None).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.json()["id"].to_string(), first);
    }

    // Retag through the library API: the next reads name the new image.
    let second = h.push(&token, &container, b"second image", "latest").await;
    assert_ne!(first, second);
    assert_eq!(h.get(library, None).await.data()["id"], second.as_str());
    assert_eq!(h.get(shub, None).await.json()["id"].to_string(), second);

    // Delete it: gone at once, on both surfaces.
    let gone = h
        .call(
            "DELETE",
            "/v1/images/alice/tools/app:latest",
            Some(&token),
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(
        gone.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&gone.body)
    );
    assert_eq!(h.get(library, None).await.status, StatusCode::NOT_FOUND);
    assert_ne!(h.get(shub, None).await.status, StatusCode::OK);
}
