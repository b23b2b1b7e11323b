//! The exact request sequences of Apptainer's library client 1.4.x (Apptainer 1.3+), which
//! this machine cannot run (Debian ships 1.2.2, exercised in end2end/libclient). Recorded
//! in the shared protocol reference, section F.
mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{sha256_hex, Harness, PUBLIC_URL};

fn bearer(method: &str, uri: &str, token: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("user-agent", "Apptainer/1.4.1 (Linux amd64) Go/go1.23")
        .body(body)
        .unwrap()
}

#[tokio::test]
async fn client_1_4_push_then_redirected_ranged_pull() {
    let h = Harness::with_config(|c| {
        c.library.download_mode = server::config::DownloadMode::Redirect;
    })
    .await;
    let token = h.user("alice", false).await;
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
    let hash = sha256_hex(&bytes);

    // Push: oci-redirect probe first, then the library flow.
    let probe = h
        .send(bearer(
            "GET",
            "/v1/oci-redirect?accessTypes=pull%2Cpush&mapped=1&namespace=alice%2Fapps%2Fweb",
            &token,
            Body::empty(),
        ))
        .await;
    assert_ne!(
        probe.status,
        StatusCode::OK,
        "any non-200 keeps the client on the library flow"
    );
    assert_eq!(
        h.send(bearer("GET", "/v1/entities/alice", &token, Body::empty()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let cont = h.container(&token, "alice/apps/web", false).await;
    let uri = format!("/v1/images/alice/apps/web:sha256.{hash}?arch=amd64");
    assert_eq!(
        h.send(bearer("GET", &uri, &token, Body::empty()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    h.push(&token, &cont, &bytes, "latest").await;

    // Pull, 1.4 style: image, oci-redirect, version, imagefile -> 303, image again (size),
    // then ranged GETs of the Location carrying the Bearer header (same host).
    let image = h
        .send(bearer(
            "GET",
            "/v1/images/alice/apps/web:latest?arch=amd64",
            &token,
            Body::empty(),
        ))
        .await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.data()["hash"], format!("sha256.{hash}"));
    let probe = h
        .send(bearer(
            "GET",
            "/v1/oci-redirect?accessTypes=pull&mapped=1&namespace=alice%2Fapps%2Fweb",
            &token,
            Body::empty(),
        ))
        .await;
    assert_eq!(probe.status, StatusCode::NOT_FOUND);
    assert_eq!(
        h.send(bearer("GET", "/version", &token, Body::empty()))
            .await
            .data()["apiVersion"],
        "2.0.0"
    );
    let redirect = h
        .send(bearer(
            "GET",
            "/v1/imagefile/alice/apps/web:latest?arch=amd64",
            &token,
            Body::empty(),
        ))
        .await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    let location = redirect.header("location").unwrap();
    assert!(
        location.starts_with(PUBLIC_URL),
        "absolute Location: {location}"
    );
    let again = h
        .send(bearer(
            "GET",
            "/v1/images/alice/apps/web:latest?arch=amd64",
            &token,
            Body::empty(),
        ))
        .await;
    let size = again.data()["size"].as_u64().unwrap() as usize;
    assert_eq!(
        size,
        bytes.len(),
        "the client sizes its download from the image record"
    );

    let part = 5 * 1024 * 1024 / 4;
    let mut file = vec![0u8; size];
    for start in (0..size).step_by(part) {
        let end = (start + part - 1).min(size - 1);
        let mut req = bearer(
            "GET",
            location.strip_prefix(PUBLIC_URL).unwrap(),
            &token,
            Body::empty(),
        );
        req.headers_mut()
            .insert("range", format!("bytes={start}-{end}").parse().unwrap());
        let r = h.send(req).await;
        assert_eq!(
            r.status,
            StatusCode::PARTIAL_CONTENT,
            "exact ranges are mandatory after a 303"
        );
        assert_eq!(r.body.len(), end - start + 1);
        file[start..=end].copy_from_slice(&r.body);
    }
    assert_eq!(sha256_hex(&file), hash);

    // `pull --simple` follows the 303 with the auth header and wants a 200.
    let mut simple = bearer(
        "GET",
        location.strip_prefix(PUBLIC_URL).unwrap(),
        &token,
        Body::empty(),
    );
    simple.headers_mut().remove("range");
    let whole = h.send(simple).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(sha256_hex(&whole.body), hash);
    let counted = h.get("/v1/containers/alice/apps/web", None).await;
    assert_eq!(
        counted.data()["downloadCount"],
        2,
        "the 303 and the whole-file GET"
    );
}

#[tokio::test]
async fn remote_login_and_status_sequence() {
    let h = Harness::new().await;
    let token = h.user("alice", false).await;
    // remote login --tokenfile: config, then token-status.
    let config = h.get("/assets/config/config.prod.json", None).await;
    let token_api = config.json()["tokenAPI"]["uri"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(token_api, PUBLIC_URL);
    assert_eq!(
        h.send(bearer("GET", "/v1/token-status", &token, Body::empty()))
            .await
            .status,
        StatusCode::OK
    );
    // remote status: /version on every service, then the current user, then token-status.
    for service in ["libraryAPI", "keystoreAPI", "tokenAPI"] {
        let base = config.json()[service]["uri"].as_str().unwrap().to_string();
        let v = h.get(&format!("{base}/version"), None).await;
        assert_eq!(v.status, StatusCode::OK, "{service}");
        assert_eq!(v.data()["apiVersion"], "2.0.0");
    }
    let me = h
        .send(bearer(
            "GET",
            "/v1/rbac/users/current",
            &token,
            Body::empty(),
        ))
        .await;
    assert_eq!(me.json()["username"], "alice");
    let bad = h
        .send(bearer(
            "GET",
            "/v1/token-status",
            "x".repeat(210).as_str(),
            Body::empty(),
        ))
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNAUTHORIZED,
        "invalid tokens are reported at login"
    );
}
