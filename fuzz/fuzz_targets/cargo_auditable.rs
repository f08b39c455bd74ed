//! `cargo auditable` data: zlib + JSON parsing, on raw bytes, on
//! compressed fuzz bytes, and as the `.dep-v0` section of an ELF file.
#![no_main]

#[path = "elf_wrap.rs"]
mod elf_wrap;

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::rust;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let section = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        // Compress, so the JSON layer is reached.
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        if z.write_all(rest).is_err() {
            return;
        }
        match z.finish() {
            Ok(c) => c,
            Err(_) => return,
        }
    };
    if let Ok(pkgs) = rust::parse_auditable(&section) {
        assert!(pkgs.len() <= rust::MAX_PACKAGES);
        let _ = rust::reported_auditable_packages(&pkgs);
    }
    let elf = if mode & 2 == 0 {
        elf_wrap::wrap(rust::AUDITABLE_SECTION, &section)
    } else {
        section
    };
    let _ = rust::read_auditable_bytes(&elf);
});
