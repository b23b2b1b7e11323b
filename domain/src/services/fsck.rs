//! `silo fsck`: the database against the blob store.
//!
//! Problems (the exit status is non-zero while any remains):
//! - **missing**: an uploaded image or an OCI blob whose bytes the store does not hold;
//! - **wrong_size**: the store holds bytes of another size than the records say;
//! - **corrupt** (with `verify`, which rehashes every blob while streaming it): bytes whose
//!   sha256 is not their name.
//!
//! `repair` flags what cannot be recovered instead of serving it: the images become "not
//! uploaded" (they stay in the database with their tags; pulls answer the protocol's
//! not-found error, lists and the web interface no longer show them, and pushing the same
//! image again restores them), OCI blob links are removed (the next push uploads the blob
//! again), and bad bytes are deleted. A wrong size whose bytes hash correctly is a wrong
//! record, and its size is corrected. All of it happens while holding the blob's row, like a
//! push (see `blobs.rs`).
//!
//! Reported for information only: blobs without a record (garbage collection records them and
//! collects them after the grace period unless a push uses them), unreferenced records (GC
//! collects them), records of bytes not stored and referenced by nothing (a push in progress,
//! or left for GC).
use std::collections::{BTreeMap, HashMap, HashSet};

use futures::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::blobs::NEVER_COLLECTED;
use super::Registry;
use crate::entities::{blob, image, oci_blob};
use crate::error::Result;
use crate::names::Sha256Hex;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FsckOptions {
    pub repair: bool,
    pub verify: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FsckProblem {
    Missing,
    WrongSize,
    Corrupt,
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FsckIssue {
    pub problem: FsckProblem,
    /// Hex sha256 of the blob.
    pub digest: String,
    /// What was found, in words.
    pub detail: String,
    /// The records concerned: `image <id>` and `oci_blob <id>`.
    pub records: Vec<String>,
    /// True when `repair` dealt with it (see the module documentation).
    pub repaired: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FsckReport {
    /// Blobs the store holds.
    pub stored_blobs: u64,
    /// Distinct digests uploaded images and OCI blobs reference.
    pub referenced_blobs: u64,
    /// Blobs rehashed (with `verify`).
    pub verified_blobs: u64,
    pub issues: Vec<FsckIssue>,
    /// Stored blobs without a record (garbage collection adopts them).
    pub unrecorded: Vec<String>,
    /// Records of stored blobs that nothing references (garbage collection collects them).
    pub unreferenced: Vec<String>,
    /// Records of blobs the store does not hold and nothing references.
    pub dangling: Vec<String>,
}

impl FsckReport {
    /// Problems found and not repaired.
    pub fn problems_remaining(&self) -> usize {
        self.issues.iter().filter(|i| !i.repaired).count()
    }

    pub fn count(&self, problem: FsckProblem) -> usize {
        self.issues.iter().filter(|i| i.problem == problem).count()
    }
}

/// The records referencing one digest.
#[derive(Default)]
struct References {
    size: Option<i64>,
    records: Vec<String>,
}

impl Registry {
    /// Checks the database against the store (see the module documentation).
    pub async fn fsck(&self, options: FsckOptions) -> Result<FsckReport> {
        let references = self.references().await?;
        let stored: HashMap<String, u64> = self
            .store
            .list_blobs()
            .await?
            .into_iter()
            .map(|b| (b.sha256.to_string(), b.size))
            .collect();
        let recorded: HashSet<String> = blob::Entity::find()
            .select_only()
            .column(blob::Column::Digest)
            .into_tuple::<String>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let mut report = FsckReport {
            stored_blobs: stored.len() as u64,
            referenced_blobs: references.len() as u64,
            ..FsckReport::default()
        };
        let mut corrupt = HashSet::new();
        if options.verify {
            let mut digests: Vec<&String> = stored.keys().collect();
            digests.sort();
            for digest in digests {
                let sha = Sha256Hex::parse(digest)?;
                let (actual, _) = self.rehash(&sha).await?;
                report.verified_blobs += 1;
                if actual != *digest {
                    corrupt.insert(digest.clone());
                    report.issues.push(FsckIssue {
                        problem: FsckProblem::Corrupt,
                        digest: digest.clone(),
                        detail: format!("the bytes hash to sha256:{actual}"),
                        records: references
                            .get(digest)
                            .map(|r| r.records.clone())
                            .unwrap_or_default(),
                        repaired: false,
                    });
                }
            }
        }
        for (digest, refs) in &references {
            let issue = match (stored.get(digest), refs.size) {
                (None, _) if digest == NEVER_COLLECTED => continue,
                (None, _) => (
                    FsckProblem::Missing,
                    "the store does not hold it".to_string(),
                ),
                (Some(&size), Some(want)) if want >= 0 && size != want as u64 => (
                    FsckProblem::WrongSize,
                    format!("the store holds {size} bytes, the records say {want}"),
                ),
                _ => continue,
            };
            if corrupt.contains(digest) {
                continue; // already reported as corrupt
            }
            report.issues.push(FsckIssue {
                problem: issue.0,
                digest: digest.clone(),
                detail: issue.1,
                records: refs.records.clone(),
                repaired: false,
            });
        }
        let mut digests: Vec<&String> = stored.keys().collect();
        digests.sort();
        for digest in digests {
            if !recorded.contains(digest) {
                report.unrecorded.push(digest.clone());
            }
        }
        let mut recorded: Vec<String> = recorded.into_iter().collect();
        recorded.sort();
        for digest in recorded {
            if references.contains_key(&digest) {
                continue;
            }
            if stored.contains_key(&digest) {
                report.unreferenced.push(digest);
            } else {
                report.dangling.push(digest);
            }
        }
        report
            .issues
            .sort_by(|a, b| (a.problem, &a.digest).cmp(&(b.problem, &b.digest)));
        if options.repair {
            for issue in &mut report.issues {
                self.repair(issue).await?;
            }
        }
        Ok(report)
    }

    /// Digest → the uploaded images and OCI blobs that reference it.
    async fn references(&self) -> Result<BTreeMap<String, References>> {
        let mut found: BTreeMap<String, References> = BTreeMap::new();
        let images: Vec<(i64, String, i64)> = image::Entity::find()
            .select_only()
            .columns([
                image::Column::Id,
                image::Column::Sha256,
                image::Column::Size,
            ])
            .filter(image::Column::Uploaded.eq(true))
            .into_tuple()
            .all(&self.db)
            .await?;
        for (id, digest, size) in images {
            let entry = found.entry(digest).or_default();
            entry.size = Some(size);
            entry.records.push(format!("image {id}"));
        }
        let links: Vec<(i64, String, i64)> = oci_blob::Entity::find()
            .select_only()
            .columns([
                oci_blob::Column::Id,
                oci_blob::Column::Digest,
                oci_blob::Column::Size,
            ])
            .into_tuple()
            .all(&self.db)
            .await?;
        for (id, digest, size) in links {
            let entry = found.entry(digest).or_default();
            entry.size.get_or_insert(size);
            entry.records.push(format!("oci_blob {id}"));
        }
        Ok(found)
    }

    /// Streams a blob through sha256: its actual digest (hex) and size.
    async fn rehash(&self, digest: &Sha256Hex) -> Result<(String, u64)> {
        let mut reader = self.store.open(digest, None).await?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = reader.stream.next().await {
            let chunk = chunk.map_err(crate::store::StoreError::Io)?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok((hex::encode(hasher.finalize()), size))
    }

    async fn repair(&self, issue: &mut FsckIssue) -> Result<()> {
        let sha = Sha256Hex::parse(&issue.digest)?;
        let txn = self.hold_blob_row(&sha).await?;
        if issue.problem == FsckProblem::WrongSize {
            let (actual, size) = self.rehash(&sha).await?;
            if actual == issue.digest {
                image::Entity::update_many()
                    .col_expr(image::Column::Size, Expr::value(size as i64))
                    .filter(image::Column::Sha256.eq(sha.as_str()))
                    .exec(&txn)
                    .await?;
                oci_blob::Entity::update_many()
                    .col_expr(oci_blob::Column::Size, Expr::value(size as i64))
                    .filter(oci_blob::Column::Digest.eq(sha.as_str()))
                    .exec(&txn)
                    .await?;
                blob::Entity::update_many()
                    .col_expr(blob::Column::Size, Expr::value(size as i64))
                    .filter(blob::Column::Digest.eq(sha.as_str()))
                    .exec(&txn)
                    .await?;
                txn.commit().await?;
                issue.repaired = true;
                issue
                    .detail
                    .push_str("; the bytes are intact: records corrected");
                return Ok(());
            }
        }
        if issue.problem != FsckProblem::Missing {
            self.store.delete(&sha).await?;
        }
        image::Entity::update_many()
            .col_expr(image::Column::Uploaded, Expr::value(false))
            .filter(image::Column::Sha256.eq(sha.as_str()))
            .exec(&txn)
            .await?;
        oci_blob::Entity::delete_many()
            .filter(oci_blob::Column::Digest.eq(sha.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        issue.repaired = true;
        issue
            .detail
            .push_str("; flagged: images not uploaded, OCI links removed");
        Ok(())
    }
}
