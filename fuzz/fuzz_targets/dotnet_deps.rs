//! The dotnet cataloger's parser on arbitrary bytes, then the whole cataloger
//! over a view holding them: errors and warnings, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::dotnet::DotnetCataloger;
use palisade_image::{CatalogContext, CatalogOutput, Cataloger, FsView};

fuzz_target!(|data: &[u8]| {
    let _ = palisade_image::catalog::dotnet::parse_deps_json(data);
    let fs = FsView::from_files([("app/App.deps.json", data)]);
    let mut out = CatalogOutput::default();
    DotnetCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
});
