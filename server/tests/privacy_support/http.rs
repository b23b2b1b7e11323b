//! Requests as each surface's clients send them, with a caller's credentials, and what the
//! matrix looks for in the answers.
use axum::body::Body;
use axum::http::Request;
use serde_json::Value;

use super::world::{Creds, Target, World};
use crate::common::{Harness, Reply, PUBLIC_URL};
use crate::sreg::{sign, Key};

/// How a request carries the caller's credentials.
pub enum Auth<'a> {
    /// `Authorization: Bearer <API token>` when the caller has one.
    Bearer,
    /// The sregistry HMAC signature of this claim (kind, collection, name, tag).
    Signed(&'a str, &'a str, &'a str, &'a str),
    /// The browser: the session cookie (from this registry's own pages), or the bearer token
    /// for callers without a session.
    Browser,
    None,
}

pub async fn send(
    h: &Harness,
    creds: &Creds,
    auth: Auth<'_>,
    method: &str,
    uri: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Reply {
    let uri = uri.strip_prefix(PUBLIC_URL).unwrap_or(uri);
    let mut b = Request::builder().method(method).uri(uri);
    let bearer = creds.token.as_ref().map(|t| format!("Bearer {t}"));
    match auth {
        Auth::Bearer => {
            if let Some(v) = bearer {
                b = b.header("authorization", v);
            }
        }
        Auth::Signed(kind, collection, name, tag) => {
            if let Some(key) = &creds.key {
                b = b.header("authorization", signature(key, kind, collection, name, tag));
            }
        }
        Auth::Browser => {
            b = b.header("origin", PUBLIC_URL);
            if let Some(cookie) = &creds.cookie {
                b = b.header("cookie", format!("silo_session={cookie}"));
            } else if let Some(v) = bearer {
                b = b.header("authorization", v);
            }
        }
        Auth::None => {}
    }
    for (k, v) in headers {
        b = b.header(*k, v.as_str());
    }
    h.send(b.body(Body::from(body)).unwrap()).await
}

pub fn signature(key: &Key, kind: &str, collection: &str, name: &str, tag: &str) -> String {
    sign(key, kind, collection, name, tag)
}

/// A server function call as the SPA makes it.
pub async fn rpc(w: &World, creds: &Creds, name: &str, form: &str) -> Reply {
    send(
        &w.h,
        creds,
        Auth::Browser,
        "POST",
        &format!("/rpc/{name}"),
        &[
            (
                "content-type",
                "application/x-www-form-urlencoded".to_string(),
            ),
            ("accept", "application/json".to_string()),
        ],
        form.as_bytes().to_vec(),
    )
    .await
}

pub fn json(reply: &Reply) -> Option<Value> {
    serde_json::from_slice(&reply.body).ok()
}

/// Whether any string in `value` (keys named `query` aside: they echo the request) names the
/// target: equals its collection's name or holds `entity/collection`.
pub fn names_target(value: &Value, target: &Target) -> bool {
    let path = target.label();
    match value {
        Value::String(s) => s == target.collection || s.contains(&path),
        Value::Array(items) => items.iter().any(|v| names_target(v, target)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k != "query" && names_target(v, target)),
        _ => false,
    }
}

/// Whether the raw body holds the target's image bytes or its sha256 anywhere.
pub fn holds_private_content(body: &[u8], target: &Target) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains(&target.sha())
        || text.contains(&format!("IMAGE-OF-{}-", target.label().replace('/', "-")))
}
