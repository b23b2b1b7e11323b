//! The metadata REST API (`/api/v1/…`) for scripts and dashboards, its OpenAPI document
//! (`/api/openapi.json`) and a browsable page over it (`/api/docs`). See `docs/rest-api.md`.
//!
//! Routes and document come from the same [`utoipa_axum::routes!`] calls in [`api`], so the
//! document cannot describe a route the router lacks, or miss one it has.
use std::sync::OnceLock;

use axum::routing::get;
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

mod catalog;
mod docs;
pub mod error;
pub mod model;
mod paging;
mod usage;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Silo REST API",
        description = "Read-only metadata of a Silo registry for scripts and dashboards: \
                       entities, collections, containers and images with sizes, hashes, push \
                       times, architectures, tags, stars and downloads, and usage over time. \
                       Anonymous callers see public collections; send `Authorization: Bearer \
                       <token>` (a token from `silo token create`) to see what that user may \
                       read. Private collections the caller may not read are absent from every \
                       list, count and total.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "catalog", description = "What the registry holds"),
        (name = "usage", description = "Activity over time and totals"),
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

/// Declares the optional bearer token.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // Anonymous or with a token.
        openapi.security = Some(vec![
            SecurityRequirement::default(),
            SecurityRequirement::new("bearer", Vec::<String>::new()),
        ]);
    }
}

/// Every REST route, each with its OpenAPI operation.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(catalog::list_entities))
        .routes(routes!(catalog::get_entity))
        .routes(routes!(catalog::list_collections))
        .routes(routes!(catalog::get_collection))
        .routes(routes!(catalog::list_containers))
        .routes(routes!(catalog::get_container))
        .routes(routes!(catalog::list_images))
        .routes(routes!(usage::container_usage))
        .routes(routes!(usage::registry_usage))
        .routes(routes!(usage::stats))
}

/// The REST routes, the OpenAPI document and the docs page.
pub fn routes() -> Router<AppState> {
    let (router, _) = api().split_for_parts();
    router
        .route("/api/openapi.json", get(docs::openapi_json))
        .route("/api/docs", get(docs::page))
        .layer(axum::middleware::map_response(
            crate::edge::envelopes::library,
        ))
}

/// The OpenAPI document of the REST API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// The OpenAPI document as served and committed (`docs/openapi.json`), pretty-printed.
pub fn openapi_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut json = openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serializes");
        json.push('\n');
        json
    })
}
