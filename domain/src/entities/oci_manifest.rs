//! Table `oci_manifests`: manifests pushed through the OCI API, kept byte for byte.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oci_manifests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub container_id: i64,
    /// Lower-case hex sha256 of `content`.
    pub digest: String,
    pub media_type: String,
    pub artifact_type: Option<String>,
    /// Hex sha256 of the manifest this one refers to (`subject`), for the referrers API.
    pub subject_digest: Option<String>,
    /// The manifest JSON exactly as pushed.
    pub content: String,
    pub size: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
