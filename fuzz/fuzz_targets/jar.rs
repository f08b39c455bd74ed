//! Java archives: the zip walk with nesting (summaries), the identity
//! rules, and the manifest and pom.properties parsers.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::java;

fuzz_target!(|data: &[u8]| {
    let summary = java::summarize(&mut Cursor::new(data), "fuzz.jar");
    assert!(summary.archives.len() <= java::MAX_ARCHIVES);
    let (pkgs, _) = java::packages_from_summary(&summary);
    for p in &pkgs {
        assert!(!p.artifact.is_empty() && !p.version.is_empty());
    }
    let text = String::from_utf8_lossy(data);
    let _ = java::parse_manifest(&text);
    let _ = java::parse_pom_properties(&text);
    let _ = java::split_file_name(&text);
});
