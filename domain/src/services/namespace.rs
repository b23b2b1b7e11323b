//! Entities, collections and containers: finding them (as far as the actor may see) and
//! creating them (as far as the actor may write).
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{now, Registry};
use crate::entities::{collection, container, entity, image};
use crate::error::{DomainError, Result};
use crate::names::{validate_segment, ContainerPath};
use crate::policy::Actor;

/// A container together with its parents, which carry its access rules.
#[derive(Clone, Debug)]
pub struct ContainerView {
    pub entity: entity::Model,
    pub collection: collection::Model,
    pub container: container::Model,
}

impl ContainerView {
    pub fn path(&self) -> String {
        format!(
            "{}/{}/{}",
            self.entity.name, self.collection.name, self.container.name
        )
    }
}

#[derive(Clone, Debug, Default)]
pub struct NewEntity {
    pub name: String,
    pub description: String,
    pub default_private: bool,
}

#[derive(Clone, Debug, Default)]
pub struct NewCollection {
    pub entity_id: i64,
    pub name: String,
    pub description: String,
    pub private: bool,
}

#[derive(Clone, Debug, Default)]
pub struct NewContainer {
    pub collection_id: i64,
    pub name: String,
    pub description: String,
}

impl Registry {
    /// Entities are public by name; their private collections stay hidden.
    pub async fn entity(&self, name: &str) -> Result<entity::Model> {
        entity::Entity::find()
            .filter(entity::Column::Name.eq(name))
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("entity {name:?}")))
    }

    pub async fn entity_by_id(&self, id: i64) -> Result<entity::Model> {
        entity::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("entity {id}")))
    }

    pub async fn create_entity(&self, actor: &Actor, new: NewEntity) -> Result<entity::Model> {
        validate_segment("entity", &new.name)?;
        actor.require_create_entity(&new.name)?;
        if self.entity(&new.name).await.is_ok() {
            return Err(DomainError::Conflict(format!(
                "entity {:?} already exists",
                new.name
            )));
        }
        let owner = self.find_user(&new.name).await?.map(|u| u.id);
        let model = entity::ActiveModel {
            name: Set(new.name),
            description: Set(new.description),
            owner_id: Set(owner),
            team_id: Set(None),
            default_private: Set(new.default_private),
            quota: Set(0),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.db).await?)
    }

    async fn find_collection(
        &self,
        entity_id: i64,
        name: &str,
    ) -> Result<Option<collection::Model>> {
        Ok(collection::Entity::find()
            .filter(collection::Column::EntityId.eq(entity_id))
            .filter(collection::Column::Name.eq(name))
            .one(&self.db)
            .await?)
    }

    /// A collection the actor may read; private ones look absent to everyone else.
    pub async fn collection(
        &self,
        actor: &Actor,
        entity_name: &str,
        name: &str,
    ) -> Result<(entity::Model, collection::Model)> {
        let not_found = || DomainError::not_found(format!("collection {entity_name}/{name}"));
        let entity = self.entity(entity_name).await.map_err(|_| not_found())?;
        let collection = self
            .find_collection(entity.id, name)
            .await?
            .ok_or_else(not_found)?;
        if !actor.can_read(&entity, &collection) {
            return Err(not_found());
        }
        Ok((entity, collection))
    }

    pub async fn create_collection(
        &self,
        actor: &Actor,
        new: NewCollection,
    ) -> Result<(entity::Model, collection::Model)> {
        validate_segment("collection", &new.name)?;
        let entity = self.entity_by_id(new.entity_id).await?;
        let principal = actor.require_create_collection(&entity)?;
        if self.find_collection(entity.id, &new.name).await?.is_some() {
            return Err(DomainError::Conflict(format!(
                "collection {}/{} already exists",
                entity.name, new.name
            )));
        }
        let model = collection::ActiveModel {
            entity_id: Set(entity.id),
            name: Set(new.name),
            description: Set(new.description),
            private: Set(new.private || entity.default_private),
            owner_id: Set(Some(principal.user_id)),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        };
        let collection = model.insert(&self.db).await?;
        Ok((entity, collection))
    }

    /// A container the actor may read ([`Actor::can_read_container`]: readers of its
    /// collection, or a share link for exactly this container).
    pub async fn container(&self, actor: &Actor, path: &ContainerPath) -> Result<ContainerView> {
        let not_found = || DomainError::not_found(format!("container {path}"));
        // One join instead of three lookups (this is on every image GET and pull).
        let (entity, collection, container) = self
            .container_by_path(&path.entity, &path.collection, path.container.as_str())
            .await?
            .ok_or_else(not_found)?;
        if !actor.can_read_container(&entity, &collection, container.id) {
            return Err(not_found());
        }
        Ok(ContainerView {
            entity,
            collection,
            container,
        })
    }

    /// A container by id, if the actor may read it (as for [`Registry::container`]).
    pub async fn container_by_id(&self, actor: &Actor, id: i64) -> Result<ContainerView> {
        let view = self.load_container_view(id).await?;
        if !actor.can_read_container(&view.entity, &view.collection, id) {
            return Err(DomainError::not_found(format!("container {id}")));
        }
        Ok(view)
    }

    /// A container by id with its parents, without an access check (for callers holding
    /// another proof of access, such as a signed download capability).
    pub(crate) async fn load_container_view(&self, id: i64) -> Result<ContainerView> {
        let not_found = || DomainError::not_found(format!("container {id}"));
        let container = container::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let collection = collection::Entity::find_by_id(container.collection_id)
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let entity = self.entity_by_id(collection.entity_id).await?;
        Ok(ContainerView {
            entity,
            collection,
            container,
        })
    }

    pub async fn create_container(
        &self,
        actor: &Actor,
        new: NewContainer,
    ) -> Result<ContainerView> {
        validate_segment("container", &new.name)?;
        actor.require_user()?;
        let not_found = || DomainError::not_found(format!("collection {}", new.collection_id));
        let collection = collection::Entity::find_by_id(new.collection_id)
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let entity = self.entity_by_id(collection.entity_id).await?;
        if !actor.can_read(&entity, &collection) {
            return Err(not_found());
        }
        actor.require_push(&entity, &collection)?;
        let exists = container::Entity::find()
            .filter(container::Column::CollectionId.eq(collection.id))
            .filter(container::Column::Name.eq(new.name.as_str()))
            .one(&self.db)
            .await?;
        if exists.is_some() {
            return Err(DomainError::Conflict(format!(
                "container {}/{}/{} already exists",
                entity.name, collection.name, new.name
            )));
        }
        let container = container::ActiveModel {
            collection_id: Set(collection.id),
            name: Set(new.name),
            description: Set(new.description),
            full_description: Set(String::new()),
            read_only: Set(false),
            download_count: Set(0),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(ContainerView {
            entity,
            collection,
            container,
        })
    }

    /// Ids of the entity's collections the actor may see.
    pub async fn visible_collection_ids(
        &self,
        actor: &Actor,
        entity: &entity::Model,
    ) -> Result<Vec<i64>> {
        let collections = collection::Entity::find()
            .filter(collection::Column::EntityId.eq(entity.id))
            .order_by_asc(collection::Column::Name)
            .all(&self.db)
            .await?;
        Ok(collections
            .into_iter()
            .filter(|c| actor.can_read(entity, c))
            .map(|c| c.id)
            .collect())
    }

    /// Ids of a collection's containers (the caller has checked access to the collection).
    pub async fn container_ids(&self, collection_id: i64) -> Result<Vec<i64>> {
        Ok(container::Entity::find()
            .select_only()
            .column(container::Column::Id)
            .filter(container::Column::CollectionId.eq(collection_id))
            .order_by_asc(container::Column::Name)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Bytes stored in an entity's images (uploaded ones only), private collections
    /// included: the figure its quota counts, for those allowed to push into it.
    pub async fn entity_usage(&self, entity_id: i64) -> Result<i64> {
        let of_entity = Query::select()
            .column(collection::Column::Id)
            .from(collection::Entity)
            .and_where(Expr::col(collection::Column::EntityId).eq(entity_id))
            .to_owned();
        self.usage_of_collections(of_entity).await
    }

    /// Bytes stored in the entity's collections the actor may read: what an entity's public
    /// description may show without revealing the size of private collections.
    pub async fn readable_entity_usage(
        &self,
        actor: &Actor,
        entity: &entity::Model,
    ) -> Result<i64> {
        let ids = self.visible_collection_ids(actor, entity).await?;
        let readable = Query::select()
            .column(collection::Column::Id)
            .from(collection::Entity)
            .and_where(Expr::col(collection::Column::Id).is_in(ids))
            .to_owned();
        self.usage_of_collections(readable).await
    }

    async fn usage_of_collections(
        &self,
        collection_ids: sea_orm::sea_query::SelectStatement,
    ) -> Result<i64> {
        let containers = Query::select()
            .column(container::Column::Id)
            .from(container::Entity)
            .and_where(Expr::col(container::Column::CollectionId).in_subquery(collection_ids))
            .to_owned();
        let sizes: Vec<i64> = image::Entity::find()
            .select_only()
            .column(image::Column::Size)
            .filter(image::Column::Uploaded.eq(true))
            .filter(image::Column::ContainerId.in_subquery(containers))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(sizes.iter().sum())
    }
}
