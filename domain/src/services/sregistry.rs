//! What the legacy sregistry client and `shub://` need beyond the library API: HMAC
//! credentials, pushes whose content hash is only known once the bytes have arrived, image
//! lookup by a digest prefix, and a flat listing of tagged images.
//!
//! **Credentials.** The client signs with a secret it holds in `~/.sregistry`. API tokens are
//! stored hashed, so the secret is a separate value: each credential row holds a random salt
//! and belongs to one API token (sharing its scope, expiry and revocation); the secret is
//! `hex(HMAC-SHA256(server secret key, "silo-sregistry-v1:" + salt))`. It is never stored, so
//! a copy of the database alone reveals nothing; losing or changing the server key
//! invalidates every sregistry secret (tokens keep working).
use hmac::{Hmac, Mac};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::Sha256;

use super::{now, random_hex, ContainerView, ImageView, NewToken, Registry};
use crate::entities::{api_token, collection, container, image, sregistry_credential, tag};
use crate::error::{DomainError, Result};
use crate::names::{validate_segment, validate_tag, ContainerPath, DEFAULT_ARCH};
use crate::policy::{Actor, Scope};
use crate::services::{NewCollection, NewContainer, NewEntity};
use crate::store::{ByteStream, Expected};

type HmacSha256 = Hmac<Sha256>;

/// A new sregistry credential: `secret` is shown once.
#[derive(Clone, Debug)]
pub struct SregistrySecret {
    pub username: String,
    pub secret: String,
    pub token: api_token::Model,
}

/// Narrows [`Registry::list_tagged`]; `None` matches anything. Names match exactly.
#[derive(Clone, Debug, Default)]
pub struct ListingFilter {
    pub entity: Option<String>,
    pub collection: Option<String>,
    pub container: Option<String>,
    pub tag: Option<String>,
}

/// One tag of a container the actor may read, with its image.
#[derive(Clone, Debug)]
pub struct ListedTag {
    pub view: ContainerView,
    pub tag: tag::Model,
    pub image: image::Model,
}

impl Registry {
    fn sregistry_secret(&self, salt: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.secret_key[..]).expect("any key length");
        mac.update(b"silo-sregistry-v1:");
        mac.update(salt.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Issues an API token for `username` together with the sregistry secret bound to it.
    pub async fn create_sregistry_secret(
        &self,
        username: &str,
        new: NewToken,
    ) -> Result<SregistrySecret> {
        let created = self.create_token(username, new).await?;
        let salt = random_hex(32);
        sregistry_credential::ActiveModel {
            token_id: Set(created.record.id),
            user_id: Set(created.record.user_id),
            salt: Set(salt.clone()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(SregistrySecret {
            username: username.to_string(),
            secret: self.sregistry_secret(&salt),
            token: created.record,
        })
    }

    /// Checks an sregistry signature: `signature_hex` must be HMAC-SHA256 of `payload` under
    /// one of `username`'s live sregistry secrets. The caller checks the timestamp window.
    pub async fn authenticate_sregistry(
        &self,
        username: &str,
        payload: &str,
        signature_hex: &str,
    ) -> Result<Actor> {
        let Ok(signature) = hex::decode(signature_hex.trim()) else {
            return Err(DomainError::Unauthenticated);
        };
        let Some(account) = self.find_user(username).await? else {
            return Err(DomainError::Unauthenticated);
        };
        if !account.is_active {
            return Err(DomainError::Unauthenticated);
        }
        let credentials = sregistry_credential::Entity::find()
            .filter(sregistry_credential::Column::UserId.eq(account.id))
            .all(&self.db)
            .await?;
        let at = now();
        for credential in credentials {
            let mut mac =
                HmacSha256::new_from_slice(self.sregistry_secret(&credential.salt).as_bytes())
                    .expect("any key length");
            mac.update(payload.as_bytes());
            if mac.verify_slice(&signature).is_err() {
                continue;
            }
            let Some(token) = api_token::Entity::find_by_id(credential.token_id)
                .one(&self.db)
                .await?
            else {
                continue;
            };
            if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= at) {
                continue;
            }
            let scope = Scope::parse(&token.scope).unwrap_or(Scope::Read);
            let mut active: api_token::ActiveModel = token.into();
            active.last_used_at = Set(Some(at));
            active.update(&self.db).await?;
            return self.actor_for(account, scope).await;
        }
        Err(DomainError::Unauthenticated)
    }

    /// Finds or creates (as far as the actor may write) the entity, collection and container
    /// of `path`, for a push that is about to send its bytes.
    pub async fn prepare_push(&self, actor: &Actor, path: &ContainerPath) -> Result<ContainerView> {
        self.check_push(actor, path).await?;
        let entity = match self.entity(&path.entity).await {
            Ok(entity) => entity,
            Err(DomainError::NotFound(_)) => {
                let new = NewEntity {
                    name: path.entity.clone(),
                    ..Default::default()
                };
                self.create_entity(actor, new).await?
            }
            Err(e) => return Err(e),
        };
        let found = collection::Entity::find()
            .filter(collection::Column::EntityId.eq(entity.id))
            .filter(collection::Column::Name.eq(path.collection.as_str()))
            .one(&self.db)
            .await?;
        let collection = match found {
            Some(c) => c,
            None => {
                let new = NewCollection {
                    entity_id: entity.id,
                    name: path.collection.clone(),
                    ..Default::default()
                };
                self.create_collection(actor, new).await?.1
            }
        };
        match self.container(actor, path).await {
            Ok(view) => Ok(view),
            Err(DomainError::NotFound(_)) => {
                let new = NewContainer {
                    collection_id: collection.id,
                    name: path.container.clone(),
                    ..Default::default()
                };
                self.create_container(actor, new).await
            }
            Err(e) => Err(e),
        }
    }

    /// A collection by id, with its entity, if the actor may write into it.
    pub async fn collection_for_write(
        &self,
        actor: &Actor,
        collection_id: i64,
    ) -> Result<(crate::entities::entity::Model, collection::Model)> {
        let not_found = || DomainError::not_found(format!("collection {collection_id}"));
        let found = collection::Entity::find_by_id(collection_id)
            .one(&self.db)
            .await?
            .ok_or_else(not_found)?;
        let entity = self.entity_by_id(found.entity_id).await?;
        if !actor.can_read(&entity, &found) {
            return Err(not_found());
        }
        actor.require_push(&entity, &found)?;
        Ok((entity, found))
    }

    /// Receives an image whose hash is learnt from the bytes, then tags it (amd64). On any
    /// failure nothing new is visible: the store drops bad uploads and a newly stored blob
    /// that ends up unreferenced is removed.
    pub async fn push_stream(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        tag_name: &str,
        data: ByteStream,
    ) -> Result<ImageView> {
        validate_tag(tag_name)?;
        self.check_push(actor, path).await?;
        self.admit_push_bytes(&path.entity, 0).await?;
        let data = self.uploads.track(data);
        let blob = self.store.put(data, &Expected::default()).await?;
        let result = match self.admit_push_bytes(&path.entity, blob.size).await {
            Ok(()) => match self.prepare_push(actor, path).await {
                Ok(view) => self.record_pushed(actor, &view, tag_name, &blob).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = self.discard_refused(&blob).await;
        }
        result
    }

    async fn record_pushed(
        &self,
        actor: &Actor,
        view: &ContainerView,
        tag_name: &str,
        blob: &crate::store::StoredBlob,
    ) -> Result<ImageView> {
        let created = self
            .create_image(actor, view.container.id, &blob.sha256, "")
            .await?;
        let created = if created.image.uploaded {
            created
        } else {
            // Inspects the SIF (refusing non-SIF uploads unless configured) like every path.
            let image = self.mark_uploaded(created.image.id, blob).await?;
            ImageView { image, ..created }
        };
        let arch = created.image.arch.clone().unwrap_or(DEFAULT_ARCH.into());
        self.set_tag(
            actor,
            view.container.id,
            Some(&arch),
            tag_name,
            created.image.id,
        )
        .await?;
        self.image_for_write(actor, created.image.id).await
    }

    /// An uploaded image of a container by a prefix (at least 32 hex digits) of its sha256.
    pub async fn image_by_digest_prefix(
        &self,
        actor: &Actor,
        path: &ContainerPath,
        prefix: &str,
    ) -> Result<ImageView> {
        let not_found = || DomainError::not_found(format!("image {path}@{prefix}"));
        if prefix.len() < 32
            || prefix.len() > 64
            || !prefix
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(DomainError::invalid(format!(
                "invalid version {prefix:?}: use 32 to 64 lower-case hex digits of the image sha256"
            )));
        }
        let owner = self.container(actor, path).await?;
        let matches: Vec<image::Model> = image::Entity::find()
            .filter(image::Column::ContainerId.eq(owner.container.id))
            .filter(image::Column::Sha256.starts_with(prefix))
            .filter(image::Column::Uploaded.eq(true))
            .all(&self.db)
            .await?;
        let [image] = matches.as_slice() else {
            return Err(not_found());
        };
        let tags = tag::Entity::find()
            .filter(tag::Column::ImageId.eq(image.id))
            .all(&self.db)
            .await?;
        Ok(ImageView {
            owner,
            image: image.clone(),
            tags,
        })
    }

    /// Every tag of every container the actor may read that matches `filter`, ordered by
    /// entity, collection, container and tag.
    pub async fn list_tagged(
        &self,
        actor: &Actor,
        filter: &ListingFilter,
    ) -> Result<Vec<ListedTag>> {
        for (kind, name) in [
            ("entity", &filter.entity),
            ("collection", &filter.collection),
            ("container", &filter.container),
        ] {
            if let Some(name) = name {
                validate_segment(kind, name)?;
            }
        }
        let collections: Vec<_> = self
            .list_collections(actor)
            .await?
            .into_iter()
            .filter(|c| filter.entity.as_ref().is_none_or(|e| *e == c.entity.name))
            .filter(|c| {
                filter
                    .collection
                    .as_ref()
                    .is_none_or(|n| *n == c.collection.name)
            })
            .collect();
        let mut listed = Vec::new();
        for summary in collections {
            let mut query = container::Entity::find()
                .filter(container::Column::CollectionId.eq(summary.collection.id));
            if let Some(name) = &filter.container {
                query = query.filter(container::Column::Name.eq(name.as_str()));
            }
            for found in query.all(&self.db).await? {
                let view = ContainerView {
                    entity: summary.entity.clone(),
                    collection: summary.collection.clone(),
                    container: found,
                };
                let (images, tags) = self.container_contents(&view).await?;
                for t in tags {
                    if filter.tag.as_ref().is_some_and(|want| *want != t.name) {
                        continue;
                    }
                    if let Some(image) = images.iter().find(|i| i.id == t.image_id && i.uploaded) {
                        listed.push(ListedTag {
                            view: view.clone(),
                            image: image.clone(),
                            tag: t,
                        });
                    }
                }
            }
        }
        listed.sort_by(|a, b| {
            (a.view.path(), &a.tag.name, &a.tag.arch).cmp(&(
                b.view.path(),
                &b.tag.name,
                &b.tag.arch,
            ))
        });
        Ok(listed)
    }
}
