//! Multipart uploads (`…/_multipart`): the server chooses the part size, each part goes to its
//! own capability URL, parts may arrive in any order, and nothing is visible until the whole
//! image has been verified against its sha256 and size.
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use super::transfer::UPLOAD_SESSION_HOURS;
use super::{now, random_hex, ImageView, Registry};
use crate::entities::{upload_part, upload_session};
use crate::error::{DomainError, Result};
use crate::names::Sha256Hex;
use crate::policy::Actor;
use crate::store::{ByteStream, Expected, UploadId};

/// The smallest part size offered (what S3 requires of all parts but the last).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// At most this many parts (S3's limit).
pub const MAX_PARTS: u64 = 10_000;

/// A started multipart upload, as the client is told it.
#[derive(Clone, Debug)]
pub struct MultipartTicket {
    pub session_id: String,
    pub part_size: u64,
    pub total_parts: u64,
}

const KIND: &str = "multipart";

impl Registry {
    /// Starts a multipart upload of `filesize` bytes; `preferred_part_size` is raised as far
    /// as needed to stay within [`MAX_PARTS`].
    pub async fn begin_multipart(
        &self,
        actor: &Actor,
        image_id: i64,
        filesize: u64,
        preferred_part_size: u64,
    ) -> Result<MultipartTicket> {
        let view = self.image_for_write(actor, image_id).await?;
        let principal = actor.require_user()?;
        self.admit_push_bytes(&view.owner.entity.name, filesize)
            .await?;
        if filesize == 0 {
            return Err(DomainError::invalid(
                "multipart uploads need a filesize above 0",
            ));
        }
        let part_size = preferred_part_size
            .max(MIN_PART_SIZE)
            .max(filesize.div_ceil(MAX_PARTS));
        let total_parts = filesize.div_ceil(part_size);
        let size =
            i64::try_from(filesize).map_err(|_| DomainError::invalid("filesize too large"))?;
        let session_id = random_hex(32);
        self.store
            .begin_multipart(&UploadId::parse(&session_id)?, filesize)
            .await?;
        upload_session::ActiveModel {
            id: Set(session_id.clone()),
            image_id: Set(image_id),
            user_id: Set(principal.user_id),
            kind: Set(KIND.into()),
            expected_sha256: Set(view.image.sha256.clone()),
            expected_size: Set(size),
            created_at: Set(now()),
            expires_at: Set(now() + Duration::hours(UPLOAD_SESSION_HOURS)),
            part_size: Set(part_size as i64),
        }
        .insert(&self.db)
        .await?;
        Ok(MultipartTicket {
            session_id,
            part_size,
            total_parts,
        })
    }

    /// The live multipart session `session_id` of `image_id`.
    async fn multipart_session(
        &self,
        image_id: Option<i64>,
        session_id: &str,
    ) -> Result<upload_session::Model> {
        let not_found = || DomainError::not_found(format!("upload {session_id:?}"));
        let session = upload_session::Entity::find_by_id(session_id.to_string())
            .one(&self.db)
            .await?
            .filter(|s| s.kind == KIND && s.expires_at > now())
            .ok_or_else(not_found)?;
        if image_id.is_some_and(|id| id != session.image_id) {
            return Err(not_found());
        }
        Ok(session)
    }

    /// Offset and length of part `number` (1-based) of a session.
    fn part_span(session: &upload_session::Model, number: u64) -> Result<(u64, u64)> {
        let size = session.expected_size as u64;
        let part = session.part_size as u64;
        let total = size.div_ceil(part);
        if number == 0 || number > total {
            return Err(DomainError::invalid(format!(
                "partNumber {number} is outside 1..={total}"
            )));
        }
        let offset = (number - 1) * part;
        Ok((offset, part.min(size - offset)))
    }

    /// Checks a part request from the image's writer and remembers the announced sha256.
    /// Returns the store's own URL for the part when the store takes parts directly
    /// (presigned, bound to the announced sha256), else `None`: the part then goes to
    /// Silo's capability URL.
    pub async fn prepare_part(
        &self,
        actor: &Actor,
        image_id: i64,
        session_id: &str,
        number: u64,
        declared_size: u64,
        sha256: Option<&Sha256Hex>,
    ) -> Result<Option<String>> {
        self.image_for_write(actor, image_id).await?;
        let session = self.multipart_session(Some(image_id), session_id).await?;
        let (_, len) = Self::part_span(&session, number)?;
        if declared_size != len && declared_size != session.part_size as u64 {
            return Err(DomainError::invalid(format!(
                "part {number} must be {len} bytes, not {declared_size}"
            )));
        }
        self.upsert_part(session_id, number, |part| {
            part.declared_sha256 = Set(sha256.map(ToString::to_string));
        })
        .await?;
        let number = u32::try_from(number).map_err(|_| DomainError::invalid("partNumber"))?;
        Ok(self
            .store
            .presigned_part(&UploadId::parse(session_id)?, number, sha256)
            .await?)
    }

    async fn upsert_part(
        &self,
        session_id: &str,
        number: u64,
        change: impl FnOnce(&mut upload_part::ActiveModel),
    ) -> Result<()> {
        let existing = upload_part::Entity::find()
            .filter(upload_part::Column::SessionId.eq(session_id))
            .filter(upload_part::Column::PartNumber.eq(number as i32))
            .one(&self.db)
            .await?;
        let mut part: upload_part::ActiveModel = match existing {
            Some(found) => found.into(),
            None => upload_part::ActiveModel {
                session_id: Set(session_id.to_string()),
                part_number: Set(number as i32),
                size: Set(0),
                declared_sha256: Set(None),
                sha256: Set(None),
                ..Default::default()
            },
        };
        change(&mut part);
        part.updated_at = Set(now());
        part.save(&self.db).await?;
        Ok(())
    }

    /// Receives one part's bytes at its capability URL; returns its sha256 (the ETag).
    /// A part whose bytes differ from the announced sha256 is refused (and may be re-sent).
    pub async fn receive_part(
        &self,
        session_id: &str,
        number: u64,
        data: ByteStream,
        header_sha256: Option<&Sha256Hex>,
    ) -> Result<Sha256Hex> {
        let session = self.multipart_session(None, session_id).await?;
        let (offset, len) = Self::part_span(&session, number)?;
        let declared = upload_part::Entity::find()
            .filter(upload_part::Column::SessionId.eq(session_id))
            .filter(upload_part::Column::PartNumber.eq(number as i32))
            .one(&self.db)
            .await?
            .and_then(|p| p.declared_sha256);
        let expected = match declared.as_deref() {
            Some(hex) => Some(Sha256Hex::parse(hex)?),
            None => header_sha256.cloned(),
        };
        let data = self.uploads.track(data);
        let received = self
            .store
            .write_part(
                &UploadId::parse(session_id)?,
                number as u32,
                offset,
                len,
                data,
                expected.as_ref(),
            )
            .await?;
        let sha = received.to_string();
        self.upsert_part(session_id, number, |part| {
            part.size = Set(len as i64);
            part.sha256 = Set(Some(sha));
        })
        .await?;
        Ok(received)
    }

    /// Assembles and verifies the upload; `parts` are the client's (number, ETag) pairs.
    pub async fn complete_multipart(
        &self,
        actor: &Actor,
        image_id: i64,
        session_id: &str,
        parts: &[(u64, String)],
    ) -> Result<ImageView> {
        self.image_for_write(actor, image_id).await?;
        let session = self.multipart_session(Some(image_id), session_id).await?;
        let expected = Expected {
            sha256: Some(Sha256Hex::parse(&session.expected_sha256)?),
            size: Some(session.expected_size as u64),
        };
        crate::fault::point("multipart-complete");
        if let Some(sha) = &expected.sha256 {
            self.lease_blob(sha, 0).await?;
        }
        let outcome = if self.store.takes_direct_parts() {
            // The parts went to the store; the client's ETags name them, and the store
            // verifies the assembled whole.
            let tokens: Vec<(u32, String)> = parts
                .iter()
                .map(|(n, token)| (u32::try_from(*n).unwrap_or(0), token.clone()))
                .collect();
            self.store
                .complete_direct_multipart(&UploadId::parse(session_id)?, &tokens, &expected)
                .await
        } else {
            Self::check_parts_arrived(&self.db, &session, parts).await?;
            self.store
                .complete_multipart(&UploadId::parse(session_id)?, &expected)
                .await
        };
        self.forget_session(session_id).await?;
        let blob = outcome?;
        self.mark_uploaded(image_id, &blob).await?;
        self.image_for_write(actor, image_id).await
    }

    /// Checks that every part went through Silo and matches the client's ETag.
    async fn check_parts_arrived(
        db: &sea_orm::DatabaseConnection,
        session: &upload_session::Model,
        parts: &[(u64, String)],
    ) -> Result<()> {
        let session_id = session.id.as_str();
        let total = (session.expected_size as u64).div_ceil(session.part_size as u64);
        let received = upload_part::Entity::find()
            .filter(upload_part::Column::SessionId.eq(session_id))
            .order_by_asc(upload_part::Column::PartNumber)
            .all(db)
            .await?;
        for number in 1..=total {
            let Some(sha) = received
                .iter()
                .find(|p| p.part_number as u64 == number)
                .and_then(|p| p.sha256.clone())
            else {
                return Err(DomainError::Conflict(format!(
                    "part {number} of {total} has not arrived"
                )));
            };
            if let Some((_, token)) = parts.iter().find(|(n, _)| *n == number) {
                let token = token.trim_matches('"');
                if !token.is_empty() && token != sha {
                    return Err(DomainError::invalid(format!(
                        "part {number}: token {token:?} does not match the received part"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Abandons an upload and its bytes.
    pub async fn abort_multipart(
        &self,
        actor: &Actor,
        image_id: i64,
        session_id: &str,
    ) -> Result<()> {
        self.image_for_write(actor, image_id).await?;
        self.multipart_session(Some(image_id), session_id).await?;
        self.store
            .abort_multipart(&UploadId::parse(session_id)?)
            .await?;
        self.forget_session(session_id).await
    }

    pub(crate) async fn forget_session(&self, session_id: &str) -> Result<()> {
        let txn = self.db.begin().await?;
        upload_part::Entity::delete_many()
            .filter(upload_part::Column::SessionId.eq(session_id))
            .exec(&txn)
            .await?;
        upload_session::Entity::delete_by_id(session_id.to_string())
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }
}
