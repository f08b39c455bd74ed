//! The php cataloger's parser on arbitrary bytes, then the whole cataloger
//! over a view holding them: errors and warnings, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::php::PhpCataloger;
use palisade_image::{CatalogContext, CatalogOutput, Cataloger, FsView};

fuzz_target!(|data: &[u8]| {
    let _ = palisade_image::catalog::php::parse_installed_json(data);
    let fs = FsView::from_files([("app/vendor/composer/installed.json", data)]);
    let mut out = CatalogOutput::default();
    PhpCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
});
