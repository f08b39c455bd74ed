//! The scanned artifact as SBOM formats name it: its `pkg:oci` purl and a
//! stable document identity.

use std::fmt::Write as _;

use palisade_model::{Artifact, ScanReport};
use uuid::Uuid;

/// The Package URL of an OCI image: `pkg:oci/NAME@DIGEST?arch=…&repository_url=…&tag=…`.
///
/// Only images with a known manifest digest have one (the digest is the
/// purl's version). NAME is the last segment of the repository, lowercased,
/// as the `oci` purl type defines it. Encoding follows the same rules as
/// `palisade-image`'s purl builder: alphanumerics, `.-_~` and `:` stay,
/// every other byte is `%XX`.
pub(crate) fn oci_purl(artifact: &Artifact) -> Option<String> {
    let digest = artifact.digest.as_ref()?;
    let reference = ImageName::parse(&artifact.name);
    let name = reference.name.to_lowercase();
    if name.is_empty() {
        return None;
    }
    let mut purl = format!("pkg:oci/{}@{}", encode(&name), encode(&digest.to_string()));
    // Qualifiers sorted by key.
    let arch = artifact
        .platform
        .as_deref()
        .and_then(|p| p.split('/').nth(1))
        .filter(|a| !a.is_empty());
    let qualifiers = [
        ("arch", arch),
        ("repository_url", reference.repository),
        ("tag", reference.tag),
    ];
    let mut sep = '?';
    for (key, value) in qualifiers {
        if let Some(value) = value {
            let _ = write!(purl, "{sep}{key}={}", encode(value));
            sep = '&';
        }
    }
    Some(purl)
}

/// The parts of an artifact name (`host/repo:tag`, `docker://…`,
/// `oci:DIR:TAG`, `docker-archive:FILE`, `dir:PATH`) that a purl uses.
#[derive(Debug, PartialEq, Eq)]
struct ImageName<'a> {
    /// Last path segment of the repository (or of the local path).
    name: &'a str,
    /// The full repository, for registry references only.
    repository: Option<&'a str>,
    tag: Option<&'a str>,
}

impl<'a> ImageName<'a> {
    fn parse(s: &'a str) -> ImageName<'a> {
        let local = ["oci:", "oci-archive:", "docker-archive:", "dir:"]
            .iter()
            .find_map(|prefix| s.strip_prefix(prefix));
        if let Some(path) = local {
            let (path, tag) = split_tag(path);
            let path = path.trim_end_matches('/');
            let base = path.rsplit('/').next().unwrap_or(path);
            let base = base.strip_suffix(".tar").unwrap_or(base);
            let tag = if s.starts_with("oci") { tag } else { None };
            return ImageName {
                name: base,
                repository: None,
                tag,
            };
        }
        let s = s.strip_prefix("docker://").unwrap_or(s);
        let s = s.split_once('@').map_or(s, |(before, _)| before);
        let (repository, tag) = split_tag(s);
        let name = repository.rsplit('/').next().unwrap_or(repository);
        ImageName {
            name,
            // A short name has no registry; do not guess one.
            repository: repository.contains('/').then_some(repository),
            tag,
        }
    }
}

/// Split `repo:tag` at a `:` that comes after the last `/` (a `:` before it
/// belongs to a registry port).
fn split_tag(s: &str) -> (&str, Option<&str>) {
    match s.rfind(':') {
        Some(colon) if s.rfind('/').is_none_or(|slash| colon > slash) => {
            let (repo, tag) = s.split_at(colon);
            let tag = tag.get(1..).filter(|t| !t.is_empty());
            (repo, tag)
        }
        _ => (s, None),
    }
}

/// Percent-encode every byte except alphanumerics, `.-_~` and `:`.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A stable UUID (version 5) naming one scan's documents.
///
/// Derived from the image's manifest digest when it has one, so scanning
/// the same image twice yields the same CycloneDX serial number and SPDX
/// namespace; otherwise from the artifact name and the inventory, so the
/// same directory with the same packages does too.
pub(crate) fn document_uuid(report: &ScanReport) -> Uuid {
    let name = match &report.artifact.digest {
        Some(digest) => format!("https://palisade.invalid/artifact/{digest}"),
        None => {
            let mut name = format!(
                "https://palisade.invalid/artifact-content/{}",
                encode(&report.artifact.name)
            );
            for p in &report.packages {
                let _ = write!(name, "\n{}\t{}", p.purl, p.path);
            }
            name
        }
    };
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes())
}

/// A digest shortened for tables: the first 12 hex characters.
pub(crate) fn short_digest(digest: &palisade_model::Digest) -> &str {
    let hex = digest.hex();
    hex.get(..12).unwrap_or(hex)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use palisade_model::Digest;

    use super::*;

    fn digest() -> Digest {
        format!("sha256:{}", "ab".repeat(32))
            .parse()
            .expect("valid digest")
    }

    fn artifact(name: &str, platform: Option<&str>) -> Artifact {
        Artifact {
            name: name.to_string(),
            digest: Some(digest()),
            os: None,
            platform: platform.map(str::to_string),
            layers: Vec::new(),
        }
    }

    #[test]
    fn parses_names() {
        let p = ImageName::parse("127.0.0.1:5000/team/App:1.2");
        assert_eq!(
            p,
            ImageName {
                name: "App",
                repository: Some("127.0.0.1:5000/team/App"),
                tag: Some("1.2")
            }
        );
        let p = ImageName::parse("docker://docker.io/library/debian@sha256:00");
        assert_eq!(p.name, "debian");
        assert_eq!(p.repository, Some("docker.io/library/debian"));
        assert_eq!(p.tag, None);
        let p = ImageName::parse("localhost:5000/app");
        assert_eq!((p.name, p.tag), ("app", None));
        let p = ImageName::parse("oci:/tmp/layouts/app:v1");
        assert_eq!((p.name, p.repository, p.tag), ("app", None, Some("v1")));
        let p = ImageName::parse("docker-archive:/tmp/app.tar");
        assert_eq!((p.name, p.tag), ("app", None));
        let p = ImageName::parse("debian:12");
        assert_eq!((p.name, p.repository, p.tag), ("debian", None, Some("12")));
    }

    #[test]
    fn purl_for_registry_image() {
        let purl = oci_purl(&artifact(
            "docker.io/library/Debian:12",
            Some("linux/amd64"),
        ));
        let hex = "ab".repeat(32);
        assert_eq!(
            purl.as_deref(),
            Some(
                format!(
                    "pkg:oci/debian@sha256:{hex}?arch=amd64&repository_url=docker.io%2Flibrary%2FDebian&tag=12"
                )
                .as_str()
            )
        );
        let mut no_digest = artifact("debian:12", None);
        no_digest.digest = None;
        assert_eq!(oci_purl(&no_digest), None);
    }

    #[test]
    fn uuid_is_stable_and_digest_based() {
        let a = ScanReport::new(artifact("a:1", None), Vec::new());
        let b = ScanReport::new(artifact("b:2", None), Vec::new());
        assert_eq!(document_uuid(&a), document_uuid(&b));
        assert_eq!(document_uuid(&a).get_version_num(), 5);
        let mut c = a.clone();
        c.artifact.digest = None;
        let mut d = b.clone();
        d.artifact.digest = None;
        assert_ne!(document_uuid(&c), document_uuid(&d));
        assert_eq!(document_uuid(&c), document_uuid(&c.clone()));
    }
}
