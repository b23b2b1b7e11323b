//! Fuzzes SIF images: see `silo_domain::fuzz_checks::sif_image`, which
//! `cargo test` also runs on the kept corpus (corpus/sif/).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| silo_domain::fuzz_checks::sif_image(data));
