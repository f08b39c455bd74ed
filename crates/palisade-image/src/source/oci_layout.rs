//! `oci:DIR[:TAG]` — an OCI image layout directory.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use palisade_model::Digest;

use super::manifest::{self, parse_digest, select_platform, Document, RawDescriptor};
use super::{ImageInfo, LayerSource, Platform, SourceError};
use crate::limits::Limits;

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const MAX_INDEX_DEPTH: usize = 4;

/// An image in an OCI layout, resolved to one platform manifest.
#[derive(Debug)]
pub struct OciLayoutSource {
    dir: PathBuf,
    info: ImageInfo,
}

fn read_capped(
    path: &Path,
    limit: u64,
    image: &str,
    what: &'static str,
) -> Result<Vec<u8>, SourceError> {
    let io = |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    if len > limit {
        return Err(manifest::ManifestError::TooLarge {
            image: image.to_string(),
            what,
            size: len,
            limit,
        }
        .into());
    }
    let mut buf = Vec::new();
    f.take(limit).read_to_end(&mut buf).map_err(io)?;
    Ok(buf)
}

impl OciLayoutSource {
    pub fn open(
        dir: &Path,
        tag: Option<&str>,
        platform: &Platform,
        limits: &Limits,
    ) -> Result<OciLayoutSource, SourceError> {
        let name = match tag {
            Some(t) => format!("oci:{}:{t}", dir.display()),
            None => format!("oci:{}", dir.display()),
        };
        let invalid = |message: String| SourceError::Invalid {
            input: name.clone(),
            message,
        };
        if !dir.join("oci-layout").is_file() {
            return Err(invalid(format!(
                "{} is not an OCI image layout (no oci-layout file)",
                dir.display()
            )));
        }
        let index_bytes = read_capped(
            &dir.join("index.json"),
            limits.max_manifest,
            &name,
            "index.json",
        )?;
        let Document::Index(entries) = manifest::parse_document(&name, &index_bytes, None)? else {
            return Err(invalid("index.json is not an image index".into()));
        };
        let chosen: &RawDescriptor = match tag {
            Some(t) => entries
                .iter()
                .find(|e| {
                    e.annotations
                        .as_ref()
                        .and_then(|a| a.get(REF_NAME))
                        .is_some_and(|r| {
                            r == t || r.rsplit_once(':').is_some_and(|(_, rt)| rt == t)
                        })
                })
                .ok_or_else(|| {
                    invalid(format!("no image tagged {t:?}; tags: {}", tags(&entries)))
                })?,
            None => match entries.as_slice() {
                [one] => one,
                [] => return Err(invalid("the layout holds no image".into())),
                _ => {
                    return Err(invalid(format!(
                        "the layout holds {} images; name one as oci:DIR:TAG (tags: {})",
                        entries.len(),
                        tags(&entries)
                    )))
                }
            },
        };
        let top = parse_digest(&name, "index.json", &chosen.digest)?;
        let mut src = OciLayoutSource {
            dir: dir.to_path_buf(),
            info: ImageInfo {
                name: name.clone(),
                digest: Some(top.clone()),
                platform: None,
                layers: Vec::new(),
            },
        };
        let mut current = top;
        for _ in 0..MAX_INDEX_DEPTH {
            let bytes = src.read_blob_capped(&current, limits, "manifest")?;
            manifest::verify(&name, "manifest", &current, &bytes)?;
            match manifest::parse_document(&name, &bytes, None)? {
                Document::Index(entries) => {
                    let e = select_platform(&name, &entries, platform)?;
                    src.info.platform = e.platform.as_ref().map(manifest::platform_string);
                    current = parse_digest(&name, "image index", &e.digest)?;
                }
                Document::Manifest { config, layers } => {
                    src.info.layers = manifest::layer_refs(&name, &layers, limits.max_layers)?;
                    let config_digest = parse_digest(&name, "config descriptor", &config.digest)?;
                    let config_bytes = src.read_blob_capped(&config_digest, limits, "config")?;
                    manifest::verify(&name, "config", &config_digest, &config_bytes)?;
                    if src.info.platform.is_none() {
                        src.info.platform = manifest::config_platform(&config_bytes);
                    }
                    return Ok(src);
                }
            }
        }
        Err(manifest::ManifestError::TooDeep {
            image: name,
            limit: MAX_INDEX_DEPTH,
        }
        .into())
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        // Digest is validated (algorithm + lowercase hex), so this cannot
        // escape the layout.
        self.dir
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    fn read_blob_capped(
        &self,
        digest: &Digest,
        limits: &Limits,
        what: &'static str,
    ) -> Result<Vec<u8>, SourceError> {
        read_capped(
            &self.blob_path(digest),
            limits.max_manifest,
            &self.info.name,
            what,
        )
    }
}

fn tags(entries: &[RawDescriptor]) -> String {
    let t: Vec<&str> = entries
        .iter()
        .filter_map(|e| {
            e.annotations
                .as_ref()
                .and_then(|a| a.get(REF_NAME))
                .map(String::as_str)
        })
        .collect();
    if t.is_empty() {
        "(none)".into()
    } else {
        t.join(", ")
    }
}

impl LayerSource for OciLayoutSource {
    fn info(&self) -> &ImageInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let layer = self
            .info
            .layers
            .get(index)
            .ok_or_else(|| SourceError::Invalid {
                input: self.info.name.clone(),
                message: format!("no layer {index}"),
            })?;
        let digest = layer.digest.as_ref().ok_or_else(|| SourceError::Invalid {
            input: self.info.name.clone(),
            message: format!("layer {index} has no digest"),
        })?;
        let path = self.blob_path(digest);
        let f = File::open(&path).map_err(|source| SourceError::Io { path, source })?;
        Ok(Box::new(f))
    }
}
