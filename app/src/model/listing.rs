//! The collections list: what the browser asks for (from the page's query string) and the page
//! of rows it gets back.
use serde::{Deserialize, Serialize};

use super::CollectionRow;

/// Rows per page of the collections list.
pub const COLLECTIONS_PER_PAGE: u64 = 48;

/// What the collections list can be sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CollectionSortKey {
    #[default]
    Name,
    Stars,
    Downloads,
    Updated,
    Size,
    Containers,
}

impl CollectionSortKey {
    pub const ALL: [CollectionSortKey; 6] = [
        CollectionSortKey::Name,
        CollectionSortKey::Stars,
        CollectionSortKey::Downloads,
        CollectionSortKey::Updated,
        CollectionSortKey::Size,
        CollectionSortKey::Containers,
    ];

    /// The value in the page's query string (`?sort=stars`).
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionSortKey::Name => "name",
            CollectionSortKey::Stars => "stars",
            CollectionSortKey::Downloads => "downloads",
            CollectionSortKey::Updated => "updated",
            CollectionSortKey::Size => "size",
            CollectionSortKey::Containers => "containers",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            CollectionSortKey::Name => "Name",
            CollectionSortKey::Stars => "Stars",
            CollectionSortKey::Downloads => "Downloads",
            CollectionSortKey::Updated => "Last update",
            CollectionSortKey::Size => "Size",
            CollectionSortKey::Containers => "Containers",
        }
    }

    /// Names read best A to Z; figures and dates biggest or newest first.
    pub fn natural_descending(self) -> bool {
        self != CollectionSortKey::Name
    }
}

/// One page of the collections list, as the page's query string describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingRequest {
    pub sort: CollectionSortKey,
    pub descending: bool,
    /// Only this entity's collections (exact name); empty for all.
    pub entity: String,
    /// Only collections whose name or description holds this text.
    pub filter: String,
    /// From 1.
    pub page: u64,
}

impl ListingRequest {
    /// Reads `sort`, `order`, `entity`, `q` and `page` from a query string's values; anything
    /// unknown falls back to the default.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        let sort = get("sort")
            .and_then(|s| CollectionSortKey::parse(&s))
            .unwrap_or_default();
        let descending = match get("order").as_deref() {
            Some("asc") => false,
            Some("desc") => true,
            _ => sort.natural_descending(),
        };
        ListingRequest {
            sort,
            descending,
            entity: get("entity").unwrap_or_default().trim().to_string(),
            filter: get("q").unwrap_or_default().trim().to_string(),
            page: get("page")
                .and_then(|p| p.parse().ok())
                .filter(|p| *p >= 1)
                .unwrap_or(1),
        }
    }

    /// The query string for this request (without the `?`), leaving out defaults.
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        if self.sort != CollectionSortKey::default() {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.descending != self.sort.natural_descending() {
            parts.push(format!(
                "order={}",
                if self.descending { "desc" } else { "asc" }
            ));
        }
        if !self.entity.is_empty() {
            parts.push(format!("entity={}", encode_query_value(&self.entity)));
        }
        if !self.filter.is_empty() {
            parts.push(format!("q={}", encode_query_value(&self.filter)));
        }
        if self.page > 1 {
            parts.push(format!("page={}", self.page));
        }
        parts.join("&")
    }
}

/// Percent-encodes a query-string value.
pub fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// One page of collections with the total, for the pager.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionListing {
    pub rows: Vec<CollectionRow>,
    /// All matching collections, over all pages.
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl CollectionListing {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &[(&str, &str)]) -> ListingRequest {
        ListingRequest::from_query(|k| {
            query
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn query_strings_round_trip() {
        let r = request(&[("sort", "stars"), ("entity", "lab x"), ("page", "3")]);
        assert_eq!(r.sort, CollectionSortKey::Stars);
        assert!(r.descending, "stars sort most first by default");
        assert_eq!(r.to_query(), "sort=stars&entity=lab%20x&page=3");
        let r = request(&[("sort", "name"), ("order", "desc"), ("q", "gpu")]);
        assert!(r.descending);
        assert_eq!(r.to_query(), "order=desc&q=gpu");
        assert_eq!(request(&[]).to_query(), "");
    }

    #[test]
    fn bad_values_fall_back_to_defaults() {
        let r = request(&[("sort", "evil"), ("page", "0"), ("order", "sideways")]);
        assert_eq!(
            r,
            ListingRequest {
                page: 1,
                ..Default::default()
            }
        );
        assert_eq!(request(&[("page", "-4")]).page, 1);
    }

    #[test]
    fn pages_round_up() {
        let listing = |total| CollectionListing {
            total,
            per_page: 48,
            ..Default::default()
        };
        assert_eq!(listing(0).pages(), 1);
        assert_eq!(listing(48).pages(), 1);
        assert_eq!(listing(49).pages(), 2);
        assert_eq!(listing(10_000).pages(), 209);
    }
}
