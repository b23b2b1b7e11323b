//! What the SPA's home and entity pages point out: the most pulled and most starred containers
//! and collections, and an entity's profile (its totals and the stars it received). Every
//! figure covers only the collections the actor may read.
use sea_orm::FromQueryResult;

use super::sql::Sql;
use super::*;
use crate::policy::Actor;
use crate::services::Registry;

/// Longest "most …" list.
pub const MAX_HIGHLIGHTS: u64 = 20;

/// The leaders of the registry, as far as the actor may see. Entries with nothing to show (no
/// pulls, no stars) are left out, so the lists may be shorter than asked or empty.
#[derive(Clone, Debug, Default)]
pub struct Highlights {
    /// Most downloaded containers first.
    pub most_pulled: Vec<ContainerStats>,
    /// Most starred collections first.
    pub most_starred_collections: Vec<CollectionStats>,
    /// Most starred containers first.
    pub most_starred_containers: Vec<ContainerStats>,
    pub totals: RegistryStats,
}

/// An entity's totals over the collections the actor may read, and the stars those
/// collections and their containers received.
#[derive(Clone, Debug)]
pub struct EntityProfile {
    pub stats: EntityStats,
    pub stars: u64,
}

#[derive(FromQueryResult)]
struct StarCount {
    stars: i64,
}

impl Registry {
    /// The `limit` (at most [`MAX_HIGHLIGHTS`]) most pulled and most starred entries.
    pub async fn highlights(&self, actor: &Actor, limit: u64) -> Result<Highlights> {
        let page = PageRequest::new(Some(1), Some(limit.clamp(1, MAX_HIGHLIGHTS)))?;
        let containers_by = |sort| ContainerQuery {
            sort,
            order: SortOrder::Desc,
            page,
            ..Default::default()
        };
        let mut most_pulled = self
            .list_container_stats(actor, &containers_by(ContainerSort::Downloads))
            .await?
            .items;
        most_pulled.retain(|c| c.container.download_count > 0);
        let mut most_starred_containers = self
            .list_container_stats(actor, &containers_by(ContainerSort::Stars))
            .await?
            .items;
        most_starred_containers.retain(|c| c.stars > 0);
        let collections = CollectionQuery {
            sort: CollectionSort::Stars,
            order: SortOrder::Desc,
            page,
            ..Default::default()
        };
        let mut most_starred_collections =
            self.list_collection_stats(actor, &collections).await?.items;
        most_starred_collections.retain(|c| c.stars > 0);
        Ok(Highlights {
            most_pulled,
            most_starred_collections,
            most_starred_containers,
            totals: self.registry_stats(actor).await?,
        })
    }

    /// An entity (entity names are public) with its totals and the stars received by its
    /// collections and containers, counting only collections the actor may read.
    pub async fn entity_profile(&self, actor: &Actor, name: &str) -> Result<EntityProfile> {
        let stats = self.entity_stats(actor, name).await?;
        let scope = actor.read_scope();
        let mut sql = Sql::new(
            "SELECT (SELECT COUNT(*) FROM stars s JOIN collections c ON c.id = s.collection_id \
             WHERE c.entity_id = ",
        );
        sql.bind(stats.entity.id)
            .push(" AND ")
            .readable(&scope, "c")
            .push(
                ") + (SELECT COUNT(*) FROM stars s JOIN containers k ON k.id = s.container_id \
                 JOIN collections c ON c.id = k.collection_id WHERE c.entity_id = ",
            )
            .bind(stats.entity.id)
            .push(" AND ")
            .readable(&scope, "c")
            .push(") AS stars");
        let row = StarCount::find_by_statement(sql.build(self.db.get_database_backend()))
            .one(&self.db)
            .await?;
        Ok(EntityProfile {
            stats,
            stars: row.map_or(0, |r| count(r.stars)),
        })
    }
}
