//! What each cargo-fuzz target (domain/fuzz) runs on one input: the parser the server uses,
//! plus cheap properties of its answer. The unit test below replays every kept corpus file
//! (domain/fuzz/corpus/<target>/) through the same functions, so `cargo test` catches a
//! regression without nightly or libFuzzer. Each check panics on a broken property.
use base64::Engine;
use chrono::TimeZone;

use crate::headers::{self, SREGISTRY_SCHEME};
use crate::names::legacy::{parse_collection, LegacyRef};
use crate::names::{self, ContainerPath, ImageRef, Sha256Hex, Version};
use crate::services::oci::{self, ManifestDoc, Reference, ScopeRequest};
use crate::services::{BrandingOverride, RegistrationSettings};
use crate::sif;
use crate::store::UploadId;

/// A fuzz target's check: runs the parser on the input and asserts its properties.
pub type FuzzCheck = fn(&[u8]);

/// Every target, by name, as the corpus directories are named.
pub const TARGETS: &[(&str, FuzzCheck)] = &[
    ("sif", sif_image),
    ("names", image_names),
    ("digests", digests),
    ("range", range_header),
    ("content_range", content_range_header),
    ("sregistry_auth", sregistry_auth_header),
    ("oci_manifest", oci_manifest),
    ("json_body", json_body),
];

/// The SIF parser, whole and step-wise as the registry drives it from ranged reads.
pub fn sif_image(data: &[u8]) {
    let _ = sif::inspect(std::io::Cursor::new(data));
    if let Ok(header) = sif::parse_header(data) {
        let start = usize::try_from(header.descriptors_offset).unwrap_or(usize::MAX);
        if let Some(table) = data.get(start..) {
            if let Ok(descriptors) = sif::parse_descriptors(&header, table) {
                let _ = sif::check_bounds(&header, &descriptors, data.len() as u64);
                let _ = sif::wanted_objects(&descriptors);
            }
        }
    }
}

/// Image references, repository names, tags and legacy refs; what parses round-trips.
pub fn image_names(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(image) = ImageRef::parse(text) {
        let printed = match &image.version {
            Version::Tag(tag) => format!("{}:{tag}", image.path),
            Version::Hash(hash) => format!("{}:{}", image.path, hash.library_form()),
        };
        assert_eq!(
            ImageRef::parse(&printed).ok().as_ref(),
            Some(&image),
            "{printed}"
        );
    }
    if let Ok(path) = ContainerPath::parse_short(text) {
        let printed = path.to_string();
        assert_eq!(oci::parse_repository(&printed).ok().as_ref(), Some(&path));
        assert_eq!(
            ContainerPath::parse_short(&printed).ok().as_ref(),
            Some(&path)
        );
    }
    if let Ok(path) = oci::parse_repository(text) {
        assert_eq!(path.to_string(), text);
    }
    if names::validate_tag(text).is_ok() {
        assert!(!text.is_empty() && text.len() <= 128 && !text.contains(['/', ':']));
    }
    if names::validate_segment("container", text).is_ok() {
        assert!(text.len() <= names::MAX_SEGMENT_LEN && !text.contains('/'));
        assert!(!text.contains("..") && !text.starts_with('.'));
    }
    let _ = names::validate_arch(text);
    match Reference::parse(text) {
        Ok(Reference::Tag(tag)) => assert_eq!(tag, text),
        Ok(Reference::Digest(hex)) => assert_eq!(format!("sha256:{hex}"), text),
        Err(_) => {}
    }
    if let Ok(legacy) = LegacyRef::parse(text) {
        assert!(legacy.path.to_string().split('/').count() == 3);
        let _ = legacy.tag_or_default();
    }
    if let Ok((entity, collection)) = parse_collection(text) {
        assert!(!entity.contains('/') && !collection.contains('/'));
    }
    if let Some(scope) = ScopeRequest::parse(text) {
        assert!(text.contains(&scope.repository));
    }
    if let Ok(id) = UploadId::parse(text) {
        assert_eq!(id.as_str(), text);
    }
}

/// `sha256:<hex>` (OCI), `sha256.<hex>` (library) and bare hex digests.
pub fn digests(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(hex) = Sha256Hex::parse(text) {
        assert_eq!(hex.as_str(), text);
        assert_eq!(hex.as_str().len(), 64);
    }
    if let Ok(hex) = Sha256Hex::parse_library(text) {
        assert_eq!(hex.library_form(), text);
    }
    if let Ok(hex) = oci::parse_digest(text) {
        assert_eq!(format!("sha256:{hex}"), text);
    }
}

/// `Range: bytes=…`; a parsed range is ordered and resolves inside any blob size.
pub fn range_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(Some(range)) = headers::parse_range(text) else {
        return;
    };
    assert!(range.last.is_none_or(|last| last >= range.first));
    let sizes = [0, 1, range.first, range.first.saturating_add(1), u64::MAX];
    for size in sizes.into_iter().chain(range.last) {
        if let Some((first, last)) = range.resolve(size) {
            assert!(first == range.first && first <= last && last < size);
        }
    }
}

/// The OCI chunked upload's `Content-Range`; a parsed range is ordered.
pub fn content_range_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((start, end)) = headers::parse_content_range(text) {
        assert!(start <= end);
    }
}

/// The sregistry client's signed `Authorization`; a parsed credential prints back to itself.
pub fn sregistry_auth_header(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(credential) = headers::parse_sregistry_credential(text) else {
        return;
    };
    let user = base64::engine::general_purpose::STANDARD.encode(&credential.username);
    let printed = format!(
        "{SREGISTRY_SCHEME} Credential={}/{user}/{},Signature={}",
        credential.kind, credential.timestamp, credential.signature
    );
    assert_eq!(
        headers::parse_sregistry_credential(&printed).as_ref(),
        Some(&credential),
        "{printed}"
    );
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 25, 10, 30, 0)
        .unwrap();
    let _ = headers::sregistry_timestamp_is_fresh(&credential.timestamp, now);
}

/// The domain's checks of a pushed manifest or index; what passes is kept byte for byte.
pub fn oci_manifest(data: &[u8]) {
    let by_tag = Reference::Tag("latest".into());
    for content_type in [None, Some(oci::OCI_MANIFEST), Some(oci::OCI_INDEX)] {
        let Ok(doc) = ManifestDoc::parse(data, content_type, &by_tag) else {
            continue;
        };
        assert_eq!(doc.content.as_bytes(), data);
        let by_digest = Reference::Digest(doc.digest.clone());
        assert!(ManifestDoc::parse(data, content_type, &by_digest).is_ok());
        if doc.children.is_empty() && !doc.blobs.is_empty() {
            assert_eq!(doc.blobs.len(), doc.layers.len() + 1);
        }
        assert!(doc
            .layers
            .iter()
            .all(|(_, _, size)| *size <= i64::MAX as u64));
    }
}

/// JSON bodies into the domain's request types (the server's own wire types are replayed
/// with this corpus by server/tests/malformed_requests.rs).
pub fn json_body(data: &[u8]) {
    let _ = serde_json::from_slice::<serde_json::Value>(data);
    let _ = serde_json::from_slice::<RegistrationSettings>(data);
    let _ = serde_json::from_slice::<BrandingOverride>(data);
    oci_manifest(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kept corpus file through its target's check; none may panic.
    #[test]
    fn replays_the_fuzz_corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        let mut replayed = 0;
        for (target, check) in TARGETS {
            let dir = root.join(target);
            let entries =
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let mut files = 0;
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| check(&data));
                assert!(outcome.is_ok(), "{target}: {} panics", path.display());
                files += 1;
            }
            assert!(files > 0, "{target}: empty corpus {}", dir.display());
            replayed += files;
        }
        assert!(replayed >= TARGETS.len());
    }
}
