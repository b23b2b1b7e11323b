//! Garbage collection (`silo gc` and the maintenance round): expired upload sessions and
//! their partial bytes, temporaries that interrupted uploads left in the store, and blobs
//! nothing references any more once their lease is older than the grace period. Only here
//! are blob bytes ever deleted, through [`Registry::collect_blob`] (see `blobs.rs`).
//!
//! A dry run changes nothing and reports what a real run would remove now.
use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Statement};
use serde::Serialize;

use super::blobs::{unreferenced_sql, NEVER_COLLECTED};
use super::{now, Registry};
use crate::entities::{blob, oci_upload, upload_part, upload_session};
use crate::error::Result;
use crate::store::UploadId;

/// How garbage collection runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcOptions {
    /// Report only; change nothing.
    pub dry_run: bool,
    /// Unreferenced blobs are kept until their lease (the last push relying on them, or the
    /// moment garbage collection first saw them) is this old.
    pub grace: std::time::Duration,
    /// Temporaries in the store not written to for this long, and belonging to no upload
    /// session, are removed.
    pub abandoned_after: std::time::Duration,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            dry_run: false,
            grace: std::time::Duration::from_secs(3600),
            abandoned_after: std::time::Duration::from_secs(3600),
        }
    }
}

/// What garbage collection removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GcKind {
    /// An upload session past its expiry (library or OCI), with its partial bytes.
    ExpiredUpload,
    /// A file or object an interrupted upload left in the store's temporary area.
    Temporary,
    /// A stored blob no image or OCI blob references, past the grace period.
    Blob,
}

impl GcKind {
    pub const ALL: [GcKind; 3] = [GcKind::ExpiredUpload, GcKind::Temporary, GcKind::Blob];

    pub fn label(self) -> &'static str {
        match self {
            GcKind::ExpiredUpload => "expired upload sessions",
            GcKind::Temporary => "abandoned temporary files",
            GcKind::Blob => "unreferenced blobs",
        }
    }
}

/// One thing removed (or, in a dry run, that would be).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GcItem {
    pub kind: GcKind,
    /// Session id, temporary path or key, or the blob's hex sha256.
    pub name: String,
    /// Bytes freed (for upload sessions, the bytes received so far where known).
    pub bytes: u64,
}

/// What one garbage collection did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    pub items: Vec<GcItem>,
    /// Blobs found in the store without a record: recorded now, with a fresh lease, so a
    /// later run collects them once the grace period has passed (unless a push uses them).
    pub adopted: Vec<String>,
}

impl GcReport {
    pub fn count(&self, kind: GcKind) -> usize {
        self.items.iter().filter(|i| i.kind == kind).count()
    }

    pub fn bytes(&self, kind: GcKind) -> u64 {
        self.items
            .iter()
            .filter(|i| i.kind == kind)
            .map(|i| i.bytes)
            .sum()
    }
}

impl Registry {
    /// Runs garbage collection (see the module documentation).
    pub async fn collect_garbage(&self, options: &GcOptions) -> Result<GcReport> {
        let mut report = GcReport {
            dry_run: options.dry_run,
            ..GcReport::default()
        };
        self.collect_expired_uploads(options.dry_run, &mut report)
            .await?;
        self.collect_temporaries(options, &mut report).await?;
        // Leases must have ended before the run began, so blobs adopted below wait for the
        // grace period whatever its length, in dry runs and real ones alike.
        let grace = chrono::Duration::from_std(options.grace).unwrap_or(chrono::Duration::MAX);
        let cutoff = now() - grace;
        self.adopt_unrecorded_blobs(options.dry_run, &mut report)
            .await?;
        self.collect_unreferenced_blobs(options.dry_run, cutoff, &mut report)
            .await?;
        Ok(report)
    }

    async fn collect_expired_uploads(&self, dry_run: bool, report: &mut GcReport) -> Result<()> {
        let sessions = upload_session::Entity::find()
            .filter(upload_session::Column::ExpiresAt.lte(now()))
            .all(&self.db)
            .await?;
        for session in sessions {
            let received: Vec<i64> = upload_part::Entity::find()
                .select_only()
                .column(upload_part::Column::Size)
                .filter(upload_part::Column::SessionId.eq(&session.id))
                .filter(upload_part::Column::Sha256.is_not_null())
                .into_tuple()
                .all(&self.db)
                .await?;
            if !dry_run {
                // An id the store could not have issued has nothing in the store.
                if let (true, Ok(id)) = (session.kind == "multipart", UploadId::parse(&session.id))
                {
                    self.store.abort_multipart(&id).await?;
                }
                self.forget_session(&session.id).await?;
            }
            report.items.push(GcItem {
                kind: GcKind::ExpiredUpload,
                bytes: received.iter().map(|s| (*s).max(0) as u64).sum(),
                name: session.id,
            });
        }
        let oci = oci_upload::Entity::find()
            .filter(oci_upload::Column::ExpiresAt.lte(now()))
            .all(&self.db)
            .await?;
        for session in oci {
            if !dry_run {
                if let Ok(id) = UploadId::parse(&session.id) {
                    self.store.abort_multipart(&id).await?;
                }
                oci_upload::Entity::delete_by_id(session.id.clone())
                    .exec(&self.db)
                    .await?;
            }
            report.items.push(GcItem {
                kind: GcKind::ExpiredUpload,
                bytes: session.received.unsigned_abs(),
                name: session.id,
            });
        }
        Ok(())
    }

    /// Ids of every upload session in the database (live or expired but not yet swept).
    async fn upload_session_ids(&self) -> Result<HashSet<String>> {
        let library: Vec<String> = upload_session::Entity::find()
            .select_only()
            .column(upload_session::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let oci: Vec<String> = oci_upload::Entity::find()
            .select_only()
            .column(oci_upload::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(library.into_iter().chain(oci).collect())
    }

    async fn collect_temporaries(&self, options: &GcOptions, report: &mut GcReport) -> Result<()> {
        let idle = self
            .store
            .abandoned_temporaries(options.abandoned_after)
            .await?;
        let sessions = self.upload_session_ids().await?;
        for temporary in idle {
            if temporary
                .upload_id
                .as_ref()
                .is_some_and(|id| sessions.contains(id))
            {
                continue;
            }
            if !options.dry_run {
                self.store.remove_temporary(&temporary).await?;
            }
            report.items.push(GcItem {
                kind: GcKind::Temporary,
                name: temporary.name,
                bytes: temporary.size,
            });
        }
        Ok(())
    }

    /// Records blobs the store holds without a `blobs` row (left by a crash between storing
    /// and recording, or written by an older Silo), leased from now.
    async fn adopt_unrecorded_blobs(&self, dry_run: bool, report: &mut GcReport) -> Result<()> {
        let recorded: HashSet<String> = blob::Entity::find()
            .select_only()
            .column(blob::Column::Digest)
            .into_tuple::<String>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        for listed in self.store.list_blobs().await? {
            if recorded.contains(listed.sha256.as_str()) {
                continue;
            }
            if !dry_run {
                let row = blob::ActiveModel {
                    digest: sea_orm::Set(listed.sha256.to_string()),
                    size: sea_orm::Set(listed.size as i64),
                    created_at: sea_orm::Set(now()),
                    last_used_at: sea_orm::Set(now()),
                };
                blob::Entity::insert(row)
                    .on_conflict_do_nothing_on([blob::Column::Digest])
                    .exec_without_returning(&self.db)
                    .await?;
            }
            report.adopted.push(listed.sha256.to_string());
        }
        Ok(())
    }

    async fn collect_unreferenced_blobs(
        &self,
        dry_run: bool,
        cutoff: chrono::DateTime<chrono::Utc>,
        report: &mut GcReport,
    ) -> Result<()> {
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                unreferenced_sql(backend, "SELECT digest, size FROM blobs", false),
                [cutoff.into(), true.into()],
            ))
            .await?;
        for row in rows {
            let digest: String = row.try_get("", "digest")?;
            let size: i64 = row.try_get("", "size")?;
            if digest == NEVER_COLLECTED {
                continue;
            }
            let removed = dry_run || self.collect_blob(&digest, cutoff).await?;
            if removed {
                report.items.push(GcItem {
                    kind: GcKind::Blob,
                    name: digest,
                    bytes: size.max(0) as u64,
                });
            }
        }
        Ok(())
    }
}
