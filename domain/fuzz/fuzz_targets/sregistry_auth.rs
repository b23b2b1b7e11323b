//! Fuzzes sregistry HMAC `Authorization` headers: see `silo_domain::fuzz_checks::sregistry_auth_header`, which
//! `cargo test` also runs on the kept corpus (corpus/sregistry_auth/).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| silo_domain::fuzz_checks::sregistry_auth_header(data));
