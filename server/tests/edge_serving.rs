//! The edge on the wire: security headers on every response (the SPA's page allowed exactly
//! its inline script by hash), HTTPS served by Silo with a certificate made here and a real
//! client trusting it (HSTS there), a slow client cut after the header-read timeout, and an
//! upload whose body keeps moving never cut.
mod common;

use axum::http::StatusCode;
use base64::Engine;
use common::Harness;
use sha2::Digest;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Ports of this test file (the edge helper's range is 19100-19149).
const TLS_PORT: u16 = 19110;
const TIMEOUT_PORT: u16 = 19111;

const INLINE_SCRIPT: &str =
    "import init from '/frontend-0123456789abcdef.js';init('/frontend-0123456789abcdef_bg.wasm');";

fn sha256_source(text: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
    )
}

/// The directive `name` of a Content-Security-Policy.
fn directive<'a>(policy: &'a str, name: &str) -> &'a str {
    policy
        .split(';')
        .map(str::trim)
        .find(|d| d.split(' ').next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} in {policy}"))
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let spa = tempfile::tempdir().unwrap();
    let index = format!(
        "<!doctype html><html><head><script type=\"module\">{INLINE_SCRIPT}</script>\
         <link rel=\"stylesheet\" href=\"/main-0123456789abcdef.css\"></head><body></body></html>"
    );
    std::fs::write(spa.path().join("index.html"), &index).unwrap();
    let dir = spa.path().to_path_buf();
    let h = Harness::with_config(|c| c.spa_dir = Some(dir)).await;

    let page = h.get("/c/alice/tools/hello", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let policy = page.header("content-security-policy").unwrap();
    assert_eq!(
        directive(&policy, "script-src"),
        format!(
            "script-src 'self' 'wasm-unsafe-eval' {}",
            sha256_source(INLINE_SCRIPT)
        )
    );
    assert_eq!(directive(&policy, "style-src"), "style-src 'self'");
    assert_eq!(
        directive(&policy, "frame-ancestors"),
        "frame-ancestors 'none'"
    );
    assert_eq!(directive(&policy, "object-src"), "object-src 'none'");

    let api = h.get("/v1/version", None).await;
    let missing = h.get("/v1/nothing/here", None).await;
    for reply in [&page, &api, &missing] {
        assert_eq!(reply.header("x-frame-options").as_deref(), Some("DENY"));
        assert_eq!(
            reply.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(
            reply.header("referrer-policy").as_deref(),
            Some("same-origin")
        );
        assert_eq!(
            reply.header("strict-transport-security"),
            None,
            "plain http"
        );
    }
    for reply in [&api, &missing] {
        assert_eq!(
            reply.header("content-security-policy").as_deref(),
            Some("default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
        );
    }

    // The REST API's documentation page: its own inline script and style by hash.
    let docs = h.get("/api/docs", None).await;
    let policy = docs.header("content-security-policy").unwrap();
    let html = String::from_utf8(docs.body.clone()).unwrap();
    let script = html
        .split("<script>")
        .nth(1)
        .and_then(|s| s.split("</script>").next())
        .unwrap();
    assert!(
        directive(&policy, "script-src").ends_with(&sha256_source(script)),
        "{policy}"
    );
    assert!(!policy.contains("script-src 'unsafe-inline'"), "{policy}");
}

#[tokio::test]
async fn hsts_is_sent_when_clients_use_https() {
    let https = Harness::with_config(|c| c.public_url = Some("https://registry.test".into())).await;
    let r = https.get("/v1/version", None).await;
    assert_eq!(
        r.header("strict-transport-security").as_deref(),
        Some("max-age=31536000")
    );
    let short = Harness::with_config(|c| {
        c.public_url = Some("https://registry.test".into());
        c.tls.hsts_max_age_seconds = 600;
    })
    .await;
    let r = short.get("/v1/version", None).await;
    assert_eq!(
        r.header("strict-transport-security").as_deref(),
        Some("max-age=600")
    );
    let off = Harness::with_config(|c| {
        c.public_url = Some("https://registry.test".into());
        c.tls.hsts_max_age_seconds = 0;
    })
    .await;
    assert_eq!(
        off.get("/v1/version", None)
            .await
            .header("strict-transport-security"),
        None
    );
}

/// Serves `h.app` on 127.0.0.1:`port` until the returned sender is dropped or used.
async fn serve(
    h: &Harness,
    port: u16,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    header_read_timeout: Duration,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = h.app.clone();
    let task = tokio::spawn(server::edge::serve::serve(
        listener,
        tls,
        app,
        header_read_timeout,
        async move {
            let _ = stopped.await;
        },
    ));
    (stop, task)
}

#[tokio::test]
async fn silo_serves_https_with_its_own_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, made.cert.pem()).unwrap();
    std::fs::write(&key_file, made.signing_key.serialize_pem()).unwrap();
    let (cert, key) = (cert_file.clone(), key_file.clone());
    let h = Harness::with_config(|c| {
        c.public_url = None;
        c.listen = format!("127.0.0.1:{TLS_PORT}");
        c.tls.cert_file = Some(cert);
        c.tls.key_file = Some(key);
    })
    .await;
    let tls = server::edge::tls::TlsSettings {
        cert_file: Some(cert_file),
        key_file: Some(key_file),
        ..Default::default()
    }
    .server_config()
    .unwrap();
    let (stop, task) = serve(&h, TLS_PORT, tls, Duration::from_secs(10)).await;

    let root = reqwest::Certificate::from_pem(made.cert.pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(root)
        .build()
        .unwrap();
    let base = format!("https://localhost:{TLS_PORT}");
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let discovery: serde_json::Value = client
        .get(format!("{base}/assets/config/config.prod.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        discovery
            .to_string()
            .contains(&base.replace("localhost", "127.0.0.1")),
        "links use https when Silo serves TLS: {discovery}"
    );
    // A client that does not trust the certificate is refused.
    let untrusting = reqwest::Client::builder().build().unwrap();
    assert!(untrusting
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err());
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn slow_headers_are_cut_and_a_moving_upload_is_not() {
    let h = Harness::with_config(|c| c.limits.body_idle_timeout_seconds = 2).await;
    let token = h.user("alice", false).await;
    let (stop, task) = serve(&h, TIMEOUT_PORT, None, Duration::from_secs(1)).await;
    let base = format!("http://127.0.0.1:{TIMEOUT_PORT}");

    // Headers that never finish: the server closes the connection.
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", TIMEOUT_PORT))
        .await
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(60), slow.read(&mut buf))
        .await
        .expect("the server never closed a connection with unfinished headers");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");

    // An upload whose body takes longer than both timeouts but never pauses long.
    let client = reqwest::Client::new();
    let start = client
        .post(format!("{base}/v2/alice/tools/hello/blobs/uploads/"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), reqwest::StatusCode::ACCEPTED);
    let location = start.headers()["location"].to_str().unwrap().to_string();
    let chunk = vec![42u8; 4096];
    let whole: Vec<u8> = chunk.repeat(12);
    let digest = format!("sha256:{}", common::sha256_hex(&whole));
    let chunks = futures::stream::unfold(0, move |sent| {
        let chunk = chunk.clone();
        async move {
            if sent == 12 {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            Some((Ok::<_, std::io::Error>(chunk), sent + 1))
        }
    });
    let sep = if location.contains('?') { '&' } else { '?' };
    let put = client
        .put(format!("{base}{location}{sep}digest={digest}"))
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), reqwest::StatusCode::CREATED);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}
