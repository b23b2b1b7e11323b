//! One-query lookups for the read hot paths (`GET /v1/images/…`, pulls, shub manifests):
//! a container with its entity and collection by name, and a tag with its image. Each
//! replaces one round trip per table with a single join; with SQLite every round trip is a
//! hand-over to the connection's worker thread and back, which under load cost more than
//! the queries themselves. Rows are mapped with sea-orm's own model mapping, each table's
//! columns under a prefix (`A_`, `B_`, `C_`, as sea-orm's joined selects do).
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, IdenStatic, Iterable, Statement,
    Value,
};

use super::Registry;
use crate::entities::{collection, container, entity, image, tag};
use crate::error::Result;

/// `alias."col" AS "PREFIXcol", …` for every column of `E`.
fn columns<E: EntityTrait>(alias: &str, prefix: &str) -> String {
    E::Column::iter()
        .map(|c| format!("{alias}.\"{0}\" AS \"{prefix}{0}\"", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn table<E: EntityTrait + Default>() -> &'static str {
    E::default().table_name()
}

/// The `n`-th (1-based) bind parameter in the backend's syntax.
fn param(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_string(),
    }
}

impl Registry {
    /// The container `entity/collection/name` with its parents, without an access check.
    pub(crate) async fn container_by_path(
        &self,
        entity_name: &str,
        collection_name: &str,
        name: &str,
    ) -> Result<Option<(entity::Model, collection::Model, container::Model)>> {
        let backend = self.db.get_database_backend();
        let sql = format!(
            "SELECT {}, {}, {} FROM {} k JOIN {} c ON c.id = k.collection_id \
             JOIN {} e ON e.id = c.entity_id WHERE e.name = {} AND c.name = {} AND k.name = {}",
            columns::<entity::Entity>("e", "A_"),
            columns::<collection::Entity>("c", "B_"),
            columns::<container::Entity>("k", "C_"),
            table::<container::Entity>(),
            table::<collection::Entity>(),
            table::<entity::Entity>(),
            param(backend, 1),
            param(backend, 2),
            param(backend, 3),
        );
        let values: [Value; 3] = [entity_name.into(), collection_name.into(), name.into()];
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some((
            entity::Model::from_query_result(&row, "A_")?,
            collection::Model::from_query_result(&row, "B_")?,
            container::Model::from_query_result(&row, "C_")?,
        )))
    }

    /// The tags named `name` in a container (of `arch`, or of every arch when `None`), each
    /// with the image it points at.
    pub(crate) async fn tags_with_images(
        &self,
        container_id: i64,
        name: &str,
        arch: Option<&str>,
    ) -> Result<Vec<(tag::Model, image::Model)>> {
        let backend = self.db.get_database_backend();
        let mut sql = format!(
            "SELECT {}, {} FROM {} t JOIN {} i ON i.id = t.image_id \
             WHERE t.container_id = {} AND t.name = {}",
            columns::<tag::Entity>("t", "A_"),
            columns::<image::Entity>("i", "B_"),
            table::<tag::Entity>(),
            table::<image::Entity>(),
            param(backend, 1),
            param(backend, 2),
        );
        let mut values: Vec<Value> = vec![container_id.into(), name.into()];
        if let Some(arch) = arch {
            sql.push_str(&format!(" AND t.arch = {}", param(backend, 3)));
            values.push(arch.into());
        }
        sql.push_str(" ORDER BY t.id");
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    tag::Model::from_query_result(row, "A_")?,
                    image::Model::from_query_result(row, "B_")?,
                ))
            })
            .collect()
    }
}
