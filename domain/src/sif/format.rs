//! The binary layout of a SIF image (specification version "01", as Apptainer and
//! SingularityCE write it), parsed from byte slices so that callers can fetch exactly the
//! ranges they need from wherever the image lives.
//!
//! ```text
//! global header, 128 bytes at offset 0, little-endian:
//!   0  launch script [32]     "#!/usr/bin/env run-singularity\n", NUL padded
//!  32  magic [10]             "SIF_MAGIC\0"
//!  42  version [3]            "01\0"
//!  45  primary arch [3]       "02\0" = amd64, see ARCHES
//!  48  image id [16]          UUID
//!  64  created at  i64        Unix seconds
//!  72  modified at i64
//!  80  descriptors free  i64
//!  88  descriptors total i64  table slots, used or not
//!  96  descriptors offset i64
//! 104  descriptors size   i64 bytes
//! 112  data offset i64
//! 120  data size   i64
//!
//! descriptor table: `descriptors total` entries of 585 bytes each:
//!   0  data type i32          0x4001 deffile … see DataType
//!   4  used u8
//!   5  id u32, 9 group id u32 (0xf0000000 | n), 13 linked id u32
//!  17  offset i64, 25 size i64, 33 size with padding i64
//!  41  created at i64, 49 modified at i64, 57 uid i64, 65 gid i64 (historical)
//!  73  name [128]
//! 201  extra [384]            per type: partition = fs type i32, part type i32, arch [3];
//!                             signature = hash type i32, signing entity [256] whose first
//!                             20 bytes are the OpenPGP key fingerprint
//! ```
use chrono::{DateTime, Utc};

use super::SifError;

pub const HEADER_LEN: usize = 128;
pub const DESCRIPTOR_LEN: usize = 585;
/// More descriptor slots than any real image has (siftool and Apptainer create 48); bounds
/// the table read to about 2.4 MiB.
pub const MAX_DESCRIPTORS: u64 = 4096;

const MAGIC: &[u8; 10] = b"SIF_MAGIC\0";
const VERSION: &[u8; 3] = b"01\0";
const GROUP_MASK: u32 = 0xf000_0000;
const FINGERPRINT_LEN: usize = 20;

/// SIF architecture codes and their Go names (`runtime.GOARCH`), as Apptainer reports them.
const ARCHES: &[(&[u8; 2], &str)] = &[
    (b"01", "386"),
    (b"02", "amd64"),
    (b"03", "arm"),
    (b"04", "arm64"),
    (b"05", "ppc64"),
    (b"06", "ppc64le"),
    (b"07", "mips"),
    (b"08", "mipsle"),
    (b"09", "mips64"),
    (b"10", "mips64le"),
    (b"11", "s390x"),
    (b"12", "riscv64"),
];

/// The global header: where the descriptor table is, and image-wide facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub launch_script: String,
    /// Go architecture name, `None` when the header says "unknown".
    pub primary_arch: Option<String>,
    pub id: [u8; 16],
    pub created_at: Option<DateTime<Utc>>,
    pub modified_at: Option<DateTime<Utc>>,
    pub descriptors_total: u64,
    pub descriptors_offset: u64,
    pub descriptors_size: u64,
    pub data_offset: u64,
    pub data_size: u64,
}

impl Header {
    /// The byte range of the descriptor table actually holding `descriptors_total` entries.
    pub fn descriptor_table_len(&self) -> u64 {
        self.descriptors_total * DESCRIPTOR_LEN as u64
    }
}

/// The kind of a data object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataType {
    Deffile,
    EnvVar,
    Labels,
    Partition,
    Signature,
    GenericJson,
    Generic,
    CryptoMessage,
    Sbom,
    Unknown(i32),
}

impl DataType {
    fn from_i32(v: i32) -> Self {
        match v {
            0x4001 => DataType::Deffile,
            0x4002 => DataType::EnvVar,
            0x4003 => DataType::Labels,
            0x4004 => DataType::Partition,
            0x4005 => DataType::Signature,
            0x4006 => DataType::GenericJson,
            0x4007 => DataType::Generic,
            0x4008 => DataType::CryptoMessage,
            0x4009 => DataType::Sbom,
            other => DataType::Unknown(other),
        }
    }
}

/// What the descriptor's "extra" field says, for the types Silo cares about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Extra {
    Partition {
        fs_type: i32,
        part_type: i32,
        arch: Option<String>,
    },
    Signature {
        /// "sha256", "sha384", …, or "unknown".
        hash: &'static str,
        /// Upper-case hex OpenPGP fingerprint, `None` when the signer left it empty.
        fingerprint: Option<String>,
    },
    None,
}

/// One used entry of the descriptor table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    pub data_type: DataType,
    pub id: u32,
    /// Object group, `None` when the object belongs to no group.
    pub group: Option<u32>,
    /// Linked object (or group, when `link_is_group`), `None` when unlinked.
    pub link: Option<u32>,
    pub link_is_group: bool,
    pub offset: u64,
    pub size: u64,
    pub name: String,
    pub extra: Extra,
}

impl Descriptor {
    /// The inclusive end of the object (`offset + size`), checked for overflow.
    pub fn end(&self) -> Option<u64> {
        self.offset.checked_add(self.size)
    }
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(buf)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut buf = [0u8; 4];
    buf.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(buf)
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    u32_at(b, at) as i32
}

/// A non-negative header quantity.
fn count_at(b: &[u8], at: usize, field: &'static str) -> Result<u64, SifError> {
    u64::try_from(i64_at(b, at)).map_err(|_| SifError::Corrupt(format!("negative {field}")))
}

fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn arch_name(code: &[u8]) -> Option<String> {
    ARCHES
        .iter()
        .find(|(c, _)| code.len() >= 2 && &code[..2] == *c)
        .map(|(_, name)| (*name).to_string())
}

fn timestamp(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0)
}

/// Parses the global header from the first bytes of an image (at least [`HEADER_LEN`]).
pub fn parse_header(bytes: &[u8]) -> Result<Header, SifError> {
    if bytes.len() < HEADER_LEN {
        return Err(SifError::Truncated("global header"));
    }
    if &bytes[32..42] != MAGIC {
        return Err(SifError::BadMagic);
    }
    if &bytes[42..45] != VERSION {
        return Err(SifError::UnsupportedVersion(c_string(&bytes[42..45])));
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(&bytes[48..64]);
    let header = Header {
        launch_script: c_string(&bytes[..32]),
        primary_arch: arch_name(&bytes[45..48]),
        id,
        created_at: timestamp(i64_at(bytes, 64)),
        modified_at: timestamp(i64_at(bytes, 72)),
        descriptors_total: count_at(bytes, 88, "descriptor count")?,
        descriptors_offset: count_at(bytes, 96, "descriptor offset")?,
        descriptors_size: count_at(bytes, 104, "descriptor table size")?,
        data_offset: count_at(bytes, 112, "data offset")?,
        data_size: count_at(bytes, 120, "data size")?,
    };
    if header.descriptors_total > MAX_DESCRIPTORS {
        return Err(SifError::Corrupt(format!(
            "{} descriptors (at most {MAX_DESCRIPTORS} are accepted)",
            header.descriptors_total
        )));
    }
    if header.descriptors_size < header.descriptor_table_len() {
        return Err(SifError::Corrupt(format!(
            "descriptor table of {} bytes cannot hold {} descriptors",
            header.descriptors_size, header.descriptors_total
        )));
    }
    if header.descriptors_offset < HEADER_LEN as u64 && header.descriptors_total > 0 {
        return Err(SifError::Corrupt(
            "descriptor table overlaps the header".into(),
        ));
    }
    Ok(header)
}

/// Parses the descriptor table (the [`Header::descriptor_table_len`] bytes at
/// `descriptors_offset`) and returns the used descriptors in table order.
pub fn parse_descriptors(header: &Header, table: &[u8]) -> Result<Vec<Descriptor>, SifError> {
    let needed = usize::try_from(header.descriptor_table_len())
        .map_err(|_| SifError::Corrupt("descriptor table too large".into()))?;
    if table.len() < needed {
        return Err(SifError::Truncated("descriptor table"));
    }
    table[..needed]
        .chunks_exact(DESCRIPTOR_LEN)
        .filter(|raw| raw[4] != 0)
        .map(parse_descriptor)
        .collect()
}

fn parse_descriptor(raw: &[u8]) -> Result<Descriptor, SifError> {
    let data_type = DataType::from_i32(i32_at(raw, 0));
    let id = u32_at(raw, 5);
    let group_raw = u32_at(raw, 9);
    let link_raw = u32_at(raw, 13);
    let offset = u64::try_from(i64_at(raw, 17))
        .map_err(|_| SifError::Corrupt(format!("object {id} has a negative offset")))?;
    let size = u64::try_from(i64_at(raw, 25))
        .map_err(|_| SifError::Corrupt(format!("object {id} has a negative size")))?;
    if offset.checked_add(size).is_none() {
        return Err(SifError::Corrupt(format!("object {id} ends past 2^64")));
    }
    let extra_bytes = &raw[201..DESCRIPTOR_LEN];
    let extra = match data_type {
        DataType::Partition => Extra::Partition {
            fs_type: i32_at(extra_bytes, 0),
            part_type: i32_at(extra_bytes, 4),
            arch: arch_name(&extra_bytes[8..11]),
        },
        DataType::Signature => {
            let fp = &extra_bytes[4..4 + FINGERPRINT_LEN];
            Extra::Signature {
                hash: hash_name(i32_at(extra_bytes, 0)),
                fingerprint: fp.iter().any(|&b| b != 0).then(|| hex::encode_upper(fp)),
            }
        }
        _ => Extra::None,
    };
    let group_id = group_raw & !GROUP_MASK;
    let link_id = link_raw & !GROUP_MASK;
    Ok(Descriptor {
        data_type,
        id,
        group: (group_id != 0).then_some(group_id),
        link: (link_id != 0).then_some(link_id),
        link_is_group: link_raw & GROUP_MASK == GROUP_MASK,
        offset,
        size,
        name: c_string(&raw[73..201]),
        extra,
    })
}

fn hash_name(code: i32) -> &'static str {
    match code {
        1 => "sha256",
        2 => "sha384",
        3 => "sha512",
        4 => "blake2s_256",
        5 => "blake2b_256",
        _ => "unknown",
    }
}
