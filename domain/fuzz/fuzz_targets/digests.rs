//! Fuzzes sha256 digests in their three spellings: see `silo_domain::fuzz_checks::digests`, which
//! `cargo test` also runs on the kept corpus (corpus/digests/).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| silo_domain::fuzz_checks::digests(data));
