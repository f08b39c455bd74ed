//! rpm header blobs as stored in every rpmdb format.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::rpm;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = rpm::parse_header(data) {
        assert!(!h.name.is_empty());
        let _ = h.evr();
        let _ = h.source_package();
    }
});
