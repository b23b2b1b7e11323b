//! The SIF parser on real images made by siftool (and signed with the sylabs integrity
//! package), and on damaged copies of them: damage is an error, never a panic.
use silo_domain::sif::{
    inspect, parse_descriptors, parse_header, DataType, SifError, DESCRIPTOR_LEN, HEADER_LEN,
};
use std::io::Cursor;
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn inspect_bytes(bytes: &[u8]) -> Result<silo_domain::sif::SifInfo, SifError> {
    inspect(Cursor::new(bytes))
}

#[test]
fn minimal_image_has_arch_and_nothing_else() {
    let info = inspect_bytes(&fixture("minimal.sif")).unwrap();
    assert_eq!(info.primary_arch.as_deref(), Some("amd64"));
    assert!(info.definition.is_none());
    assert!(info.labels.is_empty());
    assert!(info.runscript.is_none() && info.environment.is_none());
    assert!(!info.signed());
    assert_eq!(info.partitions.len(), 1);
    assert_eq!(info.partitions[0].size, 3000);
    assert_eq!(info.partitions[0].arch.as_deref(), Some("amd64"));
    let created = info.created_at.expect("creation time");
    assert!(created.timestamp() > 1_700_000_000, "{created}");
}

#[test]
fn full_image_has_definition_labels_environment_and_runscript() {
    let info = inspect_bytes(&fixture("full.sif")).unwrap();
    assert_eq!(info.primary_arch.as_deref(), Some("arm64"));
    let def = info.definition.as_deref().expect("definition file");
    assert!(
        def.starts_with("Bootstrap: docker\nFrom: alpine:3.20"),
        "{def}"
    );
    assert_eq!(info.labels["maintainer"], "research-computing");
    assert_eq!(info.labels["org.label-schema.schema-version"], "1.0");
    assert_eq!(info.labels["Author"], "Silo Test");
    let env = info.environment.as_deref().unwrap();
    assert!(env.contains("export PATH=/opt/tool/bin:$PATH"), "{env}");
    assert_eq!(
        info.runscript.as_deref(),
        Some("echo \"$GREETING from the container\"")
    );
    assert!(!info.signed());
    assert!(info.fingerprints().is_empty());
}

#[test]
fn signed_image_names_its_key() {
    let bytes = fixture("signed.sif");
    let expected = String::from_utf8(fixture("signed.sif.fingerprint")).unwrap();
    let info = inspect_bytes(&bytes).unwrap();
    assert!(info.signed());
    assert_eq!(info.fingerprints(), vec![expected.trim().to_string()]);
    assert_eq!(info.signatures[0].hash, "sha256");
    assert_eq!(info.primary_arch.as_deref(), Some("amd64"));
    // No labels object: the labels come from the definition file's %labels section.
    assert_eq!(info.labels["Author"], "Silo Test");
    assert_eq!(info.labels["Version"], "1.2");
    assert_eq!(info.environment.as_deref(), Some("export GREETING=hello"));
}

#[test]
fn oci_built_image_takes_labels_from_the_oci_config() {
    let info = inspect_bytes(&fixture("oci.sif")).unwrap();
    assert_eq!(info.primary_arch.as_deref(), Some("ppc64le"));
    assert_eq!(info.labels["org.opencontainers.image.title"], "python");
    assert_eq!(info.labels["org.opencontainers.image.version"], "3.12");
    assert_eq!(
        info.definition.as_deref(),
        Some("Bootstrap: docker\nFrom: python:3.12\n")
    );
    assert!(info.runscript.is_none());
}

#[test]
fn steps_work_on_separate_ranges() {
    let bytes = fixture("signed.sif");
    let header = parse_header(&bytes[..HEADER_LEN]).unwrap();
    assert_eq!(header.descriptors_total, 48);
    let start = header.descriptors_offset as usize;
    let table = &bytes[start..start + header.descriptor_table_len() as usize];
    let descriptors = parse_descriptors(&header, table).unwrap();
    let kinds: Vec<DataType> = descriptors.iter().map(|d| d.data_type).collect();
    assert_eq!(
        kinds,
        vec![DataType::Deffile, DataType::Partition, DataType::Signature]
    );
    assert_eq!(descriptors[0].group, Some(1));
    assert_eq!(descriptors[2].link, Some(1));
    assert!(descriptors[2].link_is_group);
}

#[test]
fn empty_image_is_valid() {
    let info = inspect_bytes(&fixture("empty.sif")).unwrap();
    assert_eq!(info.primary_arch, None);
    assert!(info.partitions.is_empty());
}

#[test]
fn not_sif_at_all() {
    assert!(matches!(
        inspect_bytes(b"identical content"),
        Err(SifError::Truncated(_))
    ));
    let mut zeros = vec![0u8; 8192];
    zeros[0] = b'#';
    assert!(matches!(inspect_bytes(&zeros), Err(SifError::BadMagic)));
    assert!(matches!(inspect_bytes(&[]), Err(SifError::Truncated(_))));
}

#[test]
fn truncated_files_are_errors_at_every_length() {
    let bytes = fixture("full.sif");
    // Every cut inside the header and descriptor table, and a sample through the data.
    let table_end = 4096 + 48 * DESCRIPTOR_LEN;
    for len in (0..table_end).chain((table_end..bytes.len()).step_by(97)) {
        let err = inspect_bytes(&bytes[..len]).expect_err(&format!("cut at {len}"));
        assert!(
            matches!(
                err,
                SifError::Truncated(_) | SifError::OutOfBounds { .. } | SifError::Corrupt(_)
            ),
            "cut at {len}: {err:?}"
        );
    }
}

fn patched(offset: usize, value: &[u8]) -> Vec<u8> {
    let mut bytes = fixture("full.sif");
    bytes[offset..offset + value.len()].copy_from_slice(value);
    bytes
}

#[test]
fn corrupted_headers_are_errors() {
    assert!(matches!(
        inspect_bytes(&patched(32, b"SIF_MAGIX")),
        Err(SifError::BadMagic)
    ));
    let err = inspect_bytes(&patched(42, b"02\0")).unwrap_err();
    assert!(matches!(err, SifError::UnsupportedVersion(ref v) if v == "02"));
    // Absurd and negative descriptor counts.
    for count in [i64::MAX, 1 << 40, 5000, -1] {
        let err = inspect_bytes(&patched(88, &count.to_le_bytes())).unwrap_err();
        assert!(matches!(err, SifError::Corrupt(_)), "{count}: {err:?}");
    }
    // Descriptor table past the end of the file, and overflowing.
    for offset in [1i64 << 40, i64::MAX - 10] {
        let err = inspect_bytes(&patched(96, &offset.to_le_bytes())).unwrap_err();
        assert!(matches!(err, SifError::OutOfBounds { .. }), "{err:?}");
    }
    // Table too small for its count.
    let err = inspect_bytes(&patched(104, &100i64.to_le_bytes())).unwrap_err();
    assert!(matches!(err, SifError::Corrupt(_)), "{err:?}");
}

#[test]
fn corrupted_descriptors_are_errors() {
    let first = 4096;
    // Object offset past EOF, size past EOF, negative size, overflowing end.
    for (field, value) in [
        (17usize, 1i64 << 40),
        (25, 1 << 40),
        (25, -5),
        (17, i64::MAX),
    ] {
        let bytes = patched(first + field, &value.to_le_bytes());
        let err = inspect_bytes(&bytes).unwrap_err();
        assert!(
            matches!(err, SifError::OutOfBounds { .. } | SifError::Corrupt(_)),
            "{field}={value}: {err:?}"
        );
    }
}
