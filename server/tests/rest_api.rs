//! The metadata REST API (`/api/v1/…`): every endpoint, filter, sort and paging bound; bad
//! input answered 400 in the REST envelope; private collections absent (in lists, totals,
//! stats and usage) for anonymous callers and other users, present for owner and admin; and
//! the OpenAPI document matching both the routes and the committed `docs/openapi.json`.
mod common;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use common::{Harness, Reply};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use silo_domain::entities::{container, star};

struct World {
    h: Harness,
    alice: String,
    bob: String,
    admin: String,
}

/// Public: alice/pub/hello (9 B tagged 1.0, 11 B tagged latest), alice/pub/world (3 B),
/// bob/data/db (14 B). Private: alice/secret/hidden (13 B). Downloads: hello twice and db
/// once (anonymous), hidden once (alice). Stars: alice stars bob/data/db and her hidden.
async fn world() -> World {
    let h = Harness::new().await;
    let alice = h.user("alice", false).await;
    let bob = h.user("bob", false).await;
    let admin = h.user("root", true).await;
    let hello = h.container(&alice, "alice/pub/hello", false).await;
    h.push(&alice, &hello, b"hello-one", "1.0").await;
    h.push(&alice, &hello, b"hello-two!!", "latest").await;
    let world = h.container(&alice, "alice/pub/world", false).await;
    h.push(&alice, &world, b"abc", "latest").await;
    let hidden = h.container(&alice, "alice/secret/hidden", true).await;
    h.push(&alice, &hidden, b"private-bytes", "latest").await;
    let db = h.container(&bob, "bob/data/db", false).await;
    h.push(&bob, &db, b"database-image", "latest").await;
    for (path, token) in [
        ("alice/pub/hello:latest", None),
        ("alice/pub/hello:latest", None),
        ("bob/data/db:latest", None),
        ("alice/secret/hidden:latest", Some(alice.as_str())),
    ] {
        let r = h.get(&format!("/v1/imagefile/{path}"), token).await;
        assert_eq!(r.status, StatusCode::OK, "pull {path}");
    }
    let alice_id = h.registry.find_user("alice").await.unwrap().unwrap().id;
    for id in [&db, &hidden] {
        star::ActiveModel {
            user_id: Set(alice_id),
            collection_id: Set(None),
            container_id: Set(Some(id.parse().unwrap())),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(h.registry.db())
        .await
        .unwrap();
    }
    World {
        h,
        alice,
        bob,
        admin,
    }
}

async fn ok(h: &Harness, uri: &str, token: Option<&str>) -> Value {
    let r = h.get(uri, token).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

fn field(list: &Value, key: &str) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

async fn bad_request(h: &Harness, uri: &str) -> String {
    h.get(uri, None).await.assert_error(StatusCode::BAD_REQUEST)
}

#[tokio::test]
async fn entities_count_only_readable_collections() {
    let w = world().await;
    let h = &w.h;
    let list = ok(h, "/api/v1/entities", None).await;
    assert_eq!(field(&list, "name"), ["alice", "bob"]);
    assert_eq!(list["total"], 2);
    let alice = &list["items"][0];
    assert_eq!(
        (
            &alice["collections"],
            &alice["containers"],
            &alice["images"]
        ),
        (&Value::from(1), &Value::from(2), &Value::from(3))
    );
    assert_eq!(alice["size_bytes"], 23);
    assert_eq!(alice["downloads"], 2);
    for insider in [&w.alice, &w.admin] {
        let alice = ok(h, "/api/v1/entities/alice", Some(insider)).await;
        assert_eq!(
            (&alice["collections"], &alice["size_bytes"]),
            (&2.into(), &36.into())
        );
        assert_eq!(alice["downloads"], 3);
    }
    let seen_by_bob = ok(h, "/api/v1/entities/alice", Some(&w.bob)).await;
    assert_eq!(seen_by_bob["size_bytes"], 23);
    h.get("/api/v1/entities/nobody", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);

    let q = ok(h, "/api/v1/entities?q=BO", None).await;
    assert_eq!(field(&q, "name"), ["bob"]);
    for wildcard in ["%25", "_", "%5C"] {
        let q = ok(h, &format!("/api/v1/entities?q={wildcard}"), None).await;
        assert_eq!(q["total"], 0, "q={wildcard} matches literally");
    }
    assert_eq!(
        ok(h, "/api/v1/entities?q=%20", None).await["total"],
        2,
        "blank q"
    );
    let by_size = ok(h, "/api/v1/entities?sort=size", None).await;
    assert_eq!(field(&by_size, "name"), ["bob", "alice"]);
    let desc = ok(h, "/api/v1/entities?sort=downloads&order=desc", None).await;
    assert_eq!(field(&desc, "name"), ["alice", "bob"]);
    let by_colls = ok(
        h,
        "/api/v1/entities?sort=collections&order=desc",
        Some(&w.alice),
    )
    .await;
    assert_eq!(field(&by_colls, "name"), ["alice", "bob"]);
    let name_desc = ok(h, "/api/v1/entities?order=desc", None).await;
    assert_eq!(field(&name_desc, "name"), ["bob", "alice"]);
    bad_request(h, "/api/v1/entities?sort=stars").await;
}

#[tokio::test]
async fn collections_hide_private_and_filter_sort_page() {
    let w = world().await;
    let h = &w.h;
    for outsider in [None, Some(w.bob.as_str())] {
        let list = ok(h, "/api/v1/collections", outsider).await;
        assert_eq!(field(&list, "path"), ["alice/pub", "bob/data"]);
        assert_eq!(list["total"], 2);
        let private = ok(h, "/api/v1/collections?private=true", outsider).await;
        assert_eq!(
            (private["total"].clone(), private["items"].clone()),
            (0.into(), Value::Array(vec![]))
        );
    }
    for insider in [&w.alice, &w.admin] {
        let list = ok(h, "/api/v1/collections", Some(insider)).await;
        assert_eq!(
            field(&list, "path"),
            ["alice/pub", "alice/secret", "bob/data"]
        );
        let private = ok(h, "/api/v1/collections?private=true", Some(insider)).await;
        assert_eq!(field(&private, "path"), ["alice/secret"]);
        assert_eq!(private["items"][0]["size_bytes"], 13);
        assert_eq!(private["items"][0]["private"], true);
        let public = ok(h, "/api/v1/collections?private=false", Some(insider)).await;
        assert_eq!(public["total"], 2);
    }
    let pub_coll = &ok(h, "/api/v1/collections", None).await["items"][0];
    assert_eq!(pub_coll["containers"], 2);
    assert_eq!(pub_coll["images"], 3);
    assert_eq!(pub_coll["size_bytes"], 23);
    assert_eq!(pub_coll["downloads"], 2);

    let filtered = ok(h, "/api/v1/collections?entity=bob", None).await;
    assert_eq!(field(&filtered, "path"), ["bob/data"]);
    let q = ok(h, "/api/v1/collections?q=SEC", Some(&w.alice)).await;
    assert_eq!(field(&q, "path"), ["alice/secret"]);
    assert_eq!(ok(h, "/api/v1/collections?q=sec", None).await["total"], 0);
    for (query, expected) in [
        ("sort=size", vec!["bob/data", "alice/pub"]),
        ("sort=size&order=desc", vec!["alice/pub", "bob/data"]),
        ("sort=downloads", vec!["bob/data", "alice/pub"]),
        ("sort=containers&order=desc", vec!["alice/pub", "bob/data"]),
        ("sort=updated&order=desc", vec!["bob/data", "alice/pub"]),
        ("sort=stars", vec!["alice/pub", "bob/data"]),
        ("order=desc", vec!["bob/data", "alice/pub"]),
    ] {
        let list = ok(h, &format!("/api/v1/collections?{query}"), None).await;
        assert_eq!(field(&list, "path"), expected, "{query}");
    }

    // Paging: total, next and Link keep the other parameters.
    let first = h
        .get("/api/v1/collections?per_page=1&sort=size", None)
        .await;
    let body = first.json();
    assert_eq!(
        (body["total"].clone(), body["page"].clone()),
        (2.into(), 1.into())
    );
    assert_eq!(field(&body, "path"), ["bob/data"]);
    let next = body["next"].as_str().unwrap();
    assert!(
        next.starts_with("http://registry.test/api/v1/collections?"),
        "{next}"
    );
    assert!(next.contains("page=2") && next.contains("sort=size") && next.contains("per_page=1"));
    let link = first.header("link").unwrap();
    assert!(
        link.contains("rel=\"next\"") && link.contains("rel=\"last\""),
        "{link}"
    );
    assert!(!link.contains("rel=\"prev\""));
    let second = ok(h, next, None).await;
    assert_eq!(field(&second, "path"), ["alice/pub"]);
    assert!(second["next"].is_null());
    let beyond = h.get("/api/v1/collections?page=9", None).await;
    assert_eq!(beyond.status, StatusCode::OK);
    assert_eq!(beyond.json()["items"], Value::Array(vec![]));
    assert_eq!(beyond.json()["total"], 2);
    assert!(beyond.json()["next"].is_null());
    assert!(beyond.header("link").unwrap().contains("rel=\"prev\""));

    for bad in [
        "per_page=101",
        "per_page=0",
        "page=0",
        "page=1000001",
        "page=abc",
        "page=-1",
        "sort=bogus",
        "order=up",
        "private=maybe",
        "colour=red",
    ] {
        let message = bad_request(h, &format!("/api/v1/collections?{bad}")).await;
        assert!(!message.contains("internal"), "{bad}: {message}");
    }
}

#[tokio::test]
async fn collection_detail_is_private_aware() {
    let w = world().await;
    let h = &w.h;
    let coll = ok(h, "/api/v1/collections/alice/pub", None).await;
    assert_eq!(
        (coll["path"].as_str(), coll["containers"].as_u64()),
        (Some("alice/pub"), Some(2))
    );
    assert_eq!(coll["size_bytes"], 23);
    for outsider in [None, Some(w.bob.as_str())] {
        h.get("/api/v1/collections/alice/secret", outsider)
            .await
            .assert_error(StatusCode::NOT_FOUND);
    }
    for insider in [&w.alice, &w.admin] {
        let coll = ok(h, "/api/v1/collections/alice/secret", Some(insider)).await;
        assert_eq!(
            (coll["private"].as_bool(), coll["size_bytes"].as_u64()),
            (Some(true), Some(13))
        );
        assert_eq!(coll["downloads"], 1);
    }
    h.get("/api/v1/collections/alice/none", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn containers_filter_sort_and_hide_private() {
    let w = world().await;
    let h = &w.h;
    let all = ok(h, "/api/v1/containers", None).await;
    assert_eq!(
        field(&all, "path"),
        ["alice/pub/hello", "alice/pub/world", "bob/data/db"]
    );
    let hello = &all["items"][0];
    assert_eq!(
        (hello["images"].as_u64(), hello["tags"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(
        (hello["size_bytes"].as_u64(), hello["downloads"].as_u64()),
        (Some(20), Some(2))
    );
    assert_eq!(hello["archs"], serde_json::json!(["amd64"]));
    assert_eq!(ok(h, "/api/v1/containers", Some(&w.bob)).await["total"], 3);
    for insider in [&w.alice, &w.admin] {
        let list = ok(h, "/api/v1/containers", Some(insider)).await;
        assert_eq!(list["total"], 4);
        assert!(field(&list, "path").contains(&"alice/secret/hidden".to_string()));
    }
    for (query, token, expected) in [
        ("entity=bob", None, vec!["bob/data/db"]),
        (
            "collection=pub",
            None,
            vec!["alice/pub/hello", "alice/pub/world"],
        ),
        ("entity=alice&collection=secret", None, vec![]),
        (
            "entity=alice&collection=secret",
            Some(&w.alice),
            vec!["alice/secret/hidden"],
        ),
        ("q=WOR", None, vec!["alice/pub/world"]),
        ("q=hid", None, vec![]),
        ("arch=arm64", None, vec![]),
        (
            "sort=size",
            None,
            vec!["alice/pub/world", "bob/data/db", "alice/pub/hello"],
        ),
        (
            "sort=downloads&order=desc",
            None,
            vec!["alice/pub/hello", "bob/data/db", "alice/pub/world"],
        ),
        (
            "sort=stars&order=desc",
            None,
            vec!["bob/data/db", "alice/pub/hello", "alice/pub/world"],
        ),
        (
            "sort=created&order=desc",
            None,
            vec!["bob/data/db", "alice/pub/world", "alice/pub/hello"],
        ),
        (
            "sort=updated",
            None,
            vec!["alice/pub/hello", "alice/pub/world", "bob/data/db"],
        ),
        (
            "order=desc",
            None,
            vec!["bob/data/db", "alice/pub/world", "alice/pub/hello"],
        ),
    ] {
        let list = ok(
            h,
            &format!("/api/v1/containers?{query}"),
            token.map(String::as_str),
        )
        .await;
        assert_eq!(field(&list, "path"), expected, "{query}");
        assert_eq!(list["total"], expected.len(), "{query}");
    }
    let amd = ok(h, "/api/v1/containers?arch=amd64&per_page=2", None).await;
    assert_eq!(
        (
            amd["total"].as_u64(),
            amd["items"].as_array().unwrap().len()
        ),
        (Some(3), 2)
    );
    bad_request(h, "/api/v1/containers?sort=name&per_page=1000").await;
    bad_request(h, "/api/v1/containers?name=x").await;
}

#[tokio::test]
async fn container_detail_has_tags_per_arch_and_images() {
    let w = world().await;
    let h = &w.h;
    let c = ok(h, "/api/v1/containers/alice/pub/hello", None).await;
    assert_eq!(c["path"], "alice/pub/hello");
    assert_eq!(
        (c["images"].as_u64(), c["downloads"].as_u64()),
        (Some(2), Some(2))
    );
    let amd64 = c["tags_by_arch"]["amd64"].as_array().unwrap();
    let tags: Vec<&str> = amd64.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tags, ["1.0", "latest"]);
    assert_eq!(amd64[1]["sha256"], common::sha256_hex(b"hello-two!!"));
    assert_eq!(amd64[1]["size_bytes"], 11);
    let images = c["latest_images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0]["sha256"], common::sha256_hex(b"hello-two!!"));
    assert_eq!(images[0]["tags"], serde_json::json!(["latest"]));
    assert!(images[0]["build_time"].is_null() && images[0]["labels"].is_null());

    for outsider in [None, Some(w.bob.as_str())] {
        h.get("/api/v1/containers/alice/secret/hidden", outsider)
            .await
            .assert_error(StatusCode::NOT_FOUND);
    }
    for insider in [&w.alice, &w.admin] {
        let c = ok(h, "/api/v1/containers/alice/secret/hidden", Some(insider)).await;
        assert_eq!(
            (c["private"].as_bool(), c["stars"].as_u64()),
            (Some(true), Some(1))
        );
    }
    h.get("/api/v1/containers/alice/pub/nope", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    bad_request(h, "/api/v1/containers/alice/pub/Bad%20Name").await;
}

#[tokio::test]
async fn images_list_filters_and_pages() {
    let w = world().await;
    let h = &w.h;
    let base = "/api/v1/containers/alice/pub/hello/images";
    let list = ok(h, base, None).await;
    assert_eq!(list["total"], 2);
    let newest = &list["items"][0];
    assert_eq!(newest["sha256"], common::sha256_hex(b"hello-two!!"));
    assert_eq!(
        (newest["size_bytes"].as_u64(), newest["downloads"].as_u64()),
        (Some(11), Some(2))
    );
    assert_eq!(
        (newest["arch"].as_str(), newest["uploaded"].as_bool()),
        (Some("amd64"), Some(true))
    );
    assert!(newest["created_at"]
        .as_str()
        .unwrap()
        .starts_with(&Utc::now().format("%Y-").to_string()));
    assert_eq!(list["items"][1]["downloads"], 0);
    let sizes = |v: &Value| -> Vec<u64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["size_bytes"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(
        sizes(&ok(h, &format!("{base}?sort=size&order=asc"), None).await),
        [9, 11]
    );
    assert_eq!(
        sizes(&ok(h, &format!("{base}?order=asc"), None).await),
        [9, 11]
    );
    assert_eq!(
        sizes(&ok(h, &format!("{base}?sort=downloads"), None).await),
        [11, 9]
    );
    assert_eq!(ok(h, &format!("{base}?arch=arm64"), None).await["total"], 0);
    assert_eq!(ok(h, &format!("{base}?arch=amd64"), None).await["total"], 2);
    assert_eq!(
        ok(h, &format!("{base}?uploaded=false"), None).await["total"],
        0
    );
    let page2 = ok(h, &format!("{base}?per_page=1&page=2"), None).await;
    assert_eq!(sizes(&page2), [9]);
    assert!(page2["next"].is_null());
    let hidden = "/api/v1/containers/alice/secret/hidden/images";
    for outsider in [None, Some(w.bob.as_str())] {
        h.get(hidden, outsider)
            .await
            .assert_error(StatusCode::NOT_FOUND);
    }
    assert_eq!(
        ok(h, hidden, Some(&w.admin)).await["items"][0]["size_bytes"],
        13
    );
    bad_request(h, &format!("{base}?uploaded=yes")).await;
    bad_request(h, &format!("{base}?sort=name")).await;
}

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
         `cargo run -p server -- openapi > docs/openapi.json` (or `silo openapi > docs/openapi.json`)"
    );
}
