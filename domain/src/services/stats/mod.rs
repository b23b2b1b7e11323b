//! Stats for scripts and dashboards (the REST API): entities, collections, containers and
//! images with their sizes, counts and times; usage over time; registry totals.
//!
//! Filtering, sorting, paging and every aggregate happen in SQL, and every query is narrowed
//! by the actor's [`crate::policy::ReadScope`], so lists, totals and sums never include a
//! collection the actor may not read.
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::entities::{collection, container, entity, image, tag};
use crate::error::{DomainError, Result};

mod highlights;
mod images;
mod lists;
mod quick_search;
pub(crate) mod sql;
mod treemap;
mod usage;

pub use highlights::{EntityProfile, Highlights, MAX_HIGHLIGHTS};
pub use quick_search::{
    CollectionHit, ContainerHit, ContainerMatch, EntityHit, QuickHits, QUICK_SEARCH_LIMIT,
    QUICK_SEARCH_MIN_CHARS,
};
pub use treemap::TreemapLeaf;

/// Largest page a list answers.
pub const MAX_PER_PAGE: u64 = 100;
pub const DEFAULT_PER_PAGE: u64 = 20;
/// Highest page number accepted (keeps offsets far from overflow).
pub const MAX_PAGE: u64 = 1_000_000;
/// Longest usage range, in days.
pub const MAX_USAGE_DAYS: i64 = 366;
/// Length of the default usage range, in days.
pub const DEFAULT_USAGE_DAYS: i64 = 30;
/// How many of its newest images a container's detail embeds.
pub const DETAIL_IMAGES: u64 = 100;

/// A validated page request (pages count from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Result<Self> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(DomainError::invalid(format!(
                "page must be between 1 and {MAX_PAGE}"
            )));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(DomainError::invalid(format!(
                "per_page must be between 1 and {MAX_PER_PAGE}"
            )));
        }
        Ok(PageRequest { page, per_page })
    }

    pub(crate) fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

/// One page of a list and the number of items in the whole (filtered) list.
#[derive(Clone, Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EntitySort {
    #[default]
    Name,
    Collections,
    Size,
    Downloads,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CollectionSort {
    #[default]
    Name,
    Containers,
    Size,
    Downloads,
    Updated,
    Stars,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContainerSort {
    #[default]
    Name,
    Size,
    Downloads,
    Updated,
    Created,
    Stars,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImageSort {
    /// Newest first unless ascending order is asked for.
    #[default]
    Created,
    Size,
    Downloads,
}

#[derive(Clone, Debug, Default)]
pub struct EntityQuery {
    /// Case-insensitive substring of the name or description.
    pub q: Option<String>,
    pub sort: EntitySort,
    pub order: SortOrder,
    pub page: PageRequest,
}

#[derive(Clone, Debug, Default)]
pub struct CollectionQuery {
    /// Exact entity name.
    pub entity: Option<String>,
    pub q: Option<String>,
    pub private: Option<bool>,
    pub sort: CollectionSort,
    pub order: SortOrder,
    pub page: PageRequest,
}

#[derive(Clone, Debug, Default)]
pub struct ContainerQuery {
    pub entity: Option<String>,
    /// Exact collection name.
    pub collection: Option<String>,
    pub q: Option<String>,
    /// Only containers with an uploaded image of this architecture.
    pub arch: Option<String>,
    pub sort: ContainerSort,
    pub order: SortOrder,
    pub page: PageRequest,
}

#[derive(Clone, Debug, Default)]
pub struct ImageQuery {
    pub arch: Option<String>,
    pub uploaded: Option<bool>,
    pub sort: ImageSort,
    pub order: SortOrder,
    pub page: PageRequest,
}

/// An entity with totals over the collections the actor may read.
#[derive(Clone, Debug)]
pub struct EntityStats {
    pub entity: entity::Model,
    pub collections: u64,
    pub containers: u64,
    pub images: u64,
    pub size_bytes: u64,
    pub downloads: u64,
}

#[derive(Clone, Debug)]
pub struct CollectionStats {
    pub entity_name: String,
    pub collection: collection::Model,
    pub containers: u64,
    /// Uploaded images.
    pub images: u64,
    pub size_bytes: u64,
    pub downloads: u64,
    pub stars: u64,
    /// The latest change to the collection or any of its containers.
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct ContainerStats {
    pub entity_name: String,
    pub collection_name: String,
    pub private: bool,
    pub container: container::Model,
    pub images: u64,
    pub tags: u64,
    pub size_bytes: u64,
    pub stars: u64,
    /// Architectures of the uploaded images, sorted.
    pub archs: Vec<String>,
}

impl ContainerStats {
    pub fn path(&self) -> String {
        format!(
            "{}/{}/{}",
            self.entity_name, self.collection_name, self.container.name
        )
    }
}

#[derive(Clone, Debug)]
pub struct ImageStats {
    pub image: image::Model,
    /// Tags (of any arch) pointing at the image.
    pub tags: Vec<tag::Model>,
    pub downloads: u64,
    /// When the image was built: the creation time in its SIF header (None when the image
    /// was not inspected, e.g. pushed before inspection existed).
    pub build_time: Option<DateTime<Utc>>,
    /// The SIF's labels (None when the image was not inspected).
    pub labels: Option<BTreeMap<String, String>>,
}

/// A tag and the image it points at.
#[derive(Clone, Debug)]
pub struct TagTarget {
    pub tag: tag::Model,
    pub sha256: String,
    pub size: i64,
}

#[derive(Clone, Debug)]
pub struct ContainerDetail {
    pub stats: ContainerStats,
    /// Ordered by arch, then name.
    pub tags: Vec<TagTarget>,
    /// The newest [`DETAIL_IMAGES`] images.
    pub images: Vec<ImageStats>,
}

/// An inclusive range of UTC days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DayRange {
    /// Defaults: `to` is today, `from` [`DEFAULT_USAGE_DAYS`] days before and including `to`.
    pub fn new(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Self> {
        let to = to.unwrap_or_else(|| Utc::now().date_naive());
        let from = from.unwrap_or(to - chrono::Duration::days(DEFAULT_USAGE_DAYS - 1));
        if from > to {
            return Err(DomainError::invalid("from must not be after to"));
        }
        if (to - from).num_days() + 1 > MAX_USAGE_DAYS {
            return Err(DomainError::invalid(format!(
                "a usage range covers at most {MAX_USAGE_DAYS} days"
            )));
        }
        Ok(DayRange { from, to })
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> {
        let (from, to) = (self.from, self.to);
        from.iter_days().take_while(move |d| *d <= to)
    }

    pub(crate) fn start(&self) -> DateTime<Utc> {
        self.from.and_time(chrono::NaiveTime::MIN).and_utc()
    }

    pub(crate) fn end_exclusive(&self) -> DateTime<Utc> {
        (self.to + chrono::Duration::days(1))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    }
}

/// Downloads of one container on one day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayDownloads {
    pub date: NaiveDate,
    pub downloads: u64,
}

/// Registry-wide activity on one day, over what the actor may read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayUsage {
    pub date: NaiveDate,
    pub downloads: u64,
    /// Images pushed (registered and since uploaded) that day.
    pub pushes: u64,
    pub bytes_added: u64,
    /// Bytes of the images stored at the end of the day (of those still present).
    pub bytes_total: u64,
}

/// Totals over everything the actor may read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegistryStats {
    /// All entities (entity names are public; their private collections are not counted).
    pub entities: u64,
    pub collections: u64,
    pub containers: u64,
    pub images: u64,
    pub tags: u64,
    pub size_bytes: u64,
    pub downloads: u64,
    pub stars: u64,
}

pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod quick_search_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod treemap_tests;
#[cfg(test)]
mod usage_tests;
