//! The fixtures' expected answers are right: a deliberately small reference
//! reader (apply layers and whiteouts, follow the os-release symlink, parse
//! dpkg and apk databases) finds exactly the packages each fixture lists.
//! It is independent of palisade-image on purpose.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::io::Read;

use palisade_testkit::fixtures::{self, hostile_all, Attack, ESCAPE_TARGET};
use palisade_testkit::{
    BuiltImage, BuiltLayer, Compression, ExpectedOs, ExpectedPackage, Fixture, ManifestFormat,
    PackageKind, Platform,
};

#[derive(Debug, Clone)]
enum Node {
    File(Vec<u8>),
    Dir,
    Symlink(String),
    Other,
}

/// Clean a tar path; `None` for names that leave the root.
fn clean(path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn decompress(layer: &BuiltLayer) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    match layer.compression {
        Compression::Gzip => {
            flate2::read::GzDecoder::new(layer.compressed.as_slice()).read_to_end(&mut out)?;
        }
        Compression::Zstd => {
            out = zstd::stream::decode_all(layer.compressed.as_slice())?;
        }
        _ => out = layer.compressed.clone(),
    }
    Ok(out)
}

/// The merged filesystem; `Err` if a layer cannot be read to its end.
fn merge(image: &BuiltImage) -> Result<BTreeMap<String, Node>, String> {
    let mut fs: BTreeMap<String, Node> = BTreeMap::new();
    for layer in &image.layers {
        let tar = decompress(layer).map_err(|e| format!("decompress: {e}"))?;
        assert_eq!(palisade_testkit::Digest::sha256(&tar), layer.diff_id);
        let mut changes = Vec::new();
        let mut archive = tar::Archive::new(tar.as_slice());
        for entry in archive.entries().map_err(|e| e.to_string())? {
            let mut entry = entry.map_err(|e| format!("entry: {e}"))?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(path) = clean(&raw) else { continue };
            let node = match entry.header().entry_type() {
                tar::EntryType::Regular => {
                    let mut data = Vec::new();
                    entry
                        .read_to_end(&mut data)
                        .map_err(|e| format!("data of {raw}: {e}"))?;
                    Node::File(data)
                }
                tar::EntryType::Directory => Node::Dir,
                tar::EntryType::Symlink => Node::Symlink(
                    entry
                        .link_name()
                        .unwrap()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                ),
                _ => Node::Other,
            };
            changes.push((path, node));
        }
        // Whiteouts apply to lower layers, then this layer's entries land.
        for (path, _) in &changes {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            let under =
                |p: &str, d: &str| d.is_empty() || p == d || p.starts_with(&format!("{d}/"));
            if name == ".wh..wh..opq" {
                fs.retain(|p, _| !(under(p, dir) && p != dir));
            } else if let Some(target) = name.strip_prefix(".wh.") {
                let target = if dir.is_empty() {
                    target.to_owned()
                } else {
                    format!("{dir}/{target}")
                };
                fs.retain(|p, _| !under(p, &target));
            }
        }
        for (path, node) in changes {
            let name = path.rsplit('/').next().unwrap();
            if !name.starts_with(".wh.") {
                fs.insert(path, node);
            }
        }
    }
    Ok(fs)
}

fn read_file<'a>(fs: &'a BTreeMap<String, Node>, path: &str) -> Option<&'a [u8]> {
    let mut path = path.to_owned();
    for _ in 0..10 {
        match fs.get(&path)? {
            Node::File(data) => return Some(data),
            Node::Symlink(target) => {
                let base = path.rsplit_once('/').map_or("", |(d, _)| d);
                let joined = if target.starts_with('/') {
                    target.clone()
                } else {
                    format!("{base}/{target}")
                };
                let mut parts: Vec<&str> = Vec::new();
                for p in joined.split('/') {
                    match p {
                        "" | "." => {}
                        ".." => {
                            parts.pop();
                        }
                        p => parts.push(p),
                    }
                }
                path = parts.join("/");
            }
            Node::Dir | Node::Other => return None,
        }
    }
    None
}

fn os_release(fs: &BTreeMap<String, Node>) -> Option<BTreeMap<String, String>> {
    let data = read_file(fs, "etc/os-release").or_else(|| read_file(fs, "usr/lib/os-release"))?;
    Some(
        String::from_utf8_lossy(data)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('"').to_owned()))
            .collect(),
    )
}

fn stanzas(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut current = BTreeMap::new();
    let mut last_key = String::new();
    for line in text.lines() {
        if line.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else if line.starts_with(' ') || line.starts_with('\t') {
            let v: &mut String = current.get_mut(&last_key).unwrap();
            v.push('\n');
            v.push_str(line);
        } else {
            let (k, v) = line.split_once(':').unwrap();
            last_key = k.to_owned();
            current.insert(k.to_owned(), v.trim().to_owned());
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Found {
    kind: PackageKind,
    name: String,
    version: String,
    source_name: String,
    source_version: String,
    arch: String,
}

impl From<&ExpectedPackage> for Found {
    fn from(p: &ExpectedPackage) -> Self {
        Found {
            kind: p.kind,
            name: p.name.into(),
            version: p.version.into(),
            source_name: p.source_name.into(),
            source_version: p.source_version.into(),
            arch: p.arch.into(),
        }
    }
}

fn deb(stanza: &BTreeMap<String, String>) -> Option<Found> {
    if let Some(status) = stanza.get("Status") {
        if status.split_whitespace().nth(2) != Some("installed") {
            return None;
        }
    }
    let name = stanza["Package"].clone();
    let version = stanza["Version"].clone();
    let (source_name, source_version) = match stanza.get("Source") {
        None => (name.clone(), version.clone()),
        Some(s) => match s.split_once(" (") {
            Some((n, v)) => (n.to_owned(), v.trim_end_matches(')').to_owned()),
            None => (s.clone(), version.clone()),
        },
    };
    Some(Found {
        kind: PackageKind::Deb,
        name,
        version,
        source_name,
        source_version,
        arch: stanza["Architecture"].clone(),
    })
}

fn packages(fs: &BTreeMap<String, Node>) -> Vec<Found> {
    let mut found = Vec::new();
    if let Some(data) = read_file(fs, "var/lib/dpkg/status") {
        found.extend(
            stanzas(&String::from_utf8_lossy(data))
                .iter()
                .filter_map(deb),
        );
    }
    for (path, node) in fs.range("var/lib/dpkg/status.d/".to_owned()..) {
        let Some(name) = path.strip_prefix("var/lib/dpkg/status.d/") else {
            break;
        };
        if let Node::File(data) = node {
            if !name.contains('.') {
                found.extend(
                    stanzas(&String::from_utf8_lossy(data))
                        .iter()
                        .filter_map(deb),
                );
            }
        }
    }
    if let Some(data) = read_file(fs, "lib/apk/db/installed") {
        for record in String::from_utf8_lossy(data).split("\n\n") {
            let field = |k: &str| {
                record
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{k}:")))
                    .map(str::to_owned)
            };
            let Some(name) = field("P") else { continue };
            let version = field("V").unwrap();
            found.push(Found {
                kind: PackageKind::Apk,
                source_name: field("o").unwrap_or_else(|| name.clone()),
                source_version: version.clone(),
                arch: field("A").unwrap(),
                name,
                version,
            });
        }
    }
    found.sort();
    found
}

fn assert_os(fs: &BTreeMap<String, Node>, want: Option<ExpectedOs>) {
    let got = os_release(fs);
    match want {
        None => assert!(got.is_none()),
        Some(os) => {
            let got = got.expect("os-release present");
            assert_eq!(got["ID"], os.id);
            assert_eq!(got["VERSION_ID"], os.version_id);
            assert_eq!(
                got.get("VERSION_CODENAME").map(String::as_str),
                os.version_codename
            );
            assert_eq!(got["PRETTY_NAME"], os.pretty_name);
        }
    }
}

fn assert_fixture(fixture: &Fixture) {
    let image = fixture.build().unwrap();
    let fs = merge(&image).unwrap();
    assert_os(&fs, fixture.os);
    let want: Vec<Found> = fixture.packages.iter().map(Found::from).collect();
    assert_eq!(packages(&fs), want, "{}", fixture.name);
    let mut sorted = fixture.package_names();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        fixture.package_names(),
        "{} is sorted",
        fixture.name
    );
}

#[test]
fn every_fixture_lists_exactly_its_packages() {
    for fixture in fixtures::all() {
        assert_fixture(&fixture);
        assert_fixture(
            &fixture
                .clone()
                .with_format(ManifestFormat::Docker)
                .with_compression(Compression::Gzip),
        );
    }
}

#[test]
fn debian_details() {
    let fixture = fixtures::debian_bookworm();
    assert_eq!(fixture.packages.len(), 11);
    assert!(!fixture.package_names().contains(&"cron"));
    let image = fixture.build().unwrap();
    assert_eq!(image.layers.len(), 2);
    let fs = merge(&image).unwrap();
    assert!(matches!(fs["etc/os-release"], Node::Symlink(ref t) if t == "../usr/lib/os-release"));
    // The stale database must still be there to trap scanners that read it.
    let old =
        String::from_utf8_lossy(read_file(&fs, "var/lib/dpkg/status-old").unwrap()).into_owned();
    assert!(old.contains("Version: 3.0.11-1~deb12u2"));
    let status =
        String::from_utf8_lossy(read_file(&fs, "var/lib/dpkg/status").unwrap()).into_owned();
    assert!(status.contains("Status: deinstall ok config-files"));
    assert!(status.contains("Source: zlib (1:1.2.13.dfsg-1)"));

    for f in [
        fixtures::debian_bookworm_status_whiteout(),
        fixtures::debian_bookworm_dpkg_dir_whiteout(),
        fixtures::debian_bookworm_dpkg_opaque(),
    ] {
        assert_eq!(f.build().unwrap().layers.len(), 3, "{}", f.name);
    }
}

#[test]
fn distroless_has_md5sums_beside_stanzas() {
    let image = fixtures::distroless_debian12().build().unwrap();
    let fs = merge(&image).unwrap();
    assert!(fs.contains_key("var/lib/dpkg/status.d/libc6.md5sums"));
    assert!(!fs.contains_key("var/lib/dpkg/status"));
}

#[test]
fn zstd_fixture_uses_zstd() {
    let image = fixtures::alpine_3_19_zstd().build().unwrap();
    assert_eq!(image.layers[0].compression, Compression::Zstd);
    assert_eq!(
        image.layer_media_types[0],
        palisade_testkit::media_type::OCI_LAYER_ZSTD
    );
}

#[test]
fn multi_arch_platforms_differ_in_one_package() {
    for format in [ManifestFormat::Oci, ManifestFormat::Docker] {
        let fixture = fixtures::multi_arch_alpine(format);
        let index = fixture.build().unwrap();
        let mut seen = Vec::new();
        for (platform, want) in &fixture.platforms {
            let image = index.image_for(platform).unwrap();
            assert_eq!(
                image.config.json_value()["architecture"],
                platform.architecture.as_str()
            );
            let fs = merge(image).unwrap();
            assert_os(&fs, fixture.os);
            let want: Vec<Found> = want.iter().map(Found::from).collect();
            assert_eq!(packages(&fs), want, "{platform}");
            seen.push(want);
        }
        let amd64 = fixture.packages_for(&Platform::linux_amd64()).unwrap();
        let arm64 = fixture.packages_for(&Platform::linux_arm64()).unwrap();
        let differing: Vec<_> = amd64
            .iter()
            .zip(arm64)
            .filter(|(a, b)| (a.name, a.version) != (b.name, b.version))
            .map(|(a, b)| (a.name, a.version, b.version))
            .collect();
        assert_eq!(differing, [("zlib", "1.3.1-r0", "1.3-r2")]);
    }
}

#[test]
fn hostile_images_carry_their_attack() {
    for (attack, fixture) in hostile_all() {
        let image = fixture.build().unwrap();
        assert_eq!(image.layers.len(), 2);
        // The base layer alone yields the expected packages.
        let base = BuiltImage {
            layers: vec![image.layers[0].clone()],
            ..image.clone()
        };
        let want: Vec<Found> = fixture.packages.iter().map(Found::from).collect();
        assert_eq!(packages(&merge(&base).unwrap()), want, "{}", fixture.name);

        let hostile = &image.layers[1];
        let names = || -> Vec<String> {
            let mut archive = tar::Archive::new(hostile.uncompressed.as_slice());
            archive
                .entries()
                .unwrap()
                .map_while(Result::ok)
                .map(|e| String::from_utf8_lossy(&e.path_bytes()).into_owned())
                .collect()
        };
        match attack {
            Attack::ParentTraversal => {
                assert!(names().contains(&format!("../../../../{ESCAPE_TARGET}")));
            }
            Attack::AbsolutePath => {
                assert!(names().contains(&format!("/{ESCAPE_TARGET}")));
            }
            Attack::DeviceNodes => {
                let mut archive = tar::Archive::new(hostile.uncompressed.as_slice());
                let kinds: Vec<_> = archive
                    .entries()
                    .unwrap()
                    .map(|e| e.unwrap().header().entry_type())
                    .collect();
                assert!(kinds.contains(&tar::EntryType::Char));
                assert!(kinds.contains(&tar::EntryType::Block));
                assert!(kinds.contains(&tar::EntryType::Fifo));
            }
            Attack::SymlinkEscape => {
                assert!(names().contains(&format!("etc/escape/{ESCAPE_TARGET}")));
            }
            Attack::HardlinkEscape => assert!(names().contains(&"etc/passwd-link".to_owned())),
            Attack::HugeSize => {
                let header = tar::Header::from_byte_slice(&hostile.uncompressed[512..1024]);
                assert_eq!(header.size().unwrap(), 1 << 40);
            }
            Attack::TruncatedTar => {
                assert_eq!(hostile.uncompressed.len(), 4 * 512 + 10_000);
            }
            Attack::TruncatedGzip => {
                assert!(decompress(hostile).is_err());
            }
            _ => unreachable!("new attack without a check"),
        }
        assert_eq!(
            merge(&image).is_err(),
            attack.breaks_layer(),
            "{}",
            fixture.name
        );
    }
}
