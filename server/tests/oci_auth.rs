//! OCI authentication: the `/v2/` challenge, the token endpoint, token scopes, private
//! repositories, and the library API's `/v2/…` routes living beside the OCI ones.
mod common;
mod oci_support;

use axum::http::StatusCode;
use common::Harness;
use oci_support::*;

const NAME: &str = "alice/tools/hello";
const CHALLENGE: &str = "Bearer realm=\"http://registry.test/v2/token\",service=\"registry.test\"";

#[tokio::test]
async fn ping_challenges_until_credentials_are_valid() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let r = req(&h, "GET", "/v2/", None, &[], vec![]).await;
    assert_oci_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(r.header("www-authenticate").unwrap(), CHALLENGE);
    let r = req(&h, "GET", "/v2/", Some("not-a-token"), &[], vec![]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = req(&h, "GET", "/v2/", Some(&token), &[], vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
    let issued = registry_token(
        &h,
        Some(("alice", &token)),
        "repository:alice/tools/hello:pull",
    )
    .await;
    let bearer = issued.json()["token"].as_str().unwrap().to_string();
    let r = req(&h, "GET", "/v2/", Some(&bearer), &[], vec![]).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn library_v2_routes_still_reach_the_library_api() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let r = req(&h, "GET", "/v2/tags/1", Some(&token), &[], vec![]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        r.json()["error"]["code"].is_number(),
        "library envelope expected"
    );
    let cont = h.container(&token, "alice/tools/lib", false).await;
    h.push(&token, &cont, b"library image", "v1").await;
    let r = req(
        &h,
        "GET",
        &format!("/v2/tags/{cont}"),
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["data"].is_object());
}

#[tokio::test]
async fn token_endpoint_grants_what_the_policy_allows() {
    let h = Harness::new().await;
    let alice = h.user("alice", false).await;
    let bob = h.user("bob", false).await;
    let scope = "repository:alice/tools/hello:pull,push";

    let r = registry_token(&h, Some(("alice", &alice)), scope).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["token"], body["access_token"]);
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    assert!(body["issued_at"].is_string());
    let alice_bearer = body["token"].as_str().unwrap().to_string();
    push_sif(
        &h,
        &alice_bearer,
        NAME,
        "v1",
        b"pushed with a registry token",
    )
    .await;

    // Wrong password or a token of another user: 401.
    let r = registry_token(&h, Some(("alice", "wrong")), scope).await;
    assert_oci_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let r = registry_token(&h, Some(("alice", &bob)), scope).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Bob may pull but not push into alice's repository: 403 DENIED.
    let r = registry_token(&h, Some(("bob", &bob)), scope).await;
    let bob_bearer = r.json()["token"].as_str().unwrap().to_string();
    let pull = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/manifests/v1"),
        Some(&bob_bearer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(pull.status, StatusCode::OK);
    let push = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/"),
        Some(&bob_bearer),
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&push, StatusCode::FORBIDDEN, "DENIED");
    // The 403 names the scope needed, so clients holding a narrower token fetch another.
    assert!(push
        .header("www-authenticate")
        .unwrap()
        .ends_with(&format!("scope=\"repository:{NAME}:pull,push\"")));
    // Bob's raw API token reaches the policy directly: 403 too.
    let push = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/"),
        Some(&bob),
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&push, StatusCode::FORBIDDEN, "DENIED");

    // Anonymous: a token with pull only; pushes are asked to authenticate.
    let r = registry_token(&h, None, scope).await;
    let anon = r.json()["token"].as_str().unwrap().to_string();
    let pull = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/tags/list"),
        Some(&anon),
        &[],
        vec![],
    )
    .await;
    assert_eq!(pull.status, StatusCode::OK);
    let push = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/"),
        Some(&anon),
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&push, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(
        push.header("www-authenticate").unwrap(),
        format!("{CHALLENGE},scope=\"repository:{NAME}:pull,push\"")
    );
    // A token for another repository: 401 with the scope needed.
    let other = req(
        &h,
        "GET",
        "/v2/alice/tools/other/tags/list",
        Some(&alice_bearer),
        &[],
        vec![],
    )
    .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
    assert!(other
        .header("www-authenticate")
        .unwrap()
        .contains("repository:alice/tools/other:pull"));
    // A tampered token is refused.
    let last = if alice_bearer.ends_with('0') {
        '1'
    } else {
        '0'
    };
    let tampered = format!("{}{last}", &alice_bearer[..alice_bearer.len() - 1]);
    assert_ne!(tampered, alice_bearer);
    let r = req(
        &h,
        "GET",
        &format!("/v2/{NAME}/tags/list"),
        Some(&tampered),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unauthenticated_pushes_are_challenged() {
    let h = Harness::new().await;
    h.user("alice", false).await;
    let r = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/"),
        None,
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&r, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert!(r.header("www-authenticate").unwrap().contains(":pull,push"));
    let r = put_manifest(&h, "bogus", NAME, "v1", &sif_manifest(b"x")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Read-only tokens cannot push.
    let read = h
        .registry
        .create_token(
            "alice",
            silo_domain::services::NewToken {
                label: "ro".into(),
                scope: Some(silo_domain::Scope::Read),
                expires_in_days: None,
            },
        )
        .await
        .unwrap()
        .secret;
    let r = req(
        &h,
        "POST",
        &format!("/v2/{NAME}/blobs/uploads/"),
        Some(&read),
        &[],
        vec![],
    )
    .await;
    assert_oci_error(&r, StatusCode::FORBIDDEN, "DENIED");
}

#[tokio::test]
async fn private_repositories_do_not_exist_for_others() {
    let h = Harness::new().await;
    let alice = h.user("alice", false).await;
    let bob = h.user("bob", false).await;
    h.container(&alice, "alice/secret/hello", true).await;
    let name = "alice/secret/hello";
    push_sif(&h, &alice, name, "v1", b"private sif").await;
    let d = digest(b"private sif");

    let r = req(
        &h,
        "GET",
        &format!("/v2/{name}/manifests/v1"),
        Some(&alice),
        &[],
        vec![],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    for path in [
        format!("/v2/{name}/manifests/v1"),
        format!("/v2/{name}/blobs/{d}"),
        format!("/v2/{name}/tags/list"),
    ] {
        let anon = req(&h, "GET", &path, None, &[], vec![]).await;
        assert_oci_error(&anon, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        let missing = req(
            &h,
            "GET",
            &path.replace("hello", "absent"),
            None,
            &[],
            vec![],
        )
        .await;
        assert_eq!(missing.body, anon.body, "absent and private look alike");
        let other = req(&h, "GET", &path, Some(&bob), &[], vec![]).await;
        assert_oci_error(&other, StatusCode::NOT_FOUND, "NAME_UNKNOWN");
    }
    let r = req(
        &h,
        "POST",
        &format!("/v2/{name}/blobs/uploads/"),
        Some(&bob),
        &[],
        vec![],
    )
    .await;
    assert_ne!(r.status, StatusCode::ACCEPTED);

    h.container(&alice, "alice/public/hello", false).await;
    let catalog = |token: Option<String>| {
        let h = &h;
        async move {
            req(h, "GET", "/v2/_catalog", token.as_deref(), &[], vec![])
                .await
                .json()
        }
    };
    let anon = catalog(None).await;
    assert_eq!(
        anon["repositories"],
        serde_json::json!(["alice/public/hello"])
    );
    let own = catalog(Some(alice.clone())).await;
    assert_eq!(
        own["repositories"],
        serde_json::json!(["alice/public/hello", "alice/secret/hello"])
    );
    let page = req(&h, "GET", "/v2/_catalog?n=1", Some(&alice), &[], vec![]).await;
    assert_eq!(
        page.json()["repositories"],
        serde_json::json!(["alice/public/hello"])
    );
    assert!(page
        .header("link")
        .unwrap()
        .contains("last=alice%2Fpublic%2Fhello"));
}
