//! Python core metadata (`METADATA`, `PKG-INFO`): the parser, then the whole
//! cataloger over every kind of metadata file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_image::catalog::python::{self, PythonCataloger};
use palisade_image::{CatalogContext, CatalogOutput, Cataloger, FsView};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = python::parse_metadata(data) {
        assert!(python::is_valid_name(&m.name) && !m.version.is_empty());
        let n = m.normalized_name();
        assert_eq!(python::normalize_name(&n), n, "normalisation is idempotent");
        let _ = m.licenses();
    }

    let fs = FsView::from_files([
        ("usr/lib/python3/dist-packages/a-1.dist-info/METADATA", data),
        ("usr/lib/python3/dist-packages/a-1.egg-info", data),
        ("app/deps/b.egg-info/PKG-INFO", data),
        ("opt/c-1-py3.11.egg/EGG-INFO/PKG-INFO", data),
    ]);
    let mut out = CatalogOutput::default();
    PythonCataloger.catalog(&CatalogContext { fs: &fs, os: None }, &mut out);
    assert!(out.packages.len() <= 3, "one per installation directory");
    for p in &out.packages {
        assert!(p.purl.starts_with("pkg:pypi/"));
    }
});
