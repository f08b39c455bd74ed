//! OCI and Docker v2 manifest and index documents, parsed strictly enough
//! to be safe and loosely enough to accept what real tools write (umoci
//! omits the top-level `mediaType`).

use serde::Deserialize;

use palisade_model::Digest;

use super::{LayerRef, Platform};

pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// Every manifest type we read; registries must be sent all of them (the
/// Debian registry 404s OCI manifests and downgrades Docker ones to schema 1
/// unless each is listed).
pub(crate) const ACCEPT: &[&str] = &[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

/// A manifest or index that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    #[error("{what} of {image} is not valid JSON: {source}")]
    Json {
        what: &'static str,
        image: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{image}: Docker schema 1 manifests are not supported (re-push the image with a current client)")]
    Schema1 { image: String },
    #[error("{image}: unsupported manifest media type {media_type:?}")]
    UnsupportedMediaType { image: String, media_type: String },
    #[error("{image}: no manifest for platform {wanted}; the index has: {available}")]
    NoPlatform {
        image: String,
        wanted: String,
        available: String,
    },
    #[error("{image}: invalid digest {digest:?} in {what}")]
    BadDigest {
        image: String,
        what: &'static str,
        digest: String,
    },
    #[error("{image}: {what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        image: String,
        what: &'static str,
        size: u64,
        limit: u64,
    },
    #[error("{image}: content of {what} hashes to {actual}, not {expected}")]
    DigestMismatch {
        image: String,
        what: &'static str,
        expected: Digest,
        actual: Digest,
    },
    #[error("{image}: image has {count} layers, over the limit of {limit}")]
    TooManyLayers {
        image: String,
        count: usize,
        limit: usize,
    },
    #[error("{image}: nested image indexes deeper than {limit} levels")]
    TooDeep { image: String, limit: usize },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawPlatform {
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawDescriptor {
    #[serde(default)]
    pub(crate) media_type: Option<String>,
    pub(crate) digest: String,
    #[serde(default)]
    pub(crate) size: Option<i64>,
    #[serde(default)]
    pub(crate) platform: Option<RawPlatform>,
    #[serde(default)]
    pub(crate) annotations: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDocument {
    #[serde(default)]
    schema_version: Option<i64>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<RawDescriptor>,
    #[serde(default)]
    layers: Option<Vec<RawDescriptor>>,
    #[serde(default)]
    manifests: Option<Vec<RawDescriptor>>,
}

/// A parsed manifest-ish document.
#[derive(Debug)]
pub(crate) enum Document {
    Manifest {
        config: RawDescriptor,
        layers: Vec<RawDescriptor>,
    },
    Index(Vec<RawDescriptor>),
}

/// Parse a manifest or index. `content_type` is the HTTP Content-Type when
/// the document came from a registry.
pub(crate) fn parse_document(
    image: &str,
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<Document, ManifestError> {
    let raw: RawDocument = serde_json::from_slice(bytes).map_err(|source| ManifestError::Json {
        what: "manifest",
        image: image.to_string(),
        source,
    })?;
    let media_type = raw
        .media_type
        .as_deref()
        .or(content_type.map(|c| c.split(';').next().unwrap_or(c).trim()));
    if raw.schema_version == Some(1)
        || matches!(media_type, Some(DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED))
    {
        return Err(ManifestError::Schema1 {
            image: image.to_string(),
        });
    }
    match (media_type, raw.manifests, raw.config, raw.layers) {
        (Some(OCI_INDEX | DOCKER_LIST) | None, Some(m), _, _) => Ok(Document::Index(m)),
        (Some(OCI_MANIFEST | DOCKER_MANIFEST) | None, None, Some(config), Some(layers)) => {
            Ok(Document::Manifest { config, layers })
        }
        (Some(OCI_MANIFEST | DOCKER_MANIFEST), None, Some(config), None) => {
            Ok(Document::Manifest {
                config,
                layers: Vec::new(),
            })
        }
        (mt, ..) => Err(ManifestError::UnsupportedMediaType {
            image: image.to_string(),
            media_type: mt.unwrap_or("(none)").to_string(),
        }),
    }
}

pub(crate) fn parse_digest(
    image: &str,
    what: &'static str,
    s: &str,
) -> Result<Digest, ManifestError> {
    s.parse().map_err(|_| ManifestError::BadDigest {
        image: image.to_string(),
        what,
        digest: s.to_string(),
    })
}

/// Choose the index entry for `want`. Attestation manifests
/// (`unknown/unknown`) are never chosen.
pub(crate) fn select_platform<'a>(
    image: &str,
    entries: &'a [RawDescriptor],
    want: &Platform,
) -> Result<&'a RawDescriptor, ManifestError> {
    let found = entries.iter().find(|e| {
        e.platform
            .as_ref()
            .is_some_and(|p| want.matches(&p.os, &p.architecture, p.variant.as_deref()))
    });
    found.ok_or_else(|| {
        let available: Vec<String> = entries
            .iter()
            .filter_map(|e| e.platform.as_ref())
            .filter(|p| p.os != "unknown")
            .map(|p| match &p.variant {
                Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                None => format!("{}/{}", p.os, p.architecture),
            })
            .collect();
        ManifestError::NoPlatform {
            image: image.to_string(),
            wanted: want.to_string(),
            available: if available.is_empty() {
                "(no platforms)".into()
            } else {
                available.join(", ")
            },
        }
    })
}

pub(crate) fn layer_refs(
    image: &str,
    layers: &[RawDescriptor],
    max_layers: usize,
) -> Result<Vec<LayerRef>, ManifestError> {
    if layers.len() > max_layers {
        return Err(ManifestError::TooManyLayers {
            image: image.to_string(),
            count: layers.len(),
            limit: max_layers,
        });
    }
    layers
        .iter()
        .map(|l| {
            Ok(LayerRef {
                digest: Some(parse_digest(image, "layer descriptor", &l.digest)?),
                media_type: l.media_type.clone().unwrap_or_default(),
                size: l.size.and_then(|s| u64::try_from(s).ok()),
                verify: true,
            })
        })
        .collect()
}

pub(crate) fn platform_string(p: &RawPlatform) -> String {
    match &p.variant {
        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
        None => format!("{}/{}", p.os, p.architecture),
    }
}

/// `os/architecture[/variant]` from an image config blob.
pub(crate) fn config_platform(config: &[u8]) -> Option<String> {
    let p: RawPlatform = serde_json::from_slice(config).ok()?;
    if p.os.is_empty() || p.architecture.is_empty() {
        return None;
    }
    Some(platform_string(&p))
}

/// Hash `bytes` with the digest's algorithm and compare.
pub(crate) fn verify(
    image: &str,
    what: &'static str,
    expected: &Digest,
    bytes: &[u8],
) -> Result<(), ManifestError> {
    use sha2::Digest as _;
    let actual = match expected.algorithm() {
        palisade_model::DigestAlgorithm::Sha256 => Digest::from_bytes(
            palisade_model::DigestAlgorithm::Sha256,
            &sha2::Sha256::digest(bytes),
        ),
        palisade_model::DigestAlgorithm::Sha512 => Digest::from_bytes(
            palisade_model::DigestAlgorithm::Sha512,
            &sha2::Sha512::digest(bytes),
        ),
    };
    if &actual != expected {
        return Err(ManifestError::DigestMismatch {
            image: image.to_string(),
            what,
            expected: expected.clone(),
            actual,
        });
    }
    Ok(())
}

pub(crate) fn sha256_of(bytes: &[u8]) -> Digest {
    use sha2::Digest as _;
    Digest::from_bytes(
        palisade_model::DigestAlgorithm::Sha256,
        &sha2::Sha256::digest(bytes),
    )
}
