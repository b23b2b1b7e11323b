//! Stars on collections and containers.
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::stars::StarInfo;

/// The stars of `entity/collection`, or of `entity/collection/container` when `container` is
/// not empty.
#[server(prefix = "/rpc", endpoint = "stars")]
pub async fn get_stars(
    entity: String,
    collection: String,
    container: String,
) -> Result<StarInfo, SiloError> {
    let ctx = super::server::context()?;
    let target = super::server::star_target(entity, collection, &container)?;
    let state = ctx
        .registry
        .star_state(&super::server::current_actor(), &target)
        .await;
    super::server::respond(state.map(super::server::star_info))
}

/// Stars (`on = true`) or unstars a collection or container; signed-in users only.
#[server(prefix = "/rpc", endpoint = "star")]
pub async fn set_star(
    entity: String,
    collection: String,
    container: String,
    on: bool,
) -> Result<StarInfo, SiloError> {
    let ctx = super::server::context()?;
    let target = super::server::star_target(entity, collection, &container)?;
    let state = ctx
        .registry
        .set_star(&super::server::current_actor(), &target, on)
        .await;
    super::server::respond(state.map(super::server::star_info))
}
