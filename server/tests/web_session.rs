//! The web interface's sessions: sign-in with a token, the session cookie, sign-out, expiry,
//! the same-origin rule, stars through server functions, and the browser upload endpoint.
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, Reply, PUBLIC_URL};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::Value;
use silo_domain::entities::{audit_log, collection, container, image, session};

const EVIL: &str = "https://evil.example";

fn fixture_sif() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../domain/tests/fixtures/signed.sif");
    std::fs::read(path).unwrap()
}

/// A server function call as the SPA makes it (URL-encoded arguments).
async fn rpc(
    h: &Harness,
    name: &str,
    form: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Reply {
    let mut builder = Request::builder()
        .method("POST")
        .uri(format!("/rpc/{name}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", format!("silo_session={cookie}"));
    }
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    h.send(builder.body(Body::from(form.to_string())).unwrap())
        .await
}

fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs in and returns the session cookie's value.
async fn sign_in(h: &Harness, user: &str, token: &str) -> String {
    let form = format!("username={user}&token={}", encode(token));
    let reply = rpc(h, "login", &form, None, Some(PUBLIC_URL)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    assert_eq!(reply.json()["username"], user);
    let cookie = reply.header("set-cookie").expect("a session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain-http registry: {cookie}");
    let value = cookie
        .strip_prefix("silo_session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_string();
    assert!(!value.is_empty());
    value
}

async fn viewer(h: &Harness, cookie: Option<&str>) -> Value {
    let reply = rpc(h, "viewer", "", cookie, Some(PUBLIC_URL)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    reply.json()
}

#[tokio::test]
async fn sign_in_sign_out_and_the_viewer_of_server_functions() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    assert_eq!(viewer(&h, None).await, Value::Null);
    let cookie = sign_in(&h, "alice", &token).await;
    let me = viewer(&h, Some(&cookie)).await;
    assert_eq!(
        (me["username"].as_str(), me["can_push"].as_bool()),
        (Some("alice"), Some(true))
    );
    // The cookie holds a secret; the database only its hash.
    let row = session::Entity::find()
        .one(h.registry.db())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.secret_hash, cookie);
    // A bearer token works for server functions too (scripts, no cookie).
    let mut bearer = Request::builder()
        .method("POST")
        .uri("/rpc/viewer")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    bearer
        .headers_mut()
        .insert("accept", "application/json".parse().unwrap());
    let reply = h.send(bearer).await;
    assert_eq!(reply.json()["username"], "alice");

    let out = rpc(&h, "logout", "", Some(&cookie), Some(PUBLIC_URL)).await;
    assert_eq!(out.status, StatusCode::OK, "{}", text(&out));
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert_eq!(viewer(&h, Some(&cookie)).await, Value::Null, "revoked");
    assert_eq!(
        session::Entity::find()
            .count(h.registry.db())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn failed_sign_in_is_one_message_and_audited() {
    let h = Harness::new().await;
    let alice = h.user("alice", false).await;
    h.user("bob", false).await;
    let mut messages = Vec::new();
    for form in [
        format!("username=bob&token={}", encode(&alice)),
        format!("username=nobody&token={}", encode(&alice)),
        "username=alice&token=silo_wrong".to_string(),
    ] {
        let reply = rpc(&h, "login", &form, None, Some(PUBLIC_URL)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", text(&reply));
        assert!(reply.header("set-cookie").is_none());
        messages.push(text(&reply));
    }
    assert!(messages.iter().all(|m| m == &messages[0]), "{messages:?}");
    assert!(messages[0].contains("not valid"), "{}", messages[0]);
    let audited = audit_log::Entity::find()
        .count(h.registry.db())
        .await
        .unwrap();
    assert_eq!(audited, 3);
}

#[tokio::test]
async fn cross_origin_cookie_requests_are_refused() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    // Signing in from a foreign page, or with no proof of origin, is refused.
    let form = format!("username=alice&token={}", encode(&token));
    for origin in [Some(EVIL), None] {
        let reply = rpc(&h, "login", &form, None, origin).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", text(&reply));
        assert!(text(&reply).contains("cross-origin"));
    }
    let cookie = sign_in(&h, "alice", &token).await;
    let c = h.container(&token, "alice/tools/hello", false).await;
    h.push(&token, &c, b"hello", "latest").await;
    let star = "entity=alice&collection=tools&container=&on=true";
    let refused = rpc(&h, "star", star, Some(&cookie), Some(EVIL)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", text(&refused));
    let mut fetch_site = Request::builder()
        .method("POST")
        .uri("/rpc/star")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", format!("silo_session={cookie}"))
        .header("origin", PUBLIC_URL)
        .header("sec-fetch-site", "same-site")
        .body(Body::from(star))
        .unwrap();
    fetch_site
        .headers_mut()
        .insert("accept", "application/json".parse().unwrap());
    assert_eq!(h.send(fetch_site).await.status, StatusCode::FORBIDDEN);
    let count = rpc(
        &h,
        "stars",
        "entity=alice&collection=tools&container=",
        None,
        None,
    )
    .await;
    assert_eq!(count.json()["count"], 0, "nothing was starred");
    let ok = rpc(&h, "star", star, Some(&cookie), Some(PUBLIC_URL)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", text(&ok));
    assert_eq!(ok.json(), serde_json::json!({"count": 1, "starred": true}));
    // Anonymous visitors see the count but may not star.
    let anon = rpc(&h, "star", star, None, Some(PUBLIC_URL)).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{}", text(&anon));
}

#[tokio::test]
async fn ended_sessions_are_anonymous() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let idle = sign_in(&h, "alice", &token).await;
    let old = sign_in(&h, "alice", &token).await;
    let rows = session::Entity::find().all(h.registry.db()).await.unwrap();
    assert_eq!(rows.len(), 2);
    let limits = server::config::WebSettings::default().session_limits();
    for (row, (seen, expires)) in rows.into_iter().zip([
        (
            limits.idle + chrono::Duration::minutes(1),
            chrono::Duration::days(1),
        ),
        (chrono::Duration::minutes(1), -chrono::Duration::minutes(1)),
    ]) {
        let mut active: session::ActiveModel = row.into();
        active.last_seen_at = Set(chrono::Utc::now() - seen);
        active.expires_at = Set(chrono::Utc::now() + expires);
        active.update(h.registry.db()).await.unwrap();
    }
    assert_eq!(viewer(&h, Some(&idle)).await, Value::Null);
    assert_eq!(viewer(&h, Some(&old)).await, Value::Null);
    // Anonymous again: private pages look absent.
    let reply = rpc(
        &h,
        "star",
        "entity=alice&collection=x&container=&on=true",
        Some(&idle),
        Some(PUBLIC_URL),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", text(&reply));
}

/// A browser upload: raw body, session cookie, same-origin headers.
async fn upload(
    h: &Harness,
    query: &str,
    cookie: Option<&str>,
    origin: &str,
    bytes: Vec<u8>,
) -> Reply {
    let mut builder = Request::builder()
        .method("POST")
        .uri(format!("/web/upload?{query}"))
        .header("origin", origin)
        .header("content-length", bytes.len().to_string());
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", format!("silo_session={cookie}"));
    }
    h.send(builder.body(Body::from(bytes)).unwrap()).await
}

async fn nothing_stored(h: &Harness) {
    let db = h.registry.db();
    assert_eq!(collection::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(container::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(image::Entity::find().count(db).await.unwrap(), 0);
    assert_eq!(h.blob_count(), 0);
    assert_eq!(h.temp_files(), 0);
}

#[tokio::test]
async fn browser_upload_streams_a_sif_into_a_new_container() {
    let h = Harness::sif_only().await;
    let token = h.user("alice", false).await;
    let cookie = sign_in(&h, "alice", &token).await;
    let sif = fixture_sif();
    let query = "entity=alice&collection=lab&container=tool&tag=v1&private=true";
    let reply = upload(&h, query, Some(&cookie), PUBLIC_URL, sif.clone()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", text(&reply));
    let done = reply.json();
    assert_eq!(done["path"], "alice/lab/tool");
    assert_eq!(done["href"], "/c/alice/lab/tool");
    assert_eq!(done["size"], sif.len());
    // Private: the library API shows it to alice only.
    let pull = h.get("/v1/imagefile/alice/lab/tool:v1", Some(&token)).await;
    assert_eq!(pull.status, StatusCode::OK);
    assert_eq!(pull.body, sif);
    assert_eq!(
        h.get("/v1/imagefile/alice/lab/tool:v1", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn browser_upload_refusals_leave_nothing_behind() {
    let h = Harness::with_config(|c| {
        c.accept_non_sif = false;
        c.web.upload_max_mib = 1;
    })
    .await;
    let token = h.user("alice", false).await;
    let bob_token = h.user("bob", false).await;
    let cookie = sign_in(&h, "alice", &token).await;
    let bob = sign_in(&h, "bob", &bob_token).await;
    let query = "entity=alice&collection=lab&container=tool&tag=latest";
    let sif = fixture_sif();

    let anon = upload(&h, query, None, PUBLIC_URL, sif.clone()).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{}", text(&anon));
    let cross = upload(&h, query, Some(&cookie), EVIL, sif.clone()).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "{}", text(&cross));
    let foreign = upload(&h, query, Some(&bob), PUBLIC_URL, sif.clone()).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", text(&foreign));
    let not_sif = upload(
        &h,
        query,
        Some(&cookie),
        PUBLIC_URL,
        b"#!/bin/sh\necho hi\n".repeat(20),
    )
    .await;
    let message = not_sif.assert_error(StatusCode::BAD_REQUEST);
    assert!(message.contains("not a valid SIF image"), "{message}");
    let big = upload(
        &h,
        query,
        Some(&cookie),
        PUBLIC_URL,
        vec![0u8; 1024 * 1024 + 1],
    )
    .await;
    let message = big.assert_error(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(message.contains("too large"), "{message}");
    let bad = upload(
        &h,
        "entity=alice&collection=Bad%20Name&container=x",
        Some(&cookie),
        PUBLIC_URL,
        sif,
    )
    .await;
    bad.assert_error(StatusCode::BAD_REQUEST);
    nothing_stored(&h).await;
}
