//! Fuzzes image references, repository names, tags, legacy refs, upload ids: see `silo_domain::fuzz_checks::image_names`, which
//! `cargo test` also runs on the kept corpus (corpus/names/).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| silo_domain::fuzz_checks::image_names(data));
