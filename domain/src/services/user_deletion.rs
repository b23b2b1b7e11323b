//! Deleting an account, with an explicit choice of what happens to its images:
//!
//! - [`ImagesOnDelete::TransferTo`]: the entities the user owns (names unchanged, so
//!   `library://` references keep working), the collections they created in other entities,
//!   and the robot accounts they manage go to another user;
//! - [`ImagesOnDelete::Delete`]: the entities the user owns are deleted with everything in
//!   them (collections, containers, images, tags, OCI blobs, manifests and tags, SIF metadata,
//!   stars, roles, share links, download history), and so are the robots they manage;
//!   collections they created in other entities stay with those entities.
//!
//! Either way their tokens, sessions, identities, stars, team memberships, collection roles,
//! upload sessions and share links go. The database part is one transaction; the bytes no
//! image record or OCI blob uses any more are left to garbage collection (`blobs.rs`).

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
};

use super::admin_users::{account_named, guard_admin_removal};
use super::{ChangeKind, ContainerView, Registry, HUMAN_KIND};
use crate::entities::{
    api_token, collection, collection_role, container, download_event, entity, identity, image,
    image_metadata, oci_blob, oci_manifest, oci_tag, oci_upload, session, share_link, star, tag,
    team_membership, upload_part, upload_session, user,
};
use crate::error::{DomainError, Result};

use crate::policy::Actor;

/// What happens to a deleted user's images.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImagesOnDelete {
    /// Everything the user owns goes to the user of this name.
    TransferTo(String),
    /// Everything the user owns is deleted.
    Delete,
}

/// What a deletion did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserDeleted {
    pub username: String,
    /// Entities moved to the other user, or deleted.
    pub entities: u64,
    pub containers_deleted: u64,
    pub images_deleted: u64,
}

/// Upload sessions and events to handle after the transaction commits (the deleted images'
/// bytes are left to garbage collection).
#[derive(Default)]
struct Leftovers {
    multipart_sessions: Vec<String>,
    deleted_views: Vec<ContainerView>,
}

impl Registry {
    /// Deletes `username`, transferring or deleting what they own (see the module docs).
    /// Administrators only; not oneself, not the last active administrator; audited.
    pub async fn admin_delete_user(
        &self,
        actor: &Actor,
        username: &str,
        images: ImagesOnDelete,
    ) -> Result<UserDeleted> {
        let admin = actor.require_admin()?;
        let txn = self.db.begin().await?;
        let account = account_named(&txn, username).await?;
        guard_admin_removal(&txn, admin, &account, "delete").await?;
        let heir = match &images {
            ImagesOnDelete::TransferTo(name) => {
                let heir = account_named(&txn, name).await.map_err(|_| {
                    DomainError::invalid(format!("cannot transfer to {name:?}: no such user"))
                })?;
                if heir.id == account.id || heir.kind != HUMAN_KIND || !heir.is_active {
                    return Err(DomainError::invalid(format!(
                        "cannot transfer to {name:?}: choose another active person's account"
                    )));
                }
                Some(heir)
            }
            ImagesOnDelete::Delete => None,
        };
        let owned = entity::Entity::find()
            .filter(entity::Column::OwnerId.eq(account.id))
            .all(&txn)
            .await?;
        let mut done = UserDeleted {
            username: account.username.clone(),
            entities: owned.len() as u64,
            ..Default::default()
        };
        let mut leftovers = Leftovers::default();
        let robots = user::Entity::find()
            .filter(user::Column::RobotOwnerId.eq(account.id))
            .all(&txn)
            .await?;
        match &heir {
            Some(heir) => {
                entity::Entity::update_many()
                    .col_expr(entity::Column::OwnerId, Expr::value(heir.id))
                    .filter(entity::Column::OwnerId.eq(account.id))
                    .exec(&txn)
                    .await?;
                collection::Entity::update_many()
                    .col_expr(collection::Column::OwnerId, Expr::value(heir.id))
                    .filter(collection::Column::OwnerId.eq(account.id))
                    .exec(&txn)
                    .await?;
                user::Entity::update_many()
                    .col_expr(user::Column::RobotOwnerId, Expr::value(heir.id))
                    .filter(user::Column::RobotOwnerId.eq(account.id))
                    .exec(&txn)
                    .await?;
            }
            None => {
                let entity_ids: Vec<i64> = owned.iter().map(|e| e.id).collect();
                let (containers, images) = self
                    .purge_entities(&txn, &entity_ids, &mut leftovers)
                    .await?;
                done.containers_deleted = containers;
                done.images_deleted = images;
                collection::Entity::update_many()
                    .col_expr(collection::Column::OwnerId, Expr::value(None::<i64>))
                    .filter(collection::Column::OwnerId.eq(account.id))
                    .exec(&txn)
                    .await?;
                for robot in &robots {
                    forget_account(&txn, robot.id, &mut leftovers).await?;
                }
            }
        }
        forget_account(&txn, account.id, &mut leftovers).await?;
        let how = match &images {
            ImagesOnDelete::TransferTo(name) => serde_json::json!({"transfer_to": name}),
            ImagesOnDelete::Delete => serde_json::json!({"delete": true}),
        };
        self.record_audit(
            &txn,
            Some(admin.user_id),
            "user.delete",
            &format!("user:{username}"),
            serde_json::json!({
                "images": how,
                "entities": done.entities,
                "containers_deleted": done.containers_deleted,
                "images_deleted": done.images_deleted,
                "robots": robots.iter().map(|r| r.username.clone()).collect::<Vec<_>>(),
            }),
        )
        .await?;
        txn.commit().await?;
        for id in &leftovers.multipart_sessions {
            if let Ok(id) = crate::store::UploadId::parse(id) {
                let _ = self.store.abort_multipart(&id).await;
            }
        }
        for view in &leftovers.deleted_views {
            self.publish(ChangeKind::ImageDeleted, view).await;
        }
        Ok(done)
    }

    /// Deletes the entities `entity_ids` with everything in them, inside `txn`; returns how
    /// many containers and images went. Digests and upload sessions to clean up after the
    /// commit go to `leftovers`.
    async fn purge_entities(
        &self,
        txn: &DatabaseTransaction,
        entity_ids: &[i64],
        leftovers: &mut Leftovers,
    ) -> Result<(u64, u64)> {
        if entity_ids.is_empty() {
            return Ok((0, 0));
        }
        let entities = entity::Entity::find()
            .filter(entity::Column::Id.is_in(entity_ids.to_vec()))
            .all(txn)
            .await?;
        let collections = collection::Entity::find()
            .filter(collection::Column::EntityId.is_in(entity_ids.to_vec()))
            .all(txn)
            .await?;
        let collection_ids: Vec<i64> = collections.iter().map(|c| c.id).collect();
        let containers = if collection_ids.is_empty() {
            Vec::new()
        } else {
            container::Entity::find()
                .filter(container::Column::CollectionId.is_in(collection_ids.clone()))
                .all(txn)
                .await?
        };
        let container_ids: Vec<i64> = containers.iter().map(|c| c.id).collect();
        for cont in &containers {
            let coll = collections.iter().find(|c| c.id == cont.collection_id);
            let ent = coll.and_then(|c| entities.iter().find(|e| e.id == c.entity_id));
            if let (Some(coll), Some(ent)) = (coll, ent) {
                leftovers.deleted_views.push(ContainerView {
                    entity: ent.clone(),
                    collection: coll.clone(),
                    container: cont.clone(),
                });
            }
        }
        let mut images_deleted = 0;
        if !container_ids.is_empty() {
            let images = image::Entity::find()
                .filter(image::Column::ContainerId.is_in(container_ids.clone()))
                .all(txn)
                .await?;
            images_deleted = images.len() as u64;
            let image_ids: Vec<i64> = images.iter().map(|i| i.id).collect();
            if !image_ids.is_empty() {
                let sessions = upload_session::Entity::find()
                    .filter(upload_session::Column::ImageId.is_in(image_ids.clone()))
                    .all(txn)
                    .await?;
                forget_upload_sessions(txn, sessions, leftovers).await?;
                tag::Entity::delete_many()
                    .filter(tag::Column::ImageId.is_in(image_ids.clone()))
                    .exec(txn)
                    .await?;
                image_metadata::Entity::delete_many()
                    .filter(image_metadata::Column::ImageId.is_in(image_ids.clone()))
                    .exec(txn)
                    .await?;
            }
            let oci_uploads = oci_upload::Entity::find()
                .filter(oci_upload::Column::ContainerId.is_in(container_ids.clone()))
                .all(txn)
                .await?;
            leftovers
                .multipart_sessions
                .extend(oci_uploads.into_iter().map(|u| u.id));
            let by_container = || container_ids.clone();
            oci_upload::Entity::delete_many()
                .filter(oci_upload::Column::ContainerId.is_in(by_container()))
                .exec(txn)
                .await?;
            oci_tag::Entity::delete_many()
                .filter(oci_tag::Column::ContainerId.is_in(by_container()))
                .exec(txn)
                .await?;
            oci_manifest::Entity::delete_many()
                .filter(oci_manifest::Column::ContainerId.is_in(by_container()))
                .exec(txn)
                .await?;
            oci_blob::Entity::delete_many()
                .filter(oci_blob::Column::ContainerId.is_in(by_container()))
                .exec(txn)
                .await?;
            tag::Entity::delete_many()
                .filter(tag::Column::ContainerId.is_in(by_container()))
                .exec(txn)
                .await?;
            download_event::Entity::delete_many()
                .filter(download_event::Column::ContainerId.is_in(by_container()))
                .exec(txn)
                .await?;
            image::Entity::delete_many()
                .filter(image::Column::ContainerId.is_in(by_container()))
                .exec(txn)
                .await?;
            star::Entity::delete_many()
                .filter(star::Column::ContainerId.is_in(by_container()))
                .exec(txn)
                .await?;
            share_link::Entity::delete_many()
                .filter(share_link::Column::ContainerId.is_in(by_container()))
                .exec(txn)
                .await?;
            container::Entity::delete_many()
                .filter(container::Column::Id.is_in(by_container()))
                .exec(txn)
                .await?;
        }
        if !collection_ids.is_empty() {
            star::Entity::delete_many()
                .filter(star::Column::CollectionId.is_in(collection_ids.clone()))
                .exec(txn)
                .await?;
            collection_role::Entity::delete_many()
                .filter(collection_role::Column::CollectionId.is_in(collection_ids.clone()))
                .exec(txn)
                .await?;
            collection::Entity::delete_many()
                .filter(collection::Column::Id.is_in(collection_ids))
                .exec(txn)
                .await?;
        }
        entity::Entity::delete_many()
            .filter(entity::Column::Id.is_in(entity_ids.to_vec()))
            .exec(txn)
            .await?;
        Ok((container_ids.len() as u64, images_deleted))
    }
}

/// Deletes upload sessions (and their parts); multipart bytes are aborted after the commit.
async fn forget_upload_sessions(
    txn: &impl ConnectionTrait,
    sessions: Vec<upload_session::Model>,
    leftovers: &mut Leftovers,
) -> Result<()> {
    if sessions.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = sessions.iter().map(|s| s.id.clone()).collect();
    leftovers.multipart_sessions.extend(
        sessions
            .into_iter()
            .filter(|s| s.kind == "multipart")
            .map(|s| s.id),
    );
    upload_part::Entity::delete_many()
        .filter(upload_part::Column::SessionId.is_in(ids.clone()))
        .exec(txn)
        .await?;
    upload_session::Entity::delete_many()
        .filter(upload_session::Column::Id.is_in(ids))
        .exec(txn)
        .await?;
    Ok(())
}

/// Deletes an account and every row about it; keeps the images it pushed (their
/// `created_by` is cleared), the keys it published (uploader cleared by the schema) and the
/// audit log.
async fn forget_account(
    txn: &impl ConnectionTrait,
    user_id: i64,
    leftovers: &mut Leftovers,
) -> Result<()> {
    let sessions = upload_session::Entity::find()
        .filter(upload_session::Column::UserId.eq(user_id))
        .all(txn)
        .await?;
    forget_upload_sessions(txn, sessions, leftovers).await?;
    let oci_uploads = oci_upload::Entity::find()
        .filter(oci_upload::Column::UserId.eq(user_id))
        .all(txn)
        .await?;
    leftovers
        .multipart_sessions
        .extend(oci_uploads.into_iter().map(|u| u.id));
    oci_upload::Entity::delete_many()
        .filter(oci_upload::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    share_link::Entity::delete_many()
        .filter(share_link::Column::CreatedBy.eq(user_id))
        .exec(txn)
        .await?;
    image::Entity::update_many()
        .col_expr(image::Column::CreatedBy, Expr::value(None::<i64>))
        .filter(image::Column::CreatedBy.eq(user_id))
        .exec(txn)
        .await?;
    download_event::Entity::update_many()
        .col_expr(download_event::Column::UserId, Expr::value(None::<i64>))
        .filter(download_event::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    // The schema cascades these too; deleting them here keeps the rule visible.
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    api_token::Entity::delete_many()
        .filter(api_token::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    identity::Entity::delete_many()
        .filter(identity::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    star::Entity::delete_many()
        .filter(star::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    team_membership::Entity::delete_many()
        .filter(team_membership::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    collection_role::Entity::delete_many()
        .filter(collection_role::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    user::Entity::delete_by_id(user_id).exec(txn).await?;
    Ok(())
}
