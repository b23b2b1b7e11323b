//! The metadata REST API (`/api/v1/…`): usage series, registry totals and credentials, all
//! private-aware; and the OpenAPI document matching both the routes and the committed
//! `docs/openapi.json`.
mod common;
mod rest_world;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{Harness, Reply};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use silo_domain::entities::container;

use rest_world::{bad_request, ok, world};

#[tokio::test]
async fn usage_counts_downloads_and_storage_per_day() {
    let w = world().await;
    let h = &w.h;
    let today = Utc::now().date_naive();
    let c = ok(h, "/api/v1/containers/alice/pub/hello/usage", None).await;
    let days = c["days"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(c["to"], today.to_string());
    assert_eq!(days[29]["date"], today.to_string());
    assert_eq!(
        (days[29]["downloads"].as_u64(), c["downloads"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(days[0]["downloads"], 0);
    assert_eq!(c["bucket"], "day");
    let yesterday = today - Duration::days(1);
    let one = ok(
        h,
        &format!(
            "/api/v1/containers/alice/pub/hello/usage?from={yesterday}&to={yesterday}&bucket=day"
        ),
        None,
    )
    .await;
    assert_eq!(
        (
            one["days"].as_array().unwrap().len(),
            one["downloads"].as_u64()
        ),
        (1, Some(0))
    );
    let hidden = "/api/v1/containers/alice/secret/hidden/usage";
    h.get(hidden, None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    assert_eq!(ok(h, hidden, Some(&w.alice)).await["downloads"], 1);

    let range = format!("from={yesterday}&to={today}");
    let anon = ok(h, &format!("/api/v1/usage?{range}"), None).await;
    let d = &anon["days"];
    assert_eq!(
        (d[0]["pushes"].as_u64(), d[0]["bytes_total"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(
        (d[1]["downloads"].as_u64(), d[1]["pushes"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(
        (d[1]["bytes_added"].as_u64(), d[1]["bytes_total"].as_u64()),
        (Some(37), Some(37))
    );
    let bob = ok(h, &format!("/api/v1/usage?{range}"), Some(&w.bob)).await;
    assert_eq!(bob["days"], anon["days"]);
    for insider in [&w.alice, &w.admin] {
        let all = ok(h, &format!("/api/v1/usage?{range}"), Some(insider)).await;
        let d = &all["days"][1];
        assert_eq!(
            (d["downloads"].as_u64(), d["pushes"].as_u64()),
            (Some(4), Some(5))
        );
        assert_eq!(d["bytes_total"], 50);
    }
    // `from` after the default `to` (today) is refused.
    bad_request(
        h,
        &format!("/api/v1/usage?from={}", today + Duration::days(1)),
    )
    .await;
}

#[tokio::test]
async fn usage_rejects_bad_ranges() {
    let h = Harness::new().await;
    let today = Utc::now().date_naive();
    for query in [
        format!("from={today}&to={}", today - Duration::days(1)),
        format!("from={}&to={today}", today - Duration::days(366)),
        "from=2026-13-01".to_string(),
        "to=yesterday".to_string(),
        "bucket=week".to_string(),
        "step=1".to_string(),
    ] {
        bad_request(&h, &format!("/api/v1/usage?{query}")).await;
    }
    let max = format!(
        "/api/v1/usage?from={}&to={today}",
        today - Duration::days(365)
    );
    assert_eq!(
        ok(&h, &max, None).await["days"].as_array().unwrap().len(),
        366
    );
}

#[tokio::test]
async fn stats_count_only_what_the_caller_may_read() {
    let w = world().await;
    let h = &w.h;
    for outsider in [None, Some(w.bob.as_str())] {
        let s = ok(h, "/api/v1/stats", outsider).await;
        assert_eq!(
            s,
            serde_json::json!({"entities": 2, "collections": 2, "containers": 3, "images": 4,
                "tags": 4, "size_bytes": 37, "downloads": 3, "stars": 1})
        );
    }
    for insider in [&w.alice, &w.admin] {
        let s = ok(h, "/api/v1/stats", Some(insider)).await;
        assert_eq!(
            s,
            serde_json::json!({"entities": 2, "collections": 3, "containers": 4, "images": 5,
                "tags": 5, "size_bytes": 50, "downloads": 4, "stars": 2})
        );
    }
    // The counters the stats sum agree with the download events.
    let hello = container::Entity::find()
        .filter(container::Column::Name.eq("hello"))
        .one(h.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hello.download_count, 2);
}

#[tokio::test]
async fn bad_credentials_are_401_everywhere() {
    let h = Harness::new().await;
    let r = h.get("/api/v1/stats", Some("not-a-token")).await;
    r.assert_error(StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("www-authenticate").as_deref(), Some("Bearer"));
    h.get("/api/v1/collections", Some("nope"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    h.get("/api/v1/nothing-here", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
}

/// The routes the REST router serves, with the path parameters of `world()`.
const ROUTES: &[(&str, &str)] = &[
    ("/api/v1/entities", "/api/v1/entities"),
    ("/api/v1/entities/{entity}", "/api/v1/entities/alice"),
    ("/api/v1/collections", "/api/v1/collections"),
    (
        "/api/v1/collections/{entity}/{collection}",
        "/api/v1/collections/alice/pub",
    ),
    ("/api/v1/containers", "/api/v1/containers"),
    (
        "/api/v1/containers/{entity}/{collection}/{container}",
        "/api/v1/containers/alice/pub/hello",
    ),
    (
        "/api/v1/containers/{entity}/{collection}/{container}/images",
        "/api/v1/containers/alice/pub/hello/images",
    ),
    (
        "/api/v1/containers/{entity}/{collection}/{container}/usage",
        "/api/v1/containers/alice/pub/hello/usage",
    ),
    ("/api/v1/usage", "/api/v1/usage"),
    ("/api/v1/stats", "/api/v1/stats"),
];

#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let w = world().await;
    let h = &w.h;
    let served: Reply = h.get("/api/openapi.json", None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(
        served.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        String::from_utf8(served.body.clone()).unwrap(),
        server::rest::openapi_json()
    );
    let doc = served.json();
    let paths = doc["paths"].as_object().unwrap();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete", "head", "options"]
                .contains(&method.as_str())
            {
                documented.push((method.clone(), path.clone()));
            }
        }
    }
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(p, _)| ("get".to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(
        documented, expected,
        "the document lists exactly the REST routes"
    );
    // Every documented operation is routed and answers its documented 200 with JSON.
    for (template, concrete) in ROUTES {
        let op = &paths[*template]["get"];
        assert!(op["responses"]["200"].is_object(), "{template}");
        let r = h.get(concrete, None).await;
        assert_eq!(r.status, StatusCode::OK, "{template} is not routed");
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        let params: Vec<&str> = op["parameters"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let in_template = template.matches('{').count();
        assert_eq!(
            params.len(),
            in_template,
            "{template}: path parameters documented"
        );
    }
    // Routes neither documented nor served: other methods, other paths.
    let r = h
        .call(
            "POST",
            "/api/v1/collections",
            None,
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let page = h.get("/api/docs", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.body).unwrap();
    assert!(html.contains("/api/openapi.json"));
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external assets"
    );
}

#[test]
fn committed_openapi_document_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == server::rest::openapi_json(),
        "docs/openapi.json differs from the document the code generates; regenerate it with \
         `make openapi` (that is, `silo openapi > docs/openapi.json`)"
    );
}
