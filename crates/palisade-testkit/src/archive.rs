//! `docker save`-style archives ("docker-archive").
//!
//! Two layouts exist in the wild, both described by a top-level
//! `manifest.json` (`[{"Config": …, "RepoTags": […], "Layers": […]}]`):
//!
//! * [`DockerArchiveLayout::OciBlobs`] — Docker ≥ 25: every file is an OCI blob
//!   under `blobs/sha256/<hex>`, and the archive is also an OCI layout
//!   (`oci-layout`, `index.json`, an OCI manifest whose layers are the
//!   uncompressed tars). `manifest.json` paths point into `blobs/`.
//! * [`DockerArchiveLayout::Legacy`] — Docker ≤ 24: `<config hex>.json`,
//!   one `<layer id>/layer.tar` (with `VERSION` and `json`) per layer.
//!
//! Both also carry a `repositories` file. Layers are uncompressed tars, as the
//! classic image store saves them; `compressed_layers` stores the compressed
//! blobs instead (what Docker with the containerd image store writes), in which
//! case the OCI manifest is the image's own.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layer::MTIME;
use crate::layout::{BuiltImage, REF_NAME_ANNOTATION};
use crate::media_type;

/// Where files go inside a docker archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DockerArchiveLayout {
    /// Docker ≥ 25: `blobs/sha256/<hex>` plus OCI `index.json`.
    #[default]
    OciBlobs,
    /// Docker ≤ 24: `<id>/layer.tar` and `<config hex>.json`.
    Legacy,
}

/// Options for [`write_docker_archive`].
#[derive(Debug, Clone, Default)]
pub struct DockerArchiveOptions {
    /// File layout.
    pub layout: DockerArchiveLayout,
    /// Store each layer as its compressed blob instead of the plain tar.
    pub compressed_layers: bool,
}

/// One image as written into an archive: the paths `manifest.json` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedImage {
    /// `Config` path.
    pub config_path: String,
    /// `Layers` paths, bottom first.
    pub layer_paths: Vec<String>,
    /// Digest of the OCI manifest in the archive (`OciBlobs` layout only).
    pub manifest_digest: Option<Digest>,
}

/// Write a docker archive holding `images`, each with its `RepoTags`
/// (such as `"example.com/app:1.0"`; may be empty).
pub fn write_docker_archive(
    path: &Path,
    images: &[(&BuiltImage, &[&str])],
    options: &DockerArchiveOptions,
) -> Result<Vec<ArchivedImage>> {
    let file = File::create(path).map_err(|e| Error::io("create", path, e))?;
    let mut out = ArchiveWriter {
        builder: tar::Builder::new(BufWriter::new(file)),
        written: Vec::new(),
        path,
    };
    let mut manifest_json = Vec::new();
    let mut repositories: Map<String, Value> = Map::new();
    let mut index_entries = Vec::new();
    let mut archived = Vec::new();

    if options.layout == DockerArchiveLayout::OciBlobs {
        out.dir("blobs/")?;
        out.dir("blobs/sha256/")?;
    }
    for (image, tags) in images {
        let layer_bytes: Vec<&[u8]> = image
            .layers
            .iter()
            .map(|l| {
                if options.compressed_layers {
                    l.compressed.as_slice()
                } else {
                    l.uncompressed.as_slice()
                }
            })
            .collect();
        let (entry, top_layer_id) = match options.layout {
            DockerArchiveLayout::OciBlobs => {
                let config_path = image.config_digest().blob_path();
                out.file(&config_path, &image.config.data)?;
                let mut layer_paths = Vec::new();
                for data in &layer_bytes {
                    let p = Digest::sha256(data).blob_path();
                    out.file(&p, data)?;
                    layer_paths.push(p);
                }
                let manifest = if options.compressed_layers {
                    image.manifest.data.clone()
                } else {
                    uncompressed_manifest(image)
                };
                let manifest_digest = Digest::sha256(&manifest);
                out.file(&manifest_digest.blob_path(), &manifest)?;
                let top = layer_paths
                    .last()
                    .map(|p| p.trim_start_matches("blobs/sha256/").to_owned());
                for tag in *tags {
                    let mut d = json!({
                        "mediaType": media_type::OCI_MANIFEST,
                        "digest": manifest_digest.as_str(),
                        "size": manifest.len(),
                    });
                    d["annotations"] = json!({
                        "io.containerd.image.name": containerd_name(tag),
                        REF_NAME_ANNOTATION: tag.rsplit_once(':').map_or("latest", |(_, t)| t),
                    });
                    index_entries.push(d);
                }
                if tags.is_empty() {
                    index_entries.push(json!({
                        "mediaType": media_type::OCI_MANIFEST,
                        "digest": manifest_digest.as_str(),
                        "size": manifest.len(),
                    }));
                }
                (
                    ArchivedImage {
                        config_path,
                        layer_paths,
                        manifest_digest: Some(manifest_digest),
                    },
                    top,
                )
            }
            DockerArchiveLayout::Legacy => {
                let config_path = format!("{}.json", image.config_digest().hex());
                out.file(&config_path, &image.config.data)?;
                let mut layer_paths = Vec::new();
                let mut parent: Option<String> = None;
                for (layer, data) in image.layers.iter().zip(&layer_bytes) {
                    let id = Digest::sha256(
                        format!("{} {}", parent.as_deref().unwrap_or(""), layer.diff_id).as_bytes(),
                    )
                    .hex()
                    .to_owned();
                    out.dir(&format!("{id}/"))?;
                    out.file(&format!("{id}/VERSION"), b"1.0")?;
                    let mut v1 = json!({"id": id, "created": crate::layout::CREATED, "os": image.platform.os});
                    if let Some(parent) = &parent {
                        v1["parent"] = json!(parent);
                    }
                    out.file(&format!("{id}/json"), v1.to_string().as_bytes())?;
                    let p = format!("{id}/layer.tar");
                    out.file(&p, data)?;
                    layer_paths.push(p);
                    parent = Some(id);
                }
                (
                    ArchivedImage {
                        config_path,
                        layer_paths,
                        manifest_digest: None,
                    },
                    parent,
                )
            }
        };
        manifest_json.push(json!({
            "Config": entry.config_path,
            "RepoTags": if tags.is_empty() { Value::Null } else { json!(tags) },
            "Layers": entry.layer_paths,
        }));
        if let Some(top) = top_layer_id {
            for tag in *tags {
                let (repo, t) = tag.rsplit_once(':').unwrap_or((tag, "latest"));
                let repo_entry = repositories
                    .entry(repo.to_owned())
                    .or_insert_with(|| json!({}));
                repo_entry[t] = json!(top);
            }
        }
        archived.push(entry);
    }

    if options.layout == DockerArchiveLayout::OciBlobs {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_INDEX,
            "manifests": index_entries,
        });
        out.file("index.json", index.to_string().as_bytes())?;
    }
    out.file(
        "manifest.json",
        Value::Array(manifest_json).to_string().as_bytes(),
    )?;
    if options.layout == DockerArchiveLayout::OciBlobs {
        out.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    }
    if !repositories.is_empty() {
        out.file(
            "repositories",
            Value::Object(repositories).to_string().as_bytes(),
        )?;
    }
    out.builder
        .into_inner()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .map_err(|e| Error::io("finish", path, e))?;
    Ok(archived)
}

/// The OCI manifest Docker ≥ 25 writes for an image saved from the classic
/// store: uncompressed layers.
fn uncompressed_manifest(image: &BuiltImage) -> Vec<u8> {
    let layers: Vec<Value> = image
        .layers
        .iter()
        .map(|l| {
            json!({
                "mediaType": media_type::OCI_LAYER_TAR,
                "digest": l.diff_id.as_str(),
                "size": l.uncompressed.len(),
            })
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": {
            "mediaType": media_type::OCI_CONFIG,
            "digest": image.config_digest().as_str(),
            "size": image.config.size(),
        },
        "layers": layers,
    });
    manifest.to_string().into_bytes()
}

/// The fully qualified name containerd records: `alpine:3` becomes
/// `docker.io/library/alpine:3`.
fn containerd_name(tag: &str) -> String {
    let first = tag.split('/').next().unwrap_or(tag);
    let has_domain =
        tag.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    if has_domain {
        tag.to_owned()
    } else if tag.contains('/') {
        format!("docker.io/{tag}")
    } else {
        format!("docker.io/library/{tag}")
    }
}

struct ArchiveWriter<'a> {
    builder: tar::Builder<BufWriter<File>>,
    written: Vec<String>,
    path: &'a Path,
}

impl ArchiveWriter<'_> {
    fn dir(&mut self, name: &str) -> Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        h.set_mtime(MTIME);
        self.builder
            .append_data(&mut h, name, std::io::empty())
            .map_err(|e| Error::io("write", self.path, e))
    }

    fn file(&mut self, name: &str, data: &[u8]) -> Result<()> {
        // Layers shared between images are stored once.
        if self.written.iter().any(|w| w == name) {
            return Ok(());
        }
        self.written.push(name.to_owned());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_mtime(MTIME);
        self.builder
            .append_data(&mut h, name, data)
            .map_err(|e| Error::io("write", self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerd_names() {
        assert_eq!(containerd_name("alpine:3"), "docker.io/library/alpine:3");
        assert_eq!(containerd_name("me/app:1"), "docker.io/me/app:1");
        assert_eq!(containerd_name("example.com/app:1"), "example.com/app:1");
        assert_eq!(containerd_name("localhost/app:1"), "localhost/app:1");
    }
}
