//! Entities, collections and containers.
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use silo_domain::names::ContainerPath;
use silo_domain::services::{NewCollection, NewContainer, NewEntity};

use super::error::{parse_id, Caller, LibraryJson, LibraryResult};
use super::wire::{self, data};
use crate::state::AppState;

pub async fn get_entity(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
) -> LibraryResult<impl IntoResponse> {
    let entity = state.registry.entity(&name).await?;
    let ids = state
        .registry
        .visible_collection_ids(&actor, &entity)
        .await?;
    let mut body = wire::Entity::from_model(&entity, ids);
    body.size = state
        .registry
        .readable_entity_usage(&actor, &entity)
        .await?;
    Ok(data(body))
}

pub async fn create_entity(
    State(state): State<AppState>,
    Caller(actor): Caller,
    LibraryJson(body): LibraryJson<wire::EntityCreate>,
) -> LibraryResult<impl IntoResponse> {
    let new = NewEntity {
        name: body.name,
        description: body.description,
        default_private: body.default_private,
    };
    let entity = state.registry.get_or_create_entity(&actor, new).await?;
    Ok(data(wire::Entity::from_model(&entity, Vec::new())))
}

pub async fn get_collection(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((entity, name)): Path<(String, String)>,
) -> LibraryResult<impl IntoResponse> {
    let (entity, collection) = state.registry.collection(&actor, &entity, &name).await?;
    let ids = state.registry.container_ids(collection.id).await?;
    Ok(data(wire::Collection::from_model(
        &entity,
        &collection,
        ids,
    )))
}

pub async fn create_collection(
    State(state): State<AppState>,
    Caller(actor): Caller,
    LibraryJson(body): LibraryJson<wire::CollectionCreate>,
) -> LibraryResult<impl IntoResponse> {
    let new = NewCollection {
        entity_id: parse_id("entity", &body.entity)?,
        name: body.name,
        description: body.description,
        private: body.private,
    };
    let (entity, collection) = state.registry.get_or_create_collection(&actor, new).await?;
    Ok(data(wire::Collection::from_model(
        &entity,
        &collection,
        Vec::new(),
    )))
}

pub async fn get_container(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((entity, collection, name)): Path<(String, String, String)>,
) -> LibraryResult<impl IntoResponse> {
    let path = ContainerPath::new(&entity, &collection, &name)?;
    let view = state.registry.container(&actor, &path).await?;
    let (images, tags) = state.registry.container_contents(&view).await?;
    let stars = state.registry.container_stars(view.container.id).await?;
    Ok(data(wire::Container::from_view(
        &view, &images, &tags, stars,
    )))
}

pub async fn create_container(
    State(state): State<AppState>,
    Caller(actor): Caller,
    LibraryJson(body): LibraryJson<wire::ContainerCreate>,
) -> LibraryResult<impl IntoResponse> {
    let new = NewContainer {
        collection_id: parse_id("collection", &body.collection)?,
        name: body.name,
        description: body.description,
    };
    let view = state.registry.get_or_create_container(&actor, new).await?;
    Ok(data(wire::Container::from_view(&view, &[], &[], 0)))
}
