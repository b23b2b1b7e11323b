//! The OCI distribution API (`oras://`, oras, skopeo): a thin adapter over the registry's
//! OCI services. Repository names are always `entity/collection/container`, so these routes
//! never collide with the library API's `/v2/imagefile/…` and `/v2/tags/…`.
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

mod auth;
mod blobs;
pub mod error;
mod manifests;

pub fn routes() -> Router<AppState> {
    const REPO: &str = "/v2/{e}/{c}/{n}";
    Router::new()
        .route("/v2/", get(auth::base))
        .route("/v2", get(auth::base))
        .route("/v2/token", get(auth::token))
        .route("/v2/_catalog", get(manifests::catalog))
        .route(
            &format!("{REPO}/blobs/{{digest}}"),
            get(blobs::get).head(blobs::get).delete(blobs::delete),
        )
        .route(&format!("{REPO}/blobs/uploads/"), post(blobs::start))
        .route(&format!("{REPO}/blobs/uploads"), post(blobs::start))
        .route(
            &format!("{REPO}/blobs/uploads/{{id}}"),
            get(blobs::status)
                .patch(blobs::patch)
                .put(blobs::finish)
                .delete(blobs::cancel),
        )
        .route(
            &format!("{REPO}/manifests/{{reference}}"),
            get(manifests::get)
                .head(manifests::get)
                .put(manifests::put)
                .delete(manifests::delete),
        )
        .route(&format!("{REPO}/tags/list"), get(manifests::tags))
        .route(
            &format!("{REPO}/referrers/{{digest}}"),
            get(manifests::referrers),
        )
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::map_response(crate::edge::envelopes::oci))
        .layer(SetResponseHeaderLayer::if_not_present(
            http::HeaderName::from_static("docker-distribution-api-version"),
            http::HeaderValue::from_static("registry/2.0"),
        ))
}
