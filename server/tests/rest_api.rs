//! The metadata REST API (`/api/v1/…`), catalog endpoints: every endpoint, filter, sort and
//! paging bound; bad input answered 400 in the REST envelope; private collections absent for
//! anonymous callers and other users, present for owner and admin.
mod common;
mod rest_world;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::Value;

use rest_world::{bad_request, field, ok, world};

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
async fn images_report_build_time_and_labels_from_the_sif() {
    let h = common::Harness::new().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/tools/hello", false).await;
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../domain/tests/fixtures/full.sif");
    let sif = std::fs::read(&path).unwrap();
    h.push(&token, &cont, &sif, "latest").await;
    let list = ok(&h, "/api/v1/containers/alice/tools/hello/images", None).await;
    let image = &list["items"][0];
    assert_eq!(image["arch"], "arm64");
    assert_eq!(image["labels"]["maintainer"], "research-computing");
    let built = image["build_time"]
        .as_str()
        .expect("build time from the SIF header");
    assert!(
        chrono::DateTime::parse_from_rfc3339(built).is_ok(),
        "{built}"
    );
    let detail = ok(&h, "/api/v1/containers/alice/tools/hello", None).await;
    assert_eq!(detail["latest_images"][0]["labels"], image["labels"]);
    assert_eq!(detail["archs"], serde_json::json!(["arm64"]));
}
