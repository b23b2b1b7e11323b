//! Live search over everything the viewer may see.
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::SearchResults;

/// Entities, collections and containers matching `q` (names, tags, SIF labels, descriptions).
#[server(prefix = "/rpc", endpoint = "search")]
pub async fn search(q: String) -> Result<SearchResults, SiloError> {
    use silo_domain::services::stats::{ContainerMatch, QUICK_SEARCH_LIMIT};

    use super::server;
    use crate::format::plural;
    use crate::model::{SearchHit, SearchHitKind};

    let ctx = server::context()?;
    let found = server::respond(
        ctx.registry
            .quick_search(&server::current_actor(), &q)
            .await,
    )?;
    let full = |n: usize| n as u64 >= QUICK_SEARCH_LIMIT;
    let truncated =
        full(found.entities.len()) || full(found.collections.len()) || full(found.containers.len());
    let mut hits = Vec::new();
    hits.extend(found.entities.into_iter().map(|e| SearchHit {
        kind: SearchHitKind::Entity,
        path: e.name,
        private: false,
        note: plural(e.collections, "collection", "collections"),
    }));
    hits.extend(found.collections.into_iter().map(|c| SearchHit {
        kind: SearchHitKind::Collection,
        path: format!("{}/{}", c.entity, c.name),
        private: c.private,
        note: String::new(),
    }));
    hits.extend(found.containers.into_iter().map(|k| SearchHit {
        kind: SearchHitKind::Container,
        path: format!("{}/{}/{}", k.entity, k.collection, k.name),
        private: k.private,
        note: match k.matched {
            ContainerMatch::Name => String::new(),
            ContainerMatch::Tag(tag) => format!("tag {tag}"),
            ContainerMatch::Label => "SIF label".into(),
            ContainerMatch::Description => "description".into(),
        },
    }));
    Ok(SearchResults {
        query: q.trim().to_string(),
        hits,
        truncated,
    })
}
