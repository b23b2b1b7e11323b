//! The tables a backup holds, and how each row becomes a JSON object and back.
//!
//! Rows go through the SeaORM entities: a column's value is read as a `sea_orm::Value` and
//! written as plain JSON (integers, strings, booleans, RFC 3339 timestamps, `null`); on restore
//! the entity's column type says which `Value` the JSON becomes. Nothing depends on the
//! backend, so a SQLite backup restores into PostgreSQL and back.
use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ColumnType, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, Iden, IdenStatic, Iterable, ModelTrait, PaginatorTrait, PrimaryKeyToColumn,
    PrimaryKeyTrait, QueryOrder, Value,
};
use serde_json::{Map, Value as Json};
use std::marker::PhantomData;

use crate::entities::*;
use crate::error::{DomainError, Result};

/// One row of a backup file.
pub type Row = Map<String, Json>;

/// Rows inserted per statement on restore (well under both backends' parameter limits).
const INSERT_BATCH: usize = 200;

/// A table of the schema, seen by backup and restore.
#[async_trait]
pub trait Table: Send + Sync {
    fn name(&self) -> &'static str;
    /// False for short-lived state that a backup leaves out (uploads in progress, pending
    /// logins, failed-login counters); restore `--force` still empties these tables.
    fn kept(&self) -> bool;
    /// Every row, in primary-key order.
    async fn rows<'a>(&'a self, txn: &'a DatabaseTransaction)
        -> Result<BoxStream<'a, Result<Row>>>;
    /// Inserts rows as they are, ids included.
    async fn insert(&self, txn: &DatabaseTransaction, rows: Vec<Row>) -> Result<()>;
    async fn count(&self, txn: &DatabaseTransaction) -> Result<u64>;
    async fn delete_all(&self, txn: &DatabaseTransaction) -> Result<()>;
    /// Moves a PostgreSQL id sequence past the largest restored id.
    async fn fix_sequence(&self, txn: &DatabaseTransaction) -> Result<()>;
}

struct EntityTable<E> {
    kept: bool,
    entity: PhantomData<fn() -> E>,
}

fn table<E: EntityTrait>(kept: bool) -> Box<dyn Table>
where
    E::Model: Sync,
    E::ActiveModel: Send + Sync,
{
    Box::new(EntityTable::<E> {
        kept,
        entity: PhantomData,
    })
}

/// Every table, parents before the tables whose foreign keys point at them (restore inserts
/// in this order and `--force` deletes in the reverse one). A test checks that the list
/// names every table of the schema, so a new migration cannot be forgotten here.
pub fn all_tables() -> Vec<Box<dyn Table>> {
    vec![
        table::<user::Entity>(true),
        table::<team::Entity>(true),
        table::<team_membership::Entity>(true),
        table::<api_token::Entity>(true),
        table::<entity::Entity>(true),
        table::<collection::Entity>(true),
        table::<container::Entity>(true),
        table::<image::Entity>(true),
        table::<image_metadata::Entity>(true),
        table::<tag::Entity>(true),
        table::<star::Entity>(true),
        table::<download_event::Entity>(true),
        table::<setting::Entity>(true),
        table::<audit_log::Entity>(true),
        table::<pgp_key::Entity>(true),
        table::<sregistry_credential::Entity>(true),
        table::<session::Entity>(true),
        table::<identity::Entity>(true),
        table::<collection_role::Entity>(true),
        table::<share_link::Entity>(true),
        table::<oci_blob::Entity>(true),
        // Leases of stored blobs: rows whose bytes a backup does not copy (unreferenced
        // blobs) are dropped by the restored registry's garbage collection.
        table::<blob::Entity>(true),
        table::<oci_manifest::Entity>(true),
        table::<oci_tag::Entity>(true),
        table::<upload_session::Entity>(false),
        table::<upload_part::Entity>(false),
        table::<oci_upload::Entity>(false),
        table::<login_flow::Entity>(false),
        table::<login_failure::Entity>(false),
        table::<request_count::Entity>(false),
    ]
}

#[async_trait]
impl<E: EntityTrait> Table for EntityTable<E>
where
    E::Model: Sync,
    E::ActiveModel: Send + Sync,
{
    fn name(&self) -> &'static str {
        E::default().table_name()
    }

    fn kept(&self) -> bool {
        self.kept
    }

    async fn rows<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
    ) -> Result<BoxStream<'a, Result<Row>>> {
        let mut query = E::find();
        for key in E::PrimaryKey::iter() {
            query = query.order_by_asc(key.into_column());
        }
        let stream = query.stream(txn).await?;
        Ok(stream
            .map_err(DomainError::from)
            .and_then(|model| async move { model_to_row::<E>(&model) })
            .boxed())
    }

    async fn insert(&self, txn: &DatabaseTransaction, rows: Vec<Row>) -> Result<()> {
        for batch in rows.chunks(INSERT_BATCH) {
            let models = batch
                .iter()
                .map(row_to_active_model::<E>)
                .collect::<Result<Vec<_>>>()?;
            E::insert_many(models).exec_without_returning(txn).await?;
        }
        Ok(())
    }

    async fn count(&self, txn: &DatabaseTransaction) -> Result<u64> {
        Ok(E::find().count(txn).await?)
    }

    async fn delete_all(&self, txn: &DatabaseTransaction) -> Result<()> {
        E::delete_many().exec(txn).await?;
        Ok(())
    }

    async fn fix_sequence(&self, txn: &DatabaseTransaction) -> Result<()> {
        if txn.get_database_backend() != DbBackend::Postgres
            || !<E::PrimaryKey as PrimaryKeyTrait>::auto_increment()
        {
            return Ok(());
        }
        let Some(key) = E::PrimaryKey::iter().next() else {
            return Ok(());
        };
        let (table, column) = (self.name(), key.into_column().as_str().to_string());
        // setval(seq, max + 1, false): the next id handed out is max + 1 (1 when empty).
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), \
             COALESCE((SELECT MAX(\"{column}\") FROM \"{table}\"), 0) + 1, false)"
        );
        txn.execute_unprepared(&sql).await?;
        Ok(())
    }
}

fn model_to_row<E: EntityTrait>(model: &E::Model) -> Result<Row> {
    let mut row = Row::new();
    for column in E::Column::iter() {
        let value = value_to_json(model.get(column)).map_err(|kind| {
            DomainError::Storage(format!(
                "cannot back up {}.{}: unsupported column type {kind}",
                E::default().table_name(),
                column.to_string()
            ))
        })?;
        row.insert(column.as_str().to_string(), value);
    }
    Ok(row)
}

fn row_to_active_model<E: EntityTrait>(row: &Row) -> Result<E::ActiveModel> {
    let mut model = <E::ActiveModel as ActiveModelTrait>::default();
    let table = E::default().table_name();
    for (name, json) in row {
        let column = E::Column::iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| {
                DomainError::invalid(format!("backup table {table} has an unknown column {name}"))
            })?;
        let value = json_to_value(column.def().get_column_type(), json).ok_or_else(|| {
            DomainError::invalid(format!(
                "backup table {table}: column {name} cannot hold {json}"
            ))
        })?;
        model.try_set(column, value)?;
    }
    Ok(model)
}

/// The JSON form of a column value; the error names an unsupported type.
pub(crate) fn value_to_json(value: Value) -> std::result::Result<Json, String> {
    Ok(match value {
        Value::BigInt(v) => v.map_or(Json::Null, Json::from),
        Value::Int(v) => v.map_or(Json::Null, Json::from),
        Value::String(v) => v.map_or(Json::Null, Json::String),
        Value::Bool(v) => v.map_or(Json::Null, Json::Bool),
        Value::ChronoDateTimeUtc(v) => v.map_or(Json::Null, |t| {
            Json::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        }),
        other => return Err(format!("{other:?}")),
    })
}

/// The column value a JSON value restores to, typed by the column; `None` when they do not fit.
pub(crate) fn json_to_value(column_type: &ColumnType, json: &Json) -> Option<Value> {
    let null = json.is_null();
    Some(match column_type {
        ColumnType::BigInteger => Value::BigInt(if null { None } else { Some(json.as_i64()?) }),
        ColumnType::Integer => Value::Int(if null {
            None
        } else {
            Some(i32::try_from(json.as_i64()?).ok()?)
        }),
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => Value::String(if null {
            None
        } else {
            Some(json.as_str()?.to_string())
        }),
        ColumnType::Boolean => Value::Bool(if null { None } else { Some(json.as_bool()?) }),
        ColumnType::TimestampWithTimeZone | ColumnType::Timestamp | ColumnType::DateTime => {
            Value::ChronoDateTimeUtc(if null {
                None
            } else {
                let parsed = chrono::DateTime::parse_from_rfc3339(json.as_str()?).ok()?;
                Some(parsed.with_timezone(&chrono::Utc))
            })
        }
        _ => return None,
    })
}

/// Names of the tables the database holds (without SeaORM's migration table and SQLite's
/// `catalogue_version`, a change counter of the lookup cache that holds no data).
pub async fn schema_tables(db: &impl ConnectionTrait) -> Result<Vec<String>> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?;
    let mut names = rows
        .iter()
        .map(|row| row.try_get::<String>("", "name"))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    names.retain(|name| name != "seaql_migrations" && name != "catalogue_version");
    names.sort();
    Ok(names)
}
