//! Images, tags and search.
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;
use silo_domain::names::{ImageRef, Sha256Hex};
use silo_domain::services::ImageView;
use silo_domain::{DomainError, Registry};

use super::error::{parse_id, Caller, LibraryJson, LibraryResult};
use super::wire::{self, data};
use crate::state::AppState;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ArchQuery {
    pub arch: Option<String>,
}

async fn image_json(registry: &Registry, view: &ImageView) -> LibraryResult<wire::Image> {
    let stars = registry.container_stars(view.owner.container.id).await?;
    let metadata = registry.image_metadata(view).await?;
    Ok(wire::Image::from_view(view, stars, metadata.as_ref()))
}

/// `GET /v1/images/{ref}`: by tag (for `arch`) or by `sha256.<hex>`.
pub async fn get_image(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(reference): Path<String>,
    Query(query): Query<ArchQuery>,
) -> LibraryResult<impl IntoResponse> {
    let reference = ImageRef::parse(&reference)?;
    let details = state
        .registry
        .image_details(&actor, &reference, query.arch.as_deref())
        .await?;
    Ok(data(wire::Image::from_view(
        &details.view,
        details.stars,
        details.metadata.as_ref(),
    )))
}

/// `POST /v1/images`: registers content for a container (idempotent per content).
pub async fn create_image(
    State(state): State<AppState>,
    Caller(actor): Caller,
    LibraryJson(body): LibraryJson<wire::ImageCreate>,
) -> LibraryResult<impl IntoResponse> {
    let sha = Sha256Hex::parse_library(&body.hash)?;
    let container_id = parse_id("container", &body.container)?;
    let view = state
        .registry
        .create_image(&actor, container_id, &sha, &body.description)
        .await?;
    Ok(data(image_json(&state.registry, &view).await?))
}

/// `DELETE /v1/images/{ref}?arch=`.
pub async fn delete_image(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(reference): Path<String>,
    Query(query): Query<ArchQuery>,
) -> LibraryResult<impl IntoResponse> {
    let reference = ImageRef::parse(&reference)?;
    let view = state
        .registry
        .delete_image(&actor, &reference, query.arch.as_deref())
        .await?;
    Ok(data(
        json!({"id": view.image.id.to_string(), "deleted": true}),
    ))
}

/// `GET /v1/tags/{containerId}`: `{"tag": imageId}`.
pub async fn get_tags_v1(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(container): Path<String>,
) -> LibraryResult<impl IntoResponse> {
    let tags = state
        .registry
        .tags(&actor, parse_id("container", &container)?)
        .await?;
    Ok(data(wire::tag_map(&tags)))
}

/// `GET /v2/tags/{containerId}`: `{"arch": {"tag": imageId}}`.
pub async fn get_tags_v2(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(container): Path<String>,
) -> LibraryResult<impl IntoResponse> {
    let tags = state
        .registry
        .tags(&actor, parse_id("container", &container)?)
        .await?;
    Ok(data(wire::arch_tag_map(&tags)))
}

/// `POST /v1/tags/{containerId}` and `POST /v2/tags/{containerId}`; the v1 form has no arch
/// and tags the image's own architecture.
pub async fn set_tag(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(container): Path<String>,
    LibraryJson(body): LibraryJson<wire::TagBody>,
) -> LibraryResult<impl IntoResponse> {
    let container_id = parse_id("container", &container)?;
    if body.tag.is_empty() {
        return Err(DomainError::invalid("the tag body needs a Tag").into());
    }
    let image_id = parse_id("image", &body.image_id)?;
    let tag = state
        .registry
        .set_tag(
            &actor,
            container_id,
            body.arch.as_deref(),
            &body.tag,
            image_id,
        )
        .await?;
    Ok(data(
        json!({"Arch": tag.arch, "Tag": tag.name, "ImageID": tag.image_id.to_string()}),
    ))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    pub value: String,
    pub arch: Option<String>,
    pub signed: Option<bool>,
}

/// `GET /v1/search?value=…&arch=…&signed=…`.
pub async fn search(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Query(query): Query<SearchQuery>,
) -> LibraryResult<impl IntoResponse> {
    if query.value.trim().is_empty() {
        return Err(DomainError::invalid("search needs a value").into());
    }
    let hits = state
        .registry
        .search(&actor, &query.value, query.arch.as_deref(), query.signed)
        .await?;
    let stars = |id: i64| hits.stars.get(&id).copied().unwrap_or(0);
    let images: Vec<wire::Image> = hits
        .images
        .iter()
        .map(|view| {
            let metadata = hits.metadata.get(&view.image.id);
            wire::Image::from_view(view, stars(view.owner.container.id), metadata)
        })
        .collect();
    let containers: Vec<wire::Container> = hits
        .containers
        .iter()
        .map(|view| {
            let id = view.container.id;
            let (images, tags) = hits
                .contents
                .get(&id)
                .map_or((&[][..], &[][..]), |(i, t)| (i.as_slice(), t.as_slice()));
            wire::Container::from_view(view, images, tags, stars(id))
        })
        .collect();
    Ok(data(wire::SearchResults {
        entity: hits
            .entities
            .iter()
            .map(|e| wire::Entity::from_model(e, Vec::new()))
            .collect(),
        collection: hits
            .collections
            .iter()
            .map(|(e, c)| wire::Collection::from_model(e, c, Vec::new()))
            .collect(),
        container: containers,
        image: images,
    }))
}
