//! The Sylabs library API (`library://`), as Apptainer's client speaks it; see
//! `docs/protocols.md` and the shared wire reference. A thin adapter over the registry.
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use axum::Router;

use crate::state::AppState;

pub mod error;
mod files;
mod images;
mod meta;
mod multipart;
mod namespace;
pub mod wire;

pub use files::{blob_response, body_stream, parse_range};
pub use meta::not_found;

pub fn routes() -> Router<AppState> {
    let uploads = Router::new()
        .route(
            "/v2/imagefile/_upload/{session}",
            put(files::receive_upload),
        )
        .route(
            "/v2/imagefile/_upload/{session}/{part}",
            put(multipart::receive_part),
        )
        .route("/download/{token}", get(files::download_granted))
        .route(
            "/v1/imagefile/{*reference}",
            get(files::download).post(files::legacy_upload),
        )
        .layer(DefaultBodyLimit::disable());
    Router::new()
        .route("/assets/config/config.prod.json", get(meta::discovery))
        .route("/version", get(meta::version))
        .route("/v1/version", get(meta::version))
        .route("/v1/token-status", get(meta::token_status))
        .route("/v1/rbac/users/current", get(meta::current_user))
        .route("/v1/oci-redirect", get(meta::oci_redirect))
        .route("/v1/entities", post(namespace::create_entity))
        .route("/v1/entities/{name}", get(namespace::get_entity))
        .route("/v1/collections", post(namespace::create_collection))
        .route(
            "/v1/collections/{entity}/{name}",
            get(namespace::get_collection),
        )
        .route("/v1/containers", post(namespace::create_container))
        .route(
            "/v1/containers/{entity}/{collection}/{name}",
            get(namespace::get_container),
        )
        .route("/v1/images", post(images::create_image))
        .route(
            "/v1/images/{*reference}",
            get(images::get_image).delete(images::delete_image),
        )
        .route(
            "/v1/tags/{container}",
            get(images::get_tags_v1).post(images::set_tag),
        )
        .route(
            "/v2/tags/{container}",
            get(images::get_tags_v2).post(images::set_tag),
        )
        .route("/v1/search", get(images::search))
        .route("/v2/imagefile/{image}", post(files::start_upload))
        .route(
            "/v2/imagefile/{image}/_complete",
            put(files::complete_upload),
        )
        .route(
            "/v2/imagefile/{image}/_multipart",
            post(multipart::start).put(multipart::part_url),
        )
        .route(
            "/v2/imagefile/{image}/_multipart_complete",
            put(multipart::complete),
        )
        .route(
            "/v2/imagefile/{image}/_multipart_abort",
            put(multipart::abort),
        )
        .merge(uploads)
        .layer(axum::middleware::map_response(
            crate::edge::envelopes::library,
        ))
}
