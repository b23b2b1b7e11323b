//! The tokens page's server functions end to end: a signed-in user creates a token (only from
//! this registry's pages), uses it on every surface (library API, OCI token endpoint, REST,
//! server functions, sregistry credentials), revokes it, and every surface refuses it; expired
//! tokens likewise.
mod common;
#[path = "common/sregistry.rs"]
mod sreg;
mod tokens_support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Harness, Reply};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use silo_domain::entities::api_token;
use tokens_support::*;

const EVIL: &str = "https://evil.example";

/// Basic-auth token request to the OCI token endpoint, the token as password.
async fn oci_token(h: &Harness, user: &str, password: &str) -> Reply {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let request = Request::builder()
        .uri("/v2/token?service=registry.test&scope=repository:alice/tools/hello:push,pull")
        .header("authorization", format!("Basic {basic}"))
        .body(Body::empty())
        .unwrap();
    h.send(request).await
}

/// A server function called with `Authorization: Bearer` (scripts; no cookie).
async fn bearer_rpc(h: &Harness, name: &str, token: &str) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri(format!("/rpc/{name}"))
        .header("authorization", format!("Bearer {token}"))
        .header("accept", "application/json")
        .body(Body::empty())
        .unwrap();
    h.send(request).await
}

/// Asserts that every bearer surface accepts (`true`) or refuses `token`.
async fn check_surfaces(h: &Harness, token: &str, accepted: bool) {
    let library = h.get("/v1/token-status", Some(token)).await;
    let rest = h.get("/api/v1/collections", Some(token)).await;
    let oci = oci_token(h, "alice", token).await;
    let rpc = bearer_rpc(h, "tokens", token).await;
    if accepted {
        assert_eq!(library.status, StatusCode::OK, "{}", text(&library));
        assert_eq!(library.data()["username"], "alice");
        assert_eq!(rest.status, StatusCode::OK, "{}", text(&rest));
        assert_eq!(oci.status, StatusCode::OK, "{}", text(&oci));
        assert_eq!(rpc.status, StatusCode::OK, "{}", text(&rpc));
    } else {
        library.assert_error(StatusCode::UNAUTHORIZED);
        rest.assert_error(StatusCode::UNAUTHORIZED);
        assert_eq!(oci.status, StatusCode::UNAUTHORIZED, "{}", text(&oci));
        assert!(
            oci.json()["errors"][0]["code"].is_string(),
            "{}",
            text(&oci)
        );
        assert_eq!(rpc.status, StatusCode::UNAUTHORIZED, "{}", text(&rpc));
        // shub://host/alice/tools/hello with the token as bearer: the sregistry envelope.
        let shub = h
            .get("/alice/api/container/tools/hello:latest", Some(token))
            .await;
        assert_eq!(shub.status, StatusCode::FORBIDDEN, "{}", text(&shub));
        assert!(shub.json()["detail"].is_string());
    }
}

#[tokio::test]
async fn created_tokens_work_everywhere_until_revoked() {
    let h = Harness::new().await;
    let bootstrap = h.user("alice", false).await;
    let cookie = sign_in(&h, "alice", &bootstrap).await;
    let form = "label=laptop&scope=push&expires=30";

    // Only from this registry's pages, and only when signed in.
    let cross = rpc(&h, "tokens/create", form, Some(&cookie), Some(EVIL)).await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN, "{}", text(&cross));
    let no_origin = rpc(&h, "tokens/create", form, Some(&cookie), None).await;
    assert_eq!(no_origin.status, StatusCode::FORBIDDEN);
    let anonymous = rpc(&h, "tokens/create", form, None, None).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        text(&anonymous)
    );
    let admin_scope = page_rpc(
        &h,
        "tokens/create",
        "label=x&scope=admin&expires=30",
        &cookie,
    )
    .await;
    assert_eq!(admin_scope.status, StatusCode::FORBIDDEN);
    let no_label = page_rpc(
        &h,
        "tokens/create",
        "label=+&scope=read&expires=30",
        &cookie,
    )
    .await;
    assert_eq!(no_label.status, StatusCode::BAD_REQUEST);

    let created = page_rpc(&h, "tokens/create", form, &cookie).await;
    assert_eq!(created.status, StatusCode::OK, "{}", text(&created));
    let created = created.json();
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["token"]["id"].as_i64().unwrap();
    assert_eq!(created["token"]["scope"], "push");
    assert_eq!(created["token"]["status"], "active");
    assert!(created["token"]["expires_at"]["rfc3339"].is_string());

    let listed = page_rpc(&h, "tokens", "", &cookie).await.json();
    assert_eq!(listed["username"], "alice");
    assert_eq!(listed["scopes"], serde_json::json!(["read", "push"]));
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 2);
    assert!(!text(&page_rpc(&h, "tokens", "", &cookie).await).contains(&secret));

    check_surfaces(&h, &secret, true).await;
    // The new token pushes through the library API.
    let container = h.container(&secret, "alice/tools/hello", false).await;
    h.push(
        &secret,
        &container,
        b"pushed with a page-made token",
        "latest",
    )
    .await;
    let listed = page_rpc(&h, "tokens", "", &cookie).await.json();
    let row = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()
        .clone();
    assert!(row["last_used_at"]["text"].is_string(), "{row}");

    // Bob cannot revoke it; a revocation from a foreign page is refused.
    let bob = h.user("bob", false).await;
    let bob_cookie = sign_in(&h, "bob", &bob).await;
    let theirs = page_rpc(&h, "tokens/revoke", &format!("id={id}"), &bob_cookie).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let cross = rpc(
        &h,
        "tokens/revoke",
        &format!("id={id}"),
        Some(&cookie),
        Some(EVIL),
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    check_surfaces(&h, &secret, true).await;

    let revoked = page_rpc(&h, "tokens/revoke", &format!("id={id}"), &cookie).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", text(&revoked));
    check_surfaces(&h, &secret, false).await;
    let push = h
        .post_json(
            "/v1/containers",
            Some(&secret),
            serde_json::json!({"entity": "alice", "collection": "x", "name": "y"}),
        )
        .await;
    push.assert_error(StatusCode::UNAUTHORIZED);
    let listed = page_rpc(&h, "tokens", "", &cookie).await.json();
    assert!(listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == id && t["status"] == "revoked"));
    // The session signed in with the bootstrap token is unaffected.
    assert_eq!(
        page_rpc(&h, "tokens", "", &cookie).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn expired_tokens_and_revoked_sregistry_credentials_are_refused() {
    let h = Harness::new().await;
    let bootstrap = h.user("alice", false).await;
    let cookie = sign_in(&h, "alice", &bootstrap).await;
    let date = (chrono::Utc::now() + chrono::Duration::days(100))
        .format("%Y-%m-%d")
        .to_string();
    let form = format!("label=short&scope=read&expires={date}");
    let created = page_rpc(&h, "tokens/create", &form, &cookie).await;
    assert_eq!(created.status, StatusCode::OK, "{}", text(&created));
    let created = created.json();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(created["token"]["expires_at"]["rfc3339"]
        .as_str()
        .unwrap()
        .starts_with(&date));
    check_surfaces(&h, &secret, true).await;
    let row = api_token::Entity::find_by_id(created["token"]["id"].as_i64().unwrap())
        .one(h.registry.db())
        .await
        .unwrap()
        .unwrap();
    let mut active: api_token::ActiveModel = row.into();
    active.expires_at = Set(Some(chrono::Utc::now() - chrono::Duration::seconds(1)));
    active.update(h.registry.db()).await.unwrap();
    check_surfaces(&h, &secret, false).await;
    let listed = page_rpc(&h, "tokens", "", &cookie).await.json();
    assert!(listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["status"] == "expired"));

    // An sregistry credential lives and dies with its token.
    let key = sreg::key(&h, "alice").await;
    let (first, second) = sreg::push(&h, &key, "alice/legacy", "tool", "v1", b"bytes").await;
    assert_eq!(first.status, StatusCode::OK, "{}", text(&first));
    assert_eq!(second.unwrap().status, StatusCode::OK);
    let listed = page_rpc(&h, "tokens", "", &cookie).await.json();
    let sregistry_id = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "sregistry")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let revoked = page_rpc(&h, "tokens/revoke", &format!("id={sregistry_id}"), &cookie).await;
    assert_eq!(revoked.status, StatusCode::OK);
    let (refused, _) = sreg::push(&h, &key, "alice/legacy", "tool", "v2", b"more").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", text(&refused));
    assert!(refused.json()["detail"].is_string());
}
