//! The REST API's wire types: query parameters and response bodies, with their OpenAPI
//! schemas, and their conversions from the domain's views.
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use silo_domain::services::stats as m;
use utoipa::{IntoParams, ToSchema};

/// Ascending or descending.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

impl From<Order> for m::SortOrder {
    fn from(o: Order) -> Self {
        match o {
            Order::Asc => m::SortOrder::Asc,
            Order::Desc => m::SortOrder::Desc,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntitySort {
    #[default]
    Name,
    Collections,
    Size,
    Downloads,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CollectionSort {
    #[default]
    Name,
    Containers,
    Size,
    Downloads,
    Updated,
    Stars,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContainerSort {
    #[default]
    Name,
    Size,
    Downloads,
    Updated,
    Created,
    Stars,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageSort {
    #[default]
    Created,
    Size,
    Downloads,
}

/// Time buckets of usage series (only days, for now).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    #[default]
    Day,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EntityParams {
    /// Case-insensitive substring of the name or description.
    pub q: Option<String>,
    /// Sort key (default `name`).
    #[param(inline)]
    pub sort: Option<EntitySort>,
    /// Sort order (default `asc`).
    #[param(inline)]
    pub order: Option<Order>,
    /// Page number, from 1 (default 1).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items per page (default 20, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CollectionParams {
    /// Only collections of this entity (exact name).
    pub entity: Option<String>,
    /// Case-insensitive substring of the name or description.
    pub q: Option<String>,
    /// Only private (`true`) or only public (`false`) collections.
    pub private: Option<bool>,
    /// Sort key (default `name`).
    #[param(inline)]
    pub sort: Option<CollectionSort>,
    /// Sort order (default `asc`).
    #[param(inline)]
    pub order: Option<Order>,
    /// Page number, from 1 (default 1).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items per page (default 20, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContainerParams {
    /// Only containers of this entity (exact name).
    pub entity: Option<String>,
    /// Only containers of collections with this name (exact).
    pub collection: Option<String>,
    /// Case-insensitive substring of the name or description.
    pub q: Option<String>,
    /// Only containers with an uploaded image of this architecture (e.g. `amd64`).
    pub arch: Option<String>,
    /// Sort key (default `name`).
    #[param(inline)]
    pub sort: Option<ContainerSort>,
    /// Sort order (default `asc`).
    #[param(inline)]
    pub order: Option<Order>,
    /// Page number, from 1 (default 1).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items per page (default 20, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImageParams {
    /// Only images of this architecture.
    pub arch: Option<String>,
    /// Only images whose bytes arrived (`true`) or are still awaited (`false`).
    pub uploaded: Option<bool>,
    /// Sort key (default `created`).
    #[param(inline)]
    pub sort: Option<ImageSort>,
    /// Sort order (default `desc`).
    #[param(inline)]
    pub order: Option<Order>,
    /// Page number, from 1 (default 1).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items per page (default 20, at most 100).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// First day (UTC, `YYYY-MM-DD`); default 29 days before `to`.
    pub from: Option<NaiveDate>,
    /// Last day, included (UTC, `YYYY-MM-DD`); default today. At most 366 days in all.
    pub to: Option<NaiveDate>,
    /// Size of the time buckets (only `day`, the default).
    #[param(inline)]
    pub bucket: Option<Bucket>,
}

/// An entity (user or team namespace) with totals over the collections the caller may read.
#[derive(Serialize, ToSchema)]
pub struct Entity {
    #[schema(example = "alice")]
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub collections: u64,
    pub containers: u64,
    /// Uploaded images.
    pub images: u64,
    pub size_bytes: u64,
    pub downloads: u64,
}

impl From<m::EntityStats> for Entity {
    fn from(s: m::EntityStats) -> Self {
        Entity {
            name: s.entity.name,
            description: s.entity.description,
            created_at: s.entity.created_at,
            collections: s.collections,
            containers: s.containers,
            images: s.images,
            size_bytes: s.size_bytes,
            downloads: s.downloads,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Collection {
    pub entity: String,
    pub name: String,
    /// `entity/collection`.
    #[schema(example = "alice/tools")]
    pub path: String,
    pub description: String,
    pub private: bool,
    pub created_at: DateTime<Utc>,
    /// The latest change to the collection or any of its containers.
    pub updated_at: DateTime<Utc>,
    pub containers: u64,
    /// Uploaded images.
    pub images: u64,
    pub size_bytes: u64,
    pub downloads: u64,
    pub stars: u64,
}

impl From<m::CollectionStats> for Collection {
    fn from(s: m::CollectionStats) -> Self {
        Collection {
            path: format!("{}/{}", s.entity_name, s.collection.name),
            entity: s.entity_name,
            name: s.collection.name,
            description: s.collection.description,
            private: s.collection.private,
            created_at: s.collection.created_at,
            updated_at: s.updated_at,
            containers: s.containers,
            images: s.images,
            size_bytes: s.size_bytes,
            downloads: s.downloads,
            stars: s.stars,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Container {
    pub entity: String,
    pub collection: String,
    pub name: String,
    /// `entity/collection/container`, as in `library://entity/collection/container:tag`.
    #[schema(example = "alice/tools/hello")]
    pub path: String,
    pub description: String,
    /// Whether its collection is private.
    pub private: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Uploaded images.
    pub images: u64,
    pub tags: u64,
    pub size_bytes: u64,
    pub downloads: u64,
    pub stars: u64,
    /// Architectures of its uploaded images.
    pub archs: Vec<String>,
}

impl From<m::ContainerStats> for Container {
    fn from(s: m::ContainerStats) -> Self {
        Container {
            path: s.path(),
            entity: s.entity_name,
            collection: s.collection_name,
            name: s.container.name,
            description: s.container.description,
            private: s.private,
            created_at: s.container.created_at,
            updated_at: s.container.updated_at,
            images: s.images,
            tags: s.tags,
            size_bytes: s.size_bytes,
            downloads: u64::try_from(s.container.download_count).unwrap_or(0),
            stars: s.stars,
            archs: s.archs,
        }
    }
}

/// A tag and the image it points at.
#[derive(Serialize, ToSchema)]
pub struct TagRef {
    #[schema(example = "latest")]
    pub name: String,
    #[schema(example = "amd64")]
    pub arch: String,
    /// Lower-case hex sha256 of the image.
    pub sha256: String,
    pub size_bytes: u64,
    /// When the tag was last pointed at an image.
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Image {
    /// Lower-case hex sha256 of the image bytes (pull with `…:sha256.<sha256>`).
    pub sha256: String,
    pub size_bytes: u64,
    pub arch: Option<String>,
    /// True once the bytes are verified and stored.
    pub uploaded: bool,
    pub signed: Option<bool>,
    pub encrypted: Option<bool>,
    pub description: String,
    /// When the image was pushed (first registered).
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Names of the tags pointing at this image.
    pub tags: Vec<String>,
    pub downloads: u64,
    /// When the image was built: the creation time in its SIF header (null if not inspected).
    pub build_time: Option<DateTime<Utc>>,
    /// Labels from the image's SIF (null if not inspected).
    pub labels: Option<BTreeMap<String, String>>,
}

impl From<m::ImageStats> for Image {
    fn from(s: m::ImageStats) -> Self {
        Image {
            sha256: s.image.sha256,
            size_bytes: u64::try_from(s.image.size).unwrap_or(0),
            arch: s.image.arch,
            uploaded: s.image.uploaded,
            signed: s.image.signed,
            encrypted: s.image.encrypted,
            description: s.image.description,
            created_at: s.image.created_at,
            updated_at: s.image.updated_at,
            tags: s.tags.into_iter().map(|t| t.name).collect(),
            downloads: s.downloads,
            build_time: s.build_time,
            labels: s.labels,
        }
    }
}

/// A container with its tags (grouped by architecture) and newest images.
#[derive(Serialize, ToSchema)]
pub struct ContainerDetail {
    #[serde(flatten)]
    pub container: Container,
    /// Tags per architecture, each sorted by name.
    pub tags_by_arch: BTreeMap<String, Vec<TagRef>>,
    /// The newest 100 images; page through all with `…/images`.
    pub latest_images: Vec<Image>,
}

impl From<m::ContainerDetail> for ContainerDetail {
    fn from(d: m::ContainerDetail) -> Self {
        let mut tags_by_arch: BTreeMap<String, Vec<TagRef>> = BTreeMap::new();
        for t in d.tags {
            tags_by_arch
                .entry(t.tag.arch.clone())
                .or_default()
                .push(TagRef {
                    name: t.tag.name,
                    arch: t.tag.arch,
                    sha256: t.sha256,
                    size_bytes: u64::try_from(t.size).unwrap_or(0),
                    updated_at: t.tag.updated_at,
                });
        }
        ContainerDetail {
            container: d.stats.into(),
            tags_by_arch,
            latest_images: d.images.into_iter().map(Image::from).collect(),
        }
    }
}

macro_rules! list {
    ($name:ident, $item:ty, $doc:literal) => {
        #[doc = $doc]
        #[derive(Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Items in the whole filtered list.
            pub total: u64,
            pub page: u64,
            pub per_page: u64,
            /// URL of the next page, when there is one (also in the `Link` header).
            pub next: Option<String>,
        }
    };
}

list!(EntityList, Entity, "A page of entities.");
list!(CollectionList, Collection, "A page of collections.");
list!(ContainerList, Container, "A page of containers.");
list!(ImageList, Image, "A page of images.");

#[derive(Serialize, ToSchema)]
pub struct DayDownloads {
    /// UTC day.
    pub date: NaiveDate,
    pub downloads: u64,
}

/// Downloads of one container per day.
#[derive(Serialize, ToSchema)]
pub struct ContainerUsage {
    pub path: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub bucket: Bucket,
    /// Downloads in the whole range.
    pub downloads: u64,
    /// One entry per day of the range, oldest first, days without downloads included.
    pub days: Vec<DayDownloads>,
}

#[derive(Serialize, ToSchema)]
pub struct DayUsage {
    /// UTC day.
    pub date: NaiveDate,
    /// Downloads (pulls) that day.
    pub downloads: u64,
    /// Images pushed that day.
    pub pushes: u64,
    /// Bytes of the images pushed that day.
    pub bytes_added: u64,
    /// Bytes stored at the end of the day (images deleted since are not counted).
    pub bytes_total: u64,
}

impl From<m::DayUsage> for DayUsage {
    fn from(d: m::DayUsage) -> Self {
        DayUsage {
            date: d.date,
            downloads: d.downloads,
            pushes: d.pushes,
            bytes_added: d.bytes_added,
            bytes_total: d.bytes_total,
        }
    }
}

/// Registry-wide activity per day, over the collections the caller may read.
#[derive(Serialize, ToSchema)]
pub struct RegistryUsage {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub bucket: Bucket,
    pub days: Vec<DayUsage>,
}

/// Totals over everything the caller may read.
#[derive(Serialize, ToSchema)]
pub struct Stats {
    /// All entities (their names are public; private collections are not counted).
    pub entities: u64,
    pub collections: u64,
    pub containers: u64,
    /// Uploaded images.
    pub images: u64,
    pub tags: u64,
    pub size_bytes: u64,
    pub downloads: u64,
    pub stars: u64,
}

impl From<m::RegistryStats> for Stats {
    fn from(s: m::RegistryStats) -> Self {
        Stats {
            entities: s.entities,
            collections: s.collections,
            containers: s.containers,
            images: s.images,
            tags: s.tags,
            size_bytes: s.size_bytes,
            downloads: s.downloads,
            stars: s.stars,
        }
    }
}
