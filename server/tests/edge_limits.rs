//! The edge in process: JSON body limits per surface (413 in each protocol's envelope,
//! uploads unlimited), anonymous pull and token request rate limits (429 with Retry-After
//! in each envelope, signed-in pulls uncounted), and the client address behind trusted
//! proxies (a spoofed X-Forwarded-For from anyone else is ignored).
mod common;
mod oci_support;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use common::{Harness, Reply};
use oci_support::{assert_oci_error, push_sif, req, sif_manifest, upload};
use serde_json::json;
use std::net::SocketAddr;

const NAME: &str = "alice/tools/hello";

/// A request from the TCP peer `peer` (what the accept loop records), with headers.
async fn from_peer(
    h: &Harness,
    peer: &str,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> Reply {
    let peer: SocketAddr = peer.parse().unwrap();
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .extension(ConnectInfo(peer));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    h.send(builder.body(body).unwrap()).await
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// A JSON object of about `bytes` bytes.
fn padded_json(bytes: usize) -> String {
    json!({"name": "x", "padding": "p".repeat(bytes)}).to_string()
}

/// A body of unknown length (chunked on the wire).
fn streamed(text: String) -> Body {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = text
        .into_bytes()
        .chunks(300)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn json_bodies_over_the_limit_get_413_in_each_envelope_and_uploads_are_unlimited() {
    let h = Harness::with_config(|c| {
        c.limits.json_body_kib = 1;
        c.limits.oci_manifest_kib = 1;
    })
    .await;
    let token = h.user("alice", false).await;

    // Library API: declared length, then a streamed body of unknown length.
    for body in [Body::from(padded_json(2048)), streamed(padded_json(2048))] {
        let r = h.call("POST", "/v1/entities", Some(&token), body).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", text(&r));
        assert_eq!(
            r.json(),
            json!({"error": {"code": 413, "message": "request body larger than 1 KiB"}})
        );
    }
    let small = h
        .post_json("/v1/entities", Some(&token), json!({"name": "alice"}))
        .await;
    assert_eq!(small.status, StatusCode::OK, "{}", text(&small));

    // sregistry's first push step.
    let r = from_peer(
        &h,
        "127.0.0.1:1",
        "POST",
        "/api/upload/chunked_upload",
        &[],
        Body::from(padded_json(2048)),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", text(&r));
    assert_eq!(
        r.json(),
        json!({"detail": "request body larger than 1 KiB"})
    );

    // Server functions of the web interface.
    let r = from_peer(
        &h,
        "127.0.0.1:1",
        "POST",
        "/rpc/tokens/create",
        &[("content-type", "application/x-www-form-urlencoded")],
        Body::from(format!("label={}", "x".repeat(2048))),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", text(&r));
    assert_eq!(
        r.json(),
        json!({"BadRequest": "request body larger than 1 KiB"}),
        "the server functions' SiloError"
    );

    // OCI: blobs of any size (uploads), manifests up to oci_manifest_kib.
    let big_blob = vec![7u8; 64 * 1024];
    upload(&h, &token, NAME, &big_blob).await;
    upload(&h, &token, NAME, b"{}").await;
    let mut manifest = sif_manifest(&big_blob);
    manifest["annotations"] = json!({"padding": "p".repeat(2048)});
    let r = req(
        &h,
        "PUT",
        &format!("/v2/{NAME}/manifests/v1"),
        Some(&token),
        &[("content-type", oci_support::OCI_MANIFEST)],
        serde_json::to_vec(&manifest).unwrap(),
    )
    .await;
    assert_oci_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID");
    assert_eq!(
        r.json()["errors"][0]["message"],
        "manifest request body larger than 1 KiB"
    );
    let r = oci_support::put_manifest(&h, &token, NAME, "v1", &sif_manifest(&big_blob)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", text(&r));

    // Library uploads: a 64 KiB image through the single-part flow.
    let container = h.container(&token, "alice/tools/big", false).await;
    h.push(&token, &container, &big_blob, "latest").await;
    let pulled = h
        .get("/v1/imagefile/alice/tools/big:latest", Some(&token))
        .await;
    assert_eq!(pulled.body, big_blob);
}

#[tokio::test]
async fn anonymous_pulls_are_limited_per_client_in_each_envelope() {
    let h = Harness::with_config(|c| c.limits.anonymous_pulls_per_minute = 2).await;
    let token = h.user("alice", false).await;
    let sif = b"public image bytes".to_vec();
    push_sif(&h, &token, NAME, "v1", &sif).await;
    let container = h.container(&token, "alice/tools/lib", false).await;
    h.push(&token, &container, &sif, "latest").await;

    let library = "/v1/imagefile/alice/tools/lib:latest";
    let client = "198.51.100.7:40000";
    for _ in 0..2 {
        let ok = from_peer(&h, client, "GET", library, &[], Body::empty()).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", text(&ok));
    }
    let refused = from_peer(&h, client, "GET", library, &[], Body::empty()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        refused.json(),
        json!({"error": {"code": 429, "message":
            format!("too many requests from your address; try again in {wait} s")}})
    );

    // The same client, signed in, is not counted by the anonymous limit.
    let bearer = format!("Bearer {token}");
    for _ in 0..3 {
        let signed = from_peer(
            &h,
            client,
            "GET",
            library,
            &[("authorization", &bearer)],
            Body::empty(),
        )
        .await;
        assert_eq!(signed.status, StatusCode::OK, "{}", text(&signed));
    }
    // Another address has its own count.
    let other = from_peer(&h, "198.51.100.8:1", "GET", library, &[], Body::empty()).await;
    assert_eq!(other.status, StatusCode::OK);

    // OCI and shub answer in their own envelopes (the client is still over its limit).
    let manifest = format!("/v2/{NAME}/manifests/v1");
    let r = from_peer(&h, client, "GET", &manifest, &[], Body::empty()).await;
    assert_oci_error(&r, StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS");
    assert!(r.header("retry-after").is_some());
    let blob = format!("/v2/{NAME}/blobs/{}", oci_support::digest(&sif));
    let r = from_peer(&h, client, "GET", &blob, &[], Body::empty()).await;
    assert_oci_error(&r, StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS");
    let r = from_peer(
        &h,
        client,
        "GET",
        "/api/container/alice/tools/lib:latest",
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", text(&r));
    let wait = r.header("retry-after").unwrap();
    assert_eq!(
        r.json(),
        json!({"detail": format!("too many requests from your address; try again in {wait} s")})
    );
    let signed_oci = from_peer(
        &h,
        client,
        "GET",
        &manifest,
        &[("authorization", &bearer)],
        Body::empty(),
    )
    .await;
    assert_eq!(signed_oci.status, StatusCode::OK, "{}", text(&signed_oci));
}

#[tokio::test]
async fn token_requests_are_limited_per_client() {
    let h = Harness::with_config(|c| c.limits.token_requests_per_minute = 2).await;
    h.user("alice", false).await;
    let client = "203.0.113.4:5000";
    let token_uri = "/v2/token?service=registry.test&scope=repository:alice/tools/hello:pull";
    for _ in 0..2 {
        let ok = from_peer(&h, client, "GET", token_uri, &[], Body::empty()).await;
        assert_eq!(ok.status, StatusCode::OK, "{}", text(&ok));
    }
    let r = from_peer(&h, client, "GET", token_uri, &[], Body::empty()).await;
    assert_oci_error(&r, StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS");
    assert!(r.header("retry-after").is_some());
    // Token sign-in and token creation count in the same budget.
    for path in ["/rpc/login", "/rpc/tokens/create"] {
        let r = from_peer(
            &h,
            client,
            "POST",
            path,
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", common::PUBLIC_URL),
            ],
            Body::from("username=alice&token=wrong"),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{path}: {}",
            text(&r)
        );
        let wait = r.header("retry-after").unwrap();
        assert_eq!(
            r.json(),
            json!({"Forbidden": format!("too many requests from your address; try again in {wait} s")})
        );
    }
    let elsewhere = from_peer(&h, "203.0.113.5:1", "GET", token_uri, &[], Body::empty()).await;
    assert_eq!(elsewhere.status, StatusCode::OK);
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    let h = Harness::with_config(|c| {
        c.limits.token_requests_per_minute = 1;
        c.proxy.trusted_proxies = vec!["10.0.0.0/8".into()];
    })
    .await;
    let token_uri = "/v2/token?service=registry.test";
    // An untrusted peer spoofing a new X-Forwarded-For each time is still one client.
    let first = from_peer(
        &h,
        "198.51.100.7:1",
        "GET",
        token_uri,
        &[("x-forwarded-for", "192.0.2.1")],
        Body::empty(),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    let spoofed = from_peer(
        &h,
        "198.51.100.7:2",
        "GET",
        token_uri,
        &[("x-forwarded-for", "192.0.2.2")],
        Body::empty(),
    )
    .await;
    assert_oci_error(&spoofed, StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS");
    // Behind the trusted proxy each forwarded client has its own count; the proxy's own
    // address is not what counts.
    for client in ["192.0.2.10", "192.0.2.11"] {
        let r = from_peer(
            &h,
            "10.0.0.5:1",
            "GET",
            token_uri,
            &[("x-forwarded-for", client)],
            Body::empty(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{client}: {}", text(&r));
    }
    let again = from_peer(
        &h,
        "10.0.0.6:1",
        "GET",
        token_uri,
        &[("x-forwarded-for", "192.0.2.10")],
        Body::empty(),
    )
    .await;
    assert_oci_error(&again, StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS");
}
