//! The library API's happy paths, request for request as Apptainer's client sends them.
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{sha256_hex, Harness, PUBLIC_URL};
use serde_json::json;

#[tokio::test]
async fn discovery_version_and_token_checks() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;

    let config = h.get("/assets/config/config.prod.json", None).await;
    assert_eq!(config.status, StatusCode::OK);
    let services = config.json();
    for service in ["libraryAPI", "keystoreAPI", "tokenAPI"] {
        assert_eq!(services[service]["uri"], PUBLIC_URL, "{service}");
    }
    assert!(services
        .as_object()
        .unwrap()
        .values()
        .all(|v| v.is_object()));

    let version = h.get("/version", None).await;
    assert_eq!(version.data()["apiVersion"], "2.0.0");
    assert!(version.data()["version"].as_str().unwrap().starts_with('v'));

    assert_eq!(
        h.get("/v1/token-status", Some(&token)).await.status,
        StatusCode::OK
    );
    h.get("/v1/token-status", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    h.get("/v1/token-status", Some("silo_nonsense"))
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
    // The 1.2 client capitalises the scheme.
    let upper = Request::get("/v1/token-status")
        .header("authorization", format!("BEARER {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(upper).await.status, StatusCode::OK);
    let basic = Request::get("/v1/token-status")
        .header("authorization", format!("Basic {token}"))
        .body(Body::empty())
        .unwrap();
    h.send(basic).await.assert_error(StatusCode::UNAUTHORIZED);

    let me = h.get("/v1/rbac/users/current", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "alice", "raw JSON, not enveloped");
    h.get("/v1/rbac/users/current", None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tokens_are_long_enough_for_remote_login() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    assert!(
        token.len() >= 200,
        "apptainer remote login --tokenfile needs 200+ characters"
    );
    assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
}

#[tokio::test]
async fn unknown_api_paths_answer_json_404_not_the_spa() {
    let h = Harness::new().await;
    for path in [
        "/v1/oci-redirect?accessTypes=pull&namespace=a/b/c",
        "/v1/nothing",
        "/v2/nothing/here",
        "/v2/imagefile/1/_nothing",
    ] {
        let method = if path.ends_with("_nothing") {
            "POST"
        } else {
            "GET"
        };
        let r = h.call(method, path, None, Body::empty()).await;
        r.assert_error(StatusCode::NOT_FOUND);
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn push_flow_creates_namespace_uploads_tags_and_pulls_back() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    // Exact zero-valued body the Go client sends.
    let entity = h
        .post_json(
            "/v1/entities",
            Some(&token),
            json!({"deleted":false,"createdBy":"","createdAt":"0001-01-01T00:00:00Z","updatedAt":"0001-01-01T00:00:00Z","deletedAt":"0001-01-01T00:00:00Z","id":"","name":"alice","description":"No description","collections":null,"size":0,"quota":0,"defaultPrivate":false,"customData":""}),
        )
        .await;
    assert_eq!(entity.status, StatusCode::OK);
    let entity_id = entity.data()["id"]
        .as_str()
        .expect("ids are strings")
        .to_string();
    let coll = h
        .post_json("/v1/collections", Some(&token), json!({"id":"","name":"tools","entity":entity_id,"containers":null,"private":false,"createdAt":"0001-01-01T00:00:00Z"}))
        .await;
    assert_eq!(coll.status, StatusCode::OK);
    assert_eq!(coll.data()["entity"], entity_id.as_str());
    let coll_id = coll.data()["id"].as_str().unwrap().to_string();
    let cont = h
        .post_json("/v1/containers", Some(&token), json!({"name":"bwa","collection":coll_id,"images":null,"imageTags":null,"archTags":null}))
        .await;
    assert_eq!(cont.status, StatusCode::OK);
    let cont_id = cont.data()["id"].as_str().unwrap().to_string();

    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let hash = sha256_hex(&bytes);
    let lookup = format!("/v1/images/alice/tools/bwa:sha256.{hash}?arch=amd64");
    h.get(&lookup, Some(&token))
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let image = h
        .post_json("/v1/images", Some(&token), json!({"id":"","hash":format!("sha256.{hash}"),"description":"aligner","container":cont_id,"size":0,"uploaded":false}))
        .await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.data()["uploaded"], false);
    let image_id = image.data()["id"].as_str().unwrap().to_string();

    let start = h
        .post_json(
            &format!("/v2/imagefile/{image_id}"),
            Some(&token),
            json!({"filesize": bytes.len(), "md5sum": "x", "sha256sum": hash}),
        )
        .await;
    assert_eq!(start.status, StatusCode::OK);
    let upload_url = start.data()["uploadURL"].as_str().unwrap().to_string();
    assert!(
        upload_url.starts_with(PUBLIC_URL),
        "absolute capability URL: {upload_url}"
    );
    let put = h
        .call("PUT", &upload_url, None, Body::from(bytes.clone()))
        .await;
    assert_eq!(
        put.status,
        StatusCode::OK,
        "exactly 200, without credentials"
    );
    let done = h
        .put_json(
            &format!("/v2/imagefile/{image_id}/_complete"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(done.data()["containerUrl"], "c/alice/tools/bwa");
    assert_eq!(done.data()["quota"]["quotaUsage"], bytes.len());
    // A used capability is gone.
    let again = h
        .call("PUT", &upload_url, None, Body::from(bytes.clone()))
        .await;
    again.assert_error(StatusCode::NOT_FOUND);

    let tags = h.get(&format!("/v2/tags/{cont_id}"), Some(&token)).await;
    assert_eq!(tags.data(), json!({}));
    let tag = h
        .post_json(
            &format!("/v2/tags/{cont_id}"),
            Some(&token),
            json!({"Arch":"amd64","Tag":"v1","ImageID":image_id}),
        )
        .await;
    assert_eq!(tag.status, StatusCode::OK);
    // v1 form, lower-case keys.
    let tag = h
        .post_json(
            &format!("/v1/tags/{cont_id}"),
            Some(&token),
            json!({"tag":"latest","imageID":image_id}),
        )
        .await;
    assert_eq!(tag.status, StatusCode::OK);
    let v2 = h.get(&format!("/v2/tags/{cont_id}"), None).await;
    assert_eq!(
        v2.data(),
        json!({"amd64": {"latest": image_id, "v1": image_id}})
    );
    let v1 = h.get(&format!("/v1/tags/{cont_id}"), None).await;
    assert_eq!(v1.data(), json!({"latest": image_id, "v1": image_id}));

    let by_hash = h.get(&lookup, None).await;
    assert_eq!(by_hash.status, StatusCode::OK);
    let img = by_hash.data();
    assert_eq!(img["uploaded"], true);
    assert_eq!(img["size"], bytes.len());
    assert_eq!(img["hash"], format!("sha256.{hash}"));
    assert_eq!(img["arch"], "amd64");
    assert_eq!(img["entityName"], "alice");
    assert_eq!(img["collectionName"], "tools");
    assert_eq!(img["containerName"], "bwa");
    assert!(img["createdAt"].as_str().unwrap().ends_with('Z'));
    let by_tag = h
        .get("/v1/images/alice/tools/bwa:v1?arch=amd64", None)
        .await;
    assert_eq!(by_tag.data()["id"], image_id.as_str());
    h.get("/v1/images/alice/tools/bwa:v1?arch=arm64", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    let container = h.get("/v1/containers/alice/tools/bwa", None).await;
    assert_eq!(
        container.data()["archTags"]["amd64"]["v1"],
        image_id.as_str()
    );
    assert_eq!(container.data()["imageTags"]["latest"], image_id.as_str());
    assert_eq!(container.data()["images"], json!([image_id]));

    let pulled = h
        .get("/v1/imagefile/alice/tools/bwa:v1?arch=amd64", None)
        .await;
    assert_eq!(pulled.status, StatusCode::OK);
    assert_eq!(
        pulled.header("content-length").unwrap(),
        bytes.len().to_string()
    );
    assert!(pulled.body == bytes, "pulled bytes differ");
    let ranged = h
        .send(
            Request::get("/v1/imagefile/alice/tools/bwa:v1")
                .header("range", "bytes=0-1024")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        ranged.header("content-range").unwrap(),
        format!("bytes 0-1024/{}", bytes.len())
    );
    assert_eq!(ranged.body, bytes[..=1024]);
    let tail = h
        .send(
            Request::get("/v1/imagefile/alice/tools/bwa:v1")
                .header("range", "bytes=299990-")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(tail.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(tail.body, bytes[299_990..]);
    let beyond = h
        .send(
            Request::get("/v1/imagefile/alice/tools/bwa:v1")
                .header("range", "bytes=400000-")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    beyond.assert_error(StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        beyond.header("content-range").unwrap(),
        format!("bytes */{}", bytes.len())
    );

    let counted = h.get("/v1/containers/alice/tools/bwa", None).await;
    assert_eq!(
        counted.data()["downloadCount"],
        2,
        "the 200 and the range from byte 0 count"
    );
}

#[tokio::test]
async fn same_content_is_stored_once_and_repush_skips_upload() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let a = h.container(&token, "alice/tools/a", false).await;
    let b = h.container(&token, "alice/tools/b", false).await;
    let bytes = b"identical content".to_vec();
    h.push(&token, &a, &bytes, "v1").await;
    h.push(&token, &b, &bytes, "v1").await;
    assert_eq!(h.blob_count(), 1);
    // Registering the same content again returns the uploaded record.
    let hash = sha256_hex(&bytes);
    let again = h
        .post_json(
            "/v1/images",
            Some(&token),
            json!({"hash": format!("sha256.{hash}"), "container": a}),
        )
        .await;
    assert_eq!(again.data()["uploaded"], true);
}

#[tokio::test]
async fn legacy_v1_upload() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/old/client", false).await;
    let bytes = b"legacy body".to_vec();
    let hash = sha256_hex(&bytes);
    let image = h
        .post_json(
            "/v1/images",
            Some(&token),
            json!({"hash": format!("sha256.{hash}"), "container": cont}),
        )
        .await;
    let id = image.data()["id"].as_str().unwrap().to_string();
    let up = h
        .call(
            "POST",
            &format!("/v1/imagefile/{id}"),
            Some(&token),
            Body::from(bytes.clone()),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK);
    let got = h
        .get(&format!("/v1/images/alice/old/client:sha256.{hash}"), None)
        .await;
    assert_eq!(got.data()["uploaded"], true);
    // Without a token the legacy upload is refused.
    let anon = h
        .call(
            "POST",
            &format!("/v1/imagefile/{id}"),
            None,
            Body::from(bytes),
        )
        .await;
    anon.assert_error(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn search_finds_images_with_names_and_tags() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/genomics/samtools", false).await;
    h.push(&token, &cont, b"samtools image", "1.19").await;
    let found = h.get("/v1/search?value=samtoo&arch=amd64", None).await;
    assert_eq!(found.status, StatusCode::OK);
    let data = found.data();
    let image = &data["image"][0];
    assert_eq!(image["entityName"], "alice");
    assert_eq!(image["collectionName"], "genomics");
    assert_eq!(image["containerName"], "samtools");
    assert_eq!(image["tags"], json!(["1.19"]));
    assert_eq!(data["container"][0]["name"], "samtools");
    let by_collection = h.get("/v1/search?value=genom", None).await;
    assert_eq!(by_collection.data()["collection"][0]["name"], "genomics");
    let nothing = h.get("/v1/search?value=zzzzzz", None).await;
    assert_eq!(nothing.data()["image"], json!([]));
    h.get("/v1/search?value=", None)
        .await
        .assert_error(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn delete_removes_image_tags_and_unused_bytes() {
    let h = Harness::new().await;
    let alice = h.user("alice", false).await;
    let bob = h.user("bob", false).await;
    let a = h.container(&alice, "alice/tools/a", false).await;
    let b = h.container(&alice, "alice/tools/b", false).await;
    h.push(&alice, &a, b"shared bytes", "v1").await;
    h.push(&alice, &b, b"shared bytes", "v1").await;
    h.call(
        "DELETE",
        "/v1/images/alice/tools/a:v1?arch=amd64",
        None,
        Body::empty(),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED);
    h.call(
        "DELETE",
        "/v1/images/alice/tools/a:v1?arch=amd64",
        Some(&bob),
        Body::empty(),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN);
    let del = h
        .call(
            "DELETE",
            "/v1/images/alice/tools/a:v1?arch=amd64",
            Some(&alice),
            Body::empty(),
        )
        .await;
    assert_eq!(del.status, StatusCode::OK);
    h.get("/v1/images/alice/tools/a:v1?arch=amd64", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    h.get("/v1/imagefile/alice/tools/a:v1", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    assert_eq!(h.blob_count(), 1, "still used by alice/tools/b");
    let b_pull = h.get("/v1/imagefile/alice/tools/b:v1", None).await;
    assert_eq!(b_pull.body, b"shared bytes");
    let del = h
        .call(
            "DELETE",
            "/v1/images/alice/tools/b:v1?arch=amd64",
            Some(&alice),
            Body::empty(),
        )
        .await;
    assert_eq!(del.status, StatusCode::OK);
    assert_eq!(
        h.blob_count(),
        1,
        "bytes are deleted by garbage collection only"
    );
    let gc = silo_domain::services::GcOptions {
        grace: std::time::Duration::ZERO,
        ..Default::default()
    };
    h.registry.collect_garbage(&gc).await.unwrap();
    assert_eq!(h.blob_count(), 0, "no record uses the bytes any more");
}

#[tokio::test]
async fn admins_may_push_anywhere() {
    let h = Harness::new().await;
    let root = h.user("root", true).await;
    let cont = h.container(&root, "facility/shared/base", false).await;
    h.push(&root, &cont, b"base image", "latest").await;
    let got = h.get("/v1/images/facility/shared/base:latest", None).await;
    assert_eq!(got.status, StatusCode::OK);
}

#[tokio::test]
async fn health_and_entity_size() {
    let h = Harness::new().await;
    let health = h.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["status"], "ok");
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/tools/size", false).await;
    h.push(&token, &cont, &[1u8; 1000], "v1").await;
    let entity = h.get("/v1/entities/alice", None).await;
    assert_eq!(entity.data()["size"], 1000);
}

#[tokio::test]
async fn download_capabilities_serve_ranges_and_refuse_tampering() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/tools/cap", true).await;
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 199) as u8).collect();
    h.push(&token, &cont, &bytes, "v1").await;
    let reference = silo_domain::names::ImageRef::parse("alice/tools/cap:v1").unwrap();
    let owner = h.registry.authenticate(&token).await.unwrap();
    let view = h.registry.image(&owner, &reference, None).await.unwrap();
    let cap = h
        .registry
        .download_token(&owner, &view, "shub")
        .await
        .unwrap();

    // The capability works without credentials, even for a private image.
    let whole = h.get(&format!("/download/{cap}"), None).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert!(whole.body == bytes);
    let part = h
        .send(
            Request::get(format!("/download/{cap}"))
                .header("range", "bytes=100-199")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, bytes[100..200]);
    assert_eq!(part.header("content-range").unwrap(), "bytes 100-199/50000");
    let head = h
        .call("HEAD", &format!("/download/{cap}"), None, Body::empty())
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length").unwrap(), "50000");

    // Tampered or foreign tokens are refused.
    let mut forged = cap.clone();
    forged.replace_range(0..1, if cap.starts_with('9') { "8" } else { "9" });
    h.get(&format!("/download/{forged}"), None)
        .await
        .assert_error(StatusCode::NOT_FOUND);
    h.get("/download/garbage", None)
        .await
        .assert_error(StatusCode::NOT_FOUND);

    // Only the whole-file GET counted (protocol recorded from the token).
    let counted = h.get("/v1/containers/alice/tools/cap", Some(&token)).await;
    assert_eq!(counted.data()["downloadCount"], 1);
}

#[tokio::test]
async fn redirect_mode_answers_303_to_an_absolute_ranged_url() {
    let h = Harness::with_config(|c| {
        c.library.download_mode = server::config::DownloadMode::Redirect;
    })
    .await;
    let token = h.user("alice", false).await;
    let cont = h.container(&token, "alice/tools/redir", false).await;
    let bytes: Vec<u8> = (0..20_000u32).map(|i| (i % 97) as u8).collect();
    h.push(&token, &cont, &bytes, "v1").await;
    let r = h
        .get("/v1/imagefile/alice/tools/redir:v1?arch=amd64", None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let location = r.header("location").unwrap();
    assert!(
        location.starts_with(&format!("{PUBLIC_URL}/download/")),
        "{location}"
    );
    // What library client 1.2 does first: a probe of the first 1025 bytes, reading the size.
    let probe = h
        .send(
            Request::get(location.strip_prefix(PUBLIC_URL).unwrap())
                .header("range", "bytes=0-1024")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(probe.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(probe.header("content-range").unwrap(), "bytes 0-1024/20000");
    let mut assembled = Vec::new();
    for start in (0..20_000).step_by(6000) {
        let end = (start + 5999).min(19_999);
        let part = h
            .send(
                Request::get(location.strip_prefix(PUBLIC_URL).unwrap())
                    .header("range", format!("bytes={start}-{end}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
        assembled.extend_from_slice(&part.body);
    }
    assert!(assembled == bytes);
    let counted = h.get("/v1/containers/alice/tools/redir", None).await;
    assert_eq!(
        counted.data()["downloadCount"],
        1,
        "one 303, any number of ranges"
    );
}
