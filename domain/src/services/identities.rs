//! Signing in through an external login (OAuth 2, OpenID Connect, LDAP). The backend proves
//! who the person is and hands over an [`ExternalProfile`]; this links it to an account by
//! provider and subject (never by e-mail alone), creates the account when the registration
//! rules admit it, applies the backend's admin mapping and opens a session.
//!
//! Pending OAuth logins (`state`, nonce, PKCE verifier) are kept in `login_flows`, so any
//! replica can finish a login another one started; each is single-use and short-lived.
use chrono::Duration;
use rand::distr::{Alphanumeric, SampleString};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set, TransactionTrait,
};

use super::accounts::hash_token;
use super::sessions::{SessionCreated, SessionLimits};
use super::{now, Registry, HUMAN_KIND};
use crate::entities::{identity, login_flow, user};
use crate::error::{DomainError, Result};
use crate::names::validate_segment;
use crate::policy::Scope;

/// How long a started OAuth login may take.
const LOGIN_FLOW_MINUTES: i64 = 10;
/// The refusal when registration rules keep someone out.
pub const REGISTRATION_REFUSED: &str =
    "this registry does not create accounts for this login; ask an administrator";
/// The refusal for disabled accounts.
pub const ACCOUNT_DISABLED: &str = "this account is disabled";

/// What an external login backend learned about the person.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExternalProfile {
    /// The configured backend's id (`github`, `keycloak`, `ldap`, …).
    pub provider: String,
    /// The backend's stable identifier of the person.
    pub subject: String,
    /// Preferred user name; made a valid, unused name for new accounts.
    pub username: String,
    pub email: String,
    pub email_verified: bool,
    pub realname: String,
    pub groups: Vec<String>,
    /// `Some(is_admin)` when the backend maps groups to the admin role; `None` leaves the
    /// account's role alone.
    pub admin: Option<bool>,
}

impl Registry {
    /// Signs someone in with an external login, creating or linking the account as the
    /// registration rules allow. Refusals are `Forbidden` with a message for the login page.
    pub async fn sign_in_external(
        &self,
        profile: ExternalProfile,
        limits: SessionLimits,
    ) -> Result<SessionCreated> {
        if profile.provider.is_empty() || profile.subject.is_empty() {
            return Err(DomainError::invalid("the login gave no identity"));
        }
        let account = self.account_for_login(&profile).await?;
        if !account.is_active {
            self.record_audit(
                &self.db,
                Some(account.id),
                "login_refused",
                &format!("user:{}", account.username),
                serde_json::json!({"provider": profile.provider, "reason": "disabled"}),
            )
            .await?;
            return Err(DomainError::forbidden(ACCOUNT_DISABLED));
        }
        if account.kind != HUMAN_KIND {
            return Err(DomainError::forbidden("robot accounts cannot sign in"));
        }
        let mut active: user::ActiveModel = account.clone().into();
        active.last_login_at = Set(Some(now()));
        if let Some(admin) = profile.admin {
            if admin != account.is_admin {
                active.is_admin = Set(admin);
                self.record_audit(
                    &self.db,
                    None,
                    "user.role",
                    &format!("user:{}", account.username),
                    serde_json::json!({"admin": admin, "by": format!("groups of {}", profile.provider)}),
                )
                .await?;
            }
        }
        if account.realname.is_empty() && !profile.realname.is_empty() {
            active.realname = Set(profile.realname.clone());
        }
        let account = active.update(&self.db).await?;
        let scope = if account.is_admin {
            Scope::Admin
        } else {
            Scope::Push
        };
        let actor = self.actor_for(account.clone(), scope).await?;
        let created = self.create_session(&actor, limits).await?;
        self.record_audit(
            &self.db,
            Some(account.id),
            "login",
            &format!("user:{}", account.username),
            serde_json::json!({"provider": profile.provider}),
        )
        .await?;
        Ok(created)
    }

    /// The account linked to the login, linking or creating one when allowed.
    async fn account_for_login(&self, profile: &ExternalProfile) -> Result<user::Model> {
        if let Some(link) = identity::Entity::find()
            .filter(identity::Column::Provider.eq(profile.provider.as_str()))
            .filter(identity::Column::Subject.eq(profile.subject.as_str()))
            .one(&self.db)
            .await?
        {
            let account = user::Entity::find_by_id(link.user_id)
                .one(&self.db)
                .await?
                .ok_or(DomainError::Unauthenticated)?;
            let mut link: identity::ActiveModel = link.into();
            link.email = Set(profile.email.clone());
            link.last_login_at = Set(Some(now()));
            link.update(&self.db).await?;
            return Ok(account);
        }
        // An account an admin created beforehand, never signed in and not linked yet, is
        // claimed by the login whose user name AND verified e-mail both match it.
        if let Some(precreated) = self.precreated_account(profile).await? {
            self.link_identity(&self.db, precreated.id, profile).await?;
            return Ok(precreated);
        }
        let rules = self.registration().await?;
        if !rules.admits(&profile.email, profile.email_verified, &profile.groups) {
            self.record_audit(
                &self.db,
                None,
                "login_refused",
                &format!("{}:{}", profile.provider, truncate(&profile.subject)),
                serde_json::json!({"reason": "registration"}),
            )
            .await?;
            return Err(DomainError::forbidden(REGISTRATION_REFUSED));
        }
        let txn = self.db.begin().await?;
        let username = self
            .free_username(&txn, &profile.username, &profile.email)
            .await?;
        let account = user::ActiveModel {
            username: Set(username.clone()),
            email: Set(if profile.email_verified {
                profile.email.clone()
            } else {
                String::new()
            }),
            realname: Set(profile.realname.clone()),
            is_admin: Set(profile.admin.unwrap_or(false)),
            is_active: Set(true),
            created_at: Set(now()),
            last_login_at: Set(None),
            kind: Set(HUMAN_KIND.to_string()),
            robot_owner_id: Set(None),
            quota: Set(0),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.link_identity(&txn, account.id, profile).await?;
        self.record_audit(
            &txn,
            Some(account.id),
            "user.register",
            &format!("user:{username}"),
            serde_json::json!({"provider": profile.provider}),
        )
        .await?;
        txn.commit().await?;
        Ok(account)
    }

    async fn precreated_account(&self, profile: &ExternalProfile) -> Result<Option<user::Model>> {
        if !profile.email_verified || profile.email.is_empty() {
            return Ok(None);
        }
        let Some(candidate) = self
            .find_user(&profile.username.to_ascii_lowercase())
            .await?
        else {
            return Ok(None);
        };
        let linked = identity::Entity::find()
            .filter(identity::Column::UserId.eq(candidate.id))
            .count(&self.db)
            .await?;
        let matches = candidate.email.eq_ignore_ascii_case(&profile.email)
            && candidate.last_login_at.is_none()
            && candidate.kind == HUMAN_KIND
            && linked == 0;
        Ok(matches.then_some(candidate))
    }

    /// Links the login's provider and subject to an account (on `db`, so account creation
    /// and the link share one transaction).
    async fn link_identity(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        user_id: i64,
        profile: &ExternalProfile,
    ) -> Result<()> {
        identity::ActiveModel {
            user_id: Set(user_id),
            provider: Set(profile.provider.clone()),
            subject: Set(profile.subject.clone()),
            email: Set(profile.email.clone()),
            created_at: Set(now()),
            last_login_at: Set(Some(now())),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(())
    }

    /// A valid user name not yet taken, from the preferred name (or the e-mail's local part).
    async fn free_username(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        preferred: &str,
        email: &str,
    ) -> Result<String> {
        let source = if preferred.trim().is_empty() {
            email.split('@').next().unwrap_or_default()
        } else {
            preferred
        };
        let base = sanitise_username(source);
        for n in 1..1000 {
            let candidate = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let taken = user::Entity::find()
                .filter(user::Column::Username.eq(candidate.as_str()))
                .count(db)
                .await?
                > 0
                || crate::entities::entity::Entity::find()
                    .filter(crate::entities::entity::Column::Name.eq(candidate.as_str()))
                    .count(db)
                    .await?
                    > 0;
            if !taken {
                return Ok(candidate);
            }
        }
        Err(DomainError::Conflict("no free user name".into()))
    }

    /// Starts an OAuth login: returns the random `state` to send to the provider.
    pub async fn start_login_flow(
        &self,
        provider: &str,
        nonce: &str,
        pkce_verifier: &str,
        return_to: &str,
    ) -> Result<String> {
        let state = Alphanumeric.sample_string(&mut rand::rng(), 43);
        let at = now();
        login_flow::Entity::delete_many()
            .filter(login_flow::Column::ExpiresAt.lte(at))
            .exec(&self.db)
            .await?;
        login_flow::ActiveModel {
            state_hash: Set(hash_token(&state)),
            provider: Set(provider.to_string()),
            nonce: Set(nonce.to_string()),
            pkce_verifier: Set(pkce_verifier.to_string()),
            return_to: Set(return_to.chars().take(1024).collect()),
            created_at: Set(at),
            expires_at: Set(at + Duration::minutes(LOGIN_FLOW_MINUTES)),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(state)
    }

    /// Ends an OAuth login at its callback: the flow `state` names, once. Unknown, used,
    /// expired or other-provider states are refused.
    pub async fn finish_login_flow(
        &self,
        provider: &str,
        state: &str,
    ) -> Result<login_flow::Model> {
        let refused =
            || DomainError::forbidden("the login expired or was tampered with; start again");
        if state.is_empty() || state.len() > 256 {
            return Err(refused());
        }
        let Some(flow) = login_flow::Entity::find()
            .filter(login_flow::Column::StateHash.eq(hash_token(state)))
            .one(&self.db)
            .await?
        else {
            return Err(refused());
        };
        let deleted = login_flow::Entity::delete_by_id(flow.id)
            .exec(&self.db)
            .await?
            .rows_affected;
        if deleted != 1 || flow.provider != provider || flow.expires_at <= now() {
            return Err(refused());
        }
        Ok(flow)
    }
}

/// A user name from any text: lower-case letters and digits joined by single `-`.
fn sanitise_username(source: &str) -> String {
    let mut out = String::new();
    for ch in source.chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out: String = out.trim_matches('-').chars().take(40).collect();
    out = out.trim_matches('-').to_string();
    if out.is_empty() || validate_segment("user", &out).is_err() {
        "user".to_string()
    } else {
        out
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::sanitise_username;

    #[test]
    fn user_names_are_sanitised() {
        assert_eq!(sanitise_username("Jane.Doe"), "jane-doe");
        assert_eq!(sanitise_username("  --Ünïcode__x "), "n-code-x");
        assert_eq!(sanitise_username("!!!"), "user");
    }
}
