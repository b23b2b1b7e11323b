//! Fuzzes OCI `Content-Range` headers: see `silo_domain::fuzz_checks::content_range_header`, which
//! `cargo test` also runs on the kept corpus (corpus/content_range/).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| silo_domain::fuzz_checks::content_range_header(data));
