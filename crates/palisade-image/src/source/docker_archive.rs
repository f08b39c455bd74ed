//! `docker-archive:FILE` — a `docker save` tarball, in the legacy layout
//! (`<id>/layer.tar`) or the OCI-style layout of Docker ≥ 25
//! (`blobs/sha256/<hex>`). The archive is indexed once by seeking over
//! entries; each layer is then read in place.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::manifest::{self, parse_digest};
use super::{ImageInfo, LayerRef, LayerSource, SourceError};
use crate::fs::normalize_path;
use crate::limits::Limits;
use crate::tar::{EntryKind, TarReader};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Config {
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Debug, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// The first image of a `docker save` archive.
#[derive(Debug)]
pub struct DockerArchiveSource {
    path: PathBuf,
    info: ImageInfo,
    /// (offset, size) of each layer's tar inside the archive.
    spans: Vec<(u64, u64)>,
}

fn seek_forward(f: &mut File, n: u64) -> io::Result<()> {
    let n = i64::try_from(n)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "offset too large"))?;
    f.seek(SeekFrom::Current(n)).map(|_| ())
}

impl DockerArchiveSource {
    pub fn open(path: &Path, limits: &Limits) -> Result<DockerArchiveSource, SourceError> {
        let name = format!("docker-archive:{}", path.display());
        let io_err = |source| SourceError::Io {
            path: path.to_path_buf(),
            source,
        };
        let invalid = |message: String| SourceError::Invalid {
            input: name.clone(),
            message,
        };
        let file = File::open(path).map_err(io_err)?;
        let mut outer_limits = *limits;
        outer_limits.max_layer_uncompressed = u64::MAX;
        let mut tar = TarReader::with_seek(file, outer_limits, seek_forward);
        let mut files: HashMap<String, (u64, u64)> = HashMap::new();
        let mut links: HashMap<String, String> = HashMap::new();
        let mut small: HashMap<String, Vec<u8>> = HashMap::new();
        loop {
            let entry = match tar.next_entry() {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(e) => return Err(invalid(format!("not a readable tar archive: {e}"))),
            };
            let Some(p) = normalize_path(&entry.path) else {
                continue;
            };
            match entry.kind {
                EntryKind::File => {
                    // manifest.json and configs are small; read them now
                    // rather than seek back later.
                    if (p == "manifest.json" || p.ends_with(".json") || p.starts_with("blobs/"))
                        && entry.size <= limits.max_manifest.min(1 << 20)
                        && small.len() < 10_000
                    {
                        let data = tar
                            .read_data()
                            .map_err(|e| invalid(format!("reading {p}: {e}")))?;
                        small.insert(p.clone(), data);
                    }
                    files.insert(p, (entry.data_offset, entry.size));
                }
                EntryKind::Symlink(target) => {
                    let base = p.rsplit_once('/').map_or("", |(d, _)| d);
                    let joined = if target.starts_with('/') {
                        target
                    } else {
                        format!("{base}/{target}")
                    };
                    if let Some(t) = normalize_path(&joined) {
                        links.insert(p, t);
                    }
                }
                EntryKind::HardLink(target) => {
                    if let Some(t) = normalize_path(&target) {
                        links.insert(p, t);
                    }
                }
                _ => {}
            }
        }
        let resolve = |p: &str| -> Option<String> {
            let mut cur = normalize_path(p)?;
            for _ in 0..8 {
                if files.contains_key(&cur) {
                    return Some(cur);
                }
                cur = links.get(&cur)?.clone();
            }
            None
        };
        let manifest_bytes = small
            .get("manifest.json")
            .ok_or_else(|| invalid("no manifest.json: not a `docker save` archive".into()))?;
        let manifests: Vec<ArchiveManifest> = serde_json::from_slice(manifest_bytes)
            .map_err(|e| invalid(format!("manifest.json: {e}")))?;
        let m = manifests
            .into_iter()
            .next()
            .ok_or_else(|| invalid("manifest.json lists no image".into()))?;
        if m.layers.len() > limits.max_layers {
            return Err(manifest::ManifestError::TooManyLayers {
                image: name,
                count: m.layers.len(),
                limit: limits.max_layers,
            }
            .into());
        }
        let config_path =
            resolve(&m.config).ok_or_else(|| invalid(format!("config {} is missing", m.config)))?;
        let config_bytes = small
            .get(&config_path)
            .ok_or_else(|| invalid(format!("config {} is too large or unreadable", m.config)))?;
        let config: Config = serde_json::from_slice(config_bytes)
            .map_err(|e| invalid(format!("config {}: {e}", m.config)))?;
        let diff_ids = config.rootfs.map(|r| r.diff_ids).unwrap_or_default();
        let image_id = manifest::sha256_of(config_bytes);

        let mut layers = Vec::new();
        let mut spans = Vec::new();
        for (i, l) in m.layers.iter().enumerate() {
            let p = resolve(l)
                .ok_or_else(|| invalid(format!("layer {l} is missing from the archive")))?;
            let (off, size) = files
                .get(&p)
                .copied()
                .ok_or_else(|| invalid(format!("layer {l} is missing")))?;
            // The digest of a blob named by digest is that name; a legacy
            // layer.tar is uncompressed, so its digest is the diff id.
            let (digest, verify) = match p.strip_prefix("blobs/sha256/") {
                Some(hex) => (
                    Some(parse_digest(&name, "layer path", &format!("sha256:{hex}"))?),
                    true,
                ),
                None => match diff_ids.get(i) {
                    // The diff id hashes the uncompressed tar: checkable
                    // only when the archive stores the layer uncompressed.
                    Some(d) => (
                        Some(parse_digest(&name, "config diff_ids", d)?),
                        !starts_compressed(path, off).map_err(io_err)?,
                    ),
                    None => (None, false),
                },
            };
            layers.push(LayerRef {
                digest,
                media_type: "application/vnd.docker.image.rootfs.diff.tar".into(),
                size: Some(size),
                verify,
            });
            spans.push((off, size));
        }
        let platform = manifest::config_platform(config_bytes);
        let display = match m.repo_tags.as_ref().and_then(|t| t.first()) {
            Some(tag) => format!("{name} ({tag})"),
            None => name,
        };
        Ok(DockerArchiveSource {
            path: path.to_path_buf(),
            info: ImageInfo {
                name: display,
                digest: Some(image_id),
                platform,
                layers,
            },
            spans,
        })
    }
}

/// Whether the data at `off` starts with a gzip or zstd magic number.
fn starts_compressed(path: &Path, off: u64) -> io::Result<bool> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(off))?;
    let mut magic = [0u8; 4];
    let n = f.read(&mut magic)?;
    Ok(matches!(
        magic.get(..n),
        Some([0x1f, 0x8b, ..]) | Some([0x28, 0xb5, 0x2f, 0xfd])
    ))
}

impl LayerSource for DockerArchiveSource {
    fn info(&self) -> &ImageInfo {
        &self.info
    }

    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let (off, size) = self
            .spans
            .get(index)
            .copied()
            .ok_or_else(|| SourceError::Invalid {
                input: self.info.name.clone(),
                message: format!("no layer {index}"),
            })?;
        let io_err = |source| SourceError::Io {
            path: self.path.clone(),
            source,
        };
        let mut f = File::open(&self.path).map_err(io_err)?;
        f.seek(SeekFrom::Start(off)).map_err(io_err)?;
        Ok(Box::new(f.take(size)))
    }
}
