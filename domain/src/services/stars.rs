//! Stars: signed-in users mark collections and containers they like. A user stars a target
//! at most once (unique indexes back this up), only targets they may read, and starring
//! twice or unstarring an unstarred target changes nothing.
use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Set,
};

use super::{now, Registry};
use crate::entities::{container, star};
use crate::error::{DomainError, Result};
use crate::names::ContainerPath;
use crate::policy::Actor;

/// What can be starred.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StarTarget {
    Collection { entity: String, collection: String },
    Container(ContainerPath),
}

/// A target's star count, and whether the viewer is one of the stargazers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StarState {
    pub count: u64,
    pub starred: bool,
}

/// The id column a target's stars use, and the target's id.
#[derive(Clone, Copy, Debug)]
enum Starred {
    Collection(i64),
    Container(i64),
}

impl Starred {
    fn filter(self) -> sea_orm::Condition {
        match self {
            Starred::Collection(id) => {
                sea_orm::Condition::all().add(star::Column::CollectionId.eq(id))
            }
            Starred::Container(id) => {
                sea_orm::Condition::all().add(star::Column::ContainerId.eq(id))
            }
        }
    }
}

impl Registry {
    /// Resolves a target the actor may read (others look absent).
    async fn star_target(&self, actor: &Actor, target: &StarTarget) -> Result<Starred> {
        Ok(match target {
            StarTarget::Collection { entity, collection } => {
                Starred::Collection(self.collection(actor, entity, collection).await?.1.id)
            }
            StarTarget::Container(path) => {
                Starred::Container(self.container(actor, path).await?.container.id)
            }
        })
    }

    async fn star_state_of(&self, actor: &Actor, target: Starred) -> Result<StarState> {
        let count = star::Entity::find()
            .filter(target.filter())
            .count(&self.db)
            .await?;
        let starred = match actor.user_id() {
            Some(user_id) => {
                star::Entity::find()
                    .filter(target.filter())
                    .filter(star::Column::UserId.eq(user_id))
                    .count(&self.db)
                    .await?
                    > 0
            }
            None => false,
        };
        Ok(StarState { count, starred })
    }

    /// The stars of a target the actor may read.
    pub async fn star_state(&self, actor: &Actor, target: &StarTarget) -> Result<StarState> {
        let resolved = self.star_target(actor, target).await?;
        self.star_state_of(actor, resolved).await
    }

    /// Stars (`on`) or unstars a target the actor may read; idempotent. Anonymous callers
    /// are refused with `Unauthenticated`.
    pub async fn set_star(
        &self,
        actor: &Actor,
        target: &StarTarget,
        on: bool,
    ) -> Result<StarState> {
        let user_id = actor.require_user()?.user_id;
        let resolved = self.star_target(actor, target).await?;
        let mine = star::Entity::find()
            .filter(resolved.filter())
            .filter(star::Column::UserId.eq(user_id))
            .one(&self.db)
            .await?;
        match (on, mine) {
            (true, None) => {
                let (collection_id, container_id) = match resolved {
                    Starred::Collection(id) => (Some(id), None),
                    Starred::Container(id) => (None, Some(id)),
                };
                let inserted = star::ActiveModel {
                    user_id: Set(user_id),
                    collection_id: Set(collection_id),
                    container_id: Set(container_id),
                    created_at: Set(now()),
                    ..Default::default()
                }
                .insert(&self.db)
                .await;
                // A concurrent identical request may have won the unique index: still starred.
                if let Err(err) = inserted {
                    let exists = star::Entity::find()
                        .filter(resolved.filter())
                        .filter(star::Column::UserId.eq(user_id))
                        .count(&self.db)
                        .await?
                        > 0;
                    if !exists {
                        return Err(DomainError::from(err));
                    }
                }
            }
            (false, Some(found)) => {
                star::Entity::delete_by_id(found.id).exec(&self.db).await?;
            }
            _ => {}
        }
        self.star_state_of(actor, resolved).await
    }

    /// Star counts of every starred collection, by collection id (one grouped query).
    pub(crate) async fn collection_star_counts(&self) -> Result<HashMap<i64, u64>> {
        let rows: Vec<(Option<i64>, i64)> = star::Entity::find()
            .select_only()
            .column(star::Column::CollectionId)
            .column_as(Expr::col(star::Column::Id).count(), "stars")
            .filter(star::Column::CollectionId.is_not_null())
            .group_by(star::Column::CollectionId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(counts(rows))
    }

    /// Star counts of the containers of one collection, by container id.
    pub(crate) async fn container_star_counts(
        &self,
        collection_id: i64,
    ) -> Result<HashMap<i64, u64>> {
        let of_collection = Query::select()
            .column(container::Column::Id)
            .from(container::Entity)
            .and_where(Expr::col(container::Column::CollectionId).eq(collection_id))
            .to_owned();
        self.star_counts_where(star::Column::ContainerId.in_subquery(of_collection))
            .await
    }

    /// Star counts of these containers, by container id (absent: none).
    pub(crate) async fn star_counts_of_containers(
        &self,
        container_ids: Vec<i64>,
    ) -> Result<HashMap<i64, u64>> {
        self.star_counts_where(star::Column::ContainerId.is_in(container_ids))
            .await
    }

    async fn star_counts_where(
        &self,
        which: sea_orm::sea_query::SimpleExpr,
    ) -> Result<HashMap<i64, u64>> {
        let rows: Vec<(Option<i64>, i64)> = star::Entity::find()
            .select_only()
            .column(star::Column::ContainerId)
            .column_as(Expr::col(star::Column::Id).count(), "stars")
            .filter(which)
            .group_by(star::Column::ContainerId)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(counts(rows))
    }
}

fn counts(rows: Vec<(Option<i64>, i64)>) -> HashMap<i64, u64> {
    rows.into_iter()
        .filter_map(|(id, n)| Some((id?, u64::try_from(n).unwrap_or(0))))
        .collect()
}
