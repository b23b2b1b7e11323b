//! Fuzzes JSON request bodies: see `silo_domain::fuzz_checks::json_body`, which
//! `cargo test` also runs on the kept corpus (corpus/json_body/).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| silo_domain::fuzz_checks::json_body(data));
