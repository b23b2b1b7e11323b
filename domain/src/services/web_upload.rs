//! Uploads from the web interface: one request carries a SIF image for
//! `entity/collection/container:tag`. Unlike the library API the browser does not announce
//! the image's hash, so the bytes are streamed into the store first (hashed on the way,
//! committed atomically), inspected, and only then are the missing entity, collection,
//! container, image record and tag created. A refused or broken upload leaves nothing
//! visible.
use super::{ImageView, NewCollection, NewContainer, NewEntity, Registry};
use crate::error::{DomainError, Result};
use crate::names::{validate_tag, ContainerPath};
use crate::policy::Actor;
use crate::store::{ByteStream, Expected};

/// Where a browser upload goes.
#[derive(Clone, Debug)]
pub struct WebUpload {
    pub path: ContainerPath,
    pub tag: String,
    /// Makes the collection private when this upload creates it (existing collections keep
    /// their visibility).
    pub private: bool,
    /// The announced body size (`Content-Length`); the bytes must match it.
    pub size: u64,
}

impl Registry {
    /// Checks, before any byte is read, that the actor may push to `path`.
    pub async fn check_web_upload(&self, actor: &Actor, path: &ContainerPath) -> Result<()> {
        self.check_push(actor, path).await
    }

    /// Stores a browser upload and tags it; see the module documentation.
    pub async fn upload_from_browser(
        &self,
        actor: &Actor,
        upload: WebUpload,
        data: ByteStream,
    ) -> Result<ImageView> {
        validate_tag(&upload.tag)?;
        self.check_web_upload(actor, &upload.path).await?;
        self.admit_push_bytes(&upload.path.entity, upload.size)
            .await?;
        let expected = Expected {
            sha256: None,
            size: Some(upload.size),
        };
        let data = self.uploads.track(data);
        let blob = self.store.put(data, &expected).await?;
        match self.inspect_sif(&blob.sha256).await {
            Ok(_) => {}
            Err(DomainError::InvalidInput(_)) if self.accept_non_sif => {}
            Err(err) => {
                self.discard_refused(&blob).await?;
                return Err(err);
            }
        }
        let path = &upload.path;
        let entity = match self.entity(&path.entity).await {
            Ok(entity) => entity,
            Err(DomainError::NotFound(_)) => {
                let new = NewEntity {
                    name: path.entity.clone(),
                    ..Default::default()
                };
                self.create_entity(actor, new).await?
            }
            Err(other) => return Err(other),
        };
        let collection = match self.collection(actor, &path.entity, &path.collection).await {
            Ok((_, collection)) => collection,
            Err(DomainError::NotFound(_)) => {
                let new = NewCollection {
                    entity_id: entity.id,
                    name: path.collection.clone(),
                    private: upload.private,
                    ..Default::default()
                };
                self.create_collection(actor, new).await?.1
            }
            Err(other) => return Err(other),
        };
        let container = match self.container(actor, path).await {
            Ok(view) => view.container,
            Err(DomainError::NotFound(_)) => {
                let new = NewContainer {
                    collection_id: collection.id,
                    name: path.container.clone(),
                    ..Default::default()
                };
                self.create_container(actor, new).await?.container
            }
            Err(other) => return Err(other),
        };
        let image = self
            .create_image(actor, container.id, &blob.sha256, "")
            .await?;
        let image = self.mark_uploaded(image.image.id, &blob).await?;
        self.set_tag(actor, container.id, None, &upload.tag, image.id)
            .await?;
        self.image_for_write(actor, image.id).await
    }
}
