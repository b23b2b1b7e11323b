//! Multipart uploads in the filesystem store, written in place.
//!
//! `begin` creates `tmp/mp-<id>.part` at the upload's full size. The first time a part is
//! sent, its writer creates `tmp/mp-<id>.<offset>.done` (`O_EXCL`: one writer per part, ever,
//! also between replicas sharing the directory) and streams the part straight into the file
//! at its offset, hashed on the way and refused when it does not match its announced sha256.
//! A part sent again is staged in a file of its own (`tmp/mp-<id>.<offset>.part`) and copied
//! in only at completion, so a broken re-send never spoils bytes that were good.
//!
//! The image's sha256 is computed as the parts arrive when they come in order: a part that
//! starts where the running hash ends continues it, and only once the part has been written
//! in full and verified (its bytes on disk are then exactly the bytes hashed, as nobody else
//! writes that range in place). Completion hashes from disk whatever the running hash does
//! not cover: nothing for in-order uploads to this process, the rest after a gap, the whole
//! file when a staged part was copied in. The disk has been writing each part back since it
//! arrived, so an in-order upload completes with little more than the last fsync.
//!
//! Part writers hold a shared `flock` on the upload file and completion an exclusive one,
//! kept until the file has been renamed to its blob: a part still streaming delays the
//! completion, and a part that comes later finds the file gone (writers check, under their
//! lock, that the path still names the file they opened). Nothing is ever written into a
//! committed blob. `flock` locks belong to the open file, so this also holds between
//! replicas that share the directory.
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{FsBlobStore, Writeback};
use crate::names::Sha256Hex;
use crate::store::{digest_of, ByteStream, Expected, StoreError, StoredBlob, UploadId};

/// Bytes gathered before one positioned write on the blocking pool.
const WRITE_PIECE: usize = 1024 * 1024;

/// The sha256 of an upload's first `hashed` bytes, as its parts arrived in order.
#[derive(Clone)]
pub(super) struct RunningHash {
    hasher: Sha256,
    hashed: u64,
    /// When the upload began: a hash kept longer than a session lives belongs to an upload
    /// that ended elsewhere (swept or aborted through another replica) and is dropped.
    began: std::time::Instant,
}

/// The running hashes of the uploads this process receives parts of. A writer takes its
/// upload's hash out while it extends it, so concurrent parts never share one. Parts tile
/// the file without overlapping (the service derives each part's offset and length from its
/// number), so bytes once hashed are never written over in place.
#[derive(Clone, Default)]
pub(super) struct RunningHashes(Arc<Mutex<HashMap<String, RunningHash>>>);

impl std::fmt::Debug for RunningHashes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RunningHashes({})", self.lock().len())
    }
}

impl RunningHashes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunningHash>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn start(&self, upload_id: &UploadId) {
        self.start_dropping_older_than(upload_id, super::MULTIPART_MAX_AGE);
    }

    /// Starts a hash for `upload_id`, dropping those of uploads begun more than `max_age` ago.
    fn start_dropping_older_than(&self, upload_id: &UploadId, max_age: std::time::Duration) {
        let fresh = RunningHash {
            hasher: Sha256::new(),
            hashed: 0,
            began: std::time::Instant::now(),
        };
        let mut hashes = self.lock();
        hashes.retain(|_, hash| hash.began.elapsed() <= max_age);
        hashes.insert(upload_id.to_string(), fresh);
    }

    /// The running hash, taken out, when a part starting at `offset` continues it.
    fn take_if_continued_at(&self, upload_id: &UploadId, offset: u64) -> Option<RunningHash> {
        let mut hashes = self.lock();
        let key = upload_id.to_string();
        if hashes.get(&key).is_some_and(|h| h.hashed == offset) {
            hashes.remove(&key)
        } else {
            None
        }
    }

    fn put_back(&self, upload_id: &UploadId, hash: RunningHash) {
        self.lock().insert(upload_id.to_string(), hash);
    }

    pub(super) fn forget(&self, upload_id: &UploadId) -> Option<RunningHash> {
        self.lock().remove(&upload_id.to_string())
    }
}

/// Extends a running hash on a blocking thread of its own while the part streams in, so a
/// part's two hashes (its own, checked against the sha256 the client announced, and the
/// image's) run on two cores instead of one after the other.
struct HashBehind {
    chunks: tokio::sync::mpsc::Sender<Bytes>,
    done: tokio::task::JoinHandle<RunningHash>,
}

impl HashBehind {
    /// Chunks waiting for the hashing thread (a few MiB at most).
    const QUEUE: usize = 64;

    fn start(mut running: RunningHash) -> HashBehind {
        let (chunks, mut queue) = tokio::sync::mpsc::channel::<Bytes>(Self::QUEUE);
        let done = tokio::task::spawn_blocking(move || {
            while let Some(chunk) = queue.blocking_recv() {
                running.hasher.update(&chunk);
                running.hashed += chunk.len() as u64;
            }
            running
        });
        HashBehind { chunks, done }
    }

    async fn feed(&self, chunk: Bytes) -> Result<(), StoreError> {
        self.chunks
            .send(chunk)
            .await
            .map_err(|_| StoreError::Io(std::io::Error::other("the hashing thread ended")))
    }

    async fn finish(self) -> Result<RunningHash, StoreError> {
        drop(self.chunks);
        self.done.await.map_err(join_error)
    }
}

fn join_error(e: tokio::task::JoinError) -> StoreError {
    StoreError::Io(std::io::Error::other(e))
}

/// Opens an upload file for writing under a shared (part writers) or exclusive (completion)
/// lock. `NotFound` when the upload was completed or aborted, also while this waited.
fn open_locked(path: &Path, exclusive: bool) -> Result<std::fs::File, StoreError> {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound),
        Err(e) => return Err(e.into()),
    };
    if exclusive {
        file.lock()?;
    } else {
        file.lock_shared()?;
    }
    let ours = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(now) if now.ino() == ours.ino() && now.dev() == ours.dev() => Ok(file),
        Ok(_) => Err(StoreError::NotFound),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Positioned writes on the blocking pool, one in flight while the next piece arrives.
struct PlacedWriter {
    file: Option<std::fs::File>,
    pending: Option<tokio::task::JoinHandle<(std::fs::File, std::io::Result<()>)>>,
    at: u64,
    /// With `storage.fsync`: what has been written is handed to the disk every
    /// [`super::WRITEBACK_EVERY`] bytes, as single-part uploads do, so the disk writes while
    /// the part arrives.
    writeback: Option<Writeback>,
}

impl PlacedWriter {
    fn new(file: std::fs::File, at: u64, durable: bool) -> PlacedWriter {
        PlacedWriter {
            file: Some(file),
            pending: None,
            at,
            writeback: durable.then(Writeback::default),
        }
    }

    /// Starts a background `fdatasync` when enough has been written since the last one and
    /// that one is done. The sync's handle shares the open file, and with it the part's
    /// shared lock, so completion also waits for it.
    fn write_back(&mut self, file: &std::fs::File, len: u64) {
        let Some(writeback) = &mut self.writeback else {
            return;
        };
        if writeback.due(len) {
            if let Ok(handle) = file.try_clone() {
                // Errors are left to completion's own fsync, which reports them.
                writeback.start(handle);
            }
        }
    }

    async fn settle(&mut self) -> Result<(), StoreError> {
        if let Some(pending) = self.pending.take() {
            let (file, written) = pending.await.map_err(join_error)?;
            self.file = Some(file);
            written?;
        }
        Ok(())
    }

    async fn write(&mut self, bytes: Bytes) -> Result<(), StoreError> {
        self.settle().await?;
        let file = self
            .file
            .take()
            .expect("the file is back once no write is pending");
        // What the previous writes put in the page cache starts going to the disk.
        self.write_back(&file, bytes.len() as u64);
        let at = self.at;
        self.at += bytes.len() as u64;
        self.pending = Some(tokio::task::spawn_blocking(move || {
            let written = file.write_all_at(&bytes, at);
            (file, written)
        }));
        Ok(())
    }

    async fn finish(mut self) -> Result<std::fs::File, StoreError> {
        self.settle().await?;
        Ok(self.file.take().expect("settled"))
    }
}

/// Copies a staged part into the upload file at `offset`.
fn copy_in(file: &std::fs::File, part: &Path, offset: u64) -> std::io::Result<()> {
    let staged = std::fs::File::open(part)?;
    let mut buf = vec![0u8; WRITE_PIECE];
    let mut at: u64 = 0;
    loop {
        let n = staged.read_at(&mut buf, at)?;
        if n == 0 {
            return Ok(());
        }
        file.write_all_at(&buf[..n], offset + at)?;
        at += n as u64;
    }
}

/// The sha256 and length of a whole file: `running` continued with what follows it on disk
/// (the whole file without one).
fn hash_rest(
    file: &std::fs::File,
    running: Option<RunningHash>,
) -> std::io::Result<(Sha256Hex, u64)> {
    let (mut hasher, hashed) = match running {
        Some(running) => (running.hasher, running.hashed),
        None => (Sha256::new(), 0),
    };
    let mut buf = vec![0u8; WRITE_PIECE];
    let mut size = hashed;
    loop {
        let n = file.read_at(&mut buf, size)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    let sha256 = digest_of(hasher);
    Ok((sha256, size))
}

impl FsBlobStore {
    fn done_marker(&self, upload_id: &UploadId, offset: u64) -> std::path::PathBuf {
        self.root
            .join("tmp")
            .join(format!("mp-{upload_id}.{offset}.done"))
    }

    /// Writes one part: in place the first time, staged when it was written before.
    pub(super) async fn write_multipart_part(
        &self,
        upload_id: &UploadId,
        offset: u64,
        len: u64,
        data: ByteStream,
        expected_sha256: Option<&Sha256Hex>,
    ) -> Result<Sha256Hex, StoreError> {
        let main = self.multipart_path(upload_id);
        if !tokio::fs::try_exists(&main).await? {
            return Err(StoreError::NotFound);
        }
        let claimed = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.done_marker(upload_id, offset))
            .await;
        match claimed {
            Ok(_) => {
                let written = self
                    .write_in_place(upload_id, &main, offset, len, data, expected_sha256)
                    .await;
                if let Err(StoreError::NotFound) = written {
                    // Completed or aborted meanwhile: leave nothing behind.
                    let _ = tokio::fs::remove_file(self.done_marker(upload_id, offset)).await;
                }
                written
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                self.stage_part(upload_id, offset, len, data, expected_sha256)
                    .await
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn write_in_place(
        &self,
        upload_id: &UploadId,
        main: &Path,
        offset: u64,
        len: u64,
        mut data: ByteStream,
        expected_sha256: Option<&Sha256Hex>,
    ) -> Result<Sha256Hex, StoreError> {
        let opening = main.to_path_buf();
        let file = tokio::task::spawn_blocking(move || open_locked(&opening, false))
            .await
            .map_err(join_error)??;
        let mut writer = PlacedWriter::new(file, offset, self.fsync);
        let mut hasher = Sha256::new();
        // Extended on a copy, kept only once this part is written and verified in full.
        let before = self.running.take_if_continued_at(upload_id, offset);
        let behind = before.clone().map(HashBehind::start);
        let outcome = self
            .stream_in_place(&mut writer, &mut hasher, behind.as_ref(), len, &mut data)
            .await;
        let written = match outcome {
            Ok(()) => writer.finish().await,
            Err(e) => Err(e),
        };
        let verdict = written.and_then(|file| {
            let actual = digest_of(hasher);
            match expected_sha256 {
                Some(want) if *want != actual => Err(StoreError::DigestMismatch {
                    expected: want.to_string(),
                    actual: actual.to_string(),
                }),
                _ => Ok((file, actual)),
            }
        });
        let running = match (&verdict, behind) {
            (Ok(_), Some(behind)) => behind.finish().await.ok(),
            _ => None,
        };
        let (file, actual) = match verdict {
            Ok(done) => done,
            Err(e) => {
                if let Some(before) = before {
                    self.running.put_back(upload_id, before);
                }
                return Err(e);
            }
        };
        // Without it (its thread failed), completion hashes from disk instead.
        if let Some(running) = running {
            self.running.put_back(upload_id, running);
        }
        if self.fsync {
            // Start writing this part back now, so completion's fsync finds little left.
            // Completion fsyncs (and reports errors) itself; this holds the shared lock
            // until done, so completion also waits for it.
            tokio::task::spawn_blocking(move || file.sync_data());
        }
        Ok(actual)
    }

    /// Streams a part into place, feeding its hash and (when it continues it) the running
    /// hash; exactly `len` bytes or an error.
    async fn stream_in_place(
        &self,
        writer: &mut PlacedWriter,
        hasher: &mut Sha256,
        behind: Option<&HashBehind>,
        len: u64,
        data: &mut ByteStream,
    ) -> Result<(), StoreError> {
        let mut piece = BytesMut::with_capacity(WRITE_PIECE);
        let mut size: u64 = 0;
        while let Some(chunk) = data.next().await {
            let chunk = chunk.map_err(StoreError::Interrupted)?;
            size += chunk.len() as u64;
            if size > len {
                // Checked before writing: a part never reaches into its neighbour's bytes.
                return Err(StoreError::SizeMismatch {
                    expected: len,
                    actual: size,
                });
            }
            if let Some(behind) = behind {
                behind.feed(chunk.clone()).await?;
            }
            hasher.update(&chunk);
            piece.extend_from_slice(&chunk);
            if piece.len() >= WRITE_PIECE {
                writer.write(piece.split().freeze()).await?;
            }
        }
        if !piece.is_empty() {
            writer.write(piece.freeze()).await?;
        }
        if size != len {
            return Err(StoreError::SizeMismatch {
                expected: len,
                actual: size,
            });
        }
        Ok(())
    }

    /// A re-sent part: staged apart, moved to `mp-<id>.<offset>.part` only once verified.
    async fn stage_part(
        &self,
        upload_id: &UploadId,
        offset: u64,
        len: u64,
        data: ByteStream,
        expected_sha256: Option<&Sha256Hex>,
    ) -> Result<Sha256Hex, StoreError> {
        let staged = self.root.join("tmp").join(format!(
            "mp-{upload_id}.{offset}.{}.staged",
            hex::encode(rand::random::<[u8; 8]>())
        ));
        let expected = Expected {
            sha256: expected_sha256.cloned(),
            size: Some(len),
        };
        let (sha256, _) = match self.write_temp(&staged, data, &expected, false).await {
            Ok(done) => done,
            Err(e) => {
                let _ = tokio::fs::remove_file(&staged).await;
                return Err(e);
            }
        };
        let part = self
            .root
            .join("tmp")
            .join(format!("mp-{upload_id}.{offset}.part"));
        if let Err(e) = tokio::fs::rename(&staged, &part).await {
            let _ = tokio::fs::remove_file(&staged).await;
            return Err(e.into());
        }
        Ok(sha256)
    }

    /// Copies staged parts in, verifies the whole file against `expected` and commits it.
    pub(super) async fn complete_multipart_file(
        &self,
        upload_id: &UploadId,
        expected: &Expected,
    ) -> Result<StoredBlob, StoreError> {
        let path = self.multipart_path(upload_id);
        let (locking, fsync, running) = (path.clone(), self.fsync, self.running.clone());
        let parts = self.part_files(upload_id).await?;
        let id = upload_id.clone();
        let finished = tokio::task::spawn_blocking(move || {
            let file = open_locked(&locking, true)?;
            // Under the lock no part is in flight: the running hash is final. A staged part
            // copied in may change hashed bytes, so then everything is read again.
            let running = running.forget(&id).filter(|_| parts.is_empty());
            for (offset, part) in &parts {
                copy_in(&file, part, *offset)?;
            }
            let (sha256, size) = hash_rest(&file, running)?;
            if fsync {
                file.sync_all()?;
            }
            Ok::<_, StoreError>((file, sha256, size))
        })
        .await
        .map_err(join_error)?;
        let (locked, sha256, size) = match finished {
            Ok(done) => done,
            Err(StoreError::NotFound) => return Err(StoreError::NotFound),
            Err(e) => {
                self.abort_upload_files(upload_id).await?;
                return Err(e);
            }
        };
        let mismatch = match (expected.size, expected.sha256.as_ref()) {
            (Some(want), _) if want != size => Some(StoreError::SizeMismatch {
                expected: want,
                actual: size,
            }),
            (_, Some(want)) if *want != sha256 => Some(StoreError::DigestMismatch {
                expected: want.to_string(),
                actual: sha256.to_string(),
            }),
            _ => None,
        };
        if let Some(e) = mismatch {
            drop(locked);
            self.abort_upload_files(upload_id).await?;
            return Err(e);
        }
        let committed = self.commit(&path, sha256, size).await;
        drop(locked);
        self.remove_upload_leftovers(upload_id).await?;
        committed
    }

    /// Removes an upload's part markers and staged parts (not its main file).
    async fn remove_upload_leftovers(&self, upload_id: &UploadId) -> Result<(), StoreError> {
        let prefix = format!("mp-{upload_id}.");
        let main = format!("mp-{upload_id}.part");
        let mut entries = tokio::fs::read_dir(self.root.join("tmp")).await?;
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with(&prefix) && name != main {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
        Ok(())
    }

    /// Removes everything of an upload: its leftovers and its main file.
    pub(super) async fn abort_upload_files(&self, upload_id: &UploadId) -> Result<(), StoreError> {
        self.running.forget(upload_id);
        self.remove_upload_leftovers(upload_id).await?;
        match tokio::fs::remove_file(self.multipart_path(upload_id)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A running hash outlives no upload session: starting another upload drops the hashes
    /// of uploads begun longer ago than a session lives (ended through another replica,
    /// say), and keeps the others.
    #[test]
    fn old_running_hashes_are_dropped() {
        let hashes = RunningHashes::default();
        let (old, recent) = (
            UploadId::parse("aa01").unwrap(),
            UploadId::parse("bb02").unwrap(),
        );
        hashes.start(&old);
        std::thread::sleep(std::time::Duration::from_millis(400));
        hashes.start(&recent);
        let newest = UploadId::parse("cc03").unwrap();
        hashes.start_dropping_older_than(&newest, std::time::Duration::from_millis(200));
        assert!(
            hashes.forget(&old).is_none(),
            "the old upload's hash is gone"
        );
        assert!(hashes.forget(&recent).is_some());
        assert!(hashes.forget(&newest).is_some());
    }
}
