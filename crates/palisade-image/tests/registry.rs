//! Behaviour tests against a real registry (Debian's `docker-registry`),
//! started on a free loopback port by the test kit: plain HTTP, basic auth,
//! self-signed TLS, and TLS with auth.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use palisade_image::{
    inventory, ImageRef, Inventory, NoProgress, RegistryOptions, ScanError, ScanOptions,
};
use palisade_testkit::fixtures;
use palisade_testkit::{ManifestFormat, RegistryOptions as Reg, TestRegistry};

fn scan(reference: &str, registry: RegistryOptions) -> Result<Inventory, ScanError> {
    let opts = ScanOptions {
        registry,
        ..ScanOptions::default()
    };
    inventory(&ImageRef::parse(reference).unwrap(), &opts, &NoProgress)
}

fn names(inv: &Inventory) -> BTreeSet<(String, String)> {
    inv.packages
        .iter()
        .map(|p| (p.name.to_string(), p.version.to_string()))
        .collect()
}

fn want(f: &palisade_testkit::Fixture) -> BTreeSet<(String, String)> {
    f.packages
        .iter()
        .map(|p| (p.name.to_string(), p.version.to_string()))
        .collect()
}

#[test]
fn plain_http_registry_needs_insecure() {
    let reg = TestRegistry::start(Reg::plain()).unwrap();
    let f = fixtures::debian_bookworm();
    let built = f.build().unwrap();
    reg.push_image(&built, "app/debian:12").unwrap();
    let r = format!("{}/app/debian:12", reg.host_port());
    let err = scan(&r, RegistryOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("--insecure") || err.contains("http"), "{err}");
    let inv = scan(
        &r,
        RegistryOptions {
            insecure: true,
            ..RegistryOptions::default()
        },
    )
    .unwrap();
    assert_eq!(names(&inv), want(&f));
    assert_eq!(
        inv.artifact.digest.as_ref().map(ToString::to_string),
        Some(built.manifest_digest().to_string())
    );
    // By digest too.
    let by_digest = format!("{}/app/debian@{}", reg.host_port(), built.manifest_digest());
    let inv = scan(
        &by_digest,
        RegistryOptions {
            insecure: true,
            ..RegistryOptions::default()
        },
    )
    .unwrap();
    assert_eq!(names(&inv), want(&f));
}

#[test]
fn docker_v2_manifests_and_manifest_lists() {
    let reg = TestRegistry::start(Reg::plain()).unwrap();
    let f = fixtures::alpine_3_19().with_format(ManifestFormat::Docker);
    reg.push_image(&f.build().unwrap(), "alpine:docker")
        .unwrap();
    let m = fixtures::multi_arch_alpine(ManifestFormat::Docker);
    reg.push_index(&m.build().unwrap(), "multi:list").unwrap();
    let insecure = RegistryOptions {
        insecure: true,
        ..RegistryOptions::default()
    };
    let inv = scan(
        &format!("{}/alpine:docker", reg.host_port()),
        insecure.clone(),
    )
    .unwrap();
    assert_eq!(names(&inv), want(&f));
    for (platform, pkgs) in &m.platforms {
        let opts = ScanOptions {
            registry: insecure.clone(),
            platform: platform.to_string().parse().unwrap(),
            ..ScanOptions::default()
        };
        let inv = inventory(
            &ImageRef::parse(&format!("{}/multi:list", reg.host_port())).unwrap(),
            &opts,
            &NoProgress,
        )
        .unwrap();
        let w: BTreeSet<(String, String)> = pkgs
            .iter()
            .map(|p| (p.name.to_string(), p.version.to_string()))
            .collect();
        assert_eq!(names(&inv), w, "{platform}");
        assert_eq!(
            inv.artifact.platform.as_deref(),
            Some(platform.to_string().as_str())
        );
    }
}

#[test]
fn basic_auth_from_flags_and_docker_config() {
    let reg = TestRegistry::start(Reg::basic_auth()).unwrap();
    let f = fixtures::alpine_3_19();
    reg.push_image(&f.build().unwrap(), "private/alpine:3.19")
        .unwrap();
    let r = format!("{}/private/alpine:3.19", reg.host_port());
    let creds = reg.credentials().unwrap().clone();
    let empty_cfg = tempfile::tempdir().unwrap();
    let no_creds = RegistryOptions {
        insecure: true,
        docker_config: Some(empty_cfg.path().join("none.json")),
        ..RegistryOptions::default()
    };
    let err = scan(&r, no_creds.clone()).unwrap_err().to_string();
    assert!(err.contains("authentication required"), "{err}");
    let wrong = RegistryOptions {
        username: Some(creds.username.clone()),
        password: Some("wrong".into()),
        ..no_creds.clone()
    };
    let err = scan(&r, wrong).unwrap_err().to_string();
    assert!(err.contains("authentication failed"), "{err}");
    let ok = RegistryOptions {
        username: Some(creds.username.clone()),
        password: Some(creds.password.clone()),
        ..no_creds.clone()
    };
    assert_eq!(names(&scan(&r, ok).unwrap()), want(&f));
    // ~/.docker/config.json style `auths`.
    use base64::Engine as _;
    let cfg = empty_cfg.path().join("config.json");
    let auth = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", creds.username, creds.password));
    std::fs::write(
        &cfg,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#,
            reg.host_port()
        ),
    )
    .unwrap();
    let from_cfg = RegistryOptions {
        docker_config: Some(cfg),
        ..no_creds
    };
    assert_eq!(names(&scan(&r, from_cfg).unwrap()), want(&f));
}

#[test]
fn bearer_token_auth_through_a_token_server() {
    let reg = TestRegistry::start(Reg::token_auth()).unwrap();
    let f = fixtures::alpine_3_19();
    reg.push_image(&f.build().unwrap(), "private/alpine:3.19")
        .unwrap();
    let after_push = reg.tokens_issued();
    let r = format!("{}/private/alpine:3.19", reg.host_port());
    let creds = reg.credentials().unwrap().clone();
    let empty_cfg = tempfile::tempdir().unwrap();
    let no_creds = RegistryOptions {
        insecure: true,
        docker_config: Some(empty_cfg.path().join("none.json")),
        ..RegistryOptions::default()
    };
    let ok = RegistryOptions {
        username: Some(creds.username.clone()),
        password: Some(creds.password.clone()),
        ..no_creds.clone()
    };
    let inv = scan(&r, ok).unwrap();
    assert_eq!(names(&inv), want(&f));
    // The scan went through the token server, as this user, for pull.
    let issued = reg.issued_tokens();
    assert!(issued.len() > after_push, "{issued:?}");
    assert!(
        issued.get(after_push..).unwrap().iter().any(|t| {
            t.subject.as_deref() == Some(creds.username.as_str())
                && t.grants("private/alpine", "pull")
        }),
        "{issued:?}"
    );

    let before = reg.tokens_issued();
    let err = scan(&r, no_creds.clone()).unwrap_err().to_string();
    assert!(err.contains("authentication required"), "{err}");
    let wrong = RegistryOptions {
        username: Some(creds.username.clone()),
        password: Some("wrong".into()),
        ..no_creds
    };
    let err = scan(&r, wrong).unwrap_err().to_string();
    assert!(err.contains("authentication failed"), "{err}");
    assert_eq!(reg.tokens_issued(), before);
    assert!(reg.token_refusals() >= 2);
}

#[test]
fn tls_with_ca_file_or_insecure() {
    let reg = TestRegistry::start(Reg::tls_auth()).unwrap();
    let f = fixtures::distroless_debian12();
    reg.push_image(&f.build().unwrap(), "distroless/base:12")
        .unwrap();
    let r = format!("{}/distroless/base:12", reg.host_port());
    let creds = reg.credentials().unwrap().clone();
    let base = RegistryOptions {
        username: Some(creds.username.clone()),
        password: Some(creds.password.clone()),
        ..RegistryOptions::default()
    };
    let err = scan(&r, base.clone()).unwrap_err().to_string();
    assert!(
        err.contains("--ca-cert") || err.contains("certificate"),
        "{err}"
    );
    let with_ca = RegistryOptions {
        ca_file: Some(reg.ca_cert_path().unwrap()),
        ..base.clone()
    };
    assert_eq!(names(&scan(&r, with_ca).unwrap()), want(&f));
    let insecure = RegistryOptions {
        insecure: true,
        ..base
    };
    assert_eq!(names(&scan(&r, insecure).unwrap()), want(&f));
}

#[test]
fn missing_tag_and_repository_are_clear_errors() {
    let reg = TestRegistry::start(Reg::plain()).unwrap();
    let insecure = RegistryOptions {
        insecure: true,
        ..RegistryOptions::default()
    };
    let err = scan(&format!("{}/nothing/here:1", reg.host_port()), insecure)
        .unwrap_err()
        .to_string();
    assert!(err.contains("nothing/here"), "{err}");
}
