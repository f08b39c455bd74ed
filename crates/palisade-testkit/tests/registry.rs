//! Each registry variant starts, accepts a push with digests preserved, and
//! serves the manifest; auth variants refuse anonymous requests.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

use palisade_testkit::fixtures;
use palisade_testkit::{media_type, Error, ManifestFormat, RegistryOptions, TestRegistry};

fn check_variant(options: RegistryOptions) {
    let tls = options.tls;
    let auth = options.auth.is_some();
    let registry = TestRegistry::start(options).unwrap();
    assert!(registry.host_port().starts_with("127.0.0.1:"));
    assert_eq!(registry.ca_cert_path().is_some(), tls);
    assert_eq!(registry.credentials().is_some(), auth);

    // /v2/ without credentials: 401 with a Basic challenge when auth is on.
    let anonymous = registry.get("/v2/", &[], false).unwrap();
    if auth {
        assert_eq!(anonymous.status, 401);
        let challenge = anonymous.header("www-authenticate").unwrap();
        assert!(challenge.starts_with("Basic"), "{challenge}");
        assert_eq!(registry.get("/v2/", &[], true).unwrap().status, 200);
    } else {
        assert_eq!(anonymous.status, 200);
    }

    let dir = tempfile::tempdir().unwrap();
    let fixture = fixtures::alpine_3_19();
    let image = fixture.write_oci_layout(dir.path(), "3.19").unwrap();
    registry
        .push(dir.path(), "3.19", "library/alpine:3.19")
        .unwrap();

    let manifest = registry.fetch_manifest("library/alpine", "3.19").unwrap();
    assert_eq!(manifest.status, 200);
    assert_eq!(
        manifest.docker_content_digest(),
        Some(image.manifest_digest().as_str())
    );
    assert_eq!(manifest.body_digest(), *image.manifest_digest());
    assert_eq!(manifest.body, image.manifest.data);
    assert_eq!(
        manifest.header("content-type"),
        Some(media_type::OCI_MANIFEST)
    );

    // By digest too, and the layer blob is the one built.
    let by_digest = registry
        .fetch_manifest("library/alpine", image.manifest_digest().as_str())
        .unwrap();
    assert_eq!(by_digest.status, 200);
    let layer = registry
        .get(
            &format!("/v2/library/alpine/blobs/{}", image.layers[0].digest),
            &[],
            true,
        )
        .unwrap();
    assert_eq!(layer.status, 200);
    assert_eq!(layer.body, image.layers[0].compressed);

    if auth {
        let anonymous = registry
            .get(
                "/v2/library/alpine/manifests/3.19",
                &media_type::ALL_MANIFESTS,
                false,
            )
            .unwrap();
        assert_eq!(anonymous.status, 401);
    }
}

#[test]
fn plain_http() {
    check_variant(RegistryOptions::plain());
}

#[test]
fn basic_auth() {
    check_variant(RegistryOptions::basic_auth());
}

#[test]
fn tls() {
    check_variant(RegistryOptions::tls());
}

#[test]
fn tls_with_basic_auth() {
    check_variant(RegistryOptions::tls_auth());
}

#[test]
fn oci_manifests_need_oci_accept_types() {
    let registry = TestRegistry::start(RegistryOptions::plain()).unwrap();
    let image = fixtures::debian_bookworm().build().unwrap();
    registry.push_image(&image, "debian:12").unwrap();
    let docker_only = registry
        .get(
            "/v2/debian/manifests/12",
            &[
                media_type::DOCKER_MANIFEST,
                media_type::DOCKER_MANIFEST_LIST,
            ],
            false,
        )
        .unwrap();
    assert_eq!(docker_only.status, 404);
    let oci = registry.fetch_manifest("debian", "12").unwrap();
    assert_eq!(oci.status, 200);
    assert_eq!(
        oci.docker_content_digest(),
        Some(image.manifest_digest().as_str())
    );
}

#[test]
fn indexes_docker_formats_and_zstd_keep_their_digests() {
    let registry = TestRegistry::start(RegistryOptions::plain()).unwrap();

    for (format, content_type) in [
        (ManifestFormat::Oci, media_type::OCI_INDEX),
        (ManifestFormat::Docker, media_type::DOCKER_MANIFEST_LIST),
    ] {
        let index = fixtures::multi_arch_alpine(format).build().unwrap();
        let repo = format!("multi-{format:?}").to_lowercase();
        registry
            .push_index(&index, &format!("{repo}:3.19"))
            .unwrap();
        let got = registry.fetch_manifest(&repo, "3.19").unwrap();
        assert_eq!(got.status, 200, "{repo}");
        assert_eq!(got.header("content-type"), Some(content_type));
        assert_eq!(got.body, index.index.data);
        for image in &index.images {
            let child = registry
                .fetch_manifest(&repo, image.manifest_digest().as_str())
                .unwrap();
            assert_eq!(child.status, 200, "{repo} {}", image.platform);
            assert_eq!(child.body, image.manifest.data);
        }
    }

    let docker = fixtures::debian_bookworm()
        .with_format(ManifestFormat::Docker)
        .build()
        .unwrap();
    registry.push_image(&docker, "debian:docker").unwrap();
    let got = registry.fetch_manifest("debian", "docker").unwrap();
    assert_eq!(
        got.header("content-type"),
        Some(media_type::DOCKER_MANIFEST)
    );
    assert_eq!(
        got.docker_content_digest(),
        Some(docker.manifest_digest().as_str())
    );

    let zstd = fixtures::alpine_3_19_zstd().build().unwrap();
    registry.push_image(&zstd, "alpine:zstd").unwrap();
    let got = registry.fetch_manifest("alpine", "zstd").unwrap();
    assert_eq!(got.body, zstd.manifest.data);
    assert_eq!(got.body_digest().as_str(), zstd.manifest_digest().as_str(),);
}

#[test]
fn skopeo_can_pull_back_what_was_pushed() {
    let registry = TestRegistry::start(RegistryOptions::tls_auth()).unwrap();
    let image = fixtures::distroless_debian12().build().unwrap();
    registry.push_image(&image, "distroless/base:12").unwrap();
    let out = Command::new("skopeo")
        .args(["inspect", "--cert-dir"])
        .arg(registry.cert_dir().unwrap())
        .arg("--creds")
        .arg(registry.credentials().unwrap().joined())
        .arg(format!(
            "docker://{}/distroless/base:12",
            registry.host_port()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["Digest"], image.manifest_digest().as_str());
}

#[test]
fn drop_stops_the_registry_and_removes_its_directory() {
    let registry = TestRegistry::start(RegistryOptions::plain()).unwrap();
    let dir = registry.dir().to_owned();
    let port = registry.port();
    assert!(dir.join("config.yml").exists());
    let config = std::fs::read_to_string(dir.join("config.yml")).unwrap();
    assert!(config.contains(&format!("addr: 127.0.0.1:{port}")));
    drop(registry);
    assert!(!dir.exists());
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn a_registry_that_cannot_start_reports_its_log() {
    let options = RegistryOptions {
        extra_config: String::from("storage:\n  bogus: [\n"),
        startup_timeout: std::time::Duration::from_secs(10),
        ..RegistryOptions::plain()
    };
    match TestRegistry::start(options) {
        Err(Error::RegistryStart { reason, log }) => {
            assert!(reason.contains("exited"), "{reason}");
            assert!(!log.is_empty());
        }
        other => panic!("expected a start failure, got {other:?}"),
    }
}
