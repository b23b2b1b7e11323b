//! Share links over HTTP: an owner creates one through the server functions; anyone holding
//! it downloads the private image with curl (`/share/<secret>/download`), pulls it as
//! `shub://host/share/<secret>` (the shub client's request sequence), or uses the secret as a
//! library bearer token; it reaches that container and nothing else; once revoked (or
//! expired) every one of those answers 404 (401 for the bearer) in its protocol's envelope.
mod common;
mod tokens_support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{sha256_hex, Harness, PUBLIC_URL};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use silo_domain::entities::share_link;
use tokens_support::*;

const SHARED: &str = "alice/private/tool";

struct Shared {
    h: Harness,
    cookie: String,
    token: String,
    bytes: Vec<u8>,
    secret: String,
    link_id: i64,
}

async fn shared() -> Shared {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let container = h.container(&token, SHARED, true).await;
    let bytes = b"a private image, shared by link ".repeat(700);
    h.push(&token, &container, &bytes, "latest").await;
    h.push(&token, &container, b"version one", "v1").await;
    let other = h.container(&token, "alice/private/other", true).await;
    h.push(&token, &other, b"not shared", "latest").await;
    let cookie = sign_in(&h, "alice", &token).await;
    let form = "entity=alice&collection=private&container=tool&label=for+Bob&days=7";
    let created = page_rpc(&h, "share_links/create", form, &cookie).await;
    assert_eq!(created.status, StatusCode::OK, "{}", text(&created));
    let created = created.json();
    let url = created["url"].as_str().unwrap();
    let secret = url
        .strip_prefix(&format!("{PUBLIC_URL}/share/"))
        .unwrap_or_else(|| panic!("{url}"))
        .to_string();
    assert!(secret.starts_with("silos_") && secret.len() <= 64);
    assert_eq!(
        created["shub"],
        format!("apptainer pull shub://registry.test/share/{secret}")
    );
    assert!(created["curl"]
        .as_str()
        .unwrap()
        .contains(&format!("{url}/download")));
    Shared {
        h,
        cookie,
        token,
        bytes,
        secret,
        link_id: created["link"]["id"].as_i64().unwrap(),
    }
}

#[tokio::test]
async fn curl_and_shub_pull_the_shared_container_only() {
    let s = shared().await;
    let h = &s.h;
    // Nobody else sees the private container.
    let anonymous = h.get("/v1/imagefile/alice/private/tool:latest", None).await;
    assert_eq!(anonymous.status, StatusCode::NOT_FOUND);

    // curl -fLOJ <url>/download
    let download = h.get(&format!("/share/{}/download", s.secret), None).await;
    assert_eq!(download.status, StatusCode::OK, "{}", text(&download));
    assert_eq!(sha256_hex(&download.body), sha256_hex(&s.bytes));
    assert_eq!(
        download.header("content-length").unwrap(),
        s.bytes.len().to_string()
    );
    assert!(download
        .header("content-disposition")
        .unwrap()
        .contains("tool_"));
    let v1 = h
        .get(
            &format!("/share/{}/download?tag=v1&arch=amd64", s.secret),
            None,
        )
        .await;
    assert_eq!(v1.body, b"version one");
    let ranged = Request::builder()
        .uri(format!("/share/{}/download", s.secret))
        .header("range", "bytes=2-9")
        .body(Body::empty())
        .unwrap();
    let ranged = h.send(ranged).await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.body, s.bytes[2..=9]);
    h.get(&format!("/share/{}/download?tag=nope", s.secret), None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    h.get(&format!("/share/{}/download?tag=bad%20tag", s.secret), None)
        .await
        .assert_error(StatusCode::BAD_REQUEST);

    // shub://registry.test/share/<secret>: manifest, then its image URL, as the client does.
    for (uri, expected) in [
        (
            format!("/api/container/share/{}", s.secret),
            s.bytes.as_slice(),
        ),
        (
            format!("/api/container/share/{}:v1", s.secret),
            b"version one".as_slice(),
        ),
    ] {
        let manifest = h.get(&uri, None).await;
        assert_eq!(
            manifest.status,
            StatusCode::OK,
            "{uri}: {}",
            text(&manifest)
        );
        let m = manifest.json();
        assert_eq!(m["name"], "tool");
        let image = m["image"].as_str().unwrap();
        assert!(image.starts_with(PUBLIC_URL), "{image}");
        let got = h.get(image, None).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.body, expected);
        assert_eq!(m["commit"], sha256_hex(expected));
    }

    // The secret as a library bearer token reads the shared container, not its neighbour.
    let bearer = h
        .get("/v1/imagefile/alice/private/tool:latest", Some(&s.secret))
        .await;
    assert_eq!(bearer.status, StatusCode::OK, "{}", text(&bearer));
    assert_eq!(bearer.body, s.bytes);
    h.get("/v1/imagefile/alice/private/other:latest", Some(&s.secret))
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let push = h
        .post_json(
            "/v1/containers",
            Some(&s.secret),
            serde_json::json!({"entity": "alice", "collection": "private", "name": "new"}),
        )
        .await;
    assert!(push.status.is_client_error(), "{}", text(&push));

    // The page's data, for anyone holding the link.
    let page = rpc(h, "shared", &format!("secret={}", s.secret), None, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", text(&page));
    let page = page.json();
    assert_eq!(page["container"]["container"]["container"], "tool");
    assert_eq!(page["container"]["can_manage"], false);
    assert_eq!(
        page["download_url"],
        format!("{PUBLIC_URL}/share/{}/download", s.secret)
    );

    // The owner sees the uses.
    let links = page_rpc(
        h,
        "share_links",
        "entity=alice&collection=private&container=tool",
        &s.cookie,
    )
    .await
    .json();
    let link = &links[0];
    assert_eq!(link["label"], "for Bob");
    assert_eq!(link["status"], "active");
    assert!(link["use_count"].as_i64().unwrap() >= 6, "{link}");
    let _ = &s.token;
}

#[tokio::test]
async fn revoked_and_expired_links_are_gone_on_every_surface() {
    let s = shared().await;
    let h = &s.h;
    // Bob may neither create, list nor revoke links of Alice's private container.
    let bob = h.user("bob", false).await;
    let bob_cookie = sign_in(h, "bob", &bob).await;
    let form = "entity=alice&collection=private&container=tool&label=&days=7";
    let theirs = page_rpc(h, "share_links/create", form, &bob_cookie).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let theirs = page_rpc(
        h,
        "share_links/revoke",
        &format!("id={}", s.link_id),
        &bob_cookie,
    )
    .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let too_long = "entity=alice&collection=private&container=tool&label=&days=91";
    assert_eq!(
        page_rpc(h, "share_links/create", too_long, &s.cookie)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let cross = rpc(
        h,
        "share_links/revoke",
        &format!("id={}", s.link_id),
        Some(&s.cookie),
        Some("https://evil.example"),
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    assert_eq!(
        h.get(&format!("/share/{}/download", s.secret), None)
            .await
            .status,
        StatusCode::OK
    );

    let revoked = page_rpc(
        h,
        "share_links/revoke",
        &format!("id={}", s.link_id),
        &s.cookie,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", text(&revoked));
    assert_gone(h, &s.secret).await;

    // A second link, expired in the database.
    let form = "entity=alice&collection=private&container=tool&label=short&days=1";
    let created = page_rpc(h, "share_links/create", form, &s.cookie)
        .await
        .json();
    let url = created["url"].as_str().unwrap();
    let secret = url.rsplit('/').next().unwrap().to_string();
    assert_eq!(
        h.get(&format!("/share/{secret}/download"), None)
            .await
            .status,
        StatusCode::OK
    );
    let row = share_link::Entity::find_by_id(created["link"]["id"].as_i64().unwrap())
        .one(h.registry.db())
        .await
        .unwrap()
        .unwrap();
    let mut active: share_link::ActiveModel = row.into();
    active.expires_at = Set(chrono::Utc::now() - chrono::Duration::seconds(1));
    active.update(h.registry.db()).await.unwrap();
    assert_gone(h, &secret).await;
    let links = page_rpc(
        h,
        "share_links",
        "entity=alice&collection=private&container=tool",
        &s.cookie,
    )
    .await
    .json();
    let statuses: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["expired", "revoked"]);
}

async fn assert_gone(h: &Harness, secret: &str) {
    h.get(&format!("/share/{secret}/download"), None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let shub = h
        .get(&format!("/api/container/share/{secret}:latest"), None)
        .await;
    assert_eq!(shub.status, StatusCode::NOT_FOUND, "{}", text(&shub));
    assert!(shub.json()["detail"].is_string());
    let page = rpc(h, "shared", &format!("secret={secret}"), None, None).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    h.get("/v1/imagefile/alice/private/tool:latest", Some(secret))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
}
