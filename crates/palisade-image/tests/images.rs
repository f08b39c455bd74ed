//! Behaviour tests: every image source, read end to end, gives exactly the
//! packages each fixture holds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::Path;

use palisade_image::{
    inventory, ImageRef, Inventory, Limits, NoProgress, Platform, ScanError, ScanOptions,
};
use palisade_testkit::fixtures::{self, Attack, ExpectedPackage, Fixture};
use palisade_testkit::{Compression, ManifestFormat};

fn scan(reference: &str, opts: &ScanOptions) -> Result<Inventory, ScanError> {
    inventory(
        &ImageRef::parse(reference).expect("reference parses"),
        opts,
        &NoProgress,
    )
}

type Row = (String, String, Option<(String, String)>);

fn rows(inv: &Inventory) -> BTreeSet<Row> {
    inv.packages
        .iter()
        .map(|p| {
            (
                p.name.to_string(),
                p.version.to_string(),
                p.source
                    .as_ref()
                    .map(|s| (s.name.clone(), s.version.clone())),
            )
        })
        .collect()
}

fn expected(pkgs: &[ExpectedPackage]) -> BTreeSet<Row> {
    pkgs.iter()
        .map(|p| {
            (
                p.name.to_string(),
                p.version.to_string(),
                Some((p.source_name.to_string(), p.source_version.to_string())),
            )
        })
        .collect()
}

fn assert_fixture(inv: &Inventory, f: &Fixture) {
    assert_eq!(rows(inv), expected(&f.packages), "fixture {}", f.name);
    assert_eq!(
        inv.packages.len(),
        f.packages.len(),
        "no duplicates in {}",
        f.name
    );
    if let Some(os) = &f.os {
        let got = inv
            .artifact
            .os
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no OS detected", f.name));
        assert_eq!(got.family, os.id, "{}", f.name);
        assert_eq!(got.version, os.version_id, "{}", f.name);
    }
    for p in &inv.packages {
        assert!(
            p.layer.is_some(),
            "{}: package {} has a layer",
            f.name,
            p.name
        );
        assert!(
            !p.path.starts_with('/'),
            "{}: path {} is relative",
            f.name,
            p.path
        );
        assert!(p.purl.starts_with("pkg:"), "{}: purl {}", f.name, p.purl);
    }
}

#[test]
fn oci_layouts_of_every_fixture() {
    for f in fixtures::all() {
        for format in [ManifestFormat::Oci, ManifestFormat::Docker] {
            if format == ManifestFormat::Docker && f.name.contains("zstd") {
                continue; // Docker media types have no zstd.
            }
            let f = f.clone().with_format(format);
            let dir = tempfile::tempdir().unwrap();
            let built = f.write_oci_layout(dir.path(), "t").unwrap();
            let inv = scan(
                &format!("oci:{}:t", dir.path().display()),
                &ScanOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{} ({format:?}): {e}", f.name));
            assert_fixture(&inv, &f);
            assert_eq!(
                inv.artifact.digest.as_ref().map(ToString::to_string),
                Some(built.manifest_digest().to_string())
            );
            assert_eq!(inv.artifact.layers.len(), built.layer_digests().len());
        }
    }
}

#[test]
fn package_layer_is_the_layer_that_last_wrote_the_database() {
    let f = fixtures::debian_bookworm();
    let dir = tempfile::tempdir().unwrap();
    let built = f.write_oci_layout(dir.path(), "t").unwrap();
    let inv = scan(
        &format!("oci:{}:t", dir.path().display()),
        &ScanOptions::default(),
    )
    .unwrap();
    // Layer 2 rewrote var/lib/dpkg/status: every dpkg package comes from it.
    let second = built.layer_digests()[1].to_string();
    for p in &inv.packages {
        assert_eq!(p.path, "var/lib/dpkg/status");
        assert_eq!(
            p.layer.as_ref().map(ToString::to_string).as_deref(),
            Some(second.as_str())
        );
    }
}

#[test]
fn zstd_and_uncompressed_layers() {
    for c in [Compression::Zstd, Compression::None, Compression::Gzip] {
        let f = fixtures::alpine_3_19().with_compression(c);
        let dir = tempfile::tempdir().unwrap();
        f.write_oci_layout(dir.path(), "t").unwrap();
        let inv = scan(
            &format!("oci:{}:t", dir.path().display()),
            &ScanOptions::default(),
        )
        .unwrap();
        assert_fixture(&inv, &f);
    }
}

#[test]
fn multi_arch_index_selects_the_platform() {
    for format in [ManifestFormat::Oci, ManifestFormat::Docker] {
        let m = fixtures::multi_arch_alpine(format);
        let dir = tempfile::tempdir().unwrap();
        m.write_oci_layout(dir.path(), "multi").unwrap();
        for (platform, pkgs) in &m.platforms {
            let want: Platform = platform.to_string().parse().unwrap();
            let opts = ScanOptions {
                platform: want,
                ..ScanOptions::default()
            };
            let inv = scan(&format!("oci:{}:multi", dir.path().display()), &opts).unwrap();
            assert_eq!(rows(&inv), expected(pkgs), "{platform}");
        }
        let opts = ScanOptions {
            platform: "linux/s390x".parse().unwrap(),
            ..ScanOptions::default()
        };
        let err = scan(&format!("oci:{}:multi", dir.path().display()), &opts)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("linux/s390x") && err.contains("linux/amd64"),
            "{err}"
        );
    }
}

#[test]
fn docker_archives_legacy_and_current() {
    use palisade_testkit::{write_docker_archive, DockerArchiveLayout, DockerArchiveOptions};
    let f = fixtures::debian_bookworm();
    let built = f.build().unwrap();
    for layout in [DockerArchiveLayout::OciBlobs, DockerArchiveLayout::Legacy] {
        for compressed_layers in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("img.tar");
            write_docker_archive(
                &path,
                &[(&built, &["example/debian:12"][..])],
                &DockerArchiveOptions {
                    layout,
                    compressed_layers,
                },
            )
            .unwrap();
            let inv = scan(
                &format!("docker-archive:{}", path.display()),
                &ScanOptions::default(),
            )
            .unwrap_or_else(|e| panic!("{layout:?} compressed={compressed_layers}: {e}"));
            assert_fixture(&inv, &f);
        }
    }
}

#[test]
fn hostile_layers_never_escape_or_panic() {
    for attack in Attack::ALL {
        let f = fixtures::hostile(attack);
        let dir = tempfile::tempdir().unwrap();
        f.write_oci_layout(dir.path(), "t").unwrap();
        let r = scan(
            &format!("oci:{}:t", dir.path().display()),
            &ScanOptions::default(),
        );
        match r {
            Ok(inv) => {
                assert!(
                    !attack.breaks_layer(),
                    "{attack:?} should have been refused"
                );
                assert_fixture(&inv, &f);
                if matches!(
                    attack,
                    Attack::ParentTraversal | Attack::DeviceNodes | Attack::HardlinkEscape
                ) {
                    assert!(!inv.warnings.is_empty(), "{attack:?} leaves a warning");
                }
            }
            Err(e) => {
                assert!(attack.breaks_layer(), "{attack:?} failed: {e}");
                let msg = e.to_string();
                assert!(msg.contains("sha256:"), "error names the layer: {msg}");
            }
        }
        // Nothing is ever written: no escape target appears anywhere.
        assert!(!Path::new("/").join(fixtures::ESCAPE_TARGET).exists());
        assert!(!Path::new(fixtures::ESCAPE_TARGET).exists());
    }
}

#[test]
fn corrupt_blob_fails_the_digest_check() {
    let f = fixtures::alpine_3_19();
    let dir = tempfile::tempdir().unwrap();
    let built = f.write_oci_layout(dir.path(), "t").unwrap();
    let layer = &built.layer_digests()[0];
    let path = dir.path().join("blobs/sha256").join(layer.hex());
    let mut bytes = std::fs::read(&path).unwrap();
    // Flip a byte inside the gzip trailer's CRC region: the tar still
    // parses, only the digest can tell.
    let n = bytes.len();
    bytes[n - 6] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();
    let err = scan(
        &format!("oci:{}:t", dir.path().display()),
        &ScanOptions::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&layer.to_string()), "{msg}");
}

#[test]
fn memory_limits_are_enforced() {
    let f = fixtures::debian_bookworm();
    let dir = tempfile::tempdir().unwrap();
    f.write_oci_layout(dir.path(), "t").unwrap();
    // A buffering cap below the status file's size: skipped with a warning, no crash.
    let opts = ScanOptions {
        limits: Limits {
            max_buffered_file: 64,
            ..Limits::default()
        },
        ..ScanOptions::default()
    };
    let inv = scan(&format!("oci:{}:t", dir.path().display()), &opts).unwrap();
    assert!(inv.packages.is_empty());
    assert!(
        inv.warnings.iter().any(|w| w.message.contains("limit")),
        "{:?}",
        inv.warnings
    );
    // A decompression cap: the layer is refused as a bomb.
    let opts = ScanOptions {
        limits: Limits {
            max_layer_uncompressed: 4096,
            ..Limits::default()
        },
        ..ScanOptions::default()
    };
    let err = scan(&format!("oci:{}:t", dir.path().display()), &opts).unwrap_err();
    assert!(err.to_string().contains("decompression bomb"), "{err}");
}

#[test]
fn decompression_bomb_is_bounded() {
    // 200 MiB of zeros in one file compresses to ~200 KiB; with a 64 MiB
    // cap the walker stops early instead of inflating it all.
    use palisade_testkit::{ImageBuilder, Layer};
    let layer = Layer::new().file("zeros.bin", vec![0u8; 200 << 20]);
    let img = ImageBuilder::new().layer(layer).build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), "bomb").unwrap();
    let opts = ScanOptions {
        limits: Limits {
            max_layer_uncompressed: 64 << 20,
            ..Limits::default()
        },
        ..ScanOptions::default()
    };
    let err = scan(&format!("oci:{}:bomb", dir.path().display()), &opts).unwrap_err();
    assert!(err.to_string().contains("decompression bomb"), "{err}");
}

#[test]
fn dir_source_reads_an_unpacked_rootfs() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    std::fs::create_dir_all(r.join("usr/lib")).unwrap();
    std::fs::create_dir_all(r.join("etc")).unwrap();
    std::fs::create_dir_all(r.join("var/lib/dpkg")).unwrap();
    std::fs::write(
        r.join("usr/lib/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("../usr/lib/os-release", r.join("etc/os-release")).unwrap();
    std::fs::write(
        r.join("var/lib/dpkg/status"),
        "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n\n",
    )
    .unwrap();
    // A symlink escaping the root must not be followed out of it.
    std::os::unix::fs::symlink("/etc/shadow", r.join("etc/shadow-link")).unwrap();
    let inv = scan(&format!("dir:{}", r.display()), &ScanOptions::default()).unwrap();
    assert_eq!(
        inv.artifact.os.as_ref().map(|o| o.version.as_str()),
        Some("12")
    );
    assert_eq!(inv.packages.len(), 1);
    assert_eq!(inv.packages[0].name.as_str(), "libssl3");
    assert!(inv.packages[0].layer.is_none());
}

#[test]
fn dpkg_inventory_matches_dpkg_query_on_this_machine() {
    // The machine itself is a Debian rootfs: our dpkg cataloger must list
    // exactly what dpkg-query lists.
    let Ok(out) = std::process::Command::new("dpkg-query")
        .args(["-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\n"])
        .output()
    else {
        return;
    };
    let want: BTreeSet<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split('\t');
            let status = it.next()?;
            let (name, version) = (it.next()?, it.next()?);
            (status.chars().nth(1) == Some('i')).then(|| (name.to_string(), version.to_string()))
        })
        .collect();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
    std::fs::copy(
        "/var/lib/dpkg/status",
        root.path().join("var/lib/dpkg/status"),
    )
    .unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::copy("/etc/os-release", root.path().join("etc/os-release")).unwrap();
    let inv = scan(
        &format!("dir:{}", root.path().display()),
        &ScanOptions::default(),
    )
    .unwrap();
    let got: BTreeSet<(String, String)> = inv
        .packages
        .iter()
        .map(|p| (p.name.to_string(), p.version.to_string()))
        .collect();
    assert_eq!(got, want);
}
