//! Table `image_metadata`: what SIF inspection found in an image's bytes.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "image_metadata")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub image_id: i64,
    /// Go name of the primary architecture (`amd64`, `arm64`, …).
    pub arch: Option<String>,
    /// The creation time written in the SIF header.
    pub sif_created_at: Option<DateTimeUtc>,
    pub definition: Option<String>,
    /// JSON object of label name to value.
    pub labels: String,
    pub runscript: Option<String>,
    pub environment: Option<String>,
    pub signed: bool,
    /// JSON array of upper-case hex signing-key fingerprints.
    pub fingerprints: String,
    pub inspected_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
