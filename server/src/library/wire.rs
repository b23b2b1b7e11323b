//! The library API's JSON objects, field for field as the Go client (`client/models.go`)
//! decodes them: ids are strings, timestamps RFC 3339 with offset, sizes numbers.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use silo_domain::entities::{collection, entity, image, tag};
use silo_domain::names::DEFAULT_ARCH;
use silo_domain::services::{ContainerView, ImageView, SifMetadata};
use std::collections::BTreeMap;

/// The `{"data": …}` success envelope.
#[derive(Serialize)]
pub struct Data<T> {
    pub data: T,
}

pub fn data<T: Serialize>(value: T) -> axum::Json<Data<T>> {
    axum::Json(Data { data: value })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Base {
    pub deleted: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Base {
    fn new(created_at: DateTime<Utc>, updated_at: DateTime<Utc>) -> Self {
        Base {
            deleted: false,
            created_by: String::new(),
            created_at,
            updated_at,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entity {
    #[serde(flatten)]
    pub base: Base,
    pub id: String,
    pub name: String,
    pub description: String,
    pub collections: Vec<String>,
    pub size: i64,
    pub quota: i64,
    pub default_private: bool,
    pub custom_data: String,
}

impl Entity {
    pub fn from_model(e: &entity::Model, collection_ids: Vec<i64>) -> Self {
        Entity {
            base: Base::new(e.created_at, e.updated_at),
            id: e.id.to_string(),
            name: e.name.clone(),
            description: e.description.clone(),
            collections: collection_ids.iter().map(i64::to_string).collect(),
            size: 0,
            quota: e.quota,
            default_private: e.default_private,
            custom_data: String::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    #[serde(flatten)]
    pub base: Base,
    pub id: String,
    pub name: String,
    pub description: String,
    pub entity: String,
    pub entity_name: String,
    pub containers: Vec<String>,
    pub size: i64,
    pub private: bool,
    pub custom_data: String,
}

impl Collection {
    pub fn from_model(e: &entity::Model, c: &collection::Model, container_ids: Vec<i64>) -> Self {
        Collection {
            base: Base::new(c.created_at, c.updated_at),
            id: c.id.to_string(),
            name: c.name.clone(),
            description: c.description.clone(),
            entity: e.id.to_string(),
            entity_name: e.name.clone(),
            containers: container_ids.iter().map(i64::to_string).collect(),
            size: 0,
            private: c.private,
            custom_data: String::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(flatten)]
    pub base: Base,
    pub id: String,
    pub name: String,
    pub description: String,
    pub full_description: String,
    pub collection: String,
    pub collection_name: String,
    pub entity: String,
    pub entity_name: String,
    pub images: Vec<String>,
    pub image_tags: BTreeMap<String, String>,
    pub arch_tags: BTreeMap<String, BTreeMap<String, String>>,
    pub size: i64,
    pub download_count: i64,
    pub stars: u64,
    pub private: bool,
    pub read_only: bool,
    pub custom_data: String,
}

/// `{"tag": imageId}`, preferring the default architecture when a tag exists for several.
pub fn tag_map(tags: &[tag::Model]) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for t in tags.iter().filter(|t| t.arch != DEFAULT_ARCH) {
        map.insert(t.name.clone(), t.image_id.to_string());
    }
    for t in tags.iter().filter(|t| t.arch == DEFAULT_ARCH) {
        map.insert(t.name.clone(), t.image_id.to_string());
    }
    map
}

/// `{"arch": {"tag": imageId}}`.
pub fn arch_tag_map(tags: &[tag::Model]) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut map: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for t in tags {
        map.entry(t.arch.clone())
            .or_default()
            .insert(t.name.clone(), t.image_id.to_string());
    }
    map
}

impl Container {
    pub fn from_view(
        view: &ContainerView,
        images: &[image::Model],
        tags: &[tag::Model],
        stars: u64,
    ) -> Self {
        let c = &view.container;
        Container {
            base: Base::new(c.created_at, c.updated_at),
            id: c.id.to_string(),
            name: c.name.clone(),
            description: c.description.clone(),
            full_description: c.full_description.clone(),
            collection: view.collection.id.to_string(),
            collection_name: view.collection.name.clone(),
            entity: view.entity.id.to_string(),
            entity_name: view.entity.name.clone(),
            images: images.iter().map(|i| i.id.to_string()).collect(),
            image_tags: tag_map(tags),
            arch_tags: arch_tag_map(tags),
            size: images.iter().filter(|i| i.uploaded).map(|i| i.size).sum(),
            download_count: c.download_count,
            stars,
            private: view.collection.private,
            read_only: c.read_only,
            custom_data: String::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(flatten)]
    pub base: Base,
    pub id: String,
    pub hash: String,
    pub description: String,
    pub container: String,
    pub container_name: String,
    pub container_description: String,
    pub collection: String,
    pub collection_name: String,
    pub entity: String,
    pub entity_name: String,
    pub size: i64,
    pub uploaded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    pub fingerprints: Vec<String>,
    pub tags: Vec<String>,
    pub container_stars: u64,
    pub container_downloads: i64,
    pub custom_data: String,
}

impl Image {
    /// `metadata` is what SIF inspection recorded; its signing-key fingerprints are listed.
    pub fn from_view(view: &ImageView, stars: u64, metadata: Option<&SifMetadata>) -> Self {
        let i = &view.image;
        let owner = &view.owner;
        let mut tags: Vec<String> = view.tags.iter().map(|t| t.name.clone()).collect();
        tags.dedup();
        Image {
            base: Base::new(i.created_at, i.updated_at),
            id: i.id.to_string(),
            hash: format!("sha256.{}", i.sha256),
            description: i.description.clone(),
            container: owner.container.id.to_string(),
            container_name: owner.container.name.clone(),
            container_description: owner.container.description.clone(),
            collection: owner.collection.id.to_string(),
            collection_name: owner.collection.name.clone(),
            entity: owner.entity.id.to_string(),
            entity_name: owner.entity.name.clone(),
            size: i.size,
            uploaded: i.uploaded,
            signed: i.signed,
            arch: i.arch.clone(),
            encrypted: i.encrypted,
            fingerprints: metadata.map(|m| m.fingerprints.clone()).unwrap_or_default(),
            tags,
            container_stars: stars,
            container_downloads: owner.container.download_count,
            custom_data: String::new(),
        }
    }
}

#[derive(Serialize)]
pub struct SearchResults {
    pub entity: Vec<Entity>,
    pub collection: Vec<Collection>,
    pub container: Vec<Container>,
    pub image: Vec<Image>,
}

// ---- request bodies: lenient, tolerant of the zero values the Go client sends ----

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct EntityCreate {
    pub name: String,
    pub description: String,
    pub default_private: bool,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct CollectionCreate {
    pub name: String,
    pub description: String,
    pub entity: String,
    pub private: bool,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerCreate {
    pub name: String,
    pub description: String,
    pub collection: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ImageCreate {
    pub hash: String,
    pub container: String,
    pub description: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct UploadRequest {
    pub filesize: Option<i64>,
    pub sha256sum: Option<String>,
    pub md5sum: Option<String>,
}

/// Tag bodies come capitalised from the Go client (`{"Tag","ImageID"}`) and lower-case in
/// Sylabs' own documentation; both are accepted.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TagBody {
    #[serde(alias = "arch")]
    #[serde(rename = "Arch")]
    pub arch: Option<String>,
    #[serde(alias = "tag")]
    #[serde(rename = "Tag")]
    pub tag: String,
    #[serde(alias = "imageID", alias = "imageId", alias = "ImageId")]
    #[serde(rename = "ImageID")]
    pub image_id: String,
}
