//! Data the server functions send to the browser. Plain serde types, compiled into both the
//! WASM client and the server; nothing here knows about the database.
use serde::{Deserialize, Serialize};

mod listing;
mod search;

pub use listing::{
    encode_query_value, CollectionListing, CollectionSortKey, ListingRequest, COLLECTIONS_PER_PAGE,
};
pub use search::{SearchHit, SearchHitKind, SearchResults};
pub mod admin;
pub mod session;
pub mod stars;
pub mod teams;
pub mod tokens;
pub mod treemap;

/// A point in time: RFC 3339 for machines (`<time datetime>`), pre-formatted text for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamp {
    pub rfc3339: String,
    /// For example `2026-11-25 10:11 UTC`.
    pub text: String,
}

/// The centre running this registry, and how clients reach it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub name: String,
    pub help_email: String,
    pub institution_name: String,
    pub institution_url: String,
    /// The logo's address.
    pub logo_url: String,
    /// The About page's text (paragraphs separated by blank lines); empty for the default.
    pub about: String,
    /// The Terms page's text; empty for the default.
    pub terms: String,
    /// The registry's public base URL, without a trailing slash.
    pub public_url: String,
    /// Host (and port) for `library://<host>/…` references.
    pub library_host: String,
    /// A suggested name for `apptainer remote add`.
    pub remote_name: String,
}

/// Where a container lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRef {
    pub entity: String,
    pub collection: String,
    pub container: String,
}

impl ContainerRef {
    /// `entity/collection/container`.
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.entity, self.collection, self.container)
    }
    /// The SPA route of the container page.
    pub fn href(&self) -> String {
        format!("/c/{}", self.path())
    }
    /// The SPA route of the collection page.
    pub fn collection_href(&self) -> String {
        format!("/c/{}/{}", self.entity, self.collection)
    }
}

/// A tag: a name, for one architecture, pointing at one image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagInfo {
    pub name: String,
    pub arch: String,
    /// Lower-case hex sha256 of the image the tag points at.
    pub sha256: String,
    pub updated_at: Timestamp,
}

/// An uploaded image as the home page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentPush {
    pub container: ContainerRef,
    pub sha256: String,
    pub size: u64,
    pub arch: Option<String>,
    pub tags: Vec<String>,
    pub pushed_at: Timestamp,
}

/// What the home page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeData {
    pub collections: u64,
    pub containers: u64,
    pub images: u64,
    pub total_bytes: u64,
    pub recent: Vec<RecentPush>,
}

/// One row of the collections list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRow {
    pub entity: String,
    pub collection: String,
    pub description: String,
    pub containers: u64,
    pub total_bytes: u64,
    pub updated_at: Timestamp,
    pub private: bool,
    pub stars: u64,
    pub downloads: u64,
}

impl CollectionRow {
    pub fn path(&self) -> String {
        format!("{}/{}", self.entity, self.collection)
    }
    pub fn href(&self) -> String {
        format!("/c/{}", self.path())
    }
}

/// One row of a collection's container list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerRow {
    pub name: String,
    pub description: String,
    pub images: u64,
    pub tags: u64,
    pub total_bytes: u64,
    pub downloads: u64,
    pub updated_at: Timestamp,
    pub stars: u64,
}

/// The collection page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionData {
    pub entity: String,
    pub collection: String,
    pub description: String,
    pub private: bool,
    pub created_at: Timestamp,
    pub containers: Vec<ContainerRow>,
    /// User names (or `team <name>`) owning the collection.
    pub owners: Vec<String>,
}

/// An image of a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    pub sha256: String,
    pub size: u64,
    pub arch: Option<String>,
    /// False while the push has not delivered (and verified) the bytes yet.
    pub uploaded: bool,
    pub signed: Option<bool>,
    pub encrypted: Option<bool>,
    pub description: String,
    pub pushed_at: Timestamp,
    /// The tags pointing at this image.
    pub tags: Vec<TagInfo>,
    /// What Silo read from the SIF image; `None` for images not inspected (not SIF, or not
    /// uploaded yet).
    pub sif: Option<SifDetails>,
}

/// Metadata read from a SIF image's header and metadata objects.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SifDetails {
    /// The build time written in the SIF header.
    pub created_at: Option<Timestamp>,
    pub definition: Option<String>,
    /// Label name and value, sorted by name.
    pub labels: Vec<(String, String)>,
    pub runscript: Option<String>,
    pub environment: Option<String>,
    /// Upper-case hex fingerprints of the keys that signed the image; empty when unsigned.
    pub fingerprints: Vec<String>,
}

/// The container page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerData {
    pub container: ContainerRef,
    pub description: String,
    pub full_description: String,
    pub collection_private: bool,
    pub downloads: u64,
    pub stars: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Ordered by arch, then name.
    pub tags: Vec<TagInfo>,
    /// Newest first.
    pub images: Vec<ImageInfo>,
    /// Whether the viewer owns the collection (and may, for example, create share links).
    #[serde(default)]
    pub can_manage: bool,
}

impl ContainerData {
    /// The architectures that have tags, in order.
    pub fn arches(&self) -> Vec<String> {
        let mut arches: Vec<String> = self.tags.iter().map(|t| t.arch.clone()).collect();
        arches.dedup();
        arches
    }

    /// The image a tag points at.
    pub fn image_of(&self, tag: &TagInfo) -> Option<&ImageInfo> {
        self.images.iter().find(|i| i.sha256 == tag.sha256)
    }
}

mod usage;
pub use usage::*;
