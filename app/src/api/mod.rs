//! The SPA's server functions. Each one is thin: take the [`SiloContext`] the server provides,
//! ask the domain registry on behalf of the viewer, and map the answer to the DTOs of
//! [`crate::model`]. All are `POST /api/<endpoint>` (URL-encoded arguments, JSON answers).
//!
//! [`SiloContext`]: crate::context::SiloContext
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::{CollectionData, ContainerData, HomeData, SiteInfo};

mod listing;
mod search;

pub use listing::list_collections;
pub use search::search;

/// The centre's name, contacts, and how clients reach this registry (the administrators'
/// branding overrides over the configured branding).
#[server(prefix = "/rpc", endpoint = "site")]
pub async fn get_site() -> Result<SiteInfo, SiloError> {
    let ctx = server::context()?;
    let over = server::respond(ctx.registry.branding_override().await)?;
    Ok(server::site_info(&ctx, &over))
}

/// Counts and recent pushes for the home page.
#[server(prefix = "/rpc", endpoint = "home")]
pub async fn get_home() -> Result<HomeData, SiloError> {
    let ctx = server::context()?;
    let summary = ctx.registry.home_summary(&server::current_actor()).await;
    server::respond(summary.map(server::home_data))
}

/// A collection and its containers.
#[server(prefix = "/rpc", endpoint = "collection")]
pub async fn get_collection(
    entity: String,
    collection: String,
) -> Result<CollectionData, SiloError> {
    let ctx = server::context()?;
    let page = ctx
        .registry
        .collection_page(&server::current_actor(), &entity, &collection)
        .await;
    server::respond(page.map(server::collection_data))
}

/// A container with its tags and images.
#[server(prefix = "/rpc", endpoint = "container")]
pub async fn get_container(
    entity: String,
    collection: String,
    container: String,
) -> Result<ContainerData, SiloError> {
    let ctx = server::context()?;
    // A name that can never be valid names nothing: answer like for any absent container.
    let Ok(path) = silo_domain::names::ContainerPath::new(&entity, &collection, &container) else {
        return server::respond(Err(silo_domain::DomainError::not_found("container")));
    };
    let page = ctx
        .registry
        .container_page(&server::current_actor(), &path)
        .await;
    server::respond(page.map(server::container_data))
}

pub mod admin;
#[cfg(feature = "ssr")]
pub mod server;
pub mod session;
pub mod stars;
pub mod teams;
pub mod tokens;
pub mod treemap;

mod usage;
pub use usage::{get_entity, get_highlights, get_usage};
