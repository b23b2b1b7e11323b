//! The local-filesystem blob store.
//!
//! # On-disk layout, version 1
//!
//! ```text
//! <root>/                      (by default <data_dir>/blobs)
//!   LAYOUT                     "silo-blob-layout 1"; refused if it names another version
//!   sha256/<aa>/<aabbcc…>      committed blobs, named by the full lower-case hex sha256,
//!                              fanned out by the first two hex digits; immutable
//!   tmp/<random>.part          single-part uploads in progress; never read, removed on
//!                              failure and swept at start-up once idle for an hour
//!   tmp/mp-<upload id>.part    multipart uploads in progress: parts are written at their
//!                              offsets; removed on completion or abort, swept at start-up
//!                              once older than a day (the upload sessions' lifetime)
//!   tmp/mp-<id>.<offset>.done  marks a part written in place (see fs_multipart.rs)
//!   tmp/mp-<id>.<offset>.part  a part sent again, copied in at completion
//! ```
//!
//! A blob is written to `tmp/`, hashed while streaming, checked against the declared digest
//! and size, fsynced and then renamed into `sha256/` (an atomic step on one filesystem), after
//! which the directory is fsynced too (both fsyncs can be turned off, [`FsBlobStore::with_fsync`]). Identical content is stored once: when the target
//! already exists the new copy is dropped.
use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

use super::{
    BlobReader, BlobStore, ByteRange, ByteStream, Expected, StoreError, StoredBlob, UploadId,
};
use crate::names::Sha256Hex;

/// The layout version written to and checked in `<root>/LAYOUT`.
pub const LAYOUT_VERSION: u32 = 1;
const LAYOUT_FILE: &str = "LAYOUT";
/// Downloads are read in pieces of at most this size. Each piece is one hand-over to the
/// blocking thread pool and back; 1 MiB pieces (instead of 256 KiB) cut those thread
/// switches, which dominated the profile of a pull, by four.
const READ_CHUNK: usize = 1024 * 1024;
/// The smallest piece, however many downloads run at once.
const MIN_READ_CHUNK: usize = 128 * 1024;
/// The read-ahead memory all downloads of the process share: with `n` downloads running,
/// each reads pieces of `READ_AHEAD_BUDGET / n` (within the two bounds above), so 50
/// parallel pulls hold about as much as eight fast ones, and one download still gets full
/// 1 MiB pieces.
const READ_AHEAD_BUDGET: usize = 8 * 1024 * 1024;
/// While a blob streams in, what has arrived is handed to the disk in the background every
/// this many bytes (an fdatasync on a second handle), so the disk writes while the network
/// delivers and the final fsync waits only for the last stretch, not for the whole file.
const WRITEBACK_EVERY: u64 = 32 * 1024 * 1024;
/// A single-part temporary not written to for this long belongs to no live upload.
const SINGLE_PART_MAX_IDLE: std::time::Duration = std::time::Duration::from_secs(3600);
/// Multipart temporaries older than this are abandoned (sessions live 24 hours).
const MULTIPART_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(25 * 3600);

#[derive(Clone, Debug)]
pub struct FsBlobStore {
    root: PathBuf,
    /// Whether a blob is fsynced (with its directory) before a push is acknowledged.
    fsync: bool,
    /// Multipart uploads' sha256 as their parts arrive (`fs_multipart.rs`).
    running: multipart::RunningHashes,
}

impl FsBlobStore {
    /// Opens (creating if needed) a store rooted at `root`, checks its layout version and
    /// removes temporary files left by an earlier crash.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        tokio::fs::create_dir_all(root.join("sha256")).await?;
        tokio::fs::create_dir_all(root.join("tmp")).await?;
        let layout = root.join(LAYOUT_FILE);
        let expected = format!("silo-blob-layout {LAYOUT_VERSION}\n");
        match tokio::fs::read_to_string(&layout).await {
            Ok(found) if found == expected => {}
            Ok(found) => {
                return Err(StoreError::Io(std::io::Error::other(format!(
                    "blob store at {} has layout {:?}, this silo understands {:?}",
                    root.display(),
                    found.trim(),
                    expected.trim()
                ))))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tokio::fs::write(&layout, expected).await?;
            }
            Err(e) => return Err(e.into()),
        }
        let store = FsBlobStore {
            root,
            fsync: true,
            running: multipart::RunningHashes::default(),
        };
        store.sweep_temporary_files().await?;
        Ok(store)
    }

    /// With `false`, blobs are not fsynced before a push is acknowledged (`storage.fsync`):
    /// a crash of silo still loses nothing (the kernel has the bytes), a power cut may.
    pub fn with_fsync(mut self, fsync: bool) -> Self {
        self.fsync = fsync;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a committed blob lives.
    pub fn blob_path(&self, sha256: &Sha256Hex) -> PathBuf {
        let hex = sha256.as_str();
        self.root.join("sha256").join(&hex[..2]).join(hex)
    }

    /// Removes what crashed uploads left: single-part temporaries not written to for an hour
    /// (an upload in progress, perhaps through another replica sharing this directory, keeps
    /// writing), multipart files once older than their session could live.
    async fn sweep_temporary_files(&self) -> Result<(), StoreError> {
        let mut entries = tokio::fs::read_dir(self.root.join("tmp")).await?;
        while let Some(entry) = entries.next_entry().await? {
            let multipart = entry.file_name().to_string_lossy().starts_with("mp-");
            let max_age = if multipart {
                MULTIPART_MAX_AGE
            } else {
                SINGLE_PART_MAX_IDLE
            };
            let stale = match entry.metadata().await.and_then(|m| m.modified()) {
                Ok(modified) => modified.elapsed().is_ok_and(|age| age > max_age),
                Err(_) => true,
            };
            if stale {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
        Ok(())
    }

    /// The file of a multipart upload: `tmp/mp-<id>.part` (an [`UploadId`] is hex only).
    fn multipart_path(&self, upload_id: &UploadId) -> PathBuf {
        self.root.join("tmp").join(format!("mp-{upload_id}.part"))
    }

    async fn part_files(&self, upload_id: &UploadId) -> Result<Vec<(u64, PathBuf)>, StoreError> {
        let prefix = format!("mp-{upload_id}.");
        let mut parts = Vec::new();
        let mut entries = tokio::fs::read_dir(self.root.join("tmp")).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().to_string();
            let offset = name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix(".part"))
                .and_then(|o| o.parse::<u64>().ok());
            if let Some(offset) = offset {
                parts.push((offset, entry.path()));
            }
        }
        parts.sort();
        Ok(parts)
    }

    /// Moves a verified temporary file to its content address (or drops it when the content
    /// is already stored).
    async fn commit(
        &self,
        temp: &Path,
        sha256: Sha256Hex,
        size: u64,
    ) -> Result<StoredBlob, StoreError> {
        crate::fault::point("store-commit");
        let target = self.blob_path(&sha256);
        if tokio::fs::try_exists(&target).await? {
            tokio::fs::remove_file(temp).await?;
            return Ok(StoredBlob {
                sha256,
                size,
                newly_stored: false,
            });
        }
        let dir = target.parent().expect("blob paths have a parent");
        tokio::fs::create_dir_all(dir).await?;
        if let Err(e) = tokio::fs::rename(temp, &target).await {
            let _ = tokio::fs::remove_file(temp).await;
            return Err(e.into());
        }
        if self.fsync {
            sync_dir(dir).await?;
        }
        Ok(StoredBlob {
            sha256,
            size,
            newly_stored: true,
        })
    }

    fn temp_path(&self) -> PathBuf {
        let name: String = hex::encode(rand::random::<[u8; 16]>());
        self.root.join("tmp").join(format!("{name}.part"))
    }

    /// Streams `data` into `temp`, hashing it, and checks it against `expected`. With
    /// `durable`, the file is fsynced before this returns (blobs about to be committed);
    /// re-sent multipart parts are not: they become durable in the upload file, which is
    /// fsynced and verified against the whole image's digest before its commit.
    async fn write_temp(
        &self,
        temp: &Path,
        mut data: ByteStream,
        expected: &Expected,
        durable: bool,
    ) -> Result<(Sha256Hex, u64), StoreError> {
        let file = tokio::fs::File::create(temp).await?;
        let mut out = tokio::io::BufWriter::with_capacity(1024 * 1024, file);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        let mut writeback = Writeback::default();
        while let Some(chunk) = data.next().await {
            let chunk = chunk.map_err(StoreError::Interrupted)?;
            size += chunk.len() as u64;
            if let Some(limit) = expected.size {
                if size > limit {
                    return Err(StoreError::SizeMismatch {
                        expected: limit,
                        actual: size,
                    });
                }
            }
            hasher.update(&chunk);
            out.write_all(&chunk).await?;
            if durable && writeback.due(chunk.len() as u64) {
                writeback.finish().await?;
                out.flush().await?;
                writeback.start(out.get_ref().try_clone().await?.into_std().await);
            }
        }
        writeback.finish().await?;
        if let Some(limit) = expected.size {
            if size != limit {
                return Err(StoreError::SizeMismatch {
                    expected: limit,
                    actual: size,
                });
            }
        }
        let actual = super::digest_of(hasher);
        if let Some(want) = &expected.sha256 {
            if *want != actual {
                return Err(StoreError::DigestMismatch {
                    expected: want.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
        out.flush().await?;
        let file = out.into_inner();
        if durable {
            file.sync_all().await?;
        }
        Ok((actual, size))
    }
}

/// Hands what a writer has written to the disk in the background: every [`WRITEBACK_EVERY`]
/// bytes an `fdatasync` on a second handle of the file, one at a time, so the disk writes
/// while the network delivers and the final fsync waits only for the last stretch.
#[derive(Default)]
pub(super) struct Writeback {
    unsynced: u64,
    running: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Writeback {
    /// Counts `len` more bytes written; true when a sync should start now (enough written
    /// since the last one, and that one is done).
    pub(super) fn due(&mut self, len: u64) -> bool {
        self.unsynced += len;
        self.unsynced >= WRITEBACK_EVERY && self.running.as_ref().is_none_or(|r| r.is_finished())
    }

    /// Starts syncing `handle` (a second handle of the file being written).
    pub(super) fn start(&mut self, handle: std::fs::File) {
        self.running = Some(tokio::task::spawn_blocking(move || handle.sync_data()));
        self.unsynced = 0;
    }

    /// Waits for the running sync, if any, and reports its error.
    async fn finish(&mut self) -> std::io::Result<()> {
        match self.running.take() {
            Some(running) => running.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

/// A piece of a download being read on the blocking pool, handing the file back with it.
type PendingRead = tokio::task::JoinHandle<(std::fs::File, std::io::Result<Bytes>)>;

/// Reads `len` bytes at `offset` of `file` on the blocking pool, straight into the buffer
/// that is sent (no second copy, as `tokio::fs::File` makes). The buffer is allocated here,
/// on the async worker that will also free it once sent: were it allocated on the blocking
/// thread, each of the many blocking threads would get an allocator arena of its own, and
/// every arena keeps freed pieces for reuse, which multiplied the resident memory of many
/// parallel downloads.
fn read_piece(file: std::fs::File, offset: u64, len: usize) -> PendingRead {
    let mut buf = BytesMut::zeroed(len);
    tokio::task::spawn_blocking(move || {
        use std::os::unix::fs::FileExt;
        let read = file.read_exact_at(&mut buf, offset).map(|()| buf.freeze());
        (file, read)
    })
}

/// Downloads being streamed by this process, for sizing their pieces.
static ACTIVE_DOWNLOADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One running download, counted in [`ACTIVE_DOWNLOADS`] for as long as it lives.
struct DownloadSlot;

impl DownloadSlot {
    fn take() -> DownloadSlot {
        ACTIVE_DOWNLOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        DownloadSlot
    }

    /// This download's next piece: its share of the read-ahead budget.
    fn piece_size(&self) -> usize {
        let active = ACTIVE_DOWNLOADS
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(1);
        (READ_AHEAD_BUDGET / active).clamp(MIN_READ_CHUNK, READ_CHUNK)
    }
}

impl Drop for DownloadSlot {
    fn drop(&mut self) {
        ACTIVE_DOWNLOADS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Streams `len` bytes of `file` from `offset` in pieces of the download's share of
/// [`READ_AHEAD_BUDGET`]. The next piece is read while the current one is being sent (one
/// piece of read-ahead), so at most two pieces per download are in memory.
fn read_stream(file: std::fs::File, offset: u64, len: u64) -> ByteStream {
    let end = offset + len;
    let slot = DownloadSlot::take();
    let piece =
        move |slot: &DownloadSlot, at: u64| (end - at).min(slot.piece_size() as u64) as usize;
    let first = (len > 0).then(|| read_piece(file, offset, piece(&slot, offset)));
    Box::pin(futures::stream::unfold(
        (first, offset, slot),
        move |(pending, at, slot)| async move {
            let (file, read) = match pending?.await {
                Ok(done) => done,
                Err(e) => return Some((Err(std::io::Error::other(e)), (None, end, slot))),
            };
            match read {
                Ok(bytes) => {
                    let at = at + bytes.len() as u64;
                    let next = (at < end).then(|| read_piece(file, at, piece(&slot, at)));
                    Some((Ok(bytes), (next, at, slot)))
                }
                Err(e) => Some((Err(e), (None, end, slot))),
            }
        },
    ))
}

async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(std::io::Error::other)?
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, data: ByteStream, expected: &Expected) -> Result<StoredBlob, StoreError> {
        let temp = self.temp_path();
        let written = self.write_temp(&temp, data, expected, self.fsync).await;
        let (sha256, size) = match written {
            Ok(ok) => ok,
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                return Err(e);
            }
        };
        self.commit(&temp, sha256, size).await
    }

    async fn open(
        &self,
        sha256: &Sha256Hex,
        range: Option<ByteRange>,
    ) -> Result<BlobReader, StoreError> {
        let path = self.blob_path(sha256);
        let opened = tokio::task::spawn_blocking(move || {
            let file = std::fs::File::open(path)?;
            let size = file.metadata()?.len();
            Ok::<_, std::io::Error>((file, size))
        })
        .await
        .map_err(std::io::Error::other)?;
        let (file, total_size) = match opened {
            Ok(found) => found,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let resolved = match range {
            None => None,
            Some(r) => Some(
                r.resolve(total_size)
                    .ok_or(StoreError::RangeNotSatisfiable { size: total_size })?,
            ),
        };
        let (first, len) = match resolved {
            None => (0, total_size),
            Some((first, last)) => (first, last - first + 1),
        };
        Ok(BlobReader {
            stream: read_stream(file, first, len),
            total_size,
            range: resolved,
        })
    }

    async fn size(&self, sha256: &Sha256Hex) -> Result<Option<u64>, StoreError> {
        match tokio::fs::metadata(self.blob_path(sha256)).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The blob directory is there and a temporary file can be created in `tmp/`.
    async fn check(&self) -> Result<(), StoreError> {
        tokio::fs::metadata(self.root.join("sha256")).await?;
        let probe = self.temp_path();
        tokio::fs::write(&probe, b"").await?;
        tokio::fs::remove_file(&probe).await?;
        Ok(())
    }

    async fn delete(&self, sha256: &Sha256Hex) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.blob_path(sha256)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn list_blobs(&self) -> Result<Vec<super::ListedBlob>, StoreError> {
        self.listed_blobs().await
    }

    async fn abandoned_temporaries(
        &self,
        idle: std::time::Duration,
    ) -> Result<Vec<super::Temporary>, StoreError> {
        self.idle_temporaries(idle).await
    }

    async fn remove_temporary(&self, temporary: &super::Temporary) -> Result<(), StoreError> {
        self.remove_temporary_file(temporary).await
    }

    async fn begin_multipart(&self, upload_id: &UploadId, size: u64) -> Result<(), StoreError> {
        let file = tokio::fs::File::create(self.multipart_path(upload_id)).await?;
        file.set_len(size).await?;
        self.running.start(upload_id);
        Ok(())
    }

    async fn write_part(
        &self,
        upload_id: &UploadId,
        _number: u32,
        offset: u64,
        len: u64,
        data: ByteStream,
        expected_sha256: Option<&Sha256Hex>,
    ) -> Result<Sha256Hex, StoreError> {
        self.write_multipart_part(upload_id, offset, len, data, expected_sha256)
            .await
    }

    async fn complete_multipart(
        &self,
        upload_id: &UploadId,
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError> {
        self.complete_multipart_file(upload_id, expected).await
    }

    async fn append_part(
        &self,
        upload_id: &UploadId,
        offset: u64,
        mut data: ByteStream,
    ) -> Result<u64, StoreError> {
        let path = self.multipart_path(upload_id);
        let mut file = match tokio::fs::OpenOptions::new().append(true).open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let current = file.metadata().await?.len();
        if current != offset {
            return Err(StoreError::RangeNotSatisfiable { size: current });
        }
        let mut written: u64 = 0;
        let outcome: Result<(), StoreError> = async {
            while let Some(chunk) = data.next().await {
                let chunk = chunk.map_err(StoreError::Interrupted)?;
                file.write_all(&chunk).await?;
                written += chunk.len() as u64;
            }
            file.flush().await?;
            Ok(())
        }
        .await;
        if let Err(e) = outcome {
            // A broken chunk is not kept: the upload stays at its previous length.
            let _ = file.set_len(offset).await;
            return Err(e);
        }
        Ok(offset + written)
    }

    async fn abort_multipart(&self, upload_id: &UploadId) -> Result<(), StoreError> {
        self.abort_upload_files(upload_id).await
    }
}

#[path = "fs_maintenance.rs"]
mod maintenance;
#[path = "fs_multipart.rs"]
mod multipart;
#[cfg(test)]
#[path = "fs_tests.rs"]
mod tests;
