//! Server functions of the usage charts, the home page's highlights and the entity page.
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::{EntityData, HighlightsData, UsageData};

/// Pulls per day over the last `days` days (see [`crate::model::USAGE_RANGES`]), and for
/// collections and the registry also the stored bytes. `path` is empty for the whole registry,
/// `entity/collection` or `entity/collection/container`.
#[server(prefix = "/rpc", endpoint = "usage")]
pub async fn get_usage(path: String, days: u32) -> Result<UsageData, SiloError> {
    use crate::api::server;
    let ctx = server::context()?;
    server::respond(mapping::usage(&ctx.registry, &server::current_actor(), &path, days).await)
}

/// The most pulled and most starred entries, and registry-wide totals.
#[server(prefix = "/rpc", endpoint = "highlights")]
pub async fn get_highlights() -> Result<HighlightsData, SiloError> {
    use crate::api::server;
    let ctx = server::context()?;
    let highlights = ctx
        .registry
        .highlights(&server::current_actor(), mapping::HIGHLIGHTS)
        .await;
    server::respond(highlights.map(mapping::highlights))
}

/// An entity, its totals and one page (from 1) of its collections.
#[server(prefix = "/rpc", endpoint = "entity")]
pub async fn get_entity(entity: String, page: u64) -> Result<EntityData, SiloError> {
    use crate::api::server;
    let ctx = server::context()?;
    server::respond(mapping::entity(&ctx.registry, &server::current_actor(), &entity, page).await)
}

#[cfg(feature = "ssr")]
mod mapping {
    use chrono::{Duration, Utc};
    use silo_domain::names::ContainerPath;
    use silo_domain::services::stats::{
        CollectionQuery, DayRange, Highlights, PageRequest, MAX_USAGE_DAYS,
    };
    use silo_domain::services::Registry;
    use silo_domain::{Actor, DomainError};

    use crate::api::server::timestamp;
    use crate::model::{
        EntityCollection, EntityData, HighlightsData, RankedItem, UsageData, UsageDay,
    };

    /// How many entries each "most …" list of the home page shows.
    pub const HIGHLIGHTS: u64 = 5;
    /// Collections per page of the entity page.
    const ENTITY_PAGE_SIZE: u64 = 50;

    fn day(date: chrono::NaiveDate) -> String {
        date.format("%Y-%m-%d").to_string()
    }

    pub async fn usage(
        registry: &Registry,
        actor: &Actor,
        path: &str,
        days: u32,
    ) -> Result<UsageData, DomainError> {
        if days == 0 || i64::from(days) > MAX_USAGE_DAYS {
            return Err(DomainError::invalid(format!(
                "days must be between 1 and {MAX_USAGE_DAYS}"
            )));
        }
        let to = Utc::now().date_naive();
        let range = DayRange::new(Some(to - Duration::days(i64::from(days) - 1)), Some(to))?;
        let parts: Vec<&str> = if path.is_empty() {
            Vec::new()
        } else {
            path.split('/').collect()
        };
        let series = match parts.as_slice() {
            [] => registry.registry_usage(actor, &range).await?,
            [entity, collection] => {
                registry
                    .collection_usage(actor, entity, collection, &range)
                    .await?
            }
            [entity, collection, container] => {
                // A name that can never be valid names nothing.
                let path = ContainerPath::new(entity, collection, container)
                    .map_err(|_| DomainError::not_found("container"))?;
                let days = registry.container_usage(actor, &path, &range).await?;
                return Ok(UsageData {
                    days: days
                        .into_iter()
                        .map(|d| UsageDay {
                            date: day(d.date),
                            downloads: d.downloads,
                            bytes_total: 0,
                        })
                        .collect(),
                    has_storage: false,
                });
            }
            _ => {
                return Err(DomainError::invalid(
                    "path must be empty, entity/collection or entity/collection/container",
                ))
            }
        };
        Ok(UsageData {
            days: series
                .into_iter()
                .map(|d| UsageDay {
                    date: day(d.date),
                    downloads: d.downloads,
                    bytes_total: d.bytes_total,
                })
                .collect(),
            has_storage: true,
        })
    }

    pub fn highlights(h: Highlights) -> HighlightsData {
        let most_pulled = h
            .most_pulled
            .iter()
            .map(|c| RankedItem {
                path: c.path(),
                kind: "container".into(),
                count: u64::try_from(c.container.download_count).unwrap_or(0),
            })
            .collect();
        let mut most_starred: Vec<RankedItem> = h
            .most_starred_collections
            .iter()
            .map(|c| RankedItem {
                path: format!("{}/{}", c.entity_name, c.collection.name),
                kind: "collection".into(),
                count: c.stars,
            })
            .chain(h.most_starred_containers.iter().map(|c| RankedItem {
                path: c.path(),
                kind: "container".into(),
                count: c.stars,
            }))
            .collect();
        // Stable: equal counts keep collections before containers, each in path order.
        most_starred.sort_by_key(|item| std::cmp::Reverse(item.count));
        most_starred.truncate(HIGHLIGHTS as usize);
        HighlightsData {
            most_pulled,
            most_starred,
            entities: h.totals.entities,
            downloads: h.totals.downloads,
            stars: h.totals.stars,
        }
    }

    pub async fn entity(
        registry: &Registry,
        actor: &Actor,
        name: &str,
        page: u64,
    ) -> Result<EntityData, DomainError> {
        let profile = registry.entity_profile(actor, name).await?;
        let page = PageRequest::new(Some(page), Some(ENTITY_PAGE_SIZE))?;
        let query = CollectionQuery {
            entity: Some(profile.stats.entity.name.clone()),
            page,
            ..Default::default()
        };
        let listed = registry.list_collection_stats(actor, &query).await?;
        let stats = profile.stats;
        Ok(EntityData {
            name: stats.entity.name,
            description: stats.entity.description,
            created_at: timestamp(stats.entity.created_at),
            collections: stats.collections,
            containers: stats.containers,
            size_bytes: stats.size_bytes,
            downloads: stats.downloads,
            stars: profile.stars,
            listed: listed
                .items
                .into_iter()
                .map(|c| EntityCollection {
                    name: c.collection.name,
                    description: c.collection.description,
                    private: c.collection.private,
                    containers: c.containers,
                    size_bytes: c.size_bytes,
                    downloads: c.downloads,
                    stars: c.stars,
                    updated_at: timestamp(c.updated_at),
                })
                .collect(),
            page: page.page,
            per_page: page.per_page,
        })
    }
}
