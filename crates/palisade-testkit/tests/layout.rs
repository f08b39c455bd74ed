//! Layouts written by the testkit are valid for real tools: `umoci stat` and
//! `skopeo inspect` read them and see the digests the builder returned.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command;

use palisade_testkit::fixtures::{self, hostile_all};
use palisade_testkit::{
    media_type, BuiltImage, Compression, Digest, Entry, ImageBuilder, Layer, ManifestFormat,
    OciLayoutBuilder, Platform, RawEntry,
};
use serde_json::Value;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn skopeo_inspect(args: &[&str], image: &str) -> Value {
    let out = run(Command::new("skopeo")
        .args(args)
        .args(["inspect"])
        .arg(image));
    serde_json::from_str(&out).unwrap()
}

/// `skopeo inspect` reports the digest of the top-level manifest (the index,
/// for a multi-platform image) and the layers of the selected image.
fn assert_inspect_matches(dir: &Path, tag: &str, top: &Digest, image: &BuiltImage, extra: &[&str]) {
    let v = skopeo_inspect(extra, &format!("oci:{}:{tag}", dir.display()));
    assert_eq!(v["Digest"], top.as_str(), "{v}");
    let layers: Vec<&str> = v["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let want: Vec<&str> = image.layer_digests().iter().map(|d| d.as_str()).collect();
    assert_eq!(layers, want);
    assert_eq!(v["Architecture"], image.platform.architecture.as_str());
    assert_eq!(v["Os"], image.platform.os.as_str());
}

fn simple_image() -> ImageBuilder {
    ImageBuilder::new()
        .layer(
            Layer::new()
                .dirs("etc")
                .file("etc/hello", "hello\n")
                .symlink("etc/link", "hello")
                .hardlink("etc/hard", "etc/hello"),
        )
        .empty_layer("CMD [\"sh\"]")
        .layer(
            Layer::new()
                .compression(Compression::None)
                .dirs("etc")
                .whiteout("etc/link")
                .opaque_whiteout("var"),
        )
        .layer(
            Layer::new()
                .compression(Compression::Zstd)
                .entry(Entry::file_with_mode("run.sh", "#!/bin/sh\n", 0o755)),
        )
        .label("org.opencontainers.image.title", "simple")
        .annotation("org.opencontainers.image.description", "testkit")
}

#[test]
fn layout_files_follow_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let image = simple_image().build().unwrap();
    image.write_oci_layout(dir.path(), "v1").unwrap();

    let oci_layout: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("oci-layout")).unwrap()).unwrap();
    assert_eq!(oci_layout["imageLayoutVersion"], "1.0.0");
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(
        index["manifests"][0]["digest"],
        image.manifest_digest().as_str()
    );
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "v1"
    );
    for blob in image.blobs() {
        let on_disk = std::fs::read(dir.path().join(blob.digest.blob_path())).unwrap();
        assert_eq!(on_disk, blob.data);
    }
    let media: Vec<&str> = image.layer_media_types.iter().map(String::as_str).collect();
    assert_eq!(
        media,
        [
            media_type::OCI_LAYER_GZIP,
            media_type::OCI_LAYER_TAR,
            media_type::OCI_LAYER_ZSTD
        ]
    );
}

#[test]
fn umoci_and_skopeo_accept_an_oci_layout() {
    let dir = tempfile::tempdir().unwrap();
    // umoci 0.4 predates zstd layers: give it gzip and plain ones.
    let image = simple_image()
        .with_compression(Compression::Gzip)
        .build()
        .unwrap();
    let mut layout = OciLayoutBuilder::new();
    layout.add_image(Some("v1"), &image);
    layout.write(dir.path()).unwrap();

    let stat = run(Command::new("umoci")
        .args(["stat", "--json", "--image"])
        .arg(format!("{}:v1", dir.path().display())));
    let stat: Value = serde_json::from_str(&stat).unwrap();
    let history = stat["history"].as_array().unwrap();
    assert_eq!(history.len(), 4, "{stat}");
    assert_eq!(history[1]["empty_layer"], true);
    assert_eq!(
        history[0]["layer"]["digest"],
        image.layers[0].digest.as_str()
    );

    assert_inspect_matches(dir.path(), "v1", image.manifest_digest(), &image, &[]);
    let config = skopeo_inspect(&[], &format!("oci:{}:v1", dir.path().display()));
    assert_eq!(config["Labels"]["org.opencontainers.image.title"], "simple");
}

#[test]
fn skopeo_accepts_zstd_layers() {
    let dir = tempfile::tempdir().unwrap();
    let zstd = simple_image().build().unwrap();
    zstd.write_oci_layout(dir.path(), "zstd").unwrap();
    assert_inspect_matches(dir.path(), "zstd", zstd.manifest_digest(), &zstd, &[]);
    let raw = run(Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(format!("oci:{}:zstd", dir.path().display())));
    assert_eq!(raw.as_bytes(), zstd.manifest.data.as_slice());
}

/// skopeo 1.9's `oci:` transport ignores Docker-typed `index.json` entries, so
/// Docker-format images are checked structurally here and through the
/// registry in `tests/registry.rs`.
#[test]
fn docker_format_uses_docker_media_types() {
    let dir = tempfile::tempdir().unwrap();
    let docker = simple_image()
        .with_compression(Compression::Gzip)
        .format(ManifestFormat::Docker)
        .build()
        .unwrap();
    docker.write_oci_layout(dir.path(), "docker").unwrap();
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["mediaType"],
        media_type::DOCKER_MANIFEST
    );
    let manifest = docker.manifest.json_value();
    assert_eq!(manifest["mediaType"], media_type::DOCKER_MANIFEST);
    assert_eq!(manifest["config"]["mediaType"], media_type::DOCKER_CONFIG);
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        media_type::DOCKER_LAYER_GZIP
    );
    assert!(manifest.get("annotations").is_none());
}

#[test]
fn skopeo_picks_platforms_from_an_oci_index() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = fixtures::multi_arch_alpine(ManifestFormat::Oci);
    let index = fixture.write_oci_layout(dir.path(), "3.19").unwrap();
    let reference = format!("oci:{}:3.19", dir.path().display());
    let raw = run(Command::new("skopeo")
        .args(["inspect", "--raw"])
        .arg(&reference));
    assert_eq!(raw.as_bytes(), index.index.data.as_slice());
    let raw: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(raw["mediaType"], media_type::OCI_INDEX);

    let amd64 = index.image_for(&Platform::linux_amd64()).unwrap();
    let arm64 = index.image_for(&Platform::linux_arm64()).unwrap();
    assert_ne!(amd64.layers[0].diff_id, arm64.layers[0].diff_id);
    assert_inspect_matches(
        dir.path(),
        "3.19",
        index.digest(),
        amd64,
        &["--override-os", "linux", "--override-arch", "amd64"],
    );
    assert_inspect_matches(
        dir.path(),
        "3.19",
        index.digest(),
        arm64,
        &[
            "--override-os",
            "linux",
            "--override-arch",
            "arm64",
            "--override-variant",
            "v8",
        ],
    );
}

#[test]
fn every_fixture_is_a_valid_layout() {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayoutBuilder::new();
    let mut built = Vec::new();
    let mut all = fixtures::all();
    all.extend(hostile_all().into_iter().map(|(_, f)| f));
    for fixture in &all {
        let image = fixture.build().unwrap();
        layout.add_image(Some(fixture.name), &image);
        built.push((fixture.name, image));
    }
    layout.write(dir.path()).unwrap();
    for (tag, image) in &built {
        assert_inspect_matches(dir.path(), tag, image.manifest_digest(), image, &[]);
    }
}

#[test]
fn a_missing_blob_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let image = ImageBuilder::new()
        .layer(Layer::new().raw(RawEntry::file("../x", "x")))
        .build()
        .unwrap();
    let mut layout = OciLayoutBuilder::new();
    layout.add_image(Some("broken"), &image);
    layout.remove_blob(image.config_digest());
    layout.write(dir.path()).unwrap();
    let out = Command::new("skopeo")
        .arg("inspect")
        .arg(format!("oci:{}:broken", dir.path().display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
}
