//! dpkg status files: the parser, then the whole cataloger (purls included).
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::dpkg::{self, DpkgCataloger};
use palisade_image::{CatalogContext, CatalogOutput, Cataloger, FsView};
use palisade_model::OsInfo;

fuzz_target!(|data: &[u8]| {
    let parsed = dpkg::parse_status(data);
    for e in &parsed.entries {
        assert!(!e.package.is_empty() && !e.version.is_empty());
        let _ = e.is_installed();
        let _ = e.source_package();
    }

    let fs = FsView::from_files([(dpkg::STATUS, data), ("var/lib/dpkg/status.d/pkg", data)]);
    let os = OsInfo {
        family: "ubuntu".into(),
        version: "22.04".into(),
        pretty_name: None,
    };
    let mut out = CatalogOutput::default();
    DpkgCataloger.catalog(
        &CatalogContext {
            fs: &fs,
            os: Some(&os),
        },
        &mut out,
    );
    for p in &out.packages {
        assert!(p.purl.starts_with("pkg:deb/ubuntu/"));
    }
});
