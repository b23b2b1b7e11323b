//! Feeds arbitrary bytes to the SIF parser: it must return an error or an answer, never
//! panic, overflow or allocate without bound.
#![no_main]
use libfuzzer_sys::fuzz_target;
use silo_domain::sif;

fuzz_target!(|data: &[u8]| {
    let _ = sif::inspect(std::io::Cursor::new(data));
    // The step-wise API, as the registry drives it from ranged reads.
    if let Ok(header) = sif::parse_header(data) {
        let start = usize::try_from(header.descriptors_offset).unwrap_or(usize::MAX);
        if let Some(table) = data.get(start..) {
            if let Ok(descriptors) = sif::parse_descriptors(&header, table) {
                let _ = sif::check_bounds(&header, &descriptors, data.len() as u64);
                let _ = sif::wanted_objects(&descriptors);
            }
        }
    }
});
