//! `/readyz`, `/metrics` and request IDs through the real router, on SQLite or PostgreSQL.
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, Reply};
use sea_orm::ConnectionTrait;
use server::config::Config;
use server::state::AppState;
use silo_domain::store::FsBlobStore;
use silo_domain::testing::TestDb;
use silo_domain::Registry;
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

/// The router with its state at hand (to cancel it as `silo serve` does on shutdown).
async fn app_with_state() -> (axum::Router, AppState, TestDb) {
    let db = TestDb::new().await;
    let store = FsBlobStore::open(db.dir.path().join("blobs"))
        .await
        .unwrap();
    let registry = Registry::new(db.db.clone(), Arc::new(store));
    let config = Config {
        data_dir: db.dir.path().to_path_buf(),
        ..Config::default()
    };
    let state = AppState::new(registry, config);
    (server::router::app(state.clone()), state, db)
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, serde_json::Value) {
    let response = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn readyz_names_what_fails_and_refuses_while_shutting_down() {
    let (app, state, db) = app_with_state().await;
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    for check in ["database", "migrations", "store", "shutdown"] {
        assert_eq!(body["checks"][check], "ok", "{body}");
    }

    // A migration the database forgot it applied.
    let forgotten = db
        .db
        .execute_unprepared(
            "DELETE FROM seaql_migrations WHERE version = \
             (SELECT MAX(version) FROM seaql_migrations)",
        )
        .await
        .unwrap();
    assert_eq!(forgotten.rows_affected(), 1);
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["failed"], serde_json::json!(["migrations"]), "{body}");
    assert_eq!(body["checks"]["migrations"], "1 pending");
    // /healthz, the liveness probe, does not care.
    assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK);

    // The store's directory is gone.
    std::fs::remove_dir_all(db.dir.path().join("blobs")).unwrap();
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["failed"], serde_json::json!(["migrations", "store"]));
    assert_eq!(body["checks"]["database"], "ok");

    // Shutting down.
    state.shutdown.cancel();
    let (status, body) = get(&app, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["checks"]["shutdown"], "shutting down", "{body}");
}

/// One sample of the scrape: `name{labels} value`.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_string(), value.parse().unwrap())
        })
        .collect()
}

async fn scrape(h: &Harness) -> (String, HashMap<String, f64>) {
    let r = h.get("/metrics", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("content-type").unwrap(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8(r.body).unwrap();
    let parsed = samples(&text);
    (text, parsed)
}

fn value(samples: &HashMap<String, f64>, key: &str) -> f64 {
    *samples
        .get(key)
        .unwrap_or_else(|| panic!("no sample {key} in {samples:#?}"))
}

#[tokio::test]
async fn metrics_count_requests_bytes_and_the_store_by_route_template() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let container = h.container(&token, "alice/tools/bwa", false).await;
    let image: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let image_id = h.push(&token, &container, &image, "v1").await;
    // A page of the web interface, at a path naming things.
    h.get("/alice/private-thing-9f3a", None).await;

    let (text, first) = scrape(&h).await;
    let put = r#"silo_http_requests_total{method="PUT",route="/v2/imagefile/_upload/{session}",status="2xx"}"#;
    assert_eq!(value(&first, put), 1.0, "{text}");
    let tag =
        r#"silo_http_requests_total{method="POST",route="/v2/tags/{container}",status="2xx"}"#;
    assert_eq!(value(&first, tag), 1.0);
    // (2xx with the web interface built in, 503 without.)
    let pages: f64 = first
        .iter()
        .filter(|(k, _)| {
            k.starts_with(r#"silo_http_requests_total{method="GET",route="fallback","#)
        })
        .map(|(_, v)| v)
        .sum();
    assert_eq!(pages, 1.0, "{text}");
    let received = value(&first, "silo_http_received_bytes_total");
    assert!(received >= image.len() as f64, "{received}");
    assert_eq!(value(&first, "silo_images"), 1.0);
    assert_eq!(value(&first, "silo_containers"), 1.0);
    assert_eq!(value(&first, "silo_store_blobs"), 1.0);
    assert_eq!(value(&first, "silo_store_size_bytes"), image.len() as f64);
    assert_eq!(value(&first, "silo_uploads_in_progress"), 0.0);
    let latency = r#"silo_http_request_duration_seconds_count{method="PUT",route="/v2/imagefile/_upload/{session}"}"#;
    assert_eq!(value(&first, latency), 1.0);
    assert!(first
        .keys()
        .any(|k| k.starts_with("process_resident_memory_bytes")));

    let pull = h.get("/v1/imagefile/alice/tools/bwa:v1", None).await;
    assert_eq!(pull.status, StatusCode::OK);
    assert_eq!(pull.body, image);
    let (text, second) = scrape(&h).await;
    let sent =
        value(&second, "silo_http_sent_bytes_total") - value(&first, "silo_http_sent_bytes_total");
    // The pull, and the first scrape's body.
    assert!(sent >= image.len() as f64, "{sent}");
    let pulls =
        r#"silo_http_requests_total{method="GET",route="/v1/imagefile/{*reference}",status="2xx"}"#;
    assert_eq!(value(&second, pulls), 1.0);
    assert_eq!(
        value(&second, "silo_http_received_bytes_total"),
        received,
        "GETs bring no body"
    );

    // Labels hold route templates only: no names, ids or tokens from raw paths.
    let session_dir = h.blob_root.join("tmp");
    assert_eq!(std::fs::read_dir(session_dir).unwrap().count(), 0);
    for raw in [
        "alice/tools",
        "private-thing",
        &format!("/v2/imagefile/{image_id}"),
        &format!("/v2/tags/{container}"),
        &token,
    ] {
        assert!(!text.contains(raw), "{raw:?} leaked into /metrics:\n{text}");
    }
    for line in text.lines().filter(|l| l.contains("route=\"")) {
        let route = line.split("route=\"").nth(1).unwrap();
        let route = &route[..route.find('"').unwrap()];
        assert!(
            route == "fallback" || route.starts_with('/'),
            "unexpected route label {route:?}"
        );
    }
}

#[tokio::test]
async fn uploads_in_progress_count_while_bytes_stream_in() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let container = h.container(&token, "alice/tools/slow", false).await;
    let image = vec![7u8; 64 * 1024];
    let hash = common::sha256_hex(&image);
    let created = h
        .post_json(
            "/v1/images",
            Some(&token),
            serde_json::json!({"hash": format!("sha256.{hash}"), "container": container}),
        )
        .await;
    let image_id = created.data()["id"].as_str().unwrap().to_string();
    let start = h
        .post_json(
            &format!("/v2/imagefile/{image_id}"),
            Some(&token),
            serde_json::json!({"filesize": image.len(), "sha256sum": hash}),
        )
        .await;
    let url = start.data()["uploadURL"].as_str().unwrap().to_string();
    let path = url.strip_prefix(common::PUBLIC_URL).unwrap().to_string();

    // The body arrives in two halves; the second only when the test sends it.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let body = Body::from_stream(tokio_stream_of(rx));
    let request = Request::put(&path)
        .header("content-length", image.len())
        .body(body)
        .unwrap();
    let upload = tokio::spawn(h.app.clone().oneshot(request));
    tx.send(Ok(bytes::Bytes::copy_from_slice(&image[..32 * 1024])))
        .await
        .unwrap();
    // Wait (bounded) until the store is reading the upload.
    let mut seen = 0;
    for _ in 0..500 {
        seen = h.registry.uploads_in_progress();
        if seen == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(seen, 1);
    let (_, during) = scrape(&h).await;
    assert_eq!(value(&during, "silo_uploads_in_progress"), 1.0);
    tx.send(Ok(bytes::Bytes::copy_from_slice(&image[32 * 1024..])))
        .await
        .unwrap();
    drop(tx);
    let response = upload.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (_, after) = scrape(&h).await;
    assert_eq!(value(&after, "silo_uploads_in_progress"), 0.0);
}

fn tokio_stream_of<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn metrics_can_be_disabled_or_need_a_token() {
    let off = Harness::with_config(|c| c.metrics.enabled = false).await;
    assert_eq!(
        off.get("/metrics", None).await.status,
        StatusCode::NOT_FOUND
    );

    let guarded = Harness::with_config(|c| c.metrics.token = "scrape-me-7".into()).await;
    let none = guarded.get("/metrics", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(none
        .header("www-authenticate")
        .unwrap()
        .starts_with("Bearer"));
    let wrong = guarded.get("/metrics", Some("scrape-me-8")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let right = guarded.get("/metrics", Some("scrape-me-7")).await;
    assert_eq!(right.status, StatusCode::OK);
    assert!(String::from_utf8(right.body)
        .unwrap()
        .contains("silo_http_requests_total"));
}

async fn with_request_id(h: &Harness, id: Option<&str>) -> Reply {
    let mut request = Request::get("/v1/version");
    if let Some(id) = id {
        request = request.header("x-request-id", id);
    }
    h.send(request.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let h = Harness::new().await;
    let mine = with_request_id(&h, Some("build-1234.step_2")).await;
    assert_eq!(mine.header("x-request-id").unwrap(), "build-1234.step_2");
    let a = with_request_id(&h, None)
        .await
        .header("x-request-id")
        .unwrap();
    let b = with_request_id(&h, None)
        .await
        .header("x-request-id")
        .unwrap();
    assert_ne!(a, b);
    assert!(
        a.len() >= 16 && a.chars().all(|c| c.is_ascii_hexdigit()),
        "{a}"
    );
    // An unsafe ID is replaced, not echoed.
    let odd = with_request_id(&h, Some("x\"}{injected")).await;
    let replaced = odd.header("x-request-id").unwrap();
    assert!(
        replaced.chars().all(|c| c.is_ascii_hexdigit()),
        "{replaced}"
    );
    // Errors and unrouted pages too.
    let missing = h.get("/v1/entities/nobody", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.header("x-request-id").is_some());
}
