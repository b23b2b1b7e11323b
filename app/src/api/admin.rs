//! The admin pages' server functions. Each calls one admin-only `Registry` method with the
//! viewer's actor: the domain refuses everyone but administrators signed in with an
//! admin-scoped credential, and audits every change. Like every server function they are
//! `POST`s; those the browser makes with the session cookie pass the same-origin rule
//! (`server/src/session.rs`) before they run, which is their CSRF protection.
use leptos::prelude::*;

use crate::error::SiloError;
use crate::model::admin::{AuditData, SettingsData, TeamQuotaRow, UserDeletedInfo, UserList};

/// One page (1-based) of the accounts whose name or e-mail contains `search`.
#[server(prefix = "/rpc", endpoint = "admin_users")]
pub async fn admin_users(search: String, page: u64) -> Result<UserList, SiloError> {
    use silo_domain::services::{UserQuery, USERS_PAGE_SIZE};
    let ctx = super::server::context()?;
    let page = page.clamp(1, 1_000_000);
    let query = UserQuery {
        search,
        page: page - 1,
    };
    let listed = ctx
        .registry
        .admin_list_users(&super::server::current_actor(), &query)
        .await;
    let listed = super::server::respond(listed)?;
    Ok(UserList {
        users: listed.users.into_iter().map(convert::user).collect(),
        total: listed.total,
        page,
        per_page: USERS_PAGE_SIZE,
    })
}

/// Every team with its quota and usage.
#[server(prefix = "/rpc", endpoint = "admin_teams")]
pub async fn admin_teams() -> Result<Vec<TeamQuotaRow>, SiloError> {
    let ctx = super::server::context()?;
    let teams = ctx
        .registry
        .team_quotas(&super::server::current_actor())
        .await;
    Ok(super::server::respond(teams)?
        .into_iter()
        .map(|t| TeamQuotaRow {
            name: t.team.name,
            storage_used: convert::bytes(t.used),
            quota: convert::bytes(t.team.quota),
        })
        .collect())
}

/// Creates an account ahead of its owner's first sign-in.
#[server(prefix = "/rpc", endpoint = "admin_create_user")]
pub async fn admin_create_user(
    username: String,
    email: String,
    admin: bool,
) -> Result<(), SiloError> {
    let ctx = super::server::context()?;
    let new = silo_domain::services::NewUser {
        username,
        email,
        is_admin: admin,
    };
    let created = ctx
        .registry
        .admin_create_user(&super::server::current_actor(), new)
        .await;
    super::server::respond(created).map(|_| ())
}

/// Makes an account an administrator (`admin = true`) or a plain user.
#[server(prefix = "/rpc", endpoint = "admin_set_role")]
pub async fn admin_set_role(username: String, admin: bool) -> Result<(), SiloError> {
    let ctx = super::server::context()?;
    let done = ctx
        .registry
        .admin_set_role(&super::server::current_actor(), &username, admin)
        .await;
    super::server::respond(done).map(|_| ())
}

/// Enables (`active = true`) or disables an account.
#[server(prefix = "/rpc", endpoint = "admin_set_active")]
pub async fn admin_set_active(username: String, active: bool) -> Result<(), SiloError> {
    let ctx = super::server::context()?;
    let done = ctx
        .registry
        .admin_set_active(&super::server::current_actor(), &username, active)
        .await;
    super::server::respond(done).map(|_| ())
}

/// Deletes an account. `images` is `transfer` (to the user `transfer_to`) or `delete`;
/// `confirm` must repeat the user name.
#[server(prefix = "/rpc", endpoint = "admin_delete_user")]
pub async fn admin_delete_user(
    username: String,
    images: String,
    transfer_to: String,
    confirm: String,
) -> Result<UserDeletedInfo, SiloError> {
    use silo_domain::services::ImagesOnDelete;
    use silo_domain::DomainError;
    let ctx = super::server::context()?;
    let actor = super::server::current_actor();
    super::server::respond(actor.require_admin().map(|_| ()))?;
    if confirm.trim() != username {
        return super::server::respond(Err(DomainError::invalid(
            "type the user name to confirm the deletion",
        )));
    }
    let how = match images.as_str() {
        "transfer" if !transfer_to.trim().is_empty() => {
            ImagesOnDelete::TransferTo(transfer_to.trim().to_string())
        }
        "transfer" => {
            return super::server::respond(Err(DomainError::invalid(
                "name the user who receives the images",
            )))
        }
        "delete" => ImagesOnDelete::Delete,
        _ => {
            return super::server::respond(Err(DomainError::invalid(
                "choose whether to transfer or delete the user's images",
            )))
        }
    };
    let done = ctx.registry.admin_delete_user(&actor, &username, how).await;
    let done = super::server::respond(done)?;
    Ok(UserDeletedInfo {
        username: done.username,
        entities: done.entities,
        containers_deleted: done.containers_deleted,
        images_deleted: done.images_deleted,
    })
}

/// Sets a user's (`kind = "user"`) or a team's (`kind = "team"`) quota in bytes; 0 is
/// unlimited.
#[server(prefix = "/rpc", endpoint = "admin_set_quota")]
pub async fn admin_set_quota(kind: String, name: String, bytes: u64) -> Result<(), SiloError> {
    use silo_domain::DomainError;
    let ctx = super::server::context()?;
    let actor = super::server::current_actor();
    let bytes = i64::try_from(bytes).map_err(|_| {
        super::server::respond::<()>(Err(DomainError::invalid("quota too large"))).unwrap_err()
    })?;
    match kind.as_str() {
        "user" => super::server::respond(ctx.registry.set_user_quota(&actor, &name, bytes).await)
            .map(|_| ()),
        "team" => super::server::respond(ctx.registry.set_team_quota(&actor, &name, bytes).await)
            .map(|_| ()),
        _ => super::server::respond(Err(DomainError::invalid("kind is user or team"))),
    }
}

/// Registration rules and branding (configured and overridden).
#[server(prefix = "/rpc", endpoint = "admin_settings")]
pub async fn admin_settings() -> Result<SettingsData, SiloError> {
    let ctx = super::server::context()?;
    let actor = super::server::current_actor();
    super::server::respond(actor.require_admin().map(|_| ()))?;
    let registration = super::server::respond(ctx.registry.registration().await)?;
    let over = super::server::respond(ctx.registry.branding_override().await)?;
    Ok(SettingsData {
        registration: convert::registration(registration),
        branding_configured: convert::configured(&ctx.branding),
        branding_override: convert::overrides(over),
    })
}

/// Replaces the registration rules; `email_domains` and `groups` are lists separated by
/// commas, spaces or new lines.
#[server(prefix = "/rpc", endpoint = "admin_set_registration")]
pub async fn admin_set_registration(
    mode: String,
    email_domains: String,
    groups: String,
) -> Result<(), SiloError> {
    use silo_domain::services::{RegistrationMode, RegistrationSettings};
    use silo_domain::DomainError;
    let ctx = super::server::context()?;
    let mode = match mode.as_str() {
        "open" => RegistrationMode::Open,
        "closed" => RegistrationMode::Closed,
        "restricted" => RegistrationMode::Restricted,
        _ => {
            return super::server::respond(Err(DomainError::invalid(
                "registration is open, closed or restricted",
            )))
        }
    };
    let settings = RegistrationSettings {
        mode,
        email_domains: crate::model::admin::split_list(&email_domains),
        groups: crate::model::admin::split_list(&groups),
    };
    let saved = ctx
        .registry
        .set_registration(&super::server::current_actor(), settings)
        .await;
    super::server::respond(saved).map(|_| ())
}

/// Replaces the branding overrides; empty fields fall back to the configuration.
#[server(prefix = "/rpc", endpoint = "admin_set_branding")]
pub async fn admin_set_branding(
    name: String,
    help_email: String,
    institution_name: String,
    institution_url: String,
    logo_url: String,
    about: String,
    terms: String,
) -> Result<(), SiloError> {
    let ctx = super::server::context()?;
    let some = |s: String| Some(s).filter(|s| !s.trim().is_empty());
    let over = silo_domain::services::BrandingOverride {
        name: some(name),
        help_email: some(help_email),
        institution_name: some(institution_name),
        institution_url: some(institution_url),
        logo_url: some(logo_url),
        about: some(about),
        terms: some(terms),
    };
    let saved = ctx
        .registry
        .set_branding(&super::server::current_actor(), over)
        .await;
    super::server::respond(saved).map(|_| ())
}

/// One page (1-based) of the audit log, newest first.
#[server(prefix = "/rpc", endpoint = "admin_audit")]
pub async fn admin_audit(page: u64) -> Result<AuditData, SiloError> {
    use silo_domain::services::AUDIT_PAGE_SIZE;
    let ctx = super::server::context()?;
    let page = page.clamp(1, 1_000_000);
    let found = ctx
        .registry
        .admin_audit_log(&super::server::current_actor(), page - 1)
        .await;
    let (log, names) = super::server::respond(found)?;
    Ok(AuditData {
        entries: log
            .entries
            .into_iter()
            .map(|e| crate::model::admin::AuditRow {
                at: super::server::timestamp(e.created_at),
                actor: match e.actor_id {
                    Some(id) => names.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
                    None => String::new(),
                },
                action: e.action,
                target: e.target,
                detail: e.detail,
            })
            .collect(),
        total: log.total,
        page,
        per_page: AUDIT_PAGE_SIZE,
    })
}

#[cfg(feature = "ssr")]
mod convert {
    use crate::model::admin::{AdminUser, BrandingFields, RegistrationForm};
    use silo_domain::services::{
        AdminUserRow, BrandingOverride, RegistrationMode, RegistrationSettings,
    };

    pub fn bytes(n: i64) -> u64 {
        u64::try_from(n).unwrap_or(0)
    }

    pub fn user(row: AdminUserRow) -> AdminUser {
        let u = row.user;
        AdminUser {
            username: u.username,
            email: u.email,
            is_admin: u.is_admin,
            kind: u.kind,
            active: u.is_active,
            created_at: crate::api::server::timestamp(u.created_at),
            last_login: u.last_login_at.map(crate::api::server::timestamp),
            storage_used: bytes(row.storage_used),
            quota: bytes(u.quota),
        }
    }

    pub fn registration(r: RegistrationSettings) -> RegistrationForm {
        let mode = match r.mode {
            RegistrationMode::Open => "open",
            RegistrationMode::Closed => "closed",
            RegistrationMode::Restricted => "restricted",
        };
        RegistrationForm {
            mode: mode.into(),
            email_domains: r.email_domains,
            groups: r.groups,
        }
    }

    pub fn configured(b: &crate::context::Branding) -> BrandingFields {
        BrandingFields {
            name: b.name.clone(),
            help_email: b.help_email.clone(),
            institution_name: b.institution_name.clone(),
            institution_url: b.institution_url.clone(),
            logo_url: b.logo_url.clone(),
            about: b.about.clone(),
            terms: b.terms.clone(),
        }
    }

    pub fn overrides(o: BrandingOverride) -> BrandingFields {
        BrandingFields {
            name: o.name.unwrap_or_default(),
            help_email: o.help_email.unwrap_or_default(),
            institution_name: o.institution_name.unwrap_or_default(),
            institution_url: o.institution_url.unwrap_or_default(),
            logo_url: o.logo_url.unwrap_or_default(),
            about: o.about.unwrap_or_default(),
            terms: o.terms.unwrap_or_default(),
        }
    }
}
