//! Content-addressed blob storage behind one small trait.
//!
//! Every backend streams: `put` hashes the bytes as they arrive, refuses them unless they match
//! the declared sha256 and size, and only then makes them visible under their digest, so a
//! failed or interrupted upload never leaves a readable partial blob.
use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use std::pin::Pin;

use crate::names::Sha256Hex;

pub mod fs;
pub mod s3;
mod s3_requests;
mod s3_settings;
#[cfg(test)]
#[path = "s3_tests.rs"]
mod s3_tests;
#[cfg(test)]
pub mod suite;

pub use fs::FsBlobStore;
pub use s3::{S3BlobStore, S3Settings};

/// The digest a finished hasher holds.
pub(crate) fn digest_of(hasher: sha2::Sha256) -> Sha256Hex {
    use sha2::Digest;
    Sha256Hex::parse(&hex::encode(hasher.finalize())).expect("a sha256 digest is valid hex")
}

/// A stream of bytes flowing in or out of the store.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("blob not found")]
    NotFound,
    #[error("sha256 mismatch: expected {expected}, received {actual}")]
    DigestMismatch { expected: String, actual: String },
    #[error("size mismatch: expected {expected} bytes, received {actual}")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("range not satisfiable for a blob of {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// The incoming stream failed (for example the client disconnected).
    #[error("upload stream failed: {0}")]
    Interrupted(std::io::Error),
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// What the writer promised to send. Both are checked before the blob becomes visible.
#[derive(Clone, Debug, Default)]
pub struct Expected {
    pub sha256: Option<Sha256Hex>,
    pub size: Option<u64>,
}

impl Expected {
    /// Refuses a write that has already grown past the promised size.
    pub fn check_running_size(&self, received: u64) -> Result<(), StoreError> {
        match self.size {
            Some(limit) if received > limit => Err(StoreError::SizeMismatch {
                expected: limit,
                actual: received,
            }),
            _ => Ok(()),
        }
    }

    /// Checks a finished write's size and digest against the promise.
    pub fn check_complete(&self, sha256: &Sha256Hex, size: u64) -> Result<(), StoreError> {
        if let Some(limit) = self.size.filter(|limit| *limit != size) {
            return Err(StoreError::SizeMismatch {
                expected: limit,
                actual: size,
            });
        }
        match &self.sha256 {
            Some(want) if want != sha256 => Err(StoreError::DigestMismatch {
                expected: want.to_string(),
                actual: sha256.to_string(),
            }),
            _ => Ok(()),
        }
    }
}

/// A committed blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    pub sha256: Sha256Hex,
    pub size: u64,
    /// False when identical content was already stored and the new copy was dropped.
    pub newly_stored: bool,
}

/// A committed blob, as a listing of the store finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedBlob {
    pub sha256: Sha256Hex,
    pub size: u64,
}

/// Something an upload left in the store's temporary area (a file of `tmp/`, an object or a
/// group of objects under `uploads/`), idle for a while.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Temporary {
    /// The path or key (prefix) inside the store, for reports and for removal.
    pub name: String,
    pub size: u64,
    /// The upload session it belongs to, when its name says (multipart and chunked uploads);
    /// garbage collection leaves those of live sessions alone.
    pub upload_id: Option<String>,
}

/// The id of a multipart or chunked upload as the stores name their files and objects by it:
/// 1 to 128 lower-case hex digits. Every store key comes from this type or [`Sha256Hex`], so
/// no client-supplied text (`../`, `/`, NUL) can reach a path or an object key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct UploadId(String);

impl UploadId {
    /// Longest accepted id.
    pub const MAX_LEN: usize = 128;

    /// Accepts 1 to [`UploadId::MAX_LEN`] lower-case hex digits; anything else is
    /// [`StoreError::NotFound`] (an id the store cannot have issued).
    pub fn parse(id: &str) -> Result<Self, StoreError> {
        let valid = !id.is_empty()
            && id.len() <= Self::MAX_LEN
            && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid {
            Ok(UploadId(id.to_string()))
        } else {
            Err(StoreError::NotFound)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UploadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An inclusive byte range, `first..=last`, as HTTP `Range` expresses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteRange {
    pub first: u64,
    /// `None` means "to the end".
    pub last: Option<u64>,
}

impl ByteRange {
    /// Clamps the range to a blob of `size` bytes; `None` when it starts past the end.
    pub fn resolve(&self, size: u64) -> Option<(u64, u64)> {
        if self.first >= size {
            return None;
        }
        let last = self.last.map_or(size - 1, |l| l.min(size - 1));
        (last >= self.first).then_some((self.first, last))
    }
}

/// An open blob, ready to stream.
pub struct BlobReader {
    pub stream: ByteStream,
    /// Size of the whole blob.
    pub total_size: u64,
    /// The resolved inclusive range being streamed, when a range was asked for.
    pub range: Option<(u64, u64)>,
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `data` into the store, verifying it against `expected` before committing.
    async fn put(&self, data: ByteStream, expected: &Expected) -> Result<StoredBlob, StoreError>;
    /// Opens a blob, optionally a byte range of it.
    async fn open(
        &self,
        sha256: &Sha256Hex,
        range: Option<ByteRange>,
    ) -> Result<BlobReader, StoreError>;
    /// The size of a stored blob, or `None` when it is absent.
    async fn size(&self, sha256: &Sha256Hex) -> Result<Option<u64>, StoreError>;
    /// Removes a blob; absent blobs are not an error. Only garbage collection calls this
    /// (`services/blobs.rs`).
    async fn delete(&self, sha256: &Sha256Hex) -> Result<(), StoreError>;
    /// A cheap check that the store answers and would accept writes, for readiness probes
    /// (`/readyz`): no blob is read or written.
    async fn check(&self) -> Result<(), StoreError>;
    /// Every committed blob, in digest order (for garbage collection and `silo fsck`).
    async fn list_blobs(&self) -> Result<Vec<ListedBlob>, StoreError>;
    /// What uploads left in the temporary area and has not been written to for `idle`.
    async fn abandoned_temporaries(
        &self,
        idle: std::time::Duration,
    ) -> Result<Vec<Temporary>, StoreError>;
    /// Removes one of [`BlobStore::abandoned_temporaries`] (aborting an unfinished native
    /// multipart upload it stands for); already gone is not an error.
    async fn remove_temporary(&self, temporary: &Temporary) -> Result<(), StoreError>;

    /// Prepares a multipart upload of `size` bytes under `upload_id` (lower-case hex).
    async fn begin_multipart(&self, upload_id: &UploadId, size: u64) -> Result<(), StoreError>;
    /// Writes part `number` (1-based), exactly `len` bytes at `offset`; returns the part's
    /// sha256. A part that does not match `expected_sha256` is refused. Parts may arrive in
    /// any order, concurrently, and may be re-sent.
    #[allow(clippy::too_many_arguments)]
    async fn write_part(
        &self,
        upload_id: &UploadId,
        number: u32,
        offset: u64,
        len: u64,
        data: ByteStream,
        expected_sha256: Option<&Sha256Hex>,
    ) -> Result<Sha256Hex, StoreError>;
    /// Verifies the assembled upload against `expected` and commits it like `put`.
    async fn complete_multipart(
        &self,
        upload_id: &UploadId,
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError>;
    /// Completes a multipart upload whose parts the client sent straight to the backend
    /// ([`BlobStore::presigned_part`]); `parts` are the client's (part number, ETag) pairs.
    async fn complete_direct_multipart(
        &self,
        upload_id: &UploadId,
        parts: &[(u32, String)],
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError> {
        let _ = parts;
        self.complete_multipart(upload_id, expected).await
    }
    /// Discards a multipart upload; unknown ids are not an error.
    async fn abort_multipart(&self, upload_id: &UploadId) -> Result<(), StoreError>;
    /// Reads up to `len` bytes at `first` into memory (fewer at the end of the blob); for
    /// small reads only, such as a SIF header or descriptor table.
    async fn read_range_bytes(
        &self,
        sha256: &Sha256Hex,
        first: u64,
        len: u64,
    ) -> Result<Vec<u8>, StoreError> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let range = ByteRange {
            first,
            last: Some(first.saturating_add(len - 1)),
        };
        let mut reader = match self.open(sha256, Some(range)).await {
            Err(StoreError::RangeNotSatisfiable { .. }) => return Ok(Vec::new()),
            other => other?,
        };
        let mut out = Vec::with_capacity(usize::try_from(len.min(1 << 20)).unwrap_or(0));
        while let Some(chunk) = futures::StreamExt::next(&mut reader.stream).await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    /// A URL from which anyone holding it may download the blob (with ranges) straight from
    /// the backend for a limited time; `None` when the backend serves no such URLs (Silo
    /// then streams the bytes itself).
    fn presigned_download(&self, sha256: &Sha256Hex, filename: Option<&str>) -> Option<String> {
        let _ = (sha256, filename);
        None
    }

    /// True when [`BlobStore::presigned_download`] gives URLs.
    fn redirects_downloads(&self) -> bool {
        false
    }

    /// True when clients send multipart upload parts straight to the backend through
    /// [`BlobStore::presigned_part`] URLs, so that Silo never sees them (the backend then
    /// finds the parts itself when the upload completes).
    fn takes_direct_parts(&self) -> bool {
        false
    }

    /// The URL a client sends part `number` of a multipart upload to, bypassing Silo; with
    /// `sha256` the backend refuses other bytes. `None` when parts go through Silo.
    async fn presigned_part(
        &self,
        upload_id: &UploadId,
        number: u32,
        sha256: Option<&Sha256Hex>,
    ) -> Result<Option<String>, StoreError> {
        let _ = (upload_id, number, sha256);
        Ok(None)
    }

    /// Appends `data` to a multipart upload begun with size 0, whose current length must be
    /// exactly `offset` (otherwise `RangeNotSatisfiable` with the current length); returns
    /// the new length. This is how chunked OCI uploads grow, in order.
    async fn append_part(
        &self,
        upload_id: &UploadId,
        offset: u64,
        data: ByteStream,
    ) -> Result<u64, StoreError> {
        let _ = (upload_id, offset, data);
        Err(StoreError::Io(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "this blob store cannot append to uploads",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every store key is an `UploadId` or a `Sha256Hex`; neither can hold a path.
    #[test]
    fn hostile_upload_ids_are_unrepresentable() {
        let long = "a".repeat(UploadId::MAX_LEN + 1);
        for hostile in [
            "",
            "..",
            "../x",
            "../../etc/passwd",
            "/etc/passwd",
            "a/b",
            "a\\b",
            "ab\0cd",
            "%2e%2e",
            "ABC",
            "ab cd",
            "é",
            &long,
        ] {
            assert!(UploadId::parse(hostile).is_err(), "{hostile:?}");
            assert!(Sha256Hex::parse(hostile).is_err(), "{hostile:?}");
        }
        let longest = "f".repeat(UploadId::MAX_LEN);
        assert_eq!(UploadId::parse(&longest).unwrap().as_str(), longest);
        let hex = "0".repeat(64);
        for hostile in [format!("../{}", &hex[3..]), format!("/{}", &hex[1..])] {
            assert!(Sha256Hex::parse(&hostile).is_err(), "{hostile:?}");
        }
    }
}
