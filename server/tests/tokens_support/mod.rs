//! Server-function calls as the SPA makes them (URL-encoded POSTs to `/rpc/…` with the session
//! cookie and this registry's `Origin`), for the tokens and share-link tests.
#![allow(dead_code)]
use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::common::{Harness, Reply, PUBLIC_URL};

pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn text(reply: &Reply) -> String {
    String::from_utf8_lossy(&reply.body).into_owned()
}

/// A server function call; `cookie` is the session secret, `origin` the `Origin` header.
pub async fn rpc(
    h: &Harness,
    name: &str,
    form: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Reply {
    let mut builder = Request::builder()
        .method("POST")
        .uri(format!("/rpc/{name}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    if let Some(cookie) = cookie {
        builder = builder.header("cookie", format!("silo_session={cookie}"));
    }
    if let Some(origin) = origin {
        builder = builder.header("origin", origin);
    }
    h.send(builder.body(Body::from(form.to_string())).unwrap())
        .await
}

/// A server function call from this registry's own page.
pub async fn page_rpc(h: &Harness, name: &str, form: &str, cookie: &str) -> Reply {
    rpc(h, name, form, Some(cookie), Some(PUBLIC_URL)).await
}

/// Signs in with a token and returns the session cookie's value.
pub async fn sign_in(h: &Harness, user: &str, token: &str) -> String {
    let form = format!("username={user}&token={}", encode(token));
    let reply = rpc(h, "login", &form, None, Some(PUBLIC_URL)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", text(&reply));
    let cookie = reply.header("set-cookie").expect("a session cookie");
    cookie
        .strip_prefix("silo_session=")
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .to_string()
}
