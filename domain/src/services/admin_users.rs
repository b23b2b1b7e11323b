//! Account administration: the users list (search, paging, storage use), roles, disabling
//! and enabling, and accounts created by administrators ahead of their first sign-in.
//!
//! Every method needs an administrator ([`Actor::require_admin`]) and writes an audit entry.
//! Two rules keep the registry manageable: administrators cannot demote, disable or delete
//! themselves, and the last active administrator cannot be demoted, disabled or deleted.
use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};

use super::quotas::QuotaHolder;
use super::stats::sql::escape_like;
use super::{AuditPage, Registry, HUMAN_KIND};
use crate::entities::{session, user};
use crate::error::{DomainError, Result};
use crate::policy::{Actor, Principal};

/// Rows per page of [`Registry::admin_list_users`].
pub const USERS_PAGE_SIZE: u64 = 50;
/// Longest search text accepted.
const MAX_SEARCH: usize = 200;

/// What the users list shows: a name or e-mail substring (empty: everyone) and a 0-based page.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    pub search: String,
    pub page: u64,
}

/// One account in the admin users list.
#[derive(Clone, Debug)]
pub struct AdminUserRow {
    pub user: user::Model,
    /// Bytes stored by the entities the user owns (see `quotas.rs`).
    pub storage_used: i64,
}

#[derive(Clone, Debug)]
pub struct AdminUserPage {
    pub users: Vec<AdminUserRow>,
    pub total: u64,
}

/// An account created by an administrator.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub is_admin: bool,
}

impl Registry {
    /// Accounts whose user name or e-mail contains `query.search` (case-insensitive,
    /// wildcards taken literally), ordered by name, one page at a time, each with the bytes
    /// their entities store. Administrators only.
    pub async fn admin_list_users(
        &self,
        actor: &Actor,
        query: &UserQuery,
    ) -> Result<AdminUserPage> {
        actor.require_admin()?;
        let needle = query.search.trim();
        if needle.chars().count() > MAX_SEARCH {
            return Err(DomainError::invalid(format!(
                "search text longer than {MAX_SEARCH} characters"
            )));
        }
        let mut select = user::Entity::find();
        if !needle.is_empty() {
            let pattern = format!("%{}%", escape_like(&needle.to_lowercase()));
            let like = |column: user::Column| {
                Expr::expr(Func::lower(Expr::col((user::Entity, column))))
                    .like(LikeExpr::new(pattern.clone()).escape('\\'))
            };
            select = select.filter(
                Condition::any()
                    .add(like(user::Column::Username))
                    .add(like(user::Column::Email)),
            );
        }
        let paginator = select
            .order_by_asc(user::Column::Username)
            .paginate(&self.db, USERS_PAGE_SIZE);
        let total = paginator.num_items().await?;
        let users = paginator.fetch_page(query.page).await?;
        let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
        let used = self.storage_used_by(QuotaHolder::User(0), &ids).await?;
        Ok(AdminUserPage {
            users: users
                .into_iter()
                .map(|u| AdminUserRow {
                    storage_used: used.get(&u.id).copied().unwrap_or(0),
                    user: u,
                })
                .collect(),
            total,
        })
    }

    /// Creates an account ahead of its owner's first sign-in (an external login with the same
    /// user name or e-mail then finds it, also when registration is closed).
    pub async fn admin_create_user(&self, actor: &Actor, new: NewUser) -> Result<user::Model> {
        let admin = actor.require_admin()?;
        let email = new.email.trim();
        if !email.is_empty() && (!email.contains('@') || email.chars().any(char::is_whitespace)) {
            return Err(DomainError::invalid(format!(
                "{email:?} is not an e-mail address"
            )));
        }
        let created = self
            .create_user(new.username.trim(), email, new.is_admin)
            .await?;
        self.record_audit(
            &self.db,
            Some(admin.user_id),
            "user.create",
            &format!("user:{}", created.username),
            serde_json::json!({"email": created.email, "admin": created.is_admin}),
        )
        .await?;
        Ok(created)
    }

    /// Makes an account an administrator or a plain user.
    pub async fn admin_set_role(
        &self,
        actor: &Actor,
        username: &str,
        admin_role: bool,
    ) -> Result<user::Model> {
        let admin = actor.require_admin()?;
        let txn = self.db.begin().await?;
        let account = account_named(&txn, username).await?;
        if account.kind != HUMAN_KIND && admin_role {
            return Err(DomainError::invalid(
                "robot accounts cannot be administrators",
            ));
        }
        if account.is_admin == admin_role {
            return Ok(account);
        }
        if !admin_role {
            guard_admin_removal(&txn, admin, &account, "demote").await?;
        }
        let mut active: user::ActiveModel = account.into();
        active.is_admin = Set(admin_role);
        let updated = active.update(&txn).await?;
        let role = if admin_role { "admin" } else { "user" };
        self.record_audit(
            &txn,
            Some(admin.user_id),
            "user.role",
            &format!("user:{username}"),
            serde_json::json!({"role": role}),
        )
        .await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// Disables an account (its sessions are deleted and its tokens refused at once:
    /// `authenticate` and `resolve_session` check `is_active`) or enables it again.
    pub async fn admin_set_active(
        &self,
        actor: &Actor,
        username: &str,
        active_flag: bool,
    ) -> Result<user::Model> {
        let admin = actor.require_admin()?;
        let txn = self.db.begin().await?;
        let account = account_named(&txn, username).await?;
        if account.is_active == active_flag {
            return Ok(account);
        }
        if !active_flag {
            guard_admin_removal(&txn, admin, &account, "disable").await?;
            session::Entity::delete_many()
                .filter(session::Column::UserId.eq(account.id))
                .exec(&txn)
                .await?;
        }
        let mut active: user::ActiveModel = account.into();
        active.is_active = Set(active_flag);
        let updated = active.update(&txn).await?;
        let action = if active_flag {
            "user.enable"
        } else {
            "user.disable"
        };
        self.record_audit(
            &txn,
            Some(admin.user_id),
            action,
            &format!("user:{username}"),
            serde_json::json!({}),
        )
        .await?;
        txn.commit().await?;
        Ok(updated)
    }

    /// The audit log page with the user names of the actors it mentions (accounts deleted
    /// since are absent from the map). Administrators only.
    pub async fn admin_audit_log(
        &self,
        actor: &Actor,
        page: u64,
    ) -> Result<(AuditPage, HashMap<i64, String>)> {
        let page = self.audit_log(actor, page).await?;
        let mut ids: Vec<i64> = page.entries.iter().filter_map(|e| e.actor_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let names = if ids.is_empty() {
            HashMap::new()
        } else {
            user::Entity::find()
                .filter(user::Column::Id.is_in(ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.username))
                .collect()
        };
        Ok((page, names))
    }
}

/// The account called `username`, or `NotFound`.
pub(crate) async fn account_named(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<user::Model> {
    user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db)
        .await?
        .ok_or_else(|| DomainError::not_found(format!("user {username:?}")))
}

/// Refuses taking administration away from `account` (demoting, disabling or deleting,
/// named by `verb`) when it is the acting administrator or the last active administrator.
pub(crate) async fn guard_admin_removal(
    db: &impl ConnectionTrait,
    admin: &Principal,
    account: &user::Model,
    verb: &str,
) -> Result<()> {
    if account.id == admin.user_id {
        return Err(DomainError::forbidden(format!(
            "you cannot {verb} your own account; ask another administrator"
        )));
    }
    if account.is_admin && account.is_active {
        let active_admins = user::Entity::find()
            .filter(user::Column::IsAdmin.eq(true))
            .filter(user::Column::IsActive.eq(true))
            .filter(user::Column::Kind.eq(HUMAN_KIND))
            .count(db)
            .await?;
        if active_admins <= 1 {
            return Err(DomainError::forbidden(format!(
                "{} is the last active administrator and cannot be {verb}d",
                account.username
            )));
        }
    }
    Ok(())
}
