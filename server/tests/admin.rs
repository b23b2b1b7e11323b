//! Administration over HTTP: storage quotas refuse pushes with each protocol's envelope, the
//! admin server functions answer only administrators and obey the same-origin rule, and
//! `silo user create --admin` makes the first administrator.
mod common;
mod oci_support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{sha256_hex, Harness, Reply, PUBLIC_URL};
use oci_support::{assert_oci_error, digest, req};
use serde_json::json;

const EVIL: &str = "https://evil.example";

async fn quota_for(h: &Harness, user: &str, bytes: i64) {
    let root_token = h.user("root", true).await;
    let root = h.registry.authenticate(&root_token).await.unwrap();
    h.registry.set_user_quota(&root, user, bytes).await.unwrap();
}

#[tokio::test]
async fn library_push_over_quota_is_refused_with_the_library_envelope() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    quota_for(&h, "alice", 16).await;
    let container = h.container(&token, "alice/tools/big", false).await;
    // 10 bytes fit.
    h.push(&token, &container, b"0123456789", "small").await;
    let bytes = b"these bytes do not fit".to_vec();
    let hash = sha256_hex(&bytes);
    let body = json!({"hash": format!("sha256.{hash}"), "container": container});
    let image = h.post_json("/v1/images", Some(&token), body).await;
    assert_eq!(image.status, StatusCode::OK);
    let id = image.data()["id"].as_str().unwrap().to_string();
    let start = json!({"filesize": bytes.len(), "sha256sum": hash, "md5sum": ""});
    let refused = h
        .post_json(&format!("/v2/imagefile/{id}"), Some(&token), start)
        .await;
    let message = refused.assert_error(StatusCode::FORBIDDEN);
    assert!(message.contains("storage quota exceeded"), "{message}");
    let multipart = json!({"filesize": bytes.len()});
    let refused = h
        .post_json(
            &format!("/v2/imagefile/{id}/_multipart"),
            Some(&token),
            multipart,
        )
        .await;
    let message = refused.assert_error(StatusCode::FORBIDDEN);
    assert!(message.contains("quota"), "{message}");
    let legacy = h
        .call(
            "POST",
            &format!("/v1/imagefile/{id}"),
            Some(&token),
            Body::from(bytes),
        )
        .await;
    let message = legacy.assert_error(StatusCode::FORBIDDEN);
    assert!(message.contains("quota"), "{message}");
    assert_eq!(h.blob_count(), 1, "only the image that fitted is stored");
}

#[tokio::test]
async fn oci_push_over_quota_is_refused_with_the_oci_envelope() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    quota_for(&h, "alice", 16).await;
    let small = b"fits".to_vec();
    let ok = req(
        &h,
        "POST",
        &format!(
            "/v2/alice/tools/oci/blobs/uploads/?digest={}",
            digest(&small)
        ),
        Some(&token),
        &[],
        small,
    )
    .await;
    assert_eq!(
        ok.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&ok.body)
    );
    let big = b"twenty bytes or more, too many".to_vec();
    let refused = req(
        &h,
        "POST",
        &format!("/v2/alice/tools/oci/blobs/uploads/?digest={}", digest(&big)),
        Some(&token),
        &[("content-length", &big.len().to_string())],
        big.clone(),
    )
    .await;
    assert_oci_error(&refused, StatusCode::FORBIDDEN, "DENIED");
    assert!(refused.json()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("storage quota exceeded"));
    // A chunked upload is refused when it completes, and leaves nothing behind.
    let start = req(
        &h,
        "POST",
        "/v2/alice/tools/oci/blobs/uploads/",
        Some(&token),
        &[],
        vec![],
    )
    .await;
    assert_eq!(start.status, StatusCode::ACCEPTED);
    let location = start.header("location").unwrap();
    let sep = if location.contains('?') { '&' } else { '?' };
    let put = req(
        &h,
        "PUT",
        &format!("{location}{sep}digest={}", digest(&big)),
        Some(&token),
        &[],
        big,
    )
    .await;
    assert_oci_error(&put, StatusCode::FORBIDDEN, "DENIED");
    assert_eq!(h.blob_count(), 1);
}

/// A server function call as the SPA makes it.
async fn rpc(h: &Harness, name: &str, form: &str, cookie: &str, origin: &str) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri(format!("/rpc/{name}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("cookie", format!("silo_session={cookie}"))
        .header("origin", origin)
        .body(Body::from(form.to_string()))
        .unwrap();
    h.send(request).await
}

async fn session_of(h: &Harness, user: &str, token: &str) -> String {
    let actor = h.registry.authenticate(token).await.unwrap();
    assert_eq!(actor.principal().unwrap().username, user);
    let limits = silo_domain::services::SessionLimits::default();
    h.registry
        .create_session(&actor, limits)
        .await
        .unwrap()
        .secret
}

#[tokio::test]
async fn admin_server_functions_need_an_admin_and_the_same_origin() {
    let h = Harness::new().await;
    let root_token = h.user("root", true).await;
    let bob_token = h.user("bob", false).await;
    let root = session_of(&h, "root", &root_token).await;
    let bob = session_of(&h, "bob", &bob_token).await;

    let list = rpc(&h, "admin_users", "search=bo&page=1", &root, PUBLIC_URL).await;
    assert_eq!(
        list.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&list.body)
    );
    let users = list.json();
    assert_eq!(users["total"], 1);
    assert_eq!(users["users"][0]["username"], "bob");
    assert_eq!(users["users"][0]["active"], true);

    let refused = rpc(&h, "admin_users", "search=&page=1", &bob, PUBLIC_URL).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = rpc(
        &h,
        "admin_set_active",
        "username=root&active=false",
        &bob,
        PUBLIC_URL,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // A foreign page cannot make the admin's browser disable bob.
    let forged = rpc(
        &h,
        "admin_set_active",
        "username=bob&active=false",
        &root,
        EVIL,
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&forged.body).contains("cross-origin"));
    assert!(h.registry.authenticate(&bob_token).await.is_ok());

    let disabled = rpc(
        &h,
        "admin_set_active",
        "username=bob&active=false",
        &root,
        PUBLIC_URL,
    )
    .await;
    assert_eq!(
        disabled.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&disabled.body)
    );
    let status = h.get("/v1/token-status", Some(&bob_token)).await;
    assert_eq!(status.status, StatusCode::UNAUTHORIZED);

    // Branding set by the admin is what the site function answers.
    let form = "name=Override+Centre&help_email=&institution_name=&institution_url=&logo_url=&about=&terms=";
    let saved = rpc(&h, "admin_set_branding", form, &root, PUBLIC_URL).await;
    assert_eq!(
        saved.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&saved.body)
    );
    let site = rpc(&h, "site", "", &root, PUBLIC_URL).await;
    assert_eq!(site.json()["name"], "Override Centre");

    // Deleting needs the typed confirmation.
    let wrong = rpc(
        &h,
        "admin_delete_user",
        "username=bob&images=delete&transfer_to=&confirm=bo",
        &root,
        PUBLIC_URL,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    let deleted = rpc(
        &h,
        "admin_delete_user",
        "username=bob&images=delete&transfer_to=&confirm=bob",
        &root,
        PUBLIC_URL,
    )
    .await;
    assert_eq!(
        deleted.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&deleted.body)
    );
    assert!(h.registry.find_user("bob").await.unwrap().is_none());

    let audit = rpc(&h, "admin_audit", "page=1", &root, PUBLIC_URL).await;
    let actions: Vec<String> = audit.json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, ["user.delete", "branding.update", "user.disable"]);
    assert_eq!(audit.json()["entries"][0]["actor"], "root");
}

#[test]
fn silo_user_create_admin_makes_an_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let silo = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_silo"));
        cmd.current_dir(dir.path());
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("SILO_")) {
            cmd.env_remove(key);
        }
        let out = cmd.env("SILO_DATA_DIR", &data).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    silo(&["user", "create", "root", "--admin"]);
    silo(&["user", "create", "alice"]);
    let listed = silo(&["user", "list"]);
    let line = |name: &str| {
        listed
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {listed}"))
            .to_string()
    };
    assert!(line("root").contains("admin"), "{listed}");
    assert!(!line("alice").contains("admin"), "{listed}");
}
