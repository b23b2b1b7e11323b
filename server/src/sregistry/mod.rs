//! The legacy Singularity Registry Server API as the `sregistry` Python client (0.2.x,
//! `registry` backend) speaks it, and the manifest endpoint it shares with Apptainer's
//! `shub://` client (`crate::shub`). See `docs/protocols.md` for the names users type.
//!
//! Names: the clients address `collection/name`. A two-part name `C/N` is Silo's
//! `default/C/N` (as in library short references); the full `E/C/N` arrives as the
//! collection `E/C`. Whatever spelling the client used is what its signature covers.
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use silo_domain::services::ImageView;
use silo_domain::{Actor, DomainError};

use crate::state::AppState;

pub mod auth;
pub mod error;
mod handlers;
mod search;

pub use silo_domain::names::legacy::{parse_collection, spelling, LegacyRef};

/// The absolute URL the clients download an image from: a signed, short-lived capability
/// that needs no credentials (so the sregistry client's unsigned HEAD and GET work for
/// private images too) and records the download with `protocol`.
pub async fn download_url(
    state: &AppState,
    actor: &Actor,
    view: &ImageView,
    protocol: &str,
) -> Result<String, DomainError> {
    let token = state.registry.download_token(actor, view, protocol).await?;
    Ok(format!("{}/download/{token}", state.public_url))
}

pub fn routes() -> Router<AppState> {
    let upload = Router::new()
        .route("/upload", post(handlers::upload))
        .layer(DefaultBodyLimit::disable());
    Router::new()
        .route("/api/upload/chunked_upload", post(handlers::start_push))
        .route("/upload/chunked_upload", post(handlers::start_push))
        .route(
            "/api/container/{*reference}",
            get(crate::shub::manifest).delete(handlers::delete),
        )
        .route(
            "/container/{*reference}",
            axum::routing::delete(handlers::delete),
        )
        .route(
            "/{entity}/api/container/{*reference}",
            get(crate::shub::manifest_in_entity),
        )
        .route(
            "/api/container/search/{*query}",
            get(search::container_search),
        )
        .route("/api/collections", get(search::collections))
        .route("/api/collections/", get(search::collections))
        .route("/api/collection/{*name}", get(search::collection))
        .route("/api/registry/identity", get(search::identity))
        .merge(upload)
        .layer(axum::middleware::map_response(
            crate::edge::envelopes::sregistry,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_two_and_three_part_refs() {
        let r = LegacyRef::parse("tools/hello:1.0").unwrap();
        assert_eq!(r.path.to_string(), "default/tools/hello");
        assert_eq!(r.collection, "tools");
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        let r = LegacyRef::parse("alice/tools/hello@0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(r.path.to_string(), "alice/tools/hello");
        assert_eq!(r.collection, "alice/tools");
        assert_eq!(r.tag, None);
        assert_eq!(r.tag_or_default(), "latest");
        assert_eq!(
            r.version.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        for bad in ["hello", "a/b/c/d", "A/b", "a/b:bad tag", "a:b/c"] {
            assert!(LegacyRef::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_collection("alice/tools").unwrap(),
            ("alice".into(), "tools".into())
        );
        assert!(parse_collection("a/b/c").is_err());
    }
}
