//! `package-lock.json` and installed `package.json`: the parsers, then the
//! whole npm cataloger with the bytes as both.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::node::{self, NodeCataloger};
use palisade_image::{CatalogContext, CatalogOutput, Cataloger, FsView};

fuzz_target!(|data: &[u8]| {
    let parsed = node::parse_package_lock(data);
    assert!(parsed.entries.len() <= node::MAX_LOCK_ENTRIES);
    for e in &parsed.entries {
        assert!(node::is_valid_name(&e.name) && node::is_valid_version(&e.version));
    }
    if let Ok(m) = node::parse_package_json(data) {
        assert!(node::is_valid_version(&m.version));
    }

    let fs = FsView::from_files([
        ("app/package-lock.json", data),
        ("app/node_modules/a/package.json", data),
        ("app/node_modules/@s/b/package.json", data),
    ]);
    let mut out = CatalogOutput::default();
    NodeCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
    for p in &out.packages {
        assert!(p.purl.starts_with("pkg:npm/"));
    }
});
