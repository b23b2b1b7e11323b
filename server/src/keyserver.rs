//! The keyserver: the HTTP Keyserver Protocol (HKP, draft-shaw-openpgp-hkp) as GnuPG's
//! dirmngr and Apptainer's key client speak it. A thin adapter over the registry's keys.
//!
//! - `GET /pks/lookup?op=get|index|vindex&search=…[&options=mr][&exact=on][&fingerprint=on]`
//! - `POST /pks/add` with the form field `keytext` (needs `Authorization: Bearer <token>`)
//!
//! Answers are plain text (errors too); `op=get` answers `application/pgp-keys`.
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use silo_domain::services::{KeyQuery, PublicKeyView, MAX_KEYTEXT_BYTES};
use silo_domain::DomainError;
use std::fmt::Write as _;

use crate::state::AppState;

/// Largest `/pks/add` body: the key text URL-encoded (base64 grows by at most a third when
/// `+`, `/` and `=` become `%XX`), plus room for the field names.
const MAX_ADD_BODY: usize = MAX_KEYTEXT_BYTES * 2;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pks/lookup", get(lookup))
        .route("/pks/add", post(add))
}

/// The keyserver's errors; [`IntoResponse`] is the one place they become HTTP statuses.
#[derive(Debug)]
pub enum KeyserverError {
    Domain(DomainError),
    /// An `op` this server does not implement.
    NotImplemented(String),
    /// A request body over [`MAX_ADD_BODY`].
    TooLarge,
}

impl From<DomainError> for KeyserverError {
    fn from(e: DomainError) -> Self {
        KeyserverError::Domain(e)
    }
}

impl IntoResponse for KeyserverError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            KeyserverError::NotImplemented(op) => (
                StatusCode::NOT_IMPLEMENTED,
                format!("operation {op:?} is not implemented; use get, index or vindex"),
            ),
            KeyserverError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body larger than {MAX_ADD_BODY} bytes"),
            ),
            KeyserverError::Domain(e) => {
                let status = match &e {
                    DomainError::NotFound(_) => StatusCode::NOT_FOUND,
                    DomainError::Unauthenticated => StatusCode::UNAUTHORIZED,
                    DomainError::Forbidden(_) => StatusCode::FORBIDDEN,
                    DomainError::Conflict(_) => StatusCode::CONFLICT,
                    e if e.is_internal() => StatusCode::INTERNAL_SERVER_ERROR,
                    _ => StatusCode::BAD_REQUEST,
                };
                let message = if e.is_internal() {
                    tracing::error!(error = %e, "internal error in keyserver");
                    "internal server error".to_string()
                } else if status == StatusCode::UNAUTHORIZED {
                    "authentication required: adding keys needs `Authorization: Bearer <token>`"
                        .to_string()
                } else {
                    e.to_string()
                };
                (status, message)
            }
        };
        let mut response = text(status, "text/plain; charset=utf-8", message + "\n");
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// The parameters of a lookup.
struct Lookup {
    op: String,
    search: String,
    machine_readable: bool,
    exact: bool,
}

impl Lookup {
    fn parse(query: Option<&str>) -> Result<Lookup, KeyserverError> {
        let mut op = None;
        let mut search = None;
        let mut machine_readable = false;
        let mut exact = false;
        for (name, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match name.as_ref() {
                "op" => op = Some(value.into_owned()),
                "search" => search = Some(value.into_owned()),
                "options" => machine_readable |= value.split(',').any(|o| o.trim() == "mr"),
                "exact" => exact = value.eq_ignore_ascii_case("on"),
                // `fingerprint=on`: indexes always show full fingerprints. Other parameters
                // (`nm`, `hash`, `x-…`) are ignored, as the draft allows.
                _ => {}
            }
        }
        let op = op.ok_or_else(|| DomainError::invalid("missing parameter op"))?;
        let search = search.ok_or_else(|| DomainError::invalid("missing parameter search"))?;
        Ok(Lookup {
            op,
            search,
            machine_readable,
            exact,
        })
    }
}

/// `GET /pks/lookup`. Anyone may look keys up.
async fn lookup(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, KeyserverError> {
    // Lookups need no credentials, but a bad one is refused, as everywhere.
    let actor = state.actor(&headers).await?;
    let lookup = Lookup::parse(query.as_deref())?;
    if !matches!(lookup.op.as_str(), "get" | "index" | "vindex") {
        return Err(KeyserverError::NotImplemented(lookup.op));
    }
    let query = KeyQuery::parse(&lookup.search, lookup.exact)?;
    let keys = state.registry.find_keys(&actor, &query).await?;
    if keys.is_empty() {
        return Err(DomainError::not_found(format!("no key matching {:?}", lookup.search)).into());
    }
    Ok(match lookup.op.as_str() {
        "get" => {
            let body = keys
                .iter()
                .map(|k| k.armored.trim_end())
                .collect::<Vec<_>>()
                .join("\n");
            text(StatusCode::OK, "application/pgp-keys", body + "\n")
        }
        _ if lookup.machine_readable => text(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            machine_index(&keys),
        ),
        _ => text(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            human_index(&keys),
        ),
    })
}

/// Index flags: `r` revoked, `e` expired.
fn flags(key: &PublicKeyView) -> String {
    let mut flags = String::new();
    if key.revoked {
        flags.push('r');
    }
    if key.expires.is_some_and(|t| t <= Utc::now()) {
        flags.push('e');
    }
    flags
}

/// The machine-readable index (`options=mr`): `info:1:N`, then per key a `pub:` line and
/// its `uid:` lines.
fn machine_index(keys: &[PublicKeyView]) -> String {
    let mut out = format!("info:1:{}\n", keys.len());
    for key in keys {
        let expires = key
            .expires
            .map(|t| t.timestamp().to_string())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "pub:{}:{}:{}:{}:{}:{}",
            key.fingerprint,
            key.algorithm,
            key.bits,
            key.created.timestamp(),
            expires,
            flags(key)
        );
        for uid in &key.user_ids {
            let _ = writeln!(out, "uid:{}:::", escape_uid(uid));
        }
    }
    out
}

/// Escapes a user ID for the machine-readable index: `%XX` for `:`, `%` and every byte
/// that is not printable ASCII.
fn escape_uid(uid: &str) -> String {
    let mut out = String::with_capacity(uid.len());
    for b in uid.bytes() {
        if b == b':' || b == b'%' || !(0x20..0x7f).contains(&b) {
            let _ = write!(out, "%{b:02X}");
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// A plain-text index for people.
fn human_index(keys: &[PublicKeyView]) -> String {
    let mut out = format!("{} key(s) found\n", keys.len());
    for key in keys {
        let _ = write!(
            out,
            "\npub  {}/{} {}  created {}",
            algorithm_name(key.algorithm),
            key.bits,
            key.fingerprint,
            key.created.format("%Y-%m-%d")
        );
        if let Some(expires) = key.expires {
            let _ = write!(out, "  expires {}", expires.format("%Y-%m-%d"));
        }
        if key.revoked {
            out.push_str("  [revoked]");
        }
        out.push('\n');
        for uid in &key.user_ids {
            let _ = writeln!(out, "uid  {uid}");
        }
    }
    out
}

fn algorithm_name(algorithm: i32) -> &'static str {
    match algorithm {
        1..=3 => "rsa",
        16 | 20 => "elgamal",
        17 => "dsa",
        18 => "ecdh",
        19 => "ecdsa",
        22 => "eddsa",
        25 => "x25519",
        26 => "x448",
        27 => "ed25519",
        28 => "ed448",
        _ => "unknown",
    }
}

/// `POST /pks/add`, form field `keytext`. Needs a user with a push-scoped token.
async fn add(State(state): State<AppState>, request: Request) -> Result<Response, KeyserverError> {
    let actor = state.actor(request.headers()).await?;
    // The registry decides again; asking the policy first refuses anonymous uploads
    // (`gpg --send-keys`) before their body is read.
    actor.require_key_upload()?;
    let body = axum::body::to_bytes(request.into_body(), MAX_ADD_BODY)
        .await
        .map_err(|_| KeyserverError::TooLarge)?;
    let keytext = url::form_urlencoded::parse(&body)
        .find(|(name, _)| name == "keytext")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| DomainError::invalid("missing form field keytext"))?;
    let outcome = state.registry.add_keys(&actor, &keytext).await?;
    let mut message = String::new();
    for (verb, list) in [
        ("added", &outcome.added),
        ("updated", &outcome.updated),
        ("unchanged (a newer copy is stored)", &outcome.unchanged),
    ] {
        for fingerprint in list {
            let _ = writeln!(message, "{verb}: {fingerprint}");
        }
    }
    Ok(text(StatusCode::OK, "text/plain; charset=utf-8", message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_escaping() {
        assert_eq!(escape_uid("A <a@b.c>"), "A <a@b.c>");
        assert_eq!(escape_uid("x:y%z"), "x%3Ay%25z");
        assert_eq!(escape_uid("Zoë"), "Zo%C3%AB");
    }
}
