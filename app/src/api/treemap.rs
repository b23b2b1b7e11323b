//! The treemap's server function.
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::treemap::TreemapData;

/// Every container the viewer may read, with its stored bytes, for the treemap.
#[server(prefix = "/rpc", endpoint = "treemap")]
pub async fn get_treemap() -> Result<TreemapData, SiloError> {
    let ctx = super::server::context()?;
    let leaves = ctx.registry.treemap(&super::server::current_actor()).await;
    super::server::respond(leaves.map(treemap_data))
}

#[cfg(feature = "ssr")]
fn treemap_data(leaves: Vec<silo_domain::services::stats::TreemapLeaf>) -> TreemapData {
    use crate::model::treemap::TreemapContainer;
    TreemapData {
        containers: leaves
            .into_iter()
            .map(|leaf| TreemapContainer {
                entity: leaf.entity,
                collection: leaf.collection,
                name: leaf.container,
                size: leaf.size_bytes,
                images: leaf.images,
                last_push: leaf.last_push.map_or(0, |t| t.timestamp()),
            })
            .collect(),
        now: chrono::Utc::now().timestamp(),
    }
}
