//! Table `pgp_keys`: OpenPGP public keys served by the keyserver (HKP).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pgp_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Primary key fingerprint, upper-case hex (40 digits for v4 keys, 64 for v6).
    #[sea_orm(unique)]
    pub fingerprint: String,
    /// Key ID, upper-case hex (16 digits).
    pub key_id: String,
    /// OpenPGP public-key algorithm number (RFC 9580 §9.1).
    pub algorithm: i32,
    pub bits: i32,
    /// When the key itself was created (from the key packet).
    pub key_created_at: DateTimeUtc,
    pub key_expires_at: Option<DateTimeUtc>,
    pub revoked: bool,
    /// JSON array of the user IDs that carry a valid self-signature.
    #[sea_orm(column_type = "Text")]
    pub user_ids: String,
    /// The same user IDs, lower-cased and joined by newlines, for text search.
    #[sea_orm(column_type = "Text")]
    pub search_text: String,
    /// Creation time of the newest signature in the key; a re-upload replaces the stored
    /// key only if it is at least as new.
    pub newest_signature_at: DateTimeUtc,
    /// The key as an ASCII-armoured transferable public key.
    #[sea_orm(column_type = "Text")]
    pub armored: String,
    pub uploader_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
