//! Server functions of the tokens page and of share links. The state-changing ones are POSTs
//! authenticated by the session cookie, so they pass the server's same-origin rule
//! (`server/src/session.rs`) like every `/rpc` call made with the cookie.
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::tokens::{
    ShareLinkCreatedData, ShareLinkRow, SharedData, TokenCreatedData, TokensData,
};

/// The viewer's tokens and the scopes they may create.
#[server(prefix = "/rpc", endpoint = "tokens")]
pub async fn get_tokens() -> Result<TokensData, SiloError> {
    let actor = super::server::current_actor();
    let ctx = super::server::context()?;
    let tokens = super::server::respond(ctx.registry.list_tokens(&actor).await)?;
    let principal = actor.principal().ok_or(SiloError::Unauthenticated)?;
    let scopes = [
        silo_domain::Scope::Read,
        silo_domain::Scope::Push,
        silo_domain::Scope::Admin,
    ]
    .into_iter()
    .filter(|s| *s <= principal.scope && (*s != silo_domain::Scope::Admin || principal.is_admin))
    .map(|s| s.as_str().to_string())
    .collect();
    Ok(TokensData {
        username: principal.username.clone(),
        tokens: tokens.iter().map(convert::token_row).collect(),
        scopes,
        can_create: !principal.is_robot,
    })
}

/// Creates a token for the viewer. `expires` is `never`, a number of days, or a date
/// `YYYY-MM-DD` (the token ends at the start of that day, UTC).
#[server(prefix = "/rpc", endpoint = "tokens/create")]
pub async fn create_token(
    label: String,
    scope: String,
    expires: String,
) -> Result<TokenCreatedData, SiloError> {
    let ctx = super::server::context()?;
    let scope = super::server::respond(silo_domain::Scope::parse(&scope))?;
    let expiry = super::server::respond(convert::parse_expiry(&expires))?;
    let request = silo_domain::services::OwnTokenRequest {
        label,
        scope,
        expiry,
    };
    let created = ctx
        .registry
        .create_own_token(&super::server::current_actor(), request)
        .await;
    let created = super::server::respond(created)?;
    Ok(TokenCreatedData {
        token: convert::token_row(&created.info),
        secret: created.secret,
    })
}

/// Revokes one of the viewer's tokens (administrators: anyone's).
#[server(prefix = "/rpc", endpoint = "tokens/revoke")]
pub async fn revoke_token(id: i64) -> Result<(), SiloError> {
    let ctx = super::server::context()?;
    let done = ctx
        .registry
        .revoke_token(&super::server::current_actor(), id)
        .await;
    super::server::respond(done).map(|_| ())
}

/// The share links of a container (its collection's owners only).
#[server(prefix = "/rpc", endpoint = "share_links")]
pub async fn get_share_links(
    entity: String,
    collection: String,
    container: String,
) -> Result<Vec<ShareLinkRow>, SiloError> {
    let ctx = super::server::context()?;
    let path = convert::path(&entity, &collection, &container)?;
    let links = ctx
        .registry
        .list_share_links(&super::server::current_actor(), &path)
        .await;
    Ok(super::server::respond(links)?
        .iter()
        .map(convert::share_row)
        .collect())
}

/// Creates a share link for a container, expiring in `days` days (1 to 90).
#[server(prefix = "/rpc", endpoint = "share_links/create")]
pub async fn create_share_link(
    entity: String,
    collection: String,
    container: String,
    label: String,
    days: u32,
) -> Result<ShareLinkCreatedData, SiloError> {
    let ctx = super::server::context()?;
    let path = convert::path(&entity, &collection, &container)?;
    let created = ctx
        .registry
        .create_share_link(
            &super::server::current_actor(),
            &path,
            &label,
            chrono::Duration::days(i64::from(days.min(3650))),
        )
        .await;
    let created = super::server::respond(created)?;
    let site = super::server::site_info(&ctx, &Default::default());
    let url = format!("{}/share/{}", site.public_url, created.secret);
    Ok(ShareLinkCreatedData {
        curl: format!(
            "curl -fL -o {}.sif '{url}/download?tag=latest'",
            path.container
        ),
        shub: format!(
            "apptainer pull shub://{}/share/{}",
            site.library_host, created.secret
        ),
        url,
        link: convert::share_row(&created.info),
    })
}

/// Revokes a share link (owners of its container's collection only).
#[server(prefix = "/rpc", endpoint = "share_links/revoke")]
pub async fn revoke_share_link(id: i64) -> Result<(), SiloError> {
    let ctx = super::server::context()?;
    let done = ctx
        .registry
        .revoke_share_link(&super::server::current_actor(), id)
        .await;
    super::server::respond(done).map(|_| ())
}

/// What a share link shows: the shared container, whoever asks (the secret is the
/// permission). Unknown, expired and revoked links are not found.
#[server(prefix = "/rpc", endpoint = "shared")]
pub async fn get_shared(secret: String) -> Result<SharedData, SiloError> {
    let ctx = super::server::context()?;
    let (actor, view) = super::server::respond(ctx.registry.shared_container(&secret).await)?;
    let path = convert::path(
        &view.entity.name,
        &view.collection.name,
        &view.container.name,
    )?;
    let page = super::server::respond(ctx.registry.container_page(&actor, &path).await)?;
    let expires_at = super::server::respond(ctx.registry.share_link_expiry(&actor).await)?;
    let site = super::server::site_info(&ctx, &Default::default());
    let mut container = super::server::container_data(page);
    container.can_manage = false;
    Ok(SharedData {
        container,
        download_url: format!("{}/share/{secret}/download", site.public_url),
        shub_ref: format!("shub://{}/share/{secret}", site.library_host),
        expires_at: super::server::timestamp(expires_at),
    })
}

#[cfg(feature = "ssr")]
mod convert {
    use chrono::{NaiveDate, TimeZone, Utc};
    use silo_domain::names::ContainerPath;
    use silo_domain::services::{ShareLinkInfo, TokenExpiry, TokenInfo};
    use silo_domain::DomainError;

    use crate::api::server::timestamp;
    use crate::error::SiloError;
    use crate::model::tokens::{ShareLinkRow, TokenRow};

    pub fn token_row(t: &TokenInfo) -> TokenRow {
        TokenRow {
            id: t.id,
            label: t.label.clone(),
            scope: t.scope.as_str().to_string(),
            created_at: timestamp(t.created_at),
            expires_at: t.expires_at.map(timestamp),
            last_used_at: t.last_used_at.map(timestamp),
            status: t.status_at(Utc::now()).as_str().to_string(),
        }
    }

    pub fn share_row(l: &ShareLinkInfo) -> ShareLinkRow {
        let status = if l.revoked_at.is_some() {
            "revoked"
        } else if l.is_live(Utc::now()) {
            "active"
        } else {
            "expired"
        };
        ShareLinkRow {
            id: l.id,
            label: l.label.clone(),
            created_by: l.created_by.clone(),
            created_at: timestamp(l.created_at),
            expires_at: timestamp(l.expires_at),
            last_used_at: l.last_used_at.map(timestamp),
            use_count: l.use_count,
            status: status.to_string(),
        }
    }

    pub fn parse_expiry(expires: &str) -> Result<TokenExpiry, DomainError> {
        let expires = expires.trim();
        if expires.eq_ignore_ascii_case("never") {
            return Ok(TokenExpiry::Never);
        }
        if let Ok(days) = expires.parse::<u32>() {
            return Ok(TokenExpiry::Days(days));
        }
        let date = NaiveDate::parse_from_str(expires, "%Y-%m-%d").map_err(|_| {
            DomainError::invalid("expiry: use never, a number of days, or a date YYYY-MM-DD")
        })?;
        let at = date
            .and_hms_opt(0, 0, 0)
            .map(|t| Utc.from_utc_datetime(&t))
            .ok_or_else(|| DomainError::invalid("expiry: not a valid date"))?;
        Ok(TokenExpiry::At(at))
    }

    /// A container path from server function arguments; names that can never be valid
    /// name nothing.
    pub fn path(
        entity: &str,
        collection: &str,
        container: &str,
    ) -> Result<ContainerPath, SiloError> {
        ContainerPath::new(entity, collection, container).map_err(|_| {
            crate::api::server::respond::<()>(Err(DomainError::not_found("container"))).unwrap_err()
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn expiry_choices_parse() {
            assert_eq!(parse_expiry("never").unwrap(), TokenExpiry::Never);
            assert_eq!(parse_expiry("90").unwrap(), TokenExpiry::Days(90));
            match parse_expiry("2030-01-02").unwrap() {
                TokenExpiry::At(at) => assert_eq!(at.to_rfc3339(), "2030-01-02T00:00:00+00:00"),
                other => panic!("{other:?}"),
            }
            assert!(parse_expiry("tomorrow").is_err());
            assert!(parse_expiry("-1").is_err());
        }
    }
}
