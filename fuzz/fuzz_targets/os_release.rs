//! os-release parsing and OS detection from every release file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::{detect_os, os_release};
use palisade_image::FsView;

fuzz_target!(|data: &[u8]| {
    let rel = os_release::parse_os_release(data);
    let _ = rel.get("ID");
    let _ = os_release::parse_redhat_release(&String::from_utf8_lossy(data));

    for path in [
        "etc/os-release",
        "etc/lsb-release",
        "etc/debian_version",
        "etc/redhat-release",
    ] {
        let fs = FsView::from_files([(path, data)]);
        if let Some(os) = detect_os(&fs) {
            assert!(!os.family.is_empty());
        }
    }
});
