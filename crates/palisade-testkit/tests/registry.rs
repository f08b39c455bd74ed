//! Each registry variant starts, accepts a push with digests preserved, and
//! serves the manifest; auth variants refuse anonymous requests. The
//! bearer-token variant goes through its token server for every request
//! with credentials.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

use palisade_testkit::fixtures;
use palisade_testkit::{
    media_type, Credentials, Error, ManifestFormat, RegistryOptions, TestRegistry, TokenAuth,
};

fn check_variant(options: RegistryOptions) {
    let tls = options.tls;
    let auth = options.auth.is_some();
    let scheme = if options.token.is_some() {
        "Bearer"
    } else {
        "Basic"
    };
    let registry = TestRegistry::start(options).unwrap();
    assert!(registry.host_port().starts_with("127.0.0.1:"));
    assert_eq!(registry.ca_cert_path().is_some(), tls);
    assert_eq!(registry.credentials().is_some(), auth);

    // /v2/ without credentials: 401 with a challenge when auth is on.
    let anonymous = registry.get("/v2/", &[], false).unwrap();
    if auth {
        assert_eq!(anonymous.status, 401);
        let challenge = anonymous.header("www-authenticate").unwrap();
        assert!(challenge.starts_with(scheme), "{challenge}");
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
fn bearer_token_auth() {
    check_variant(RegistryOptions::token_auth());
}

#[test]
fn tls_with_bearer_token_auth() {
    check_variant(RegistryOptions {
        tls: true,
        ..RegistryOptions::token_auth()
    });
}

/// The payload of a compact JWS, decoded.
fn jwt_part(jwt: &str, index: usize) -> serde_json::Value {
    use base64::Engine as _;
    let part = jwt.split('.').nth(index).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// `GET url` with `Authorization: Bearer token`: the status and the
/// `WWW-Authenticate` header.
fn get_with_bearer(url: &str, token: &str) -> (u16, Option<String>) {
    let out = Command::new("curl")
        .args(["--silent", "--noproxy", "*", "--output", "/dev/null"])
        .args(["--write-out", "%{http_code} %header{www-authenticate}"])
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}"))
        .arg(url)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (code, challenge) = text.split_once(' ').unwrap_or((&text, ""));
    let challenge = (!challenge.is_empty()).then(|| challenge.to_owned());
    (code.parse().unwrap(), challenge)
}

#[test]
fn token_auth_challenges_issues_and_refuses() {
    let registry = TestRegistry::start(RegistryOptions::token_auth()).unwrap();
    assert!(registry.uses_token_auth());
    let realm = registry.token_realm().unwrap();
    assert_eq!(
        realm,
        format!("http://127.0.0.1:{}/token", registry.token_port().unwrap())
    );
    let config = std::fs::read_to_string(registry.dir().join("config.yml")).unwrap();
    assert!(config.contains("  token:\n"), "{config}");
    assert!(!config.contains("htpasswd"), "{config}");

    // The exact challenge distribution sends for the base endpoint.
    let anonymous = registry.get("/v2/", &[], false).unwrap();
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.header("www-authenticate"),
        Some(format!(r#"Bearer realm="{realm}",service="palisade-testkit""#).as_str())
    );
    assert_eq!(registry.tokens_issued(), 0);

    // skopeo follows the flow with --dest-creds and asks for push.
    let image = fixtures::alpine_3_19().build().unwrap();
    registry.push_image(&image, "team/alpine:3.19").unwrap();
    let after_push = registry.tokens_issued();
    assert!(after_push > 0);
    let user = &registry.credentials().unwrap().username;
    assert!(
        registry
            .issued_tokens()
            .iter()
            .any(|t| t.subject.as_ref() == Some(user) && t.grants("team/alpine", "push")),
        "{:?}",
        registry.issued_tokens()
    );
    let manifest = registry.fetch_manifest("team/alpine", "3.19").unwrap();
    assert_eq!(manifest.status, 200);
    assert_eq!(manifest.body, image.manifest.data);
    assert!(registry.tokens_issued() > after_push);

    // Without a token, repository requests name their scope.
    let anonymous = registry
        .get(
            "/v2/team/alpine/manifests/3.19",
            &media_type::ALL_MANIFESTS,
            false,
        )
        .unwrap();
    assert_eq!(anonymous.status, 401);
    let challenge = anonymous.header("www-authenticate").unwrap();
    assert!(
        challenge.contains(r#"scope="repository:team/alpine:pull""#),
        "{challenge}"
    );

    // The token itself: RS256, x5c, the claims the registry checks.
    let creds = registry.credentials().unwrap().clone();
    let answer = registry
        .request_token(Some(&creds), &["repository:team/alpine:pull,push"])
        .unwrap();
    assert_eq!(answer.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(body["token"], body["access_token"]);
    assert_eq!(body["expires_in"], 300);
    assert!(body["issued_at"].as_str().unwrap().ends_with('Z'));
    let jwt = body["token"].as_str().unwrap();
    let header = jwt_part(jwt, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["x5c"].as_array().unwrap().len(), 1);
    let claims = jwt_part(jwt, 1);
    assert_eq!(claims["iss"], "palisade-testkit-issuer");
    assert_eq!(claims["aud"], "palisade-testkit");
    assert_eq!(claims["sub"], creds.username.as_str());
    assert_eq!(
        claims["access"],
        serde_json::json!([{"type": "repository", "name": "team/alpine", "actions": ["pull", "push"]}])
    );

    // The registry verifies the signature: the token opens the repository,
    // the same token with one signature byte changed does not.
    let tags = format!("{}/v2/team/alpine/tags/list", registry.base_url());
    assert_eq!(get_with_bearer(&tags, jwt), (200, None));
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    let mut tampered = signature.as_bytes().to_vec();
    tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{signed}.{}", String::from_utf8(tampered).unwrap());
    let (status, challenge) = get_with_bearer(&tags, &tampered);
    assert_eq!(status, 401);
    assert!(
        challenge.unwrap().contains(r#"error="invalid_token""#),
        "{}",
        registry.log()
    );

    // A token for one repository does not open another.
    let pushed_elsewhere = fixtures::distroless_debian12().build().unwrap();
    registry
        .push_image(&pushed_elsewhere, "other/base:12")
        .unwrap();
    let (status, challenge) = get_with_bearer(
        &format!("{}/v2/other/base/tags/list", registry.base_url()),
        jwt,
    );
    assert_eq!(status, 401);
    assert!(
        challenge.unwrap().contains(r#"error="insufficient_scope""#),
        "{}",
        registry.log()
    );

    // Wrong password and no credentials: 401 from the token server, no token.
    let issued = registry.tokens_issued();
    let refused = registry.token_refusals();
    let wrong = Credentials::new(&creds.username, "wrong");
    let answer = registry
        .request_token(Some(&wrong), &["repository:team/alpine:pull"])
        .unwrap();
    assert_eq!(answer.status, 401);
    assert!(answer
        .header("www-authenticate")
        .unwrap()
        .starts_with("Basic"));
    let answer = registry
        .request_token(None, &["repository:team/alpine:pull"])
        .unwrap();
    assert_eq!(answer.status, 401);
    assert_eq!(registry.tokens_issued(), issued);
    assert_eq!(registry.token_refusals(), refused + 2);

    // skopeo with the wrong password cannot push.
    let dir = tempfile::tempdir().unwrap();
    image.write_oci_layout(dir.path(), "x").unwrap();
    let out = Command::new("skopeo")
        .args([
            "--insecure-policy",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
        ])
        .arg("--authfile")
        .arg(dir.path().join("auth.json"))
        .arg("--dest-creds")
        .arg(wrong.joined())
        .arg(format!("oci:{}:x", dir.path().display()))
        .arg(format!("docker://{}/team/wrong:1", registry.host_port()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(registry.tokens_issued(), issued);
}

#[test]
fn token_auth_can_allow_anonymous_pull_only() {
    let registry = TestRegistry::start(RegistryOptions {
        token: Some(TokenAuth {
            anonymous_pull: true,
        }),
        ..RegistryOptions::token_auth()
    })
    .unwrap();
    let image = fixtures::alpine_3_19().build().unwrap();
    registry.push_image(&image, "public/alpine:1").unwrap();
    let answer = registry
        .request_token(None, &["repository:public/alpine:pull,push"])
        .unwrap();
    assert_eq!(answer.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    let claims = jwt_part(body["token"].as_str().unwrap(), 1);
    assert_eq!(claims["sub"], "");
    assert_eq!(claims["access"][0]["actions"], serde_json::json!(["pull"]));
    let last = registry.issued_tokens().pop().unwrap();
    assert_eq!(last.subject, None);
    assert!(last.grants("public/alpine", "pull"));
    assert!(!last.grants("public/alpine", "push"));
    // Pulling through the flow works with no credentials at all (curl sends
    // none: the token server sees an anonymous request).
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", "--no-creds"])
        .arg(format!("docker://{}/public/alpine:1", registry.host_port()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, image.manifest.data);
    // Wrong credentials are still refused.
    let wrong = Credentials::new("palisade", "wrong");
    let answer = registry
        .request_token(Some(&wrong), &["repository:public/alpine:pull"])
        .unwrap();
    assert_eq!(answer.status, 401);
}

#[test]
fn drop_stops_the_token_server() {
    let registry = TestRegistry::start(RegistryOptions::token_auth()).unwrap();
    let port = registry.token_port().unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(registry);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
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
