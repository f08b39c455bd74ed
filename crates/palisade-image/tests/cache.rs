//! The layer cache: a rescan reads no layer blob, corrupt entries are
//! misses, concurrent scans share it safely, and it stays under its cap.

use std::collections::BTreeSet;

use palisade_image::{
    cache_key, catalog, inventory, ImageRef, LayerCache, NoProgress, ScanOptions,
};
use palisade_testkit::fixtures;

fn opts(cache: &LayerCache) -> ScanOptions {
    ScanOptions {
        cache: Some(cache.clone()),
        ..ScanOptions::default()
    }
}

fn key() -> String {
    cache_key(&catalog::default_catalogers())
}

fn packages(inv: &palisade_image::Inventory) -> BTreeSet<(String, String, String)> {
    inv.packages
        .iter()
        .map(|p| {
            (
                p.name.to_string(),
                p.version.to_string(),
                p.layer
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn rescan_reads_no_layer_blob() {
    let f = fixtures::debian_bookworm();
    let dir = tempfile::tempdir().unwrap();
    let built = f.write_oci_layout(dir.path(), "t").unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = LayerCache::new(cache_dir.path(), 1 << 30, key());
    let r = ImageRef::parse(&format!("oci:{}:t", dir.path().display())).unwrap();
    let first = inventory(&r, &opts(&cache), &NoProgress).unwrap();
    // Remove every layer blob: only the cache can answer now.
    for d in built.layer_digests() {
        std::fs::remove_file(dir.path().join("blobs/sha256").join(d.hex())).unwrap();
    }
    let second = inventory(&r, &opts(&cache), &NoProgress).unwrap();
    assert_eq!(packages(&first), packages(&second));
    assert_eq!(first.artifact.os, second.artifact.os);
    assert!(!second.packages.is_empty());
    // Without the cache the same scan fails: the blobs are gone.
    assert!(inventory(&r, &ScanOptions::default(), &NoProgress).is_err());
    // A different cataloger set does not reuse these entries.
    let other = LayerCache::new(cache_dir.path(), 1 << 30, "another cataloger set");
    assert!(inventory(&r, &opts(&other), &NoProgress).is_err());
}

#[test]
fn corrupt_entries_are_misses() {
    let f = fixtures::alpine_3_19();
    let dir = tempfile::tempdir().unwrap();
    f.write_oci_layout(dir.path(), "t").unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = LayerCache::new(cache_dir.path(), 1 << 30, key());
    let r = ImageRef::parse(&format!("oci:{}:t", dir.path().display())).unwrap();
    let first = inventory(&r, &opts(&cache), &NoProgress).unwrap();
    let mut n = 0;
    for e in std::fs::read_dir(cache_dir.path()).unwrap() {
        let p = e.unwrap().path();
        let mut b = std::fs::read(&p).unwrap();
        let mid = b.len() / 2;
        b[mid] ^= 0x55;
        std::fs::write(&p, b).unwrap();
        n += 1;
    }
    assert!(n > 0);
    let second = inventory(&r, &opts(&cache), &NoProgress).unwrap();
    assert_eq!(packages(&first), packages(&second));
}

#[test]
fn concurrent_scans_share_the_cache() {
    let f = fixtures::debian_bookworm();
    let dir = tempfile::tempdir().unwrap();
    f.write_oci_layout(dir.path(), "t").unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = LayerCache::new(cache_dir.path(), 1 << 30, key());
    let r = ImageRef::parse(&format!("oci:{}:t", dir.path().display())).unwrap();
    let results: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| s.spawn(|| inventory(&r, &opts(&cache), &NoProgress).map(|i| packages(&i))))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap().unwrap()).collect()
    });
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    // No temporary files left behind.
    for e in std::fs::read_dir(cache_dir.path()).unwrap() {
        let p = e.unwrap().path();
        assert_eq!(
            p.extension().and_then(|x| x.to_str()),
            Some("layer"),
            "{}",
            p.display()
        );
    }
}

#[test]
fn cache_stays_under_its_cap() {
    let cache_dir = tempfile::tempdir().unwrap();
    // Room for about one layer entry of these fixtures.
    let cache = LayerCache::new(cache_dir.path(), 6 * 1024, key());
    for f in [
        fixtures::debian_bookworm(),
        fixtures::alpine_3_19(),
        fixtures::distroless_debian12(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        f.write_oci_layout(dir.path(), "t").unwrap();
        let r = ImageRef::parse(&format!("oci:{}:t", dir.path().display())).unwrap();
        inventory(&r, &opts(&cache), &NoProgress).unwrap();
        let total: u64 = std::fs::read_dir(cache_dir.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(total <= 6 * 1024, "cache holds {total} bytes");
    }
}
