//! Fuzzes OCI manifests and indexes (the domain's validation): see `silo_domain::fuzz_checks::oci_manifest`, which
//! `cargo test` also runs on the kept corpus (corpus/oci_manifest/).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| silo_domain::fuzz_checks::oci_manifest(data));
