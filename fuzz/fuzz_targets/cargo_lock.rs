//! `Cargo.lock` files: the TOML-subset parser, the root rule, and the
//! whole cataloger.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::rust::{self, RustCataloger};
use palisade_image::{CatalogContext, CatalogOutput, Cataloger, FsView};

fuzz_target!(|data: &[u8]| {
    let lock = rust::parse_cargo_lock(data);
    assert!(lock.packages.len() <= rust::MAX_PACKAGES);
    for p in &lock.packages {
        assert!(!p.name.is_empty() && !p.version.is_empty());
    }
    let reported = rust::reported_lock_packages(&lock);
    assert!(reported.len() <= lock.packages.len());

    let fs = FsView::from_files([("app/Cargo.lock", data)]);
    let mut out = CatalogOutput::default();
    RustCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
    assert!(out.packages.len() <= reported.len());
});
