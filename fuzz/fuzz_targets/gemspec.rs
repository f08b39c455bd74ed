//! The ruby cataloger's parser on arbitrary bytes, then the whole cataloger
//! over a view holding them: errors and warnings, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::ruby::RubyCataloger;
use palisade_image::{CatalogContext, CatalogOutput, Cataloger, FsView};

fuzz_target!(|data: &[u8]| {
    let _ = palisade_image::catalog::ruby::parse_gemspec(data);
    let fs = FsView::from_files([("usr/lib/ruby/gems/3.1.0/specifications/x-1.0.gemspec", data)]);
    let mut out = CatalogOutput::default();
    RubyCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
});
