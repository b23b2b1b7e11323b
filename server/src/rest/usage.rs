//! Usage over time and registry totals.
use axum::extract::State;
use axum::Json;
use silo_domain::names::ContainerPath;
use silo_domain::services::stats::DayRange;

use super::error::{Caller, ErrorBody, RestPath, RestQuery, RestResult};
use super::model::*;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/containers/{entity}/{collection}/{container}/usage",
    tag = "usage",
    summary = "Downloads of a container per day",
    params(
        ("entity" = String, Path, description = "Entity name"),
        ("collection" = String, Path, description = "Collection name"),
        ("container" = String, Path, description = "Container name"),
        UsageParams,
    ),
    responses(
        (status = 200, description = "Success", body = ContainerUsage),
        (status = 400, description = "Invalid parameters", body = ErrorBody),
        (status = 401, description = "Invalid credential", body = ErrorBody),
        (status = 404, description = "No such container, or one the caller may not read", body = ErrorBody),
    ))]
pub async fn container_usage(
    State(state): State<AppState>,
    Caller(actor): Caller,
    RestPath((entity, collection, container)): RestPath<(String, String, String)>,
    RestQuery(p): RestQuery<UsageParams>,
) -> RestResult<Json<ContainerUsage>> {
    let path = ContainerPath::new(&entity, &collection, &container)?;
    let range = DayRange::new(p.from, p.to)?;
    let days = state
        .registry
        .container_usage(&actor, &path, &range)
        .await?;
    Ok(Json(ContainerUsage {
        path: path.to_string(),
        from: range.from,
        to: range.to,
        bucket: p.bucket.unwrap_or_default(),
        downloads: days.iter().map(|d| d.downloads).sum(),
        days: days
            .into_iter()
            .map(|d| DayDownloads {
                date: d.date,
                downloads: d.downloads,
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/usage", tag = "usage",
    summary = "Registry activity per day",
    description = "Downloads, pushes and stored bytes per day, over the collections the caller \
                   may read.",
    params(UsageParams),
    responses(
        (status = 200, description = "Success", body = RegistryUsage),
        (status = 400, description = "Invalid parameters", body = ErrorBody),
        (status = 401, description = "Invalid credential", body = ErrorBody),
    ))]
pub async fn registry_usage(
    State(state): State<AppState>,
    Caller(actor): Caller,
    RestQuery(p): RestQuery<UsageParams>,
) -> RestResult<Json<RegistryUsage>> {
    let range = DayRange::new(p.from, p.to)?;
    let days = state.registry.registry_usage(&actor, &range).await?;
    Ok(Json(RegistryUsage {
        from: range.from,
        to: range.to,
        bucket: p.bucket.unwrap_or_default(),
        days: days.into_iter().map(DayUsage::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/stats", tag = "usage",
    summary = "Registry totals",
    description = "Counts and stored bytes over everything the caller may read.",
    responses(
        (status = 200, description = "Success", body = Stats),
        (status = 401, description = "Invalid credential", body = ErrorBody),
    ))]
pub async fn stats(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> RestResult<Json<Stats>> {
    Ok(Json(state.registry.registry_stats(&actor).await?.into()))
}
