//! Read-side views for browsing the registry (the SPA): what exists, as far as the actor may
//! see. Every method starts from the collections the actor may read (decided by
//! [`Actor::can_read`]) and only ever looks below those.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Query, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{ContainerView, Registry};
use crate::entities::{collection, container, entity, image, tag, team, user};
use crate::error::Result;
use crate::names::ContainerPath;
use crate::policy::Actor;

/// How many recent pushes the home page lists.
pub const RECENT_PUSHES: u64 = 10;

/// Counts over everything the actor may see, and the latest pushes.
#[derive(Clone, Debug, Default)]
pub struct HomeSummary {
    pub collections: u64,
    pub containers: u64,
    /// Uploaded images (records whose bytes arrived).
    pub images: u64,
    /// Sum of the sizes of those images, in bytes.
    pub total_bytes: u64,
    /// Newest uploaded images first.
    pub recent: Vec<RecentPush>,
}

/// An uploaded image, where it lives, and the tags pointing at it.
#[derive(Clone, Debug)]
pub struct RecentPush {
    pub entity: String,
    pub collection: String,
    pub container: String,
    pub image: image::Model,
    pub tags: Vec<tag::Model>,
}

impl RecentPush {
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.entity, self.collection, self.container)
    }
}

/// One row of the collections list.
#[derive(Clone, Debug)]
pub struct CollectionSummary {
    pub entity: entity::Model,
    pub collection: collection::Model,
    pub containers: u64,
    /// Sum of the sizes of the collection's uploaded images, in bytes.
    pub total_bytes: u64,
    /// The latest change to the collection or any of its containers.
    pub updated_at: DateTime<Utc>,
    pub stars: u64,
}

/// One row of a collection's container list.
#[derive(Clone, Debug)]
pub struct ContainerSummary {
    pub container: container::Model,
    /// Uploaded images.
    pub images: u64,
    pub tags: u64,
    /// Sum of the sizes of the container's uploaded images, in bytes.
    pub total_bytes: u64,
    pub stars: u64,
}

/// A collection with its containers, sorted by name.
#[derive(Clone, Debug)]
pub struct CollectionPage {
    pub entity: entity::Model,
    pub collection: collection::Model,
    pub containers: Vec<ContainerSummary>,
    /// Who owns it: the entity's user or team, and the collection's own owner when that is
    /// someone else (user names; a team as `team <name>`).
    pub owners: Vec<String>,
}

/// An image of a container and the tags (of any arch) pointing at it.
#[derive(Clone, Debug)]
pub struct ImageEntry {
    pub image: image::Model,
    pub tags: Vec<tag::Model>,
    /// What SIF inspection recorded, when the image was inspected.
    pub sif: Option<super::SifMetadata>,
}

/// Everything the container page shows.
#[derive(Clone, Debug)]
pub struct ContainerPage {
    pub view: ContainerView,
    /// Newest first; includes records still waiting for their bytes (`uploaded == false`).
    pub images: Vec<ImageEntry>,
    /// All tags, ordered by arch, then name.
    pub tags: Vec<tag::Model>,
    pub stars: u64,
    /// Whether the actor owns the collection (deletes, shares): [`Actor::require_manage`].
    pub can_manage: bool,
}

/// Per-container totals of uploaded images.
#[derive(Clone, Copy, Debug, Default)]
struct ImageTotals {
    count: u64,
    bytes: u64,
}

impl Registry {
    /// The collections the actor may read, with their entities, sorted by entity then name.
    async fn readable_collections(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(entity::Model, collection::Model)>> {
        let mut query = collection::Entity::find();
        if actor.principal().is_none() {
            // Narrows the query only; `can_read` below remains the rule.
            query = query.filter(collection::Column::Private.eq(false));
        }
        let collections = query.all(&self.db).await?;
        let mut entity_ids: Vec<i64> = collections.iter().map(|c| c.entity_id).collect();
        entity_ids.sort_unstable();
        entity_ids.dedup();
        let entities: HashMap<i64, entity::Model> = entity::Entity::find()
            .filter(entity::Column::Id.is_in(entity_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let mut readable: Vec<(entity::Model, collection::Model)> = collections
            .into_iter()
            .filter_map(|c| {
                let owner = entities.get(&c.entity_id)?;
                actor.can_read(owner, &c).then(|| (owner.clone(), c))
            })
            .collect();
        readable.sort_by(|(ea, ca), (eb, cb)| (&ea.name, &ca.name).cmp(&(&eb.name, &cb.name)));
        Ok(readable)
    }

    /// Totals of uploaded images per container, for the containers of `collection_ids`.
    async fn image_totals(&self, collection_ids: &[i64]) -> Result<HashMap<i64, ImageTotals>> {
        let rows: Vec<(i64, i64)> = image::Entity::find()
            .select_only()
            .column(image::Column::ContainerId)
            .column(image::Column::Size)
            .filter(image::Column::Uploaded.eq(true))
            .filter(image::Column::ContainerId.in_subquery(containers_of(collection_ids)))
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut totals: HashMap<i64, ImageTotals> = HashMap::new();
        for (container_id, size) in rows {
            let t = totals.entry(container_id).or_default();
            t.count += 1;
            t.bytes += u64::try_from(size).unwrap_or(0);
        }
        Ok(totals)
    }

    /// Counts and recent pushes over everything the actor may see.
    pub async fn home_summary(&self, actor: &Actor) -> Result<HomeSummary> {
        let readable = self.readable_collections(actor).await?;
        let ids: Vec<i64> = readable.iter().map(|(_, c)| c.id).collect();
        let by_id: HashMap<i64, &(entity::Model, collection::Model)> =
            readable.iter().map(|pair| (pair.1.id, pair)).collect();
        let containers = container::Entity::find()
            .filter(container::Column::CollectionId.is_in(ids.clone()))
            .count(&self.db)
            .await?;
        let totals = self.image_totals(&ids).await?;
        let recent_images = image::Entity::find()
            .filter(image::Column::Uploaded.eq(true))
            .filter(image::Column::ContainerId.in_subquery(containers_of(&ids)))
            .order_by_desc(image::Column::CreatedAt)
            .order_by_desc(image::Column::Id)
            .limit(RECENT_PUSHES)
            .all(&self.db)
            .await?;
        let container_ids: Vec<i64> = recent_images.iter().map(|i| i.container_id).collect();
        let owners: HashMap<i64, container::Model> = container::Entity::find()
            .filter(container::Column::Id.is_in(container_ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let image_ids: Vec<i64> = recent_images.iter().map(|i| i.id).collect();
        let mut tags_by_image: HashMap<i64, Vec<tag::Model>> = HashMap::new();
        for t in tag::Entity::find()
            .filter(tag::Column::ImageId.is_in(image_ids))
            .order_by_asc(tag::Column::Arch)
            .order_by_asc(tag::Column::Name)
            .all(&self.db)
            .await?
        {
            tags_by_image.entry(t.image_id).or_default().push(t);
        }
        let mut recent = Vec::with_capacity(recent_images.len());
        for image in recent_images {
            let Some(owner) = owners.get(&image.container_id) else {
                continue;
            };
            let Some((e, c)) = by_id.get(&owner.collection_id) else {
                continue;
            };
            recent.push(RecentPush {
                entity: e.name.clone(),
                collection: c.name.clone(),
                container: owner.name.clone(),
                tags: tags_by_image.remove(&image.id).unwrap_or_default(),
                image,
            });
        }
        Ok(HomeSummary {
            collections: readable.len() as u64,
            containers,
            images: totals.values().map(|t| t.count).sum(),
            total_bytes: totals.values().map(|t| t.bytes).sum(),
            recent,
        })
    }

    /// Every collection the actor may read, sorted by entity then collection name.
    pub async fn list_collections(&self, actor: &Actor) -> Result<Vec<CollectionSummary>> {
        let readable = self.readable_collections(actor).await?;
        let ids: Vec<i64> = readable.iter().map(|(_, c)| c.id).collect();
        let containers: Vec<(i64, i64, DateTime<Utc>)> = container::Entity::find()
            .select_only()
            .column(container::Column::Id)
            .column(container::Column::CollectionId)
            .column(container::Column::UpdatedAt)
            .filter(container::Column::CollectionId.is_in(ids.clone()))
            .into_tuple()
            .all(&self.db)
            .await?;
        let totals = self.image_totals(&ids).await?;
        let stars = self.collection_star_counts().await?;
        let mut per_collection: HashMap<i64, (u64, u64, Option<DateTime<Utc>>)> = HashMap::new();
        for (container_id, collection_id, updated_at) in containers {
            let entry = per_collection.entry(collection_id).or_default();
            entry.0 += 1;
            entry.1 += totals.get(&container_id).map_or(0, |t| t.bytes);
            entry.2 = std::cmp::max(entry.2, Some(updated_at));
        }
        Ok(readable
            .into_iter()
            .map(|(entity, collection)| {
                let (containers, total_bytes, latest) = per_collection
                    .get(&collection.id)
                    .copied()
                    .unwrap_or_default();
                let updated_at = latest.map_or(collection.updated_at, |l| {
                    std::cmp::max(l, collection.updated_at)
                });
                CollectionSummary {
                    stars: stars.get(&collection.id).copied().unwrap_or(0),
                    entity,
                    collection,
                    containers,
                    total_bytes,
                    updated_at,
                }
            })
            .collect())
    }

    /// A collection the actor may read, with a summary of each of its containers.
    pub async fn collection_page(
        &self,
        actor: &Actor,
        entity_name: &str,
        collection_name: &str,
    ) -> Result<CollectionPage> {
        let (entity, collection) = self.collection(actor, entity_name, collection_name).await?;
        let containers = container::Entity::find()
            .filter(container::Column::CollectionId.eq(collection.id))
            .order_by_asc(container::Column::Name)
            .all(&self.db)
            .await?;
        let totals = self.image_totals(&[collection.id]).await?;
        let tag_rows: Vec<i64> = tag::Entity::find()
            .select_only()
            .column(tag::Column::ContainerId)
            .filter(tag::Column::ContainerId.in_subquery(containers_of(&[collection.id])))
            .into_tuple()
            .all(&self.db)
            .await?;
        let stars = self.container_star_counts(collection.id).await?;
        let mut tag_counts: BTreeMap<i64, u64> = BTreeMap::new();
        for container_id in tag_rows {
            *tag_counts.entry(container_id).or_default() += 1;
        }
        let containers = containers
            .into_iter()
            .map(|container| {
                let t = totals.get(&container.id).copied().unwrap_or_default();
                ContainerSummary {
                    images: t.count,
                    total_bytes: t.bytes,
                    tags: tag_counts.get(&container.id).copied().unwrap_or(0),
                    stars: stars.get(&container.id).copied().unwrap_or(0),
                    container,
                }
            })
            .collect();
        let owners = self.owners_of(&entity, &collection).await?;
        Ok(CollectionPage {
            entity,
            collection,
            containers,
            owners,
        })
    }

    /// A container the actor may read, with its images, tags and stars.
    pub async fn container_page(
        &self,
        actor: &Actor,
        path: &ContainerPath,
    ) -> Result<ContainerPage> {
        let view = self.container(actor, path).await?;
        let (images, tags) = self.container_contents(&view).await?;
        let stars = self.container_stars(view.container.id).await?;
        let ids: Vec<i64> = images.iter().map(|i| i.id).collect();
        let mut sif = self.metadata_of_images(&ids).await?;
        let images = images
            .into_iter()
            .map(|image| {
                let image_tags = tags
                    .iter()
                    .filter(|t| t.image_id == image.id)
                    .cloned()
                    .collect();
                ImageEntry {
                    sif: sif.remove(&image.id),
                    image,
                    tags: image_tags,
                }
            })
            .collect();
        let can_manage = actor.require_manage(&view.entity, &view.collection).is_ok();
        Ok(ContainerPage {
            view,
            images,
            tags,
            stars,
            can_manage,
        })
    }
}

/// `SELECT id FROM containers WHERE collection_id IN (…)`.
fn containers_of(collection_ids: &[i64]) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(container::Column::Id)
        .from(container::Entity)
        .and_where(container::Column::CollectionId.is_in(collection_ids.iter().copied()))
        .to_owned()
}

impl Registry {
    /// The owners shown on a collection page (at most three small lookups by primary key).
    async fn owners_of(
        &self,
        entity: &entity::Model,
        collection: &collection::Model,
    ) -> Result<Vec<String>> {
        let mut owners = Vec::new();
        for user_id in [entity.owner_id, collection.owner_id].into_iter().flatten() {
            if let Some(found) = user::Entity::find_by_id(user_id).one(&self.db).await? {
                if !owners.contains(&found.username) {
                    owners.push(found.username);
                }
            }
        }
        if let Some(team_id) = entity.team_id {
            if let Some(found) = team::Entity::find_by_id(team_id).one(&self.db).await? {
                owners.insert(0, format!("team {}", found.name));
            }
        }
        Ok(owners)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use super::*;
    use crate::names::Sha256Hex;
    use crate::services::{NewCollection, NewContainer, NewEntity, NewToken};
    use crate::store::{ByteStream, FsBlobStore};
    use crate::testing::TestDb;
    use crate::Scope;

    struct World {
        registry: Registry,
        alice: Actor,
        bob: Actor,
        admin: Actor,
        _db: TestDb,
    }

    async fn actor(registry: &Registry, name: &str, admin: bool) -> Actor {
        registry
            .create_user(name, &format!("{name}@example.org"), admin)
            .await
            .unwrap();
        let token = NewToken {
            label: "test".into(),
            scope: None,
            expires_in_days: None,
        };
        let created = registry.create_token(name, token).await.unwrap();
        registry.authenticate(&created.secret).await.unwrap()
    }

    async fn push(registry: &Registry, actor: &Actor, container_id: i64, bytes: &[u8], tag: &str) {
        use sha2::Digest;
        let sha = Sha256Hex::parse(&hex::encode(sha2::Sha256::digest(bytes))).unwrap();
        let view = registry
            .create_image(actor, container_id, &sha, "")
            .await
            .unwrap();
        let data = Bytes::copy_from_slice(bytes);
        let stream: ByteStream = Box::pin(futures::stream::iter([Ok(data)]));
        registry
            .upload_direct(actor, view.image.id, stream, Some(bytes.len() as u64))
            .await
            .unwrap();
        registry
            .set_tag(actor, container_id, Some("amd64"), tag, view.image.id)
            .await
            .unwrap();
    }

    /// alice owns `alice/pub` (public, container `hello` with one 5-byte image tagged
    /// `latest`) and `alice/secret` (private, container `hidden` with one 7-byte image).
    async fn world() -> World {
        let db = TestDb::new().await;
        let store = FsBlobStore::open(db.dir.path().join("blobs"))
            .await
            .unwrap();
        let registry = Registry::new(db.db.clone(), Arc::new(store)).with_accept_non_sif(true);
        let alice = actor(&registry, "alice", false).await;
        let bob = actor(&registry, "bob", false).await;
        let admin = actor(&registry, "root", true).await;
        assert!(admin.is_admin());
        assert_eq!(alice.principal().unwrap().scope, Scope::Push);
        let ent = registry
            .create_entity(
                &alice,
                NewEntity {
                    name: "alice".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        for (name, private, container, bytes) in [
            ("pub", false, "hello", &b"hello"[..]),
            ("secret", true, "hidden", &b"private"[..]),
        ] {
            let (_, coll) = registry
                .create_collection(
                    &alice,
                    NewCollection {
                        entity_id: ent.id,
                        name: name.into(),
                        description: format!("the {name} one"),
                        private,
                    },
                )
                .await
                .unwrap();
            let view = registry
                .create_container(
                    &alice,
                    NewContainer {
                        collection_id: coll.id,
                        name: container.into(),
                        description: String::new(),
                    },
                )
                .await
                .unwrap();
            push(&registry, &alice, view.container.id, bytes, "latest").await;
        }
        World {
            registry,
            alice,
            bob,
            admin,
            _db: db,
        }
    }

    fn names(list: &[CollectionSummary]) -> Vec<String> {
        list.iter()
            .map(|c| format!("{}/{}", c.entity.name, c.collection.name))
            .collect()
    }

    #[tokio::test]
    async fn catalog_lists_hide_private_collections() {
        let w = world().await;
        let r = &w.registry;
        for outsider in [&Actor::Anonymous, &w.bob] {
            let list = r.list_collections(outsider).await.unwrap();
            assert_eq!(names(&list), ["alice/pub"]);
            assert_eq!(list[0].containers, 1);
            assert_eq!(list[0].total_bytes, 5);
            assert!(!list[0].collection.private);
        }
        for insider in [&w.alice, &w.admin] {
            let list = r.list_collections(insider).await.unwrap();
            assert_eq!(names(&list), ["alice/pub", "alice/secret"]);
            assert_eq!(list[1].total_bytes, 7);
            assert!(list[1].collection.private);
        }
    }

    #[tokio::test]
    async fn catalog_home_counts_only_what_the_actor_sees() {
        let w = world().await;
        let home = w.registry.home_summary(&Actor::Anonymous).await.unwrap();
        assert_eq!((home.collections, home.containers, home.images), (1, 1, 1));
        assert_eq!(home.total_bytes, 5);
        assert_eq!(home.recent.len(), 1);
        assert_eq!(home.recent[0].path(), "alice/pub/hello");
        assert_eq!(home.recent[0].tags[0].name, "latest");

        let home = w.registry.home_summary(&w.alice).await.unwrap();
        assert_eq!((home.collections, home.containers, home.images), (2, 2, 2));
        assert_eq!(home.total_bytes, 12);
        assert_eq!(home.recent[0].path(), "alice/secret/hidden");
    }

    #[tokio::test]
    async fn catalog_private_pages_look_absent() {
        let w = world().await;
        let r = &w.registry;
        let hidden = ContainerPath::new("alice", "secret", "hidden").unwrap();
        for outsider in [&Actor::Anonymous, &w.bob] {
            let err = r
                .collection_page(outsider, "alice", "secret")
                .await
                .unwrap_err();
            assert!(matches!(err, crate::DomainError::NotFound(_)), "{err:?}");
            let err = r.container_page(outsider, &hidden).await.unwrap_err();
            assert!(matches!(err, crate::DomainError::NotFound(_)), "{err:?}");
        }
        let page = r.collection_page(&w.bob, "alice", "pub").await.unwrap();
        assert_eq!(page.containers.len(), 1);
        let hello = &page.containers[0];
        assert_eq!((hello.images, hello.tags, hello.total_bytes), (1, 1, 5));
        assert_eq!(page.owners, vec!["alice".to_string()]);

        let page = r.container_page(&w.alice, &hidden).await.unwrap();
        assert_eq!(page.view.path(), "alice/secret/hidden");
        assert_eq!(page.images.len(), 1);
        assert!(page.images[0].image.uploaded);
        assert_eq!(page.images[0].image.size, 7);
        assert_eq!(page.images[0].image.arch.as_deref(), Some("amd64"));
        assert_eq!(page.images[0].tags.len(), 1);
        assert_eq!(page.tags.len(), 1);
        assert!(r.container_page(&w.admin, &hidden).await.is_ok());

        let missing = ContainerPath::new("alice", "pub", "nope").unwrap();
        let err = r
            .container_page(&Actor::Anonymous, &missing)
            .await
            .unwrap_err();
        assert!(matches!(err, crate::DomainError::NotFound(_)));
    }
}
