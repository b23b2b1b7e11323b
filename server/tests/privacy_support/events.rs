//! `GET /api/events` as each caller of the matrix opens it (the SPA's `EventSource` sends the
//! session cookie; scripts a bearer token), and the registry events it then hears.
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::world::Creds;
use crate::common::{Harness, PUBLIC_URL};

pub struct EventStream {
    body: Body,
    buffer: String,
}

/// Opens the stream; `Err(status)` when it is refused.
pub async fn open(h: &Harness, creds: &Creds) -> Result<EventStream, u16> {
    let mut request = Request::get("/api/events").header("origin", PUBLIC_URL);
    if let Some(cookie) = &creds.cookie {
        request = request.header("cookie", format!("silo_session={cookie}"));
    } else if let Some(token) = &creds.token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = h
        .app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    if response.status() != 200 {
        return Err(response.status().as_u16());
    }
    Ok(EventStream {
        body: response.into_body(),
        buffer: String::new(),
    })
}

impl EventStream {
    /// The paths of the `registry` events received until none comes for half a second.
    pub async fn paths(&mut self) -> Vec<String> {
        let mut paths = Vec::new();
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if block.lines().any(|l| l == "event: registry") {
                    let data = block
                        .lines()
                        .find_map(|l| l.strip_prefix("data: "))
                        .unwrap_or("{}");
                    let v: serde_json::Value = serde_json::from_str(data).unwrap();
                    paths.push(v["path"].as_str().unwrap_or("(no path)").to_string());
                }
                continue;
            }
            let next = tokio::time::timeout(Duration::from_millis(500), self.body.frame()).await;
            let Ok(Some(Ok(frame))) = next else {
                return paths;
            };
            if let Ok(bytes) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
}
