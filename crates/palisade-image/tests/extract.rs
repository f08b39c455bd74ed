//! Extraction: big files (binaries, archives) are reduced by extractors
//! while streaming instead of being buffered whole — in memory when small,
//! through an unnamed temporary file when large — and extracts obey
//! whiteouts like files.

use palisade_image::scan::read_layers;
use palisade_image::source::OciLayoutSource;
use palisade_image::{Limits, NoProgress, Platform, ReadSeek, ScanOptions, Selector};
use palisade_testkit::{ImageBuilder, Layer};

/// Extracts the 8 bytes after the ELF magic of executables, and the first
/// line of `*.txtar` files.
struct Probe;

impl Selector for Probe {
    fn whole(&self, path: &str) -> bool {
        path == "etc/keep-whole"
    }
    fn wants_executables(&self) -> bool {
        true
    }
    fn extractors(&self, path: &str, elf: bool) -> Vec<usize> {
        let mut v = Vec::new();
        if elf {
            v.push(0);
        }
        if path.ends_with(".txtar") {
            v.push(1);
        }
        v
    }
    fn extract(
        &self,
        index: usize,
        _path: &str,
        file: &mut dyn ReadSeek,
    ) -> Option<(&'static str, Vec<u8>)> {
        let mut all = Vec::new();
        file.read_to_end(&mut all).ok()?;
        match index {
            0 => Some(("elf", all.get(4..12)?.to_vec())),
            _ => Some(("txt", all.split(|&b| b == b'\n').next()?.to_vec())),
        }
    }
}

fn elf(tag: &[u8], size: usize) -> Vec<u8> {
    let mut v = b"\x7fELF".to_vec();
    v.extend_from_slice(tag);
    v.resize(size, 0xAB);
    v
}

#[test]
fn extractors_see_executables_and_archives() {
    let base = Layer::new()
        .file_with_mode("usr/bin/small", elf(b"SMALL123", 4096), 0o755)
        .file_with_mode("usr/bin/big", elf(b"BIGBIG12", 3 << 20), 0o755)
        .file_with_mode("usr/bin/not-exec", elf(b"NOTEXEC1", 4096), 0o644)
        .file_with_mode("usr/bin/script", b"#!/bin/sh\necho hi\n".to_vec(), 0o755)
        .file("opt/app.txtar", b"first line\nsecond\n".to_vec())
        .file("etc/keep-whole", b"whole".to_vec())
        .hardlink("usr/bin/small-link", "usr/bin/small");
    let top = Layer::new().whiteout("usr/bin/small");
    let img = ImageBuilder::new().layer(base).layer(top).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), "t").unwrap();
    let limits = Limits {
        // Force the 3 MiB binary through the temporary-file path.
        max_in_memory_extract: 1 << 20,
        ..Limits::default()
    };
    let src = OciLayoutSource::open(dir.path(), Some("t"), &Platform::host(), &limits).unwrap();
    let opts = ScanOptions {
        limits,
        ..ScanOptions::default()
    };
    let (view, warnings, _) = read_layers(&src, &Probe, &opts, &NoProgress).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let elfs: Vec<(String, Vec<u8>)> = view
        .extracted("elf")
        .map(|f| (f.path.to_string(), f.data.to_vec()))
        .collect();
    assert_eq!(
        elfs,
        vec![
            ("usr/bin/big".to_string(), b"BIGBIG12".to_vec()),
            ("usr/bin/small-link".to_string(), b"SMALL123".to_vec()),
        ],
        "whited-out small is gone, its hard link keeps the extract, non-executables and scripts are skipped"
    );
    let txt: Vec<(String, Vec<u8>)> = view
        .extracted("txt")
        .map(|f| (f.path.to_string(), f.data.to_vec()))
        .collect();
    assert_eq!(
        txt,
        vec![("opt/app.txtar".to_string(), b"first line".to_vec())]
    );
    // Extracted files are not whole files; the whole one is.
    assert!(view.read("usr/bin/big").is_none());
    assert_eq!(
        view.read("etc/keep-whole").map(|f| f.data.to_vec()),
        Some(b"whole".to_vec())
    );
    // Only the extracts and the whole file are held, not the 3 MiB binary.
    assert!(view.buffered_bytes() < 64, "{}", view.buffered_bytes());
}
