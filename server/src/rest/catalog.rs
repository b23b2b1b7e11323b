//! Entities, collections, containers and images.
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::Json;
use silo_domain::names::ContainerPath;
use silo_domain::services::stats::{self as m, PageRequest};

use super::error::{Caller, ErrorBody, RestPath, RestQuery, RestResult};
use super::model::*;
use super::paging::paging;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/entities", tag = "catalog",
    summary = "List entities",
    description = "All entities (user and team namespaces; their names are public), with totals \
                   over the collections the caller may read.",
    params(EntityParams),
    responses(
        (status = 200, description = "Success", body = EntityList, headers(("Link" = String, description = "RFC 8288 links to the first, prev, next and last pages"))),
        (status = 400, description = "Invalid parameters", body = ErrorBody),
        (status = 401, description = "Invalid credential", body = ErrorBody),
    ))]
pub async fn list_entities(
    State(state): State<AppState>,
    Caller(actor): Caller,
    uri: Uri,
    RestQuery(p): RestQuery<EntityParams>,
) -> RestResult<(HeaderMap, Json<EntityList>)> {
    let page = PageRequest::new(p.page, p.per_page)?;
    let query = m::EntityQuery {
        q: p.q,
        sort: match p.sort.unwrap_or_default() {
            EntitySort::Name => m::EntitySort::Name,
            EntitySort::Collections => m::EntitySort::Collections,
            EntitySort::Size => m::EntitySort::Size,
            EntitySort::Downloads => m::EntitySort::Downloads,
        },
        order: p.order.unwrap_or_default().into(),
        page,
    };
    let listed = state.registry.list_entities(&actor, &query).await?;
    let (next, headers) = paging(&state, &uri, page, listed.total);
    Ok((
        headers,
        Json(EntityList {
            items: listed.items.into_iter().map(Entity::from).collect(),
            total: listed.total,
            page: page.page,
            per_page: page.per_page,
            next,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/entities/{entity}", tag = "catalog",
    summary = "Get an entity",
    params(("entity" = String, Path, description = "Entity name")),
    responses(
        (status = 200, description = "Success", body = Entity),
        (status = 401, description = "Invalid credential", body = ErrorBody),
        (status = 404, description = "No such entity", body = ErrorBody),
    ))]
pub async fn get_entity(
    State(state): State<AppState>,
    Caller(actor): Caller,
    RestPath(entity): RestPath<String>,
) -> RestResult<Json<Entity>> {
    Ok(Json(
        state.registry.entity_stats(&actor, &entity).await?.into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/collections", tag = "catalog",
    summary = "List collections",
    description = "Collections the caller may read, with their totals.",
    params(CollectionParams),
    responses(
        (status = 200, description = "Success", body = CollectionList, headers(("Link" = String, description = "RFC 8288 links to the first, prev, next and last pages"))),
        (status = 400, description = "Invalid parameters", body = ErrorBody),
        (status = 401, description = "Invalid credential", body = ErrorBody),
    ))]
pub async fn list_collections(
    State(state): State<AppState>,
    Caller(actor): Caller,
    uri: Uri,
    RestQuery(p): RestQuery<CollectionParams>,
) -> RestResult<(HeaderMap, Json<CollectionList>)> {
    let page = PageRequest::new(p.page, p.per_page)?;
    let query = m::CollectionQuery {
        entity: p.entity,
        q: p.q,
        private: p.private,
        sort: match p.sort.unwrap_or_default() {
            CollectionSort::Name => m::CollectionSort::Name,
            CollectionSort::Containers => m::CollectionSort::Containers,
            CollectionSort::Size => m::CollectionSort::Size,
            CollectionSort::Downloads => m::CollectionSort::Downloads,
            CollectionSort::Updated => m::CollectionSort::Updated,
            CollectionSort::Stars => m::CollectionSort::Stars,
        },
        order: p.order.unwrap_or_default().into(),
        page,
    };
    let listed = state.registry.list_collection_stats(&actor, &query).await?;
    let (next, headers) = paging(&state, &uri, page, listed.total);
    Ok((
        headers,
        Json(CollectionList {
            items: listed.items.into_iter().map(Collection::from).collect(),
            total: listed.total,
            page: page.page,
            per_page: page.per_page,
            next,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/collections/{entity}/{collection}", tag = "catalog",
    summary = "Get a collection",
    params(
        ("entity" = String, Path, description = "Entity name"),
        ("collection" = String, Path, description = "Collection name"),
    ),
    responses(
        (status = 200, description = "Success", body = Collection),
        (status = 401, description = "Invalid credential", body = ErrorBody),
        (status = 404, description = "No such collection, or one the caller may not read", body = ErrorBody),
    ))]
pub async fn get_collection(
    State(state): State<AppState>,
    Caller(actor): Caller,
    RestPath((entity, collection)): RestPath<(String, String)>,
) -> RestResult<Json<Collection>> {
    let stats = state
        .registry
        .collection_stats(&actor, &entity, &collection)
        .await?;
    Ok(Json(stats.into()))
}

#[utoipa::path(get, path = "/api/v1/containers", tag = "catalog",
    summary = "List containers",
    description = "Containers in the collections the caller may read, with their totals.",
    params(ContainerParams),
    responses(
        (status = 200, description = "Success", body = ContainerList, headers(("Link" = String, description = "RFC 8288 links to the first, prev, next and last pages"))),
        (status = 400, description = "Invalid parameters", body = ErrorBody),
        (status = 401, description = "Invalid credential", body = ErrorBody),
    ))]
pub async fn list_containers(
    State(state): State<AppState>,
    Caller(actor): Caller,
    uri: Uri,
    RestQuery(p): RestQuery<ContainerParams>,
) -> RestResult<(HeaderMap, Json<ContainerList>)> {
    let page = PageRequest::new(p.page, p.per_page)?;
    let query = m::ContainerQuery {
        entity: p.entity,
        collection: p.collection,
        q: p.q,
        arch: p.arch,
        sort: match p.sort.unwrap_or_default() {
            ContainerSort::Name => m::ContainerSort::Name,
            ContainerSort::Size => m::ContainerSort::Size,
            ContainerSort::Downloads => m::ContainerSort::Downloads,
            ContainerSort::Updated => m::ContainerSort::Updated,
            ContainerSort::Created => m::ContainerSort::Created,
            ContainerSort::Stars => m::ContainerSort::Stars,
        },
        order: p.order.unwrap_or_default().into(),
        page,
    };
    let listed = state.registry.list_container_stats(&actor, &query).await?;
    let (next, headers) = paging(&state, &uri, page, listed.total);
    Ok((
        headers,
        Json(ContainerList {
            items: listed.items.into_iter().map(Container::from).collect(),
            total: listed.total,
            page: page.page,
            per_page: page.per_page,
            next,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/containers/{entity}/{collection}/{container}", tag = "catalog",
    summary = "Get a container",
    description = "A container with its totals, its tags per architecture and its newest images.",
    params(
        ("entity" = String, Path, description = "Entity name"),
        ("collection" = String, Path, description = "Collection name"),
        ("container" = String, Path, description = "Container name"),
    ),
    responses(
        (status = 200, description = "Success", body = ContainerDetail),
        (status = 400, description = "Invalid name", body = ErrorBody),
        (status = 401, description = "Invalid credential", body = ErrorBody),
        (status = 404, description = "No such container, or one the caller may not read", body = ErrorBody),
    ))]
pub async fn get_container(
    State(state): State<AppState>,
    Caller(actor): Caller,
    RestPath((entity, collection, container)): RestPath<(String, String, String)>,
) -> RestResult<Json<ContainerDetail>> {
    let path = ContainerPath::new(&entity, &collection, &container)?;
    let detail = state.registry.container_detail(&actor, &path).await?;
    Ok(Json(detail.into()))
}

#[utoipa::path(get, path = "/api/v1/containers/{entity}/{collection}/{container}/images",
    tag = "catalog",
    summary = "List a container's images",
    description = "Every image of the container (one per distinct content), with size, hash, \
                   architecture, push time, tags and downloads.",
    params(
        ("entity" = String, Path, description = "Entity name"),
        ("collection" = String, Path, description = "Collection name"),
        ("container" = String, Path, description = "Container name"),
        ImageParams,
    ),
    responses(
        (status = 200, description = "Success", body = ImageList, headers(("Link" = String, description = "RFC 8288 links to the first, prev, next and last pages"))),
        (status = 400, description = "Invalid parameters", body = ErrorBody),
        (status = 401, description = "Invalid credential", body = ErrorBody),
        (status = 404, description = "No such container, or one the caller may not read", body = ErrorBody),
    ))]
pub async fn list_images(
    State(state): State<AppState>,
    Caller(actor): Caller,
    uri: Uri,
    RestPath((entity, collection, container)): RestPath<(String, String, String)>,
    RestQuery(p): RestQuery<ImageParams>,
) -> RestResult<(HeaderMap, Json<ImageList>)> {
    let path = ContainerPath::new(&entity, &collection, &container)?;
    let page = PageRequest::new(p.page, p.per_page)?;
    let query = m::ImageQuery {
        arch: p.arch,
        uploaded: p.uploaded,
        sort: match p.sort.unwrap_or_default() {
            ImageSort::Created => m::ImageSort::Created,
            ImageSort::Size => m::ImageSort::Size,
            ImageSort::Downloads => m::ImageSort::Downloads,
        },
        order: p.order.unwrap_or(Order::Desc).into(),
        page,
    };
    let listed = state
        .registry
        .list_image_stats(&actor, &path, &query)
        .await?;
    let (next, headers) = paging(&state, &uri, page, listed.total);
    Ok((
        headers,
        Json(ImageList {
            items: listed.items.into_iter().map(Image::from).collect(),
            total: listed.total,
            page: page.page,
            per_page: page.per_page,
            next,
        }),
    ))
}
