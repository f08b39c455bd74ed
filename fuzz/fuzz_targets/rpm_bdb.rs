//! Berkeley DB hash rpmdbs (`Packages`), each record through the header parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::rpm;

fuzz_target!(|data: &[u8]| {
    let _ = rpm::read_bdb(data, &mut |r| {
        if let Ok(blob) = r {
            assert!(blob.len() <= data.len());
            let _ = rpm::parse_header(blob);
        }
    });
});
