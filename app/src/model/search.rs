//! Live search results: entities, collections and containers the viewer may see.
use serde::{Deserialize, Serialize};

/// What a hit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SearchHitKind {
    Entity,
    Collection,
    Container,
}

impl SearchHitKind {
    pub fn label(self) -> &'static str {
        match self {
            SearchHitKind::Entity => "entity",
            SearchHitKind::Collection => "collection",
            SearchHitKind::Container => "container",
        }
    }
}

/// One search hit, ready to show and link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub kind: SearchHitKind,
    /// `entity`, `entity/collection` or `entity/collection/container`.
    pub path: String,
    pub private: bool,
    /// Why it matched when not by name, e.g. `tag latest`, `label`, `description`; or a
    /// short summary (`3 collections`).
    pub note: String,
}

impl SearchHit {
    /// The SPA page of the hit.
    pub fn href(&self) -> String {
        format!("/c/{}", self.path)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The text searched for, as the server understood it.
    pub query: String,
    /// Entities, then collections, then containers; the best matches of each kind first.
    pub hits: Vec<SearchHit>,
    /// Some kind had more hits than were sent.
    pub truncated: bool,
}
