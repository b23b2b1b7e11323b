//! Get-or-create for the library API. Apptainer's client looks an entity, collection or
//! container up and creates it when absent, so concurrent first pushes into a new container
//! race to create it, and all but one would be refused. These create, or return what another
//! request made first, to a caller allowed to create it (the creates check permission before
//! they look for an existing record); anyone else gets the create's refusal.
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{ContainerView, NewCollection, NewContainer, NewEntity, Registry};
use crate::entities::{collection, container, entity};
use crate::error::{DomainError, Result};
use crate::policy::Actor;

impl Registry {
    /// [`Registry::create_entity`], or the entity of that name when it exists.
    pub async fn get_or_create_entity(
        &self,
        actor: &Actor,
        new: NewEntity,
    ) -> Result<entity::Model> {
        let name = new.name.clone();
        match self.create_entity(actor, new).await {
            Err(DomainError::Conflict(_)) => self.entity(&name).await,
            created => created,
        }
    }

    /// [`Registry::create_collection`], or the collection of that name when it exists.
    pub async fn get_or_create_collection(
        &self,
        actor: &Actor,
        new: NewCollection,
    ) -> Result<(entity::Model, collection::Model)> {
        let (entity_id, name) = (new.entity_id, new.name.clone());
        match self.create_collection(actor, new).await {
            Err(DomainError::Conflict(_)) => {
                let entity = self.entity_by_id(entity_id).await?;
                self.collection(actor, &entity.name, &name).await
            }
            created => created,
        }
    }

    /// [`Registry::create_container`], or the container of that name when it exists.
    pub async fn get_or_create_container(
        &self,
        actor: &Actor,
        new: NewContainer,
    ) -> Result<ContainerView> {
        let (collection_id, name) = (new.collection_id, new.name.clone());
        match self.create_container(actor, new).await {
            Err(DomainError::Conflict(conflict)) => {
                let existing = container::Entity::find()
                    .filter(container::Column::CollectionId.eq(collection_id))
                    .filter(container::Column::Name.eq(name.as_str()))
                    .one(&self.db)
                    .await?
                    .ok_or(DomainError::Conflict(conflict))?;
                self.container_by_id(actor, existing.id).await
            }
            created => created,
        }
    }
}
