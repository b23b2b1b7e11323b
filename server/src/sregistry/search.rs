//! Listing and search, as `sregistry search` calls them. Every answer is filtered by what the
//! caller may read (anonymous unless a bearer token is sent).
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use silo_domain::names::{validate_segment, validate_tag};
use silo_domain::services::{ListedTag, ListingFilter};
use silo_domain::DomainError;

use super::auth;
use super::error::SregistryResult;
use super::{parse_collection, spelling};
use crate::state::AppState;

fn container_json(state: &AppState, listed: &ListedTag) -> Value {
    let collection = spelling(&listed.view.entity.name, &listed.view.collection.name);
    json!({
        "id": listed.image.id,
        "name": listed.view.container.name,
        "tag": listed.tag.name,
        "arch": listed.tag.arch,
        "collection": collection,
        "uri": format!("{collection}/{}:{}", listed.view.container.name, listed.tag.name),
        "detail": format!("{}/c/{}", state.public_url, listed.view.path()),
        "version": listed.image.sha256,
        "size": listed.image.size,
        "add_date": listed.tag.updated_at,
    })
}

async fn list(
    state: &AppState,
    headers: &HeaderMap,
    filter: ListingFilter,
) -> SregistryResult<Vec<ListedTag>> {
    let actor = auth::actor(state, headers, None).await?;
    Ok(state.registry.list_tagged(&actor, &filter).await?)
}

/// `GET /api/collections/`: every readable collection with its tagged containers, in one
/// page (`next` is always null: the client re-fetches the first page while it is not).
pub async fn collections(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> SregistryResult<Response> {
    let listed = list(&state, &headers, ListingFilter::default()).await?;
    let mut results: Vec<Value> = Vec::new();
    let mut current: Option<(i64, Value)> = None;
    for item in &listed {
        if current
            .as_ref()
            .is_none_or(|(id, _)| *id != item.view.collection.id)
        {
            if let Some((_, done)) = current.take() {
                results.push(done);
            }
            let name = spelling(&item.view.entity.name, &item.view.collection.name);
            current = Some((
                item.view.collection.id,
                json!({"id": item.view.collection.id, "name": name, "containers": []}),
            ));
        }
        if let Some((_, c)) = current.as_mut() {
            if let Some(list) = c["containers"].as_array_mut() {
                list.push(container_json(&state, item));
            }
        }
    }
    if let Some((_, done)) = current {
        results.push(done);
    }
    Ok(axum::Json(json!({
        "count": results.len(),
        "next": null,
        "previous": null,
        "results": results,
    }))
    .into_response())
}

/// `GET /api/collection/<name>`: `E/C` is that collection; a single word `W` lists the
/// collections named `W` in any entity and the collections of the entity `W`. 404 when
/// nothing readable matches.
pub async fn collection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> SregistryResult<Response> {
    let name = name.trim_matches('/').to_lowercase();
    let listed = if name.contains('/') {
        let (entity, collection) = parse_collection(&name)?;
        let filter = ListingFilter {
            entity: Some(entity),
            collection: Some(collection),
            ..Default::default()
        };
        list(&state, &headers, filter).await?
    } else {
        validate_segment("collection", &name)?;
        let named = ListingFilter {
            collection: Some(name.clone()),
            ..Default::default()
        };
        let owned = ListingFilter {
            entity: Some(name.clone()),
            ..Default::default()
        };
        let mut listed = list(&state, &headers, named).await?;
        for item in list(&state, &headers, owned).await? {
            if !listed.iter().any(|l| l.tag.id == item.tag.id) {
                listed.push(item);
            }
        }
        listed
    };
    if listed.is_empty() {
        return Err(DomainError::not_found(format!("collection {name:?}")).into());
    }
    let containers: Vec<Value> = listed.iter().map(|l| container_json(&state, l)).collect();
    Ok(axum::Json(json!({"name": name, "containers": containers})).into_response())
}

/// Parses `[collection/<c>[/<c2>]/]name/<n>[/tag/<t>]`.
fn parse_search(query: &str) -> Result<ListingFilter, DomainError> {
    let invalid = || {
        DomainError::invalid(format!(
            "invalid search {query:?}: expected [collection/<collection>/]name/<name>[/tag/<tag>]"
        ))
    };
    let parts: Vec<&str> = query.trim_matches('/').split('/').collect();
    let name_at = parts
        .iter()
        .rposition(|p| *p == "name")
        .ok_or_else(invalid)?;
    let mut filter = ListingFilter::default();
    match &parts[..name_at] {
        [] => {}
        ["collection", rest @ ..] if !rest.is_empty() => {
            let (entity, collection) = parse_collection(&rest.join("/"))?;
            if rest.len() > 1 {
                filter.entity = Some(entity);
            }
            filter.collection = Some(collection);
        }
        _ => return Err(invalid()),
    }
    match &parts[name_at + 1..] {
        [name] => filter.container = Some(name.to_string()),
        [name, "tag", tag] => {
            validate_tag(tag)?;
            filter.container = Some(name.to_string());
            filter.tag = Some(tag.to_string());
        }
        _ => return Err(invalid()),
    }
    Ok(filter)
}

/// `GET /api/container/search/…`: a list of `{"collection","name","tag",…}`. A one-word
/// collection matches that collection name in every entity.
pub async fn container_search(
    State(state): State<AppState>,
    Path(query): Path<String>,
    headers: HeaderMap,
) -> SregistryResult<Response> {
    let filter = parse_search(&query.to_lowercase())?;
    let listed = list(&state, &headers, filter).await?;
    let hits: Vec<Value> = listed.iter().map(|l| container_json(&state, l)).collect();
    Ok(axum::Json(hits).into_response())
}

/// `GET /api/registry/identity`.
pub async fn identity(State(state): State<AppState>) -> Response {
    let id = url::Url::parse(&state.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    axum::Json(json!({
        "name": state.config.branding.name,
        "id": id,
        "url": state.public_url.as_ref(),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_search_paths() {
        let f = parse_search("collection/tools/name/hello/tag/1.0").unwrap();
        assert_eq!(f.entity, None);
        assert_eq!(f.collection.as_deref(), Some("tools"));
        assert_eq!(f.container.as_deref(), Some("hello"));
        assert_eq!(f.tag.as_deref(), Some("1.0"));
        let f = parse_search("collection/alice/tools/name/hello").unwrap();
        assert_eq!(f.entity.as_deref(), Some("alice"));
        assert_eq!(f.tag, None);
        let f = parse_search("name/hello").unwrap();
        assert_eq!(f.collection, None);
        for bad in [
            "",
            "name",
            "collection/name/x",
            "foo/name/x",
            "name/x/tag",
            "name/x/y/z",
        ] {
            assert!(parse_search(bad).is_err(), "{bad}");
        }
    }
}
