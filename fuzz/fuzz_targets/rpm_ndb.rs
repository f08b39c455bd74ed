//! NDB rpmdbs (`Packages.db`), each record through the header parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::rpm;

fuzz_target!(|data: &[u8]| {
    let _ = rpm::read_ndb(data, &mut |r| {
        if let Ok(blob) = r {
            let _ = rpm::parse_header(blob);
        }
    });
});
