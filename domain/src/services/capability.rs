//! Download capabilities: short-lived, signed URLs that let a client fetch one image's bytes
//! without credentials (the 303 download mode, shub and sregistry image URLs).
//!
//! A token is `<image>.<user or 0>.<protocol>.<expiry unix seconds>.<hex HMAC-SHA256>`, signed
//! with a key kept in the `settings` table, so every replica sharing the database accepts the
//! tokens of every other.
use chrono::Duration;
use hmac::{Hmac, Mac};
use sea_orm::EntityTrait;
use sha2::Sha256;

use super::{now, random_hex, ImageView, Registry};
use crate::entities::image;
use crate::error::{DomainError, Result};
use crate::policy::Actor;

/// The `settings` key holding the signing key.
const SIGNING_KEY_SETTING: &str = "download_signing_key";
/// How long a download capability stays valid.
pub const DOWNLOAD_TOKEN_HOURS: i64 = 12;

/// What a verified capability grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadGrant {
    pub image_id: i64,
    pub user_id: Option<i64>,
    pub protocol: String,
}

impl Registry {
    pub(crate) async fn signing_key(&self) -> Result<Vec<u8>> {
        let cached = self.signing_key.get().cloned();
        if let Some(key) = cached {
            return Ok(key);
        }
        // Insert-if-absent, then read back: concurrent replicas agree on one key.
        let key = self
            .shared_hex_key(SIGNING_KEY_SETTING, random_hex(32))
            .await?;
        let _ = self.signing_key.set(key.clone());
        Ok(key)
    }

    pub(crate) fn mac(key: &[u8]) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length")
    }

    /// Issues a capability to download `view`'s bytes, for an actor that may read it (the
    /// caller obtained `view` through an access-checked lookup).
    pub async fn download_token(
        &self,
        actor: &Actor,
        view: &ImageView,
        protocol: &str,
    ) -> Result<String> {
        if !protocol.bytes().all(|b| b.is_ascii_alphanumeric()) || protocol.is_empty() {
            return Err(DomainError::invalid("protocol names are alphanumeric"));
        }
        if !view.image.uploaded {
            return Err(DomainError::not_found("image content"));
        }
        let expires = (now() + Duration::hours(DOWNLOAD_TOKEN_HOURS)).timestamp();
        let payload = format!(
            "{}.{}.{protocol}.{expires}",
            view.image.id,
            actor.user_id().unwrap_or(0)
        );
        let mut mac = Self::mac(&self.signing_key().await?);
        mac.update(payload.as_bytes());
        Ok(format!(
            "{payload}.{}",
            hex::encode(mac.finalize().into_bytes())
        ))
    }

    /// Checks a capability's signature and expiry.
    pub async fn verify_download_token(&self, token: &str) -> Result<DownloadGrant> {
        let invalid = || DomainError::not_found("download link (unknown or expired)");
        let (payload, signature) = token.rsplit_once('.').ok_or_else(invalid)?;
        let signature = hex::decode(signature).map_err(|_| invalid())?;
        let mut mac = Self::mac(&self.signing_key().await?);
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| invalid())?;
        let parts: Vec<&str> = payload.split('.').collect();
        let [image, user, protocol, expires] = parts.as_slice() else {
            return Err(invalid());
        };
        let expires: i64 = expires.parse().map_err(|_| invalid())?;
        if expires < now().timestamp() {
            return Err(invalid());
        }
        let user: i64 = user.parse().map_err(|_| invalid())?;
        Ok(DownloadGrant {
            image_id: image.parse().map_err(|_| invalid())?,
            user_id: (user != 0).then_some(user),
            protocol: (*protocol).to_string(),
        })
    }

    /// The image a verified grant names, with its container (no access check: the grant is
    /// the permission).
    pub(crate) async fn granted_image(&self, grant: &DownloadGrant) -> Result<ImageView> {
        let not_found = || DomainError::not_found("image");
        let record = image::Entity::find_by_id(grant.image_id)
            .one(&self.db)
            .await?
            .filter(|i| i.uploaded)
            .ok_or_else(not_found)?;
        let owner = self.load_container_view(record.container_id).await?;
        let tags = self.tags_of_image(record.id).await?;
        Ok(ImageView {
            owner,
            image: record,
            tags,
        })
    }
}
