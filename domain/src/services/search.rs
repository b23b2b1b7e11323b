//! Search across the namespace, never returning what the actor may not see.
use sea_orm::{
    sea_query::{Expr, ExprTrait, Func},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;

use super::{ContainerView, ImageView, Registry, SifMetadata};
use crate::entities::{collection, container, entity, image, image_metadata, tag};
use crate::error::Result;
use crate::policy::Actor;

/// At most this many hits of each kind.
pub const SEARCH_LIMIT: u64 = 100;

#[derive(Clone, Debug, Default)]
pub struct SearchHits {
    pub entities: Vec<entity::Model>,
    pub collections: Vec<(entity::Model, collection::Model)>,
    pub containers: Vec<ContainerView>,
    pub images: Vec<ImageView>,
    /// Images and tags of each container hit, by container id.
    pub contents: HashMap<i64, (Vec<image::Model>, Vec<tag::Model>)>,
    /// Star counts of the container hits, by container id (absent: none).
    pub stars: HashMap<i64, u64>,
    /// The SIF metadata of the image hits that have it, by image id.
    pub metadata: HashMap<i64, SifMetadata>,
}

impl Registry {
    /// Case-insensitive substring search over entity, collection and container names, image
    /// descriptions and SIF labels (names and values). `arch` and `signed` narrow the image hits.
    pub async fn search(
        &self,
        actor: &Actor,
        value: &str,
        arch: Option<&str>,
        signed: Option<bool>,
    ) -> Result<SearchHits> {
        let needle = value.trim().to_lowercase();
        let mut hits = SearchHits::default();
        if needle.is_empty() {
            return Ok(hits);
        }
        let pattern = format!("%{}%", needle.replace(['%', '_'], ""));
        hits.entities = entity::Entity::find()
            .filter(entity::Column::Name.like(&pattern))
            .order_by_asc(entity::Column::Name)
            .limit(SEARCH_LIMIT)
            .all(&self.db)
            .await?;
        for found in collection::Entity::find()
            .filter(collection::Column::Name.like(&pattern))
            .order_by_asc(collection::Column::Name)
            .limit(SEARCH_LIMIT * 4)
            .all(&self.db)
            .await?
        {
            let owner = self.entity_by_id(found.entity_id).await?;
            if actor.can_read(&owner, &found) && hits.collections.len() < SEARCH_LIMIT as usize {
                hits.collections.push((owner, found));
            }
        }
        let by_description: Vec<i64> = image::Entity::find()
            .select_only()
            .column(image::Column::ContainerId)
            .filter(image::Column::Description.like(&pattern))
            .limit(SEARCH_LIMIT * 4)
            .into_tuple()
            .all(&self.db)
            .await?;
        let labelled: Vec<i64> = image_metadata::Entity::find()
            .select_only()
            .column(image_metadata::Column::ImageId)
            .filter(
                Expr::expr(Func::lower(Expr::col(image_metadata::Column::Labels))).like(&pattern),
            )
            .limit(SEARCH_LIMIT * 4)
            .into_tuple()
            .all(&self.db)
            .await?;
        let by_labels: Vec<i64> = image::Entity::find()
            .select_only()
            .column(image::Column::ContainerId)
            .filter(image::Column::Id.is_in(labelled))
            .into_tuple()
            .all(&self.db)
            .await?;
        let containers = container::Entity::find()
            .filter(
                container::Column::Name
                    .like(&pattern)
                    .or(container::Column::Id.is_in(by_description))
                    .or(container::Column::Id.is_in(by_labels)),
            )
            .order_by_asc(container::Column::Name)
            .limit(SEARCH_LIMIT * 4)
            .all(&self.db)
            .await?;
        // Everything about the hits in a fixed number of queries, whatever their number
        // (searches run under load; one query per hit made them crawl).
        let collection_ids: Vec<i64> = containers.iter().map(|c| c.collection_id).collect();
        let collections: HashMap<i64, collection::Model> = collection::Entity::find()
            .filter(collection::Column::Id.is_in(collection_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let entity_ids: Vec<i64> = collections.values().map(|c| c.entity_id).collect();
        let entities: HashMap<i64, entity::Model> = entity::Entity::find()
            .filter(entity::Column::Id.is_in(entity_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        for found in containers {
            if hits.containers.len() >= SEARCH_LIMIT as usize {
                break;
            }
            let Some(collection) = collections.get(&found.collection_id) else {
                continue;
            };
            let Some(entity) = entities.get(&collection.entity_id) else {
                continue;
            };
            if actor.can_read_container(entity, collection, found.id) {
                hits.containers.push(ContainerView {
                    entity: entity.clone(),
                    collection: collection.clone(),
                    container: found,
                });
            }
        }
        let ids: Vec<i64> = hits.containers.iter().map(|v| v.container.id).collect();
        let contents = self.contents_of_containers(ids.clone()).await?;
        hits.stars = self.star_counts_of_containers(ids).await?;
        for view in &hits.containers {
            let Some((images, tags)) = contents.get(&view.container.id) else {
                continue;
            };
            for img in images.iter().filter(|i| i.uploaded) {
                if arch
                    .is_some_and(|a| !a.is_empty() && img.arch.as_deref().is_some_and(|ia| ia != a))
                {
                    continue;
                }
                if signed == Some(true) && img.signed != Some(true) {
                    continue;
                }
                let img_tags: Vec<tag::Model> = tags
                    .iter()
                    .filter(|t| t.image_id == img.id)
                    .cloned()
                    .collect();
                hits.images.push(ImageView {
                    owner: view.clone(),
                    image: img.clone(),
                    tags: img_tags,
                });
            }
        }
        let image_ids: Vec<i64> = hits.images.iter().map(|v| v.image.id).collect();
        hits.metadata = image_metadata::Entity::find()
            .filter(image_metadata::Column::ImageId.is_in(image_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.image_id, SifMetadata::from(m)))
            .collect();
        hits.contents = contents;
        Ok(hits)
    }
}
