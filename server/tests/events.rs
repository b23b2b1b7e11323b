//! `GET /api/events`: server-sent events after pushes and deletes, private names only for
//! those who may read them.
mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::Harness;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// An open event stream and the text received so far.
struct EventStream {
    body: Body,
    buffer: String,
}

impl EventStream {
    async fn open(h: &Harness, token: Option<&str>) -> EventStream {
        let mut request = Request::get("/api/events");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = h
            .app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        EventStream {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The data of the next `registry` event, or None if none comes within a second.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(v.to_string());
                    }
                }
                if name.as_deref() == Some("registry") {
                    return Some(serde_json::from_str(&data.expect("data line")).unwrap());
                }
                continue;
            }
            let frame = tokio::time::timeout(Duration::from_secs(1), self.body.frame())
                .await
                .ok()??
                .unwrap();
            if let Ok(bytes) = frame.into_data() {
                self.buffer.push_str(std::str::from_utf8(&bytes).unwrap());
            }
        }
    }
}

#[tokio::test]
async fn pushes_and_deletes_reach_the_viewers_who_may_read_them() {
    let h = Harness::new().await;
    let alice = h.user("alice", false).await;
    let bob = h.user("bob", false).await;
    let mut anonymous = EventStream::open(&h, None).await;
    let mut as_alice = EventStream::open(&h, Some(&alice)).await;
    let mut as_bob = EventStream::open(&h, Some(&bob)).await;

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
