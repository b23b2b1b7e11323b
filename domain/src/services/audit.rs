//! The audit log: every sign-in, administrative and permission-changing action, with who did
//! it, to what, and details. Written by the services; read by administrators.
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, Set};

use super::{now, Registry};
use crate::entities::audit_log;
use crate::error::Result;
use crate::policy::Actor;

/// Entries per page of [`Registry::audit_log`].
pub const AUDIT_PAGE_SIZE: u64 = 50;

/// One page of the audit log, newest first.
#[derive(Clone, Debug)]
pub struct AuditPage {
    pub entries: Vec<audit_log::Model>,
    pub total: u64,
}

impl Registry {
    /// Appends an entry (on `db`, so it can join a transaction).
    pub(crate) async fn record_audit(
        &self,
        db: &impl ConnectionTrait,
        actor_id: Option<i64>,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        audit_log::ActiveModel {
            actor_id: Set(actor_id),
            action: Set(action.to_string()),
            target: Set(target.to_string()),
            detail: Set(detail.to_string()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        Ok(())
    }

    /// One page (0-based) of the audit log, newest first: administrators only.
    pub async fn audit_log(&self, actor: &Actor, page: u64) -> Result<AuditPage> {
        actor.require_admin()?;
        let paginator = audit_log::Entity::find()
            .order_by_desc(audit_log::Column::Id)
            .paginate(&self.db, AUDIT_PAGE_SIZE);
        let total = paginator.num_items().await?;
        let entries = paginator.fetch_page(page).await?;
        Ok(AuditPage { entries, total })
    }
}
