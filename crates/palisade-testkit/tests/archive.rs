//! Docker archives written by the testkit are readable by skopeo, and match
//! what skopeo itself writes for the same image.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::Command;

use palisade_testkit::fixtures;
use palisade_testkit::{
    write_docker_archive, BuiltImage, Digest, DockerArchiveLayout, DockerArchiveOptions,
};
use serde_json::Value;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every regular file of a tar file, by name.
fn read_tar(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(File::open(path).unwrap());
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type().is_file() {
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
            files.insert(name, data);
        }
    }
    files
}

fn inspect_archive(path: &Path) -> Value {
    let out = run(Command::new("skopeo")
        .arg("inspect")
        .arg(format!("docker-archive:{}", path.display())));
    serde_json::from_str(&out).unwrap()
}

fn check_archive(image: &BuiltImage, options: &DockerArchiveOptions) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    let archived = write_docker_archive(&path, &[(image, &["debian:12"])], options).unwrap();
    let files = read_tar(&path);

    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest[0]["RepoTags"][0], "debian:12");
    assert_eq!(manifest[0]["Config"], archived[0].config_path.as_str());
    assert_eq!(files[&archived[0].config_path], image.config.data);
    let layers = manifest[0]["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), image.layers.len());
    for (path, layer) in layers.iter().zip(&image.layers) {
        let want = if options.compressed_layers {
            &layer.compressed
        } else {
            &layer.uncompressed
        };
        assert_eq!(&files[path.as_str().unwrap()], want);
    }
    let repositories: Value = serde_json::from_slice(&files["repositories"]).unwrap();
    assert!(repositories["debian"]["12"].is_string());

    match options.layout {
        DockerArchiveLayout::OciBlobs => {
            assert!(archived[0].config_path.starts_with("blobs/sha256/"));
            assert!(files.contains_key("oci-layout"));
            let index: Value = serde_json::from_slice(&files["index.json"]).unwrap();
            let entry = &index["manifests"][0];
            assert_eq!(
                entry["annotations"]["io.containerd.image.name"],
                "docker.io/library/debian:12"
            );
            assert_eq!(
                entry["annotations"]["org.opencontainers.image.ref.name"],
                "12"
            );
            let digest = archived[0].manifest_digest.as_ref().unwrap();
            assert_eq!(entry["digest"], digest.as_str());
            if options.compressed_layers {
                assert_eq!(digest, image.manifest_digest());
            }

            // The archive is also an OCI layout skopeo can read.
            let extracted = dir.path().join("extracted");
            tar::Archive::new(File::open(&path).unwrap())
                .unpack(&extracted)
                .unwrap();
            let v: Value = serde_json::from_str(&run(Command::new("skopeo")
                .arg("inspect")
                .arg(format!("oci:{}:12", extracted.display()))))
            .unwrap();
            assert_eq!(v["Digest"], digest.as_str());
        }
        DockerArchiveLayout::Legacy => {
            assert_eq!(
                archived[0].config_path,
                format!("{}.json", image.config_digest().hex())
            );
            for p in &archived[0].layer_paths {
                assert!(p.ends_with("/layer.tar"), "{p}");
                let id = p.trim_end_matches("/layer.tar");
                assert_eq!(files[&format!("{id}/VERSION")], b"1.0");
            }
            assert!(!files.contains_key("index.json"));
        }
    }

    let v = inspect_archive(&path);
    assert_eq!(v["Architecture"], "amd64");
    assert_eq!(v["Os"], "linux");
    assert_eq!(v["Layers"].as_array().unwrap().len(), image.layers.len());
    if !options.compressed_layers {
        let want: Vec<&str> = image.diff_ids().iter().map(|d| d.as_str()).collect();
        let got: Vec<&str> = v["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert_eq!(got, want);
    }

    // Round trip through skopeo into an OCI layout: same config, same tars.
    let oci = dir.path().join("oci");
    run(Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .arg(format!("docker-archive:{}", path.display()))
        .arg(format!("oci:{}:copy", oci.display())));
    let v: Value = serde_json::from_str(&run(Command::new("skopeo")
        .args(["inspect", "--config"])
        .arg(format!("oci:{}:copy", oci.display()))))
    .unwrap();
    assert_eq!(v, image.config.json_value());
}

#[test]
fn docker_25_layout_is_readable_by_skopeo() {
    let image = fixtures::debian_bookworm().build().unwrap();
    check_archive(&image, &DockerArchiveOptions::default());
}

#[test]
fn legacy_layout_is_readable_by_skopeo() {
    let image = fixtures::debian_bookworm().build().unwrap();
    check_archive(
        &image,
        &DockerArchiveOptions {
            layout: DockerArchiveLayout::Legacy,
            compressed_layers: false,
        },
    );
}

#[test]
fn compressed_layers_are_readable_by_skopeo() {
    let image = fixtures::debian_bookworm().build().unwrap();
    for layout in [DockerArchiveLayout::OciBlobs, DockerArchiveLayout::Legacy] {
        check_archive(
            &image,
            &DockerArchiveOptions {
                layout,
                compressed_layers: true,
            },
        );
    }
}

#[test]
fn several_images_share_layers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.tar");
    let a = fixtures::debian_bookworm().build().unwrap();
    let b = fixtures::debian_bookworm_dpkg_opaque().build().unwrap();
    assert_eq!(a.layers[0].diff_id, b.layers[0].diff_id);
    write_docker_archive(
        &path,
        &[
            (&a, &["debian:12"]),
            (&b, &["debian:opaque", "debian:other"]),
        ],
        &DockerArchiveOptions::default(),
    )
    .unwrap();
    let files = read_tar(&path);
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest.as_array().unwrap().len(), 2);
    assert_eq!(manifest[0]["Layers"][0], manifest[1]["Layers"][0]);
    let out = run(Command::new("skopeo")
        .arg("inspect")
        .arg(format!("docker-archive:{}:debian:other", path.display())));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Layers"].as_array().unwrap().len(), 3);
}

/// What skopeo writes for the same image carries the same config and layer
/// tars as the testkit's archive.
#[test]
fn matches_what_skopeo_writes() {
    let dir = tempfile::tempdir().unwrap();
    let image = fixtures::alpine_3_19().build().unwrap();
    let layout = dir.path().join("layout");
    image.write_oci_layout(&layout, "3.19").unwrap();
    let theirs = dir.path().join("skopeo.tar");
    run(Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .arg(format!("oci:{}:3.19", layout.display()))
        .arg(format!("docker-archive:{}:alpine:3.19", theirs.display())));
    let ours = dir.path().join("ours.tar");
    write_docker_archive(
        &ours,
        &[(&image, &["alpine:3.19"])],
        &DockerArchiveOptions {
            layout: DockerArchiveLayout::Legacy,
            compressed_layers: false,
        },
    )
    .unwrap();

    let theirs = read_tar(&theirs);
    let ours = read_tar(&ours);
    let their_manifest: Value = serde_json::from_slice(&theirs["manifest.json"]).unwrap();
    let our_manifest: Value = serde_json::from_slice(&ours["manifest.json"]).unwrap();
    let keys = |v: &Value| -> Vec<String> { v[0].as_object().unwrap().keys().cloned().collect() };
    for key in keys(&their_manifest) {
        assert!(
            keys(&our_manifest).contains(&key) || key == "LayerSources",
            "skopeo writes {key}, we do not"
        );
    }
    // skopeo writes fully qualified names; `docker save` writes them as given.
    assert_eq!(
        their_manifest[0]["RepoTags"][0],
        "docker.io/library/alpine:3.19"
    );
    assert_eq!(our_manifest[0]["RepoTags"][0], "alpine:3.19");
    let config_of = |files: &BTreeMap<String, Vec<u8>>, m: &Value| {
        files[m[0]["Config"].as_str().unwrap()].clone()
    };
    assert_eq!(
        config_of(&theirs, &their_manifest),
        config_of(&ours, &our_manifest)
    );
    let layer_digests = |files: &BTreeMap<String, Vec<u8>>, m: &Value| -> Vec<Digest> {
        m[0]["Layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| Digest::sha256(&files[p.as_str().unwrap()]))
            .collect()
    };
    assert_eq!(
        layer_digests(&theirs, &their_manifest),
        layer_digests(&ours, &our_manifest)
    );
}
