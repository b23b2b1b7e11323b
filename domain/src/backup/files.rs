//! Files of a backup directory: private permissions, hashed writes, atomic renames.
use futures::StreamExt;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{DomainError, Result};
use crate::store::ByteStream;

/// Read buffer for hashing files.
const CHUNK: usize = 256 * 1024;

pub fn io_error(what: &str, path: &Path, err: std::io::Error) -> DomainError {
    DomainError::Storage(format!("cannot {what} {}: {err}", path.display()))
}

/// Creates `dir` (and its parents) and makes it 0700.
pub async fn private_dir(dir: &Path) -> Result<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io_error("create", dir, e))?;
    set_mode(dir, 0o700).await
}

async fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .await
            .map_err(|e| io_error("set permissions of", path, e))?;
    }
    let _ = (path, mode);
    Ok(())
}

/// A file being written under a temporary name, 0600, hashed as it grows; `finish` syncs it
/// and renames it into place.
pub struct HashedFile {
    file: tokio::io::BufWriter<tokio::fs::File>,
    hasher: Sha256,
    written: u64,
    temporary: PathBuf,
    path: PathBuf,
}

impl HashedFile {
    pub async fn create(path: &Path) -> Result<HashedFile> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let temporary =
            path.with_file_name(format!(".{name}.{}.part", crate::services::random_hex(6)));
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options
            .open(&temporary)
            .await
            .map_err(|e| io_error("create", &temporary, e))?;
        Ok(HashedFile {
            file: tokio::io::BufWriter::with_capacity(CHUNK, file),
            hasher: Sha256::new(),
            written: 0,
            temporary,
            path: path.to_path_buf(),
        })
    }

    pub async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        let temporary = &self.temporary;
        self.file
            .write_all(bytes)
            .await
            .map_err(|e| io_error("write", temporary, e))
    }

    /// The hex sha256 and size of what was written, before committing.
    pub fn digest(&self) -> (String, u64) {
        (hex::encode(self.hasher.clone().finalize()), self.written)
    }

    /// Syncs and renames the file into place.
    pub async fn finish(mut self) -> Result<()> {
        let result = async {
            self.file.flush().await?;
            self.file.get_ref().sync_all().await?;
            tokio::fs::rename(&self.temporary, &self.path).await
        }
        .await;
        if let Err(err) = result {
            let _ = tokio::fs::remove_file(&self.temporary).await;
            return Err(io_error("write", &self.path, err));
        }
        Ok(())
    }

    /// Drops the temporary file.
    pub async fn discard(self) {
        let _ = tokio::fs::remove_file(&self.temporary).await;
    }
}

/// Streams `data` into a new file at `path`, refusing (and keeping nothing) unless it has
/// exactly `size` bytes hashing to `sha256`.
pub async fn write_verified(
    path: &Path,
    mut data: ByteStream,
    sha256: &str,
    size: u64,
) -> Result<()> {
    let mut file = HashedFile::create(path).await?;
    while let Some(chunk) = data.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(err) => {
                file.discard().await;
                return Err(DomainError::Storage(format!(
                    "reading blob {sha256}: {err}"
                )));
            }
        };
        if let Err(err) = file.write(&chunk).await {
            file.discard().await;
            return Err(err);
        }
    }
    let (actual, written) = file.digest();
    if actual != sha256 || written != size {
        file.discard().await;
        return Err(DomainError::Storage(format!(
            "blob {sha256} read back from the store as {written} bytes with sha256 {actual} \
             (expected {size} bytes)"
        )));
    }
    file.finish().await
}

/// The hex sha256 and size of a file, read in chunks; `None` when it does not exist.
pub async fn hash_file(path: &Path) -> Result<Option<(String, u64)>> {
    let mut file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error("open", path, e)),
    };
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let read = file
            .read(&mut buffer)
            .await
            .map_err(|e| io_error("read", path, e))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok(Some((hex::encode(hasher.finalize()), size)))
}

/// Opens a file as a stream of chunks.
pub async fn file_stream(path: &Path) -> Result<ByteStream> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| io_error("open", path, e))?;
    Ok(Box::pin(tokio_util::io::ReaderStream::with_capacity(
        file, CHUNK,
    )))
}

/// Reads a JSON Lines file one line at a time.
pub async fn lines(path: &Path) -> Result<tokio::io::Lines<tokio::io::BufReader<tokio::fs::File>>> {
    use tokio::io::AsyncBufReadExt;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| io_error("open", path, e))?;
    Ok(tokio::io::BufReader::with_capacity(CHUNK, file).lines())
}
