//! Helpers for the sregistry and shub tests: signed requests exactly as the `sregistry`
//! client builds them, and its multipart upload form.
#![allow(dead_code)]
use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use hmac::{Hmac, Mac};
use silo_domain::services::NewToken;

use crate::common::{Harness, Reply};

/// A user's sregistry credential.
#[derive(Clone)]
pub struct Key {
    pub username: String,
    pub secret: String,
}

pub async fn key(h: &Harness, username: &str) -> Key {
    let new = NewToken {
        label: "sregistry".into(),
        scope: None,
        expires_in_days: None,
    };
    let created = h
        .registry
        .create_sregistry_secret(username, new)
        .await
        .unwrap();
    Key {
        username: created.username,
        secret: created.secret,
    }
}

pub fn timestamp_hours_ago(hours: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(hours))
        .format("%Y%m%dT%HZ")
        .to_string()
}

/// The `Authorization` value the client sends.
pub fn sign_at(key: &Key, kind: &str, collection: &str, name: &str, tag: &str, ts: &str) -> String {
    let payload = format!("{kind}|{collection}|{ts}|{name}|{tag}|");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.secret.as_bytes()).unwrap();
    mac.update(payload.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let user = base64::engine::general_purpose::STANDARD.encode(&key.username);
    format!("SREGISTRY-HMAC-SHA256 Credential={kind}/{user}/{ts},Signature={signature}")
}

pub fn sign(key: &Key, kind: &str, collection: &str, name: &str, tag: &str) -> String {
    sign_at(key, kind, collection, name, tag, &timestamp_hours_ago(0))
}

pub async fn send(h: &Harness, method: &str, uri: &str, auth: Option<&str>, body: Body) -> Reply {
    let uri = uri.strip_prefix(crate::common::PUBLIC_URL).unwrap_or(uri);
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        builder = builder.header("authorization", a);
    }
    h.send(builder.body(body).unwrap()).await
}

pub const BOUNDARY: &str = "silo-test-boundary-1234";

/// The client's upload form: `SREGISTRY_EVENT`, `name`, `collection`, `tag`, `file1`.
pub fn form(auth: &str, name: &str, collection: &str, tag: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, value) in [
        ("SREGISTRY_EVENT", auth),
        ("name", name),
        ("collection", collection),
        ("tag", tag),
    ] {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file1\"; filename=\"{name}:{tag}.sif\"\r\nContent-Type: text/plain\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub async fn upload(h: &Harness, auth: &str, body: Vec<u8>) -> Reply {
    let request = Request::builder()
        .method("POST")
        .uri("/upload")
        .header("authorization", auth)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    h.send(request).await
}

/// The client's complete push: the signed `push` step, then the signed upload.
pub async fn push(
    h: &Harness,
    key: &Key,
    collection: &str,
    name: &str,
    tag: &str,
    file: &[u8],
) -> (Reply, Option<Reply>) {
    let auth = sign(key, "push", collection, name, tag);
    let body = serde_json::json!({"collection": collection, "name": name, "tag": tag});
    let first = send(
        h,
        "POST",
        "/api/upload/chunked_upload",
        Some(&auth),
        Body::from(body.to_string()),
    )
    .await;
    if first.status != axum::http::StatusCode::OK {
        return (first, None);
    }
    let cid = first.json()["cid"].as_str().unwrap().to_string();
    let auth = sign(key, "upload", &cid, name, tag);
    let second = upload(h, &auth, form(&auth, name, &cid, tag, file)).await;
    (first, Some(second))
}

/// Number of download events recorded with `protocol`.
pub async fn downloads(h: &Harness, protocol: &str) -> u64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use silo_domain::entities::download_event;
    download_event::Entity::find()
        .filter(download_event::Column::Protocol.eq(protocol))
        .count(h.registry.db())
        .await
        .unwrap()
}
