//! The registry the REST API tests look at, and their helpers.
#![allow(dead_code)]
use axum::http::StatusCode;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::Value;
use silo_domain::entities::star;

use crate::common::Harness;

pub struct World {
    pub h: Harness,
    pub alice: String,
    pub bob: String,
    pub admin: String,
}

/// Public: alice/pub/hello (9 B tagged 1.0, 11 B tagged latest), alice/pub/world (3 B),
/// bob/data/db (14 B). Private: alice/secret/hidden (13 B). Downloads: hello twice and db
/// once (anonymous), hidden once (alice). Stars: alice stars bob/data/db and her hidden.
pub async fn world() -> World {
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

pub async fn ok(h: &Harness, uri: &str, token: Option<&str>) -> Value {
    let r = h.get(uri, token).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

pub fn field(list: &Value, key: &str) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

pub async fn bad_request(h: &Harness, uri: &str) -> String {
    h.get(uri, None).await.assert_error(StatusCode::BAD_REQUEST)
}
