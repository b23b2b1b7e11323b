//! The collections list, sorted, filtered and paged by the database.
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::{CollectionListing, ListingRequest};

/// One page of the collections the viewer may see.
#[server(prefix = "/rpc", endpoint = "collections")]
pub async fn list_collections(request: ListingRequest) -> Result<CollectionListing, SiloError> {
    use crate::model::{CollectionSortKey, COLLECTIONS_PER_PAGE};
    use silo_domain::services::stats::{CollectionQuery, CollectionSort, PageRequest, SortOrder};

    use super::server;

    let ctx = server::context()?;
    let page = server::respond(PageRequest::new(
        Some(request.page),
        Some(COLLECTIONS_PER_PAGE),
    ))?;
    let query = CollectionQuery {
        entity: Some(request.entity).filter(|e| !e.is_empty()),
        q: Some(request.filter).filter(|q| !q.is_empty()),
        private: None,
        sort: match request.sort {
            CollectionSortKey::Name => CollectionSort::Name,
            CollectionSortKey::Stars => CollectionSort::Stars,
            CollectionSortKey::Downloads => CollectionSort::Downloads,
            CollectionSortKey::Updated => CollectionSort::Updated,
            CollectionSortKey::Size => CollectionSort::Size,
            CollectionSortKey::Containers => CollectionSort::Containers,
        },
        order: if request.descending {
            SortOrder::Desc
        } else {
            SortOrder::Asc
        },
        page,
    };
    let listed = ctx
        .registry
        .list_collection_stats(&server::current_actor(), &query)
        .await;
    server::respond(listed.map(|listed| {
        CollectionListing {
            rows: listed
                .items
                .into_iter()
                .map(server::collection_row)
                .collect(),
            total: listed.total,
            page: page.page,
            per_page: page.per_page,
        }
    }))
}
