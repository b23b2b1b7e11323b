//! Server-side helpers of the server functions: context, viewer, DTO mapping.
use chrono::{DateTime, Utc};
use silo_domain::{services, Actor, DomainError};

use crate::context::SiloContext;
use crate::error::SiloError;
use crate::model::{
    CollectionData, CollectionRow, ContainerData, ContainerRef, ContainerRow, HomeData, ImageInfo,
    RecentPush, SifDetails, SiteInfo, TagInfo, Timestamp,
};

/// Who is looking: the actor the server resolved from the request's session cookie or
/// `Authorization: Bearer` token (see `server/src/session.rs`); anonymous otherwise.
pub fn current_actor() -> Actor {
    leptos::prelude::use_context::<SiloContext>().map_or(Actor::Anonymous, |ctx| ctx.viewer)
}

pub fn context() -> Result<SiloContext, SiloError> {
    leptos::prelude::use_context::<SiloContext>().ok_or_else(|| {
        tracing::error!("server function called without a SiloContext");
        set_status(500);
        SiloError::Internal
    })
}

/// Maps the domain's answer, setting the HTTP status of errors.
pub fn respond<T>(result: Result<T, DomainError>) -> Result<T, SiloError> {
    result.map_err(|err| {
        let err = SiloError::from(err);
        set_status(err.status());
        err
    })
}

/// Adds a `Set-Cookie` header to the server function's response.
pub fn set_cookie(value: &str) {
    if let (Some(options), Ok(value)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(value),
    ) {
        options.append_header(http::header::SET_COOKIE, value);
    }
}

/// The signed-in user as the browser sees them; `None` for anonymous actors.
pub fn viewer(actor: &Actor) -> Option<crate::model::session::Viewer> {
    actor.principal().map(|p| crate::model::session::Viewer {
        username: p.username.clone(),
        // Administration needs an admin account signed in with an admin-scoped credential.
        is_admin: actor.is_admin(),
        can_push: p.scope >= silo_domain::Scope::Push,
    })
}

/// A star target from the server functions' arguments (an empty container names the
/// collection). Names that can never be valid name nothing: not found.
pub fn star_target(
    entity: String,
    collection: String,
    container: &str,
) -> Result<services::StarTarget, SiloError> {
    use silo_domain::names::{validate_segment, ContainerPath};
    let invalid = |_| respond::<()>(Err(DomainError::not_found("star target"))).unwrap_err();
    if container.is_empty() {
        validate_segment("entity", &entity).map_err(invalid)?;
        validate_segment("collection", &collection).map_err(invalid)?;
        Ok(services::StarTarget::Collection { entity, collection })
    } else {
        let path = ContainerPath::new(&entity, &collection, container).map_err(invalid)?;
        Ok(services::StarTarget::Container(path))
    }
}

pub fn star_info(state: services::StarState) -> crate::model::stars::StarInfo {
    crate::model::stars::StarInfo {
        count: state.count,
        starred: state.starred,
    }
}

fn set_status(code: u16) {
    if let (Some(options), Ok(status)) = (
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        options.set_status(status);
    }
}

/// The site information with the branding in effect: the administrators' overrides
/// (`Registry::branding_override`) over the configuration, field by field.
pub fn site_info(ctx: &SiloContext, over: &services::BrandingOverride) -> SiteInfo {
    let pick = services::BrandingOverride::pick;
    let configured = &ctx.branding;
    let name = pick(&over.name, &configured.name);
    let public_url = ctx.public_url.trim_end_matches('/').to_string();
    let library_host = public_url
        .split_once("://")
        .map_or(public_url.as_str(), |(_, rest)| rest)
        .trim_end_matches('/')
        .to_string();
    SiteInfo {
        remote_name: remote_name(&name),
        name,
        help_email: pick(&over.help_email, &configured.help_email),
        institution_name: pick(&over.institution_name, &configured.institution_name),
        institution_url: pick(&over.institution_url, &configured.institution_url),
        logo_url: pick(&over.logo_url, &configured.logo_url),
        about: pick(&over.about, &configured.about),
        terms: pick(&over.terms, &configured.terms),
        public_url,
        library_host,
    }
}

/// A short lower-case name for `apptainer remote add`, derived from the centre's name.
fn remote_name(centre: &str) -> String {
    let mut name = String::new();
    for ch in centre.chars() {
        if ch.is_ascii_alphanumeric() {
            name.push(ch.to_ascii_lowercase());
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "silo".into()
    } else {
        name.chars()
            .take(32)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string()
    }
}

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        rfc3339: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        text: at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

fn sif_details(meta: services::SifMetadata) -> SifDetails {
    SifDetails {
        created_at: meta.sif_created_at.map(timestamp),
        definition: meta.definition,
        labels: meta.labels.into_iter().collect(),
        runscript: meta.runscript,
        environment: meta.environment,
        fingerprints: meta.fingerprints,
    }
}

fn bytes(size: i64) -> u64 {
    u64::try_from(size).unwrap_or(0)
}

fn tag_info(tag: &silo_domain::entities::tag::Model, sha256: &str) -> TagInfo {
    TagInfo {
        name: tag.name.clone(),
        arch: tag.arch.clone(),
        sha256: sha256.to_string(),
        updated_at: timestamp(tag.updated_at),
    }
}

pub fn home_data(summary: services::HomeSummary) -> HomeData {
    HomeData {
        collections: summary.collections,
        containers: summary.containers,
        images: summary.images,
        total_bytes: summary.total_bytes,
        recent: summary
            .recent
            .into_iter()
            .map(|push| RecentPush {
                container: ContainerRef {
                    entity: push.entity,
                    collection: push.collection,
                    container: push.container,
                },
                sha256: push.image.sha256,
                size: bytes(push.image.size),
                arch: push.image.arch,
                tags: push.tags.into_iter().map(|t| t.name).collect(),
                pushed_at: timestamp(push.image.created_at),
            })
            .collect(),
    }
}

pub fn collection_row(row: services::stats::CollectionStats) -> CollectionRow {
    CollectionRow {
        entity: row.entity_name,
        collection: row.collection.name,
        description: row.collection.description,
        containers: row.containers,
        total_bytes: row.size_bytes,
        updated_at: timestamp(row.updated_at),
        private: row.collection.private,
        stars: row.stars,
        downloads: row.downloads,
    }
}

pub fn collection_data(page: services::CollectionPage) -> CollectionData {
    CollectionData {
        entity: page.entity.name,
        collection: page.collection.name,
        description: page.collection.description,
        private: page.collection.private,
        created_at: timestamp(page.collection.created_at),
        owners: page.owners,
        containers: page
            .containers
            .into_iter()
            .map(|c| ContainerRow {
                name: c.container.name,
                description: c.container.description,
                images: c.images,
                tags: c.tags,
                total_bytes: c.total_bytes,
                downloads: bytes(c.container.download_count),
                updated_at: timestamp(c.container.updated_at),
                stars: c.stars,
            })
            .collect(),
    }
}

pub fn container_data(page: services::ContainerPage) -> ContainerData {
    let sha_of = |image_id: i64| {
        page.images
            .iter()
            .find(|e| e.image.id == image_id)
            .map(|e| e.image.sha256.clone())
            .unwrap_or_default()
    };
    let tags = page
        .tags
        .iter()
        .map(|t| tag_info(t, &sha_of(t.image_id)))
        .collect();
    let images = page
        .images
        .iter()
        .map(|entry| ImageInfo {
            sha256: entry.image.sha256.clone(),
            size: bytes(entry.image.size),
            arch: entry.image.arch.clone(),
            uploaded: entry.image.uploaded,
            signed: entry.image.signed,
            encrypted: entry.image.encrypted,
            description: entry.image.description.clone(),
            pushed_at: timestamp(entry.image.created_at),
            tags: entry
                .tags
                .iter()
                .map(|t| tag_info(t, &entry.image.sha256))
                .collect(),
            sif: entry.sif.clone().map(sif_details),
        })
        .collect();
    let view = page.view;
    ContainerData {
        container: ContainerRef {
            entity: view.entity.name,
            collection: view.collection.name,
            container: view.container.name,
        },
        description: view.container.description,
        full_description: view.container.full_description,
        collection_private: view.collection.private,
        downloads: bytes(view.container.download_count),
        stars: page.stars,
        created_at: timestamp(view.container.created_at),
        updated_at: timestamp(view.container.updated_at),
        tags,
        images,
        can_manage: page.can_manage,
    }
}

#[cfg(test)]
mod tests {
    use super::remote_name;

    #[test]
    fn remote_names_are_short_slugs() {
        assert_eq!(remote_name("HPC Centre Example"), "hpc-centre-example");
        assert_eq!(remote_name("  Ünï  "), "n");
        assert_eq!(remote_name("***"), "silo");
    }
}
