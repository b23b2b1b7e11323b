//! Silo's own reader for SIF (Singularity Image Format) images.
//!
//! Images can be many gigabytes and live in a blob store that is read by ranges, so the
//! parser works in steps that each need only a few small reads:
//! 1. [`parse_header`] on the first [`HEADER_LEN`] bytes says where the descriptor table is;
//! 2. [`parse_descriptors`] on that table lists the data objects;
//! 3. [`wanted_objects`] names the few small objects worth reading (definition file, JSON
//!    labels, environment, OCI config), each capped at [`MAX_OBJECT_BYTES`]; partitions are never read;
//! 4. [`assemble`] turns header, descriptors and those objects into a [`SifInfo`].
//!
//! [`inspect`] does all four on anything `Read + Seek`; the registry does the same with
//! ranged reads from its blob store (`Registry::inspect_sif`).
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

mod deffile;
mod format;

pub use format::{
    parse_descriptors, parse_header, DataType, Descriptor, Extra, Header, DESCRIPTOR_LEN,
    HEADER_LEN, MAX_DESCRIPTORS,
};

/// The largest metadata object read; larger ones are ignored.
pub const MAX_OBJECT_BYTES: u64 = 1024 * 1024;

/// Why bytes are not a SIF image Silo can read.
#[derive(Debug, thiserror::Error)]
pub enum SifError {
    #[error("file too short: the {0} is cut off")]
    Truncated(&'static str),
    #[error("no SIF magic in the header")]
    BadMagic,
    #[error("SIF format version {0:?} is not supported (expected \"01\")")]
    UnsupportedVersion(String),
    #[error("corrupt header or descriptor: {0}")]
    Corrupt(String),
    #[error("{what} lies outside the {file_len}-byte file")]
    OutOfBounds { what: String, file_len: u64 },
    #[error("read error: {0}")]
    Io(#[from] std::io::Error),
}

/// A signature object: the hash it signs with and the signing key's fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Upper-case hex OpenPGP fingerprint; `None` when the signer left it empty.
    pub fingerprint: Option<String>,
    pub hash: String,
}

/// A file system partition (never read, only described).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    pub id: u32,
    pub fs_type: i32,
    pub part_type: i32,
    pub arch: Option<String>,
    pub size: u64,
}

/// Everything Silo learns from an image's header, descriptors and small metadata objects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SifInfo {
    /// Go architecture name of the primary partition (`amd64`, `arm64`, `ppc64le`, …).
    pub primary_arch: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
    pub definition: Option<String>,
    /// The JSON labels object, else the OCI config's labels, else the definition file's
    /// `%labels`.
    pub labels: BTreeMap<String, String>,
    /// The definition file's `%runscript` (SIF keeps the runscript inside the partition).
    pub runscript: Option<String>,
    /// The environment object, or else the definition file's `%environment`.
    pub environment: Option<String>,
    pub signatures: Vec<Signature>,
    pub partitions: Vec<Partition>,
}

impl SifInfo {
    pub fn signed(&self) -> bool {
        !self.signatures.is_empty()
    }

    /// Distinct signing-key fingerprints, in order of appearance.
    pub fn fingerprints(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for fp in self.signatures.iter().filter_map(|s| s.fingerprint.clone()) {
            if !out.contains(&fp) {
                out.push(fp);
            }
        }
        out
    }
}

/// Which metadata object a read is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wanted {
    Definition,
    Labels,
    Environment,
    /// A generic JSON object named `oci-config…`: the OCI image config Apptainer keeps for
    /// images built from OCI sources, whose `Labels` are the image's labels.
    OciConfig,
}

/// One small object to read: `len` bytes at `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectRead {
    pub wanted: Wanted,
    pub offset: u64,
    pub len: u64,
}

/// Checks that the descriptor table and every object lie inside a file of `file_len` bytes.
pub fn check_bounds(
    header: &Header,
    descriptors: &[Descriptor],
    file_len: u64,
) -> Result<(), SifError> {
    let table_end = header
        .descriptors_offset
        .checked_add(header.descriptor_table_len());
    if table_end.is_none_or(|end| end > file_len) {
        return Err(SifError::OutOfBounds {
            what: "the descriptor table".into(),
            file_len,
        });
    }
    for d in descriptors {
        if d.end().is_none_or(|end| end > file_len) {
            return Err(SifError::OutOfBounds {
                what: format!("object {} ({:?})", d.id, d.data_type),
                file_len,
            });
        }
    }
    Ok(())
}

/// The first definition file, labels and environment objects no larger than
/// [`MAX_OBJECT_BYTES`].
pub fn wanted_objects(descriptors: &[Descriptor]) -> Vec<ObjectRead> {
    let mut reads: Vec<ObjectRead> = Vec::new();
    for d in descriptors {
        let wanted = match d.data_type {
            DataType::Deffile => Wanted::Definition,
            DataType::Labels => Wanted::Labels,
            DataType::EnvVar => Wanted::Environment,
            DataType::GenericJson if d.name.starts_with("oci-config") => Wanted::OciConfig,
            _ => continue,
        };
        if d.size <= MAX_OBJECT_BYTES && !reads.iter().any(|r| r.wanted == wanted) {
            reads.push(ObjectRead {
                wanted,
                offset: d.offset,
                len: d.size,
            });
        }
    }
    reads
}

/// Builds the [`SifInfo`] from the parsed parts and the objects read for [`wanted_objects`].
pub fn assemble(
    header: &Header,
    descriptors: &[Descriptor],
    objects: &[(Wanted, Vec<u8>)],
) -> SifInfo {
    let text = |w: Wanted| {
        objects.iter().find(|(k, _)| *k == w).map(|(_, b)| {
            String::from_utf8_lossy(b)
                .trim_end_matches('\0')
                .to_string()
        })
    };
    let definition = text(Wanted::Definition).filter(|d| !d.trim().is_empty());
    let sections = definition
        .as_deref()
        .map(deffile::sections)
        .unwrap_or_default();
    let mut labels = text(Wanted::Labels)
        .and_then(|l| deffile::json_labels(&l))
        .unwrap_or_default();
    if labels.is_empty() {
        labels = text(Wanted::OciConfig)
            .and_then(|c| deffile::oci_config_labels(&c))
            .unwrap_or_default();
    }
    if labels.is_empty() {
        labels = sections
            .get("labels")
            .map(|l| deffile::labels(l))
            .unwrap_or_default();
    }
    let environment = text(Wanted::Environment)
        .filter(|e| !e.trim().is_empty())
        .or_else(|| sections.get("environment").cloned());
    let mut info = SifInfo {
        primary_arch: header.primary_arch.clone(),
        created_at: header.created_at,
        modified_at: header.modified_at,
        runscript: sections.get("runscript").cloned(),
        definition,
        labels,
        environment,
        ..SifInfo::default()
    };
    for d in descriptors {
        match &d.extra {
            Extra::Signature { hash, fingerprint } => info.signatures.push(Signature {
                fingerprint: fingerprint.clone(),
                hash: (*hash).to_string(),
            }),
            Extra::Partition {
                fs_type,
                part_type,
                arch,
            } => info.partitions.push(Partition {
                id: d.id,
                fs_type: *fs_type,
                part_type: *part_type,
                arch: arch.clone(),
                size: d.size,
            }),
            Extra::None => {}
        }
    }
    if info.primary_arch.is_none() {
        info.primary_arch = info.partitions.iter().find_map(|p| p.arch.clone());
    }
    info
}

fn read_at<R: Read + Seek>(
    r: &mut R,
    offset: u64,
    len: u64,
    what: &'static str,
) -> Result<Vec<u8>, SifError> {
    r.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    r.take(len).read_to_end(&mut buf)?;
    if (buf.len() as u64) < len {
        return Err(SifError::Truncated(what));
    }
    Ok(buf)
}

/// Reads what Silo shows about an image from anything seekable, without reading partitions.
pub fn inspect<R: Read + Seek>(mut r: R) -> Result<SifInfo, SifError> {
    let file_len = r.seek(SeekFrom::End(0))?;
    let head = read_at(&mut r, 0, HEADER_LEN as u64, "global header")?;
    let header = parse_header(&head)?;
    check_bounds(&header, &[], file_len)?;
    let table = read_at(
        &mut r,
        header.descriptors_offset,
        header.descriptor_table_len(),
        "descriptor table",
    )?;
    let descriptors = parse_descriptors(&header, &table)?;
    check_bounds(&header, &descriptors, file_len)?;
    let mut objects = Vec::new();
    for read in wanted_objects(&descriptors) {
        objects.push((
            read.wanted,
            read_at(&mut r, read.offset, read.len, "metadata object")?,
        ));
    }
    Ok(assemble(&header, &descriptors, &objects))
}
