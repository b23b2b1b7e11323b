//! Usage over time (the charts), the home page's highlights and the entity page.
use serde::{Deserialize, Serialize};

use super::Timestamp;

/// The ranges the charts offer, in days.
pub const USAGE_RANGES: [u32; 4] = [7, 30, 90, 365];
/// The range a chart starts with.
pub const DEFAULT_USAGE_RANGE: u32 = 30;

/// One UTC day of a usage series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub downloads: u64,
    /// Bytes stored at the end of the day (images still present); 0 for a container's series.
    pub bytes_total: u64,
}

/// Pulls (and, for collections and the registry, stored bytes) per day, oldest first; every
/// day of the range is present, days without activity hold zeros.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageData {
    pub days: Vec<UsageDay>,
    /// Whether `bytes_total` is filled in (collections and the registry).
    pub has_storage: bool,
}

impl UsageData {
    pub fn total_downloads(&self) -> u64 {
        self.days.iter().map(|d| d.downloads).sum()
    }

    /// The busiest day (the first one on ties), if any day had pulls.
    pub fn peak(&self) -> Option<&UsageDay> {
        self.days
            .iter()
            .filter(|d| d.downloads > 0)
            .fold(None, |best: Option<&UsageDay>, d| match best {
                Some(b) if b.downloads >= d.downloads => Some(b),
                _ => Some(d),
            })
    }
}

/// A container or collection in a "most …" list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedItem {
    /// `entity/collection` or `entity/collection/container`.
    pub path: String,
    /// `collection` or `container`.
    pub kind: String,
    pub count: u64,
}

impl RankedItem {
    pub fn href(&self) -> String {
        format!("/c/{}", self.path)
    }
}

/// The home page's leaders and registry-wide totals (over what the viewer may see).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighlightsData {
    pub most_pulled: Vec<RankedItem>,
    /// Collections and containers together, most stars first.
    pub most_starred: Vec<RankedItem>,
    pub entities: u64,
    pub downloads: u64,
    pub stars: u64,
}

/// A collection of an entity, as the entity page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityCollection {
    pub name: String,
    pub description: String,
    pub private: bool,
    pub containers: u64,
    pub size_bytes: u64,
    pub downloads: u64,
    pub stars: u64,
    pub updated_at: Timestamp,
}

/// The entity (user or group) page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityData {
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
    /// Collections the viewer may see.
    pub collections: u64,
    pub containers: u64,
    pub size_bytes: u64,
    pub downloads: u64,
    /// Stars received by those collections and their containers.
    pub stars: u64,
    /// One page of the collections, by name.
    pub listed: Vec<EntityCollection>,
    pub page: u64,
    pub per_page: u64,
}
