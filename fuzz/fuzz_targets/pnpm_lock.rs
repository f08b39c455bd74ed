//! `pnpm-lock.yaml` (5.x, 6.x, 9.x): the parser, then the whole npm
//! cataloger.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::node::{self, NodeCataloger};
use palisade_image::{CatalogContext, CatalogOutput, Cataloger, FsView};

fuzz_target!(|data: &[u8]| {
    let parsed = node::parse_pnpm_lock(data);
    assert!(parsed.entries.len() <= node::MAX_LOCK_ENTRIES);
    for e in &parsed.entries {
        assert!(node::is_valid_name(&e.name) && node::is_valid_version(&e.version));
    }

    let fs = FsView::from_files([("srv/app/pnpm-lock.yaml", data)]);
    let mut out = CatalogOutput::default();
    NodeCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
    assert!(out.packages.len() <= parsed.entries.len());
});
