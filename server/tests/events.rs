//! `GET /api/events`: server-sent events after pushes and deletes, private names only for
//! those who may read them.
mod common;
#[path = "common/sse.rs"]
mod sse;

use axum::body::Body;
use axum::http::StatusCode;
use common::Harness;
use sse::EventStream;

#[tokio::test]
async fn pushes_and_deletes_reach_the_viewers_who_may_read_them() {
    let h = Harness::new().await;
    let alice = h.user("alice", false).await;
    let bob = h.user("bob", false).await;
    let mut anonymous = EventStream::open(&h.app, None).await;
    let mut as_alice = EventStream::open(&h.app, Some(&alice)).await;
    let mut as_bob = EventStream::open(&h.app, Some(&bob)).await;

    let secret = h.container(&alice, "alice/hidden/secret", true).await;
    let open = h.container(&alice, "alice/open/tool", false).await;
    h.push(&alice, &secret, b"private bytes", "latest").await;
    h.push(&alice, &open, b"public bytes", "latest").await;

    let pushed = |path: &str| serde_json::json!({"kind": "pushed", "path": path});
    assert_eq!(as_alice.next().await, Some(pushed("alice/hidden/secret")));
    assert_eq!(as_alice.next().await, Some(pushed("alice/open/tool")));
    // Others hear only about the public container: the private push is not even hinted at.
    for stream in [&mut anonymous, &mut as_bob] {
        assert_eq!(stream.next().await, Some(pushed("alice/open/tool")));
    }

    let deleted = h
        .call(
            "DELETE",
            "/v1/images/alice/open/tool:latest?arch=amd64",
            Some(&alice),
            Body::empty(),
        )
        .await;
    assert_eq!(
        deleted.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&deleted.body)
    );
    let gone = serde_json::json!({"kind": "deleted", "path": "alice/open/tool"});
    for stream in [&mut anonymous, &mut as_alice, &mut as_bob] {
        assert_eq!(stream.next().await, Some(gone.clone()));
        assert_eq!(stream.next().await, None, "nothing else happened");
    }
}

#[tokio::test]
async fn a_bad_token_is_refused() {
    let h = Harness::new().await;
    let reply = h.get("/api/events", Some("not-a-token")).await;
    reply.assert_error(StatusCode::UNAUTHORIZED);
}
