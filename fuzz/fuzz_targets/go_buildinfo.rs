//! Go build info: the header and inline-string parser, the whole ELF path
//! (section lookup, data-segment search, pointer resolution), the module
//! info parser and the toolchain version conversion.
#![no_main]

#[path = "elf_wrap.rs"]
mod elf_wrap;

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::golang;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        // The bytes as a whole file.
        0 => check(golang::read_build_info_bytes(rest)),
        // The bytes as the .go.buildinfo section of a valid ELF, with the
        // magic prepended half the time.
        1 | 2 => {
            let mut section = Vec::new();
            if mode % 4 == 2 {
                section.extend_from_slice(golang::MAGIC);
            }
            section.extend_from_slice(rest);
            let _ = golang::parse_build_info_blob(&section);
            check(golang::read_build_info_bytes(&elf_wrap::wrap(
                ".go.buildinfo",
                &section,
            )));
        }
        // The bytes as module info text and a toolchain version.
        _ => {
            let text = String::from_utf8_lossy(rest);
            let m = golang::parse_mod_info(&text);
            assert!(m.deps.len() <= golang::MAX_MODULES);
            if let Some(v) = golang::go_version_to_semver(&text) {
                assert!(v.starts_with('v'));
            }
        }
    }
});

fn check(r: Result<Option<golang::BuildInfo>, golang::BuildInfoError>) {
    if let Ok(Some(info)) = r {
        assert!(!info.go_version.is_empty());
        assert!(info.mod_info.len() as u64 <= golang::MAX_MOD_INFO_LEN);
        let _ = golang::parse_mod_info(&info.mod_info);
    }
}
