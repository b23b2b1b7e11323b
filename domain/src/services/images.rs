//! Image records and tags: resolving references, registering content, tagging, deleting.
use sea_orm::{
    sea_query::OnConflict, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use super::{now, ContainerView, Registry};
use crate::entities::{container, image, image_metadata, star, tag};
use crate::error::{is_unique_violation, DomainError, Result};
use crate::names::{validate_arch, validate_tag, ImageRef, Sha256Hex, Version, DEFAULT_ARCH};
use crate::policy::Actor;
use std::collections::HashMap;

/// An image with the container it belongs to and the tags pointing at it.
#[derive(Clone, Debug)]
pub struct ImageView {
    pub owner: ContainerView,
    pub image: image::Model,
    pub tags: Vec<tag::Model>,
}

impl Registry {
    /// Resolves `e/c/n:tag` (for `arch`, default amd64) or `e/c/n:sha256.<hex>` (any arch).
    pub async fn image(
        &self,
        actor: &Actor,
        reference: &ImageRef,
        arch: Option<&str>,
    ) -> Result<ImageView> {
        let owner = self.container(actor, &reference.path).await?;
        self.image_in(owner, reference, arch)
            .await?
            .ok_or_else(|| image_not_found(reference))
    }

    /// The image `reference` names in `owner` (already checked for the reader), if any.
    pub(crate) async fn image_in(
        &self,
        owner: ContainerView,
        reference: &ImageRef,
        arch: Option<&str>,
    ) -> Result<Option<ImageView>> {
        let image = match &reference.version {
            Version::Hash(sha) => {
                image::Entity::find()
                    .filter(image::Column::ContainerId.eq(owner.container.id))
                    .filter(image::Column::Sha256.eq(sha.as_str()))
                    .one(&self.db)
                    .await?
            }
            Version::Tag(name) => {
                // The tag and its image in one query. No arch asked for: prefer the default
                // arch, else whatever single arch has the tag.
                let arch = arch.filter(|a| !a.is_empty());
                let candidates = self
                    .tags_with_images(owner.container.id, name, arch)
                    .await?;
                let chosen = match arch {
                    Some(_) => candidates.into_iter().next(),
                    None => {
                        let default = candidates.iter().position(|(t, _)| t.arch == DEFAULT_ARCH);
                        candidates.into_iter().nth(default.unwrap_or(0))
                    }
                };
                chosen.map(|(_, image)| image)
            }
        };
        let Some(image) = image else {
            return Ok(None);
        };
        let tags = self.tags_of_image(image.id).await?;
        Ok(Some(ImageView { owner, image, tags }))
    }

    pub(crate) async fn tags_of_image(&self, image_id: i64) -> Result<Vec<tag::Model>> {
        Ok(tag::Entity::find()
            .filter(tag::Column::ImageId.eq(image_id))
            .order_by_asc(tag::Column::Name)
            .all(&self.db)
            .await?)
    }

    /// An image by id, for the actor allowed to write into it (uploads, tagging).
    pub async fn image_for_write(&self, actor: &Actor, image_id: i64) -> Result<ImageView> {
        // Writes ask for credentials first, before saying anything about what exists.
        actor.require_user()?;
        let not_found = || DomainError::not_found(format!("image {image_id}"));
        let image = image::Entity::find_by_id(image_id)
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let owner = self
            .container_by_id(actor, image.container_id)
            .await
            .map_err(|_| not_found())?;
        actor.require_push(&owner.entity, &owner.collection)?;
        let tags = self.tags_of_image(image.id).await?;
        Ok(ImageView { owner, image, tags })
    }

    /// Registers content for a container; the same content twice gives the same record.
    pub async fn create_image(
        &self,
        actor: &Actor,
        container_id: i64,
        sha256: &Sha256Hex,
        description: &str,
    ) -> Result<ImageView> {
        actor.require_user()?;
        let owner = self.container_by_id(actor, container_id).await?;
        let principal = actor.require_push(&owner.entity, &owner.collection)?;
        let existing = image::Entity::find()
            .filter(image::Column::ContainerId.eq(container_id))
            .filter(image::Column::Sha256.eq(sha256.as_str()))
            .one(&self.db)
            .await?;
        let image = match existing {
            Some(image) => image,
            None => {
                let created = image::ActiveModel {
                    container_id: Set(container_id),
                    sha256: Set(sha256.to_string()),
                    size: Set(0),
                    arch: Set(None),
                    uploaded: Set(false),
                    description: Set(description.to_string()),
                    signed: Set(None),
                    encrypted: Set(None),
                    created_by: Set(Some(principal.user_id)),
                    created_at: Set(now()),
                    updated_at: Set(now()),
                    ..Default::default()
                }
                .insert(&self.db)
                .await;
                match created {
                    Ok(image) => image,
                    // A concurrent create of the same content won: same content, same record.
                    Err(err) if is_unique_violation(&err) => image::Entity::find()
                        .filter(image::Column::ContainerId.eq(container_id))
                        .filter(image::Column::Sha256.eq(sha256.as_str()))
                        .one(&self.db)
                        .await?
                        .ok_or_else(|| DomainError::Conflict("image record vanished".into()))?,
                    Err(err) => return Err(err.into()),
                }
            }
        };
        let tags = self.tags_of_image(image.id).await?;
        Ok(ImageView { owner, image, tags })
    }

    /// Images and tags of a container, newest image first.
    pub async fn container_contents(
        &self,
        view: &ContainerView,
    ) -> Result<(Vec<image::Model>, Vec<tag::Model>)> {
        let id = view.container.id;
        Ok(self
            .contents_of_containers(vec![id])
            .await?
            .remove(&id)
            .unwrap_or_default())
    }

    /// The images (newest first) and tags (by arch and name) of several containers, by
    /// container id, in two queries; containers without any are absent.
    pub(crate) async fn contents_of_containers(
        &self,
        container_ids: Vec<i64>,
    ) -> Result<HashMap<i64, (Vec<image::Model>, Vec<tag::Model>)>> {
        let mut contents: HashMap<i64, (Vec<image::Model>, Vec<tag::Model>)> = HashMap::new();
        for image in image::Entity::find()
            .filter(image::Column::ContainerId.is_in(container_ids.clone()))
            .order_by_desc(image::Column::CreatedAt)
            .all(&self.db)
            .await?
        {
            contents
                .entry(image.container_id)
                .or_default()
                .0
                .push(image);
        }
        for tag in tag::Entity::find()
            .filter(tag::Column::ContainerId.is_in(container_ids))
            .order_by_asc(tag::Column::Arch)
            .order_by_asc(tag::Column::Name)
            .all(&self.db)
            .await?
        {
            contents.entry(tag.container_id).or_default().1.push(tag);
        }
        Ok(contents)
    }

    pub async fn container_stars(&self, container_id: i64) -> Result<u64> {
        Ok(star::Entity::find()
            .filter(star::Column::ContainerId.eq(container_id))
            .count(&self.db)
            .await?)
    }

    /// The tags of a container the actor may read.
    pub async fn tags(&self, actor: &Actor, container_id: i64) -> Result<Vec<tag::Model>> {
        let view = self.container_by_id(actor, container_id).await?;
        Ok(self.container_contents(&view).await?.1)
    }

    /// Points `tag` (for `arch`) of a container at an uploaded image of that container.
    pub async fn set_tag(
        &self,
        actor: &Actor,
        container_id: i64,
        arch: Option<&str>,
        tag_name: &str,
        image_id: i64,
    ) -> Result<tag::Model> {
        validate_tag(tag_name)?;
        let view = self.image_for_write(actor, image_id).await?;
        if view.image.container_id != container_id {
            return Err(DomainError::invalid(format!(
                "image {image_id} does not belong to container {container_id}"
            )));
        }
        if !view.image.uploaded {
            return Err(DomainError::Conflict(format!(
                "image {image_id} has no uploaded content yet"
            )));
        }
        let arch = arch
            .filter(|a| !a.is_empty())
            .or(view.image.arch.as_deref())
            .unwrap_or(DEFAULT_ARCH)
            .to_string();
        validate_arch(&arch)?;
        if let Some(own) = view.image.arch.as_deref().filter(|own| *own != arch) {
            return Err(DomainError::invalid(format!(
                "image {image_id} is built for {own}; it cannot be tagged for {arch}"
            )));
        }
        let txn = self.db.begin().await?;
        if view.image.arch.is_none() {
            let mut active: image::ActiveModel = view.image.clone().into();
            active.arch = Set(Some(arch.clone()));
            active.updated_at = Set(now());
            active.update(&txn).await?;
        }
        upsert_tag(&txn, container_id, &arch, tag_name, image_id).await?;
        let saved = tag::Entity::find()
            .filter(tag::Column::ContainerId.eq(container_id))
            .filter(tag::Column::Arch.eq(arch.as_str()))
            .filter(tag::Column::Name.eq(tag_name))
            .one(&txn)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("tag {tag_name}")))?;
        let mut touched: container::ActiveModel = view.owner.container.into();
        touched.updated_at = Set(now());
        touched.update(&txn).await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// Deletes an image and its tags; garbage collection removes the bytes once no record
    /// uses them.
    pub async fn delete_image(
        &self,
        actor: &Actor,
        reference: &ImageRef,
        arch: Option<&str>,
    ) -> Result<ImageView> {
        actor.require_user()?;
        let view = self.image(actor, reference, arch).await?;
        actor.require_manage(&view.owner.entity, &view.owner.collection)?;
        let txn = self.db.begin().await?;
        tag::Entity::delete_many()
            .filter(tag::Column::ImageId.eq(view.image.id))
            .exec(&txn)
            .await?;
        image_metadata::Entity::delete_by_id(view.image.id)
            .exec(&txn)
            .await?;
        image::Entity::delete_by_id(view.image.id)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.publish(super::ChangeKind::ImageDeleted, &view.owner)
            .await;
        // The bytes stay until garbage collection finds them unreferenced (`blobs.rs`).
        Ok(view)
    }
}

/// Points a tag at an image in one statement, so concurrent taggings of the same name cannot
/// both insert: the last one to commit wins, as if they had run one after the other.
pub(crate) async fn upsert_tag(
    conn: &impl ConnectionTrait,
    container_id: i64,
    arch: &str,
    tag_name: &str,
    image_id: i64,
) -> Result<()> {
    tag::Entity::insert(tag::ActiveModel {
        container_id: Set(container_id),
        arch: Set(arch.to_string()),
        name: Set(tag_name.to_string()),
        image_id: Set(image_id),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            tag::Column::ContainerId,
            tag::Column::Arch,
            tag::Column::Name,
        ])
        .update_columns([tag::Column::ImageId, tag::Column::UpdatedAt])
        .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

pub(crate) fn image_not_found(reference: &ImageRef) -> DomainError {
    DomainError::not_found(format!("image {}", describe(reference)))
}

fn describe(reference: &ImageRef) -> String {
    match &reference.version {
        Version::Tag(t) => format!("{}:{t}", reference.path),
        Version::Hash(h) => format!("{}:{}", reference.path, h.library_form()),
    }
}
