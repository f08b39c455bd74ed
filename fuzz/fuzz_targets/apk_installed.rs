//! apk installed databases: the parser, then the whole cataloger.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::apk::{self, ApkCataloger};
use palisade_image::{CatalogContext, CatalogOutput, Cataloger, FsView};
use palisade_model::OsInfo;

fuzz_target!(|data: &[u8]| {
    let parsed = apk::parse_installed(data);
    for e in &parsed.entries {
        assert!(!e.name.is_empty() && !e.version.is_empty());
    }

    let fs = FsView::from_files([(apk::INSTALLED, data)]);
    let os = OsInfo {
        family: "wolfi".into(),
        version: "20230201".into(),
        pretty_name: None,
    };
    let mut out = CatalogOutput::default();
    ApkCataloger.catalog(
        &CatalogContext {
            fs: &fs,
            os: Some(&os),
        },
        &mut out,
    );
    // Duplicates and unbuildable purls only ever remove packages.
    assert!(out.packages.len() <= parsed.entries.len());
});
