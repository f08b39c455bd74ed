//! Images, multi-platform indexes and OCI image layouts, built in memory.
//!
//! [`ImageBuilder`] turns [`Layer`]s into a config and manifest;
//! [`IndexBuilder`] groups images into an OCI image index or a Docker manifest
//! list; [`OciLayoutBuilder`] writes any number of them, tagged, as an OCI
//! image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`).
//! Every built object keeps its bytes and digests so tests can assert on them.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::layer::{BuiltLayer, Compression, Layer};
use crate::media_type;

/// `created` timestamp written in configs and history (matches [`crate::layer::MTIME`]).
pub const CREATED: &str = "2024-01-01T00:00:00Z";

/// The annotation holding a tag in a layout's `index.json`.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// Which family of media types an image uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ManifestFormat {
    /// OCI image manifest / image index.
    #[default]
    Oci,
    /// Docker v2 schema 2 manifest / manifest list.
    Docker,
}

impl ManifestFormat {
    /// Media type of a single-image manifest.
    pub fn manifest_media_type(self) -> &'static str {
        match self {
            ManifestFormat::Oci => media_type::OCI_MANIFEST,
            ManifestFormat::Docker => media_type::DOCKER_MANIFEST,
        }
    }

    /// Media type of a multi-platform index.
    pub fn index_media_type(self) -> &'static str {
        match self {
            ManifestFormat::Oci => media_type::OCI_INDEX,
            ManifestFormat::Docker => media_type::DOCKER_MANIFEST_LIST,
        }
    }

    /// Media type of the image config.
    pub fn config_media_type(self) -> &'static str {
        match self {
            ManifestFormat::Oci => media_type::OCI_CONFIG,
            ManifestFormat::Docker => media_type::DOCKER_CONFIG,
        }
    }

    /// Media type of a layer with this compression, if the format has one.
    pub fn layer_media_type(self, compression: Compression) -> Result<&'static str> {
        match (self, compression) {
            (ManifestFormat::Oci, Compression::None) => Ok(media_type::OCI_LAYER_TAR),
            (ManifestFormat::Oci, Compression::Gzip) => Ok(media_type::OCI_LAYER_GZIP),
            (ManifestFormat::Oci, Compression::Zstd) => Ok(media_type::OCI_LAYER_ZSTD),
            (ManifestFormat::Docker, Compression::None) => Ok(media_type::DOCKER_LAYER_TAR),
            (ManifestFormat::Docker, Compression::Gzip) => Ok(media_type::DOCKER_LAYER_GZIP),
            (format, compression) => Err(Error::UnsupportedCompression {
                format,
                compression,
            }),
        }
    }
}

/// Operating system, architecture and optional variant of an image.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// Any platform.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        Platform {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant: variant.map(str::to_owned),
        }
    }

    /// `linux/amd64`.
    pub fn linux_amd64() -> Self {
        Platform::new("linux", "amd64", None)
    }

    /// `linux/arm64/v8`.
    pub fn linux_arm64() -> Self {
        Platform::new("linux", "arm64", Some("v8"))
    }

    /// The JSON `platform` object of an index entry.
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("architecture".into(), json!(self.architecture));
        obj.insert("os".into(), json!(self.os));
        if let Some(variant) = &self.variant {
            obj.insert("variant".into(), json!(variant));
        }
        Value::Object(obj)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// A blob with its media type and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub media_type: String,
    pub digest: Digest,
    pub data: Vec<u8>,
}

impl Blob {
    /// Digest `data`.
    pub fn new(media_type: impl Into<String>, data: Vec<u8>) -> Self {
        Blob {
            media_type: media_type.into(),
            digest: Digest::sha256(&data),
            data,
        }
    }

    fn json(media_type: &str, value: &Value) -> Self {
        let data = serde_json::to_vec(value).expect("serde_json::Value always serialises");
        Blob::new(media_type, data)
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }

    /// An OCI descriptor `{mediaType, digest, size}`.
    pub fn descriptor(&self) -> Value {
        json!({
            "mediaType": self.media_type,
            "digest": self.digest.as_str(),
            "size": self.size(),
        })
    }

    /// Parse the blob as JSON (for manifests and configs).
    pub fn json_value(&self) -> Value {
        serde_json::from_slice(&self.data).expect("blob is JSON")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Layer(Layer),
    Empty(String),
}

/// An image under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBuilder {
    platform: Platform,
    format: ManifestFormat,
    steps: Vec<Step>,
    env: Vec<String>,
    cmd: Option<Vec<String>>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
}

impl Default for ImageBuilder {
    fn default() -> Self {
        ImageBuilder::new()
    }
}

impl ImageBuilder {
    /// A `linux/amd64` OCI image with no layers.
    pub fn new() -> Self {
        ImageBuilder {
            platform: Platform::linux_amd64(),
            format: ManifestFormat::Oci,
            steps: Vec::new(),
            env: vec![String::from(
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )],
            cmd: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        }
    }

    /// Set the platform written in the config (and in an index entry).
    pub fn platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// Set OCI or Docker media types.
    pub fn format(mut self, format: ManifestFormat) -> Self {
        self.format = format;
        self
    }

    /// Append a layer (and its history entry).
    pub fn layer(mut self, layer: Layer) -> Self {
        self.steps.push(Step::Layer(layer));
        self
    }

    /// Append a history entry with `empty_layer: true` (like `CMD` or `ENV`).
    pub fn empty_layer(mut self, created_by: impl Into<String>) -> Self {
        self.steps.push(Step::Empty(created_by.into()));
        self
    }

    /// Add `KEY=VALUE` to the config's `Env`.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push(format!("{key}={value}"));
        self
    }

    /// Set the config's `Cmd`.
    pub fn cmd(mut self, cmd: &[&str]) -> Self {
        self.cmd = Some(cmd.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// Add a config label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Add a manifest annotation (OCI only; ignored for Docker manifests).
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Recompress every layer with `compression`.
    pub fn with_compression(mut self, compression: Compression) -> Self {
        for step in &mut self.steps {
            if let Step::Layer(layer) = step {
                *layer = layer.clone().compression(compression);
            }
        }
        self
    }

    /// The platform.
    pub fn get_platform(&self) -> &Platform {
        &self.platform
    }

    /// The format.
    pub fn get_format(&self) -> ManifestFormat {
        self.format
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> impl Iterator<Item = &Layer> {
        self.steps.iter().filter_map(|s| match s {
            Step::Layer(l) => Some(l),
            Step::Empty(_) => None,
        })
    }

    /// Build layers, config and manifest.
    pub fn build(&self) -> Result<BuiltImage> {
        let format = self.format;
        let mut layers = Vec::new();
        let mut layer_media_types = Vec::new();
        let mut history = Vec::new();
        for step in &self.steps {
            match step {
                Step::Layer(layer) => {
                    let built = layer.build()?;
                    let mt = match layer.media_type_override() {
                        Some(mt) => mt.to_owned(),
                        None => format.layer_media_type(built.compression)?.to_owned(),
                    };
                    history.push(json!({"created": CREATED, "created_by": layer.get_created_by()}));
                    layers.push(built);
                    layer_media_types.push(mt);
                }
                Step::Empty(created_by) => history.push(
                    json!({"created": CREATED, "created_by": created_by, "empty_layer": true}),
                ),
            }
        }
        let config = Blob::json(
            format.config_media_type(),
            &self.config_json(&layers, history),
        );
        let layer_descriptors: Vec<Value> = layers
            .iter()
            .zip(&layer_media_types)
            .map(|(l, mt)| {
                json!({"mediaType": mt, "digest": l.digest.as_str(), "size": l.compressed.len()})
            })
            .collect();
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": format.manifest_media_type(),
            "config": config.descriptor(),
            "layers": layer_descriptors,
        });
        if format == ManifestFormat::Oci && !self.annotations.is_empty() {
            manifest["annotations"] = json!(self.annotations);
        }
        Ok(BuiltImage {
            platform: self.platform.clone(),
            format,
            manifest: Blob::json(format.manifest_media_type(), &manifest),
            config,
            layers,
            layer_media_types,
        })
    }

    fn config_json(&self, layers: &[BuiltLayer], history: Vec<Value>) -> Value {
        let mut container = Map::new();
        container.insert("Env".into(), json!(self.env));
        if let Some(cmd) = &self.cmd {
            container.insert("Cmd".into(), json!(cmd));
        }
        if !self.labels.is_empty() {
            container.insert("Labels".into(), json!(self.labels));
        }
        let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
        let mut config = json!({
            "architecture": self.platform.architecture,
            "os": self.platform.os,
            "created": CREATED,
            "config": container,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let Some(variant) = &self.platform.variant {
            config["variant"] = json!(variant);
        }
        config
    }
}

/// An image after [`ImageBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    pub platform: Platform,
    pub format: ManifestFormat,
    pub manifest: Blob,
    pub config: Blob,
    pub layers: Vec<BuiltLayer>,
    /// Media type of each layer as written in the manifest.
    pub layer_media_types: Vec<String>,
}

impl BuiltImage {
    /// Digest of the manifest (what a registry reports for the tag).
    pub fn manifest_digest(&self) -> &Digest {
        &self.manifest.digest
    }

    /// Digest of the config (the Docker image ID).
    pub fn config_digest(&self) -> &Digest {
        &self.config.digest
    }

    /// Compressed digest of each layer, bottom first.
    pub fn layer_digests(&self) -> Vec<&Digest> {
        self.layers.iter().map(|l| &l.digest).collect()
    }

    /// Uncompressed digest (diff_id) of each layer, bottom first.
    pub fn diff_ids(&self) -> Vec<&Digest> {
        self.layers.iter().map(|l| &l.diff_id).collect()
    }

    /// Every blob: manifest, config, then layers.
    pub fn blobs(&self) -> Vec<Blob> {
        let mut blobs = vec![self.manifest.clone(), self.config.clone()];
        for (layer, mt) in self.layers.iter().zip(&self.layer_media_types) {
            blobs.push(Blob {
                media_type: mt.clone(),
                digest: layer.digest.clone(),
                data: layer.compressed.clone(),
            });
        }
        blobs
    }

    /// The index entry for this image: manifest descriptor plus platform.
    pub fn platform_descriptor(&self) -> Value {
        let mut desc = self.manifest.descriptor();
        desc["platform"] = self.platform.to_json();
        desc
    }

    /// Write this image alone as an OCI layout in `dir`, tagged `tag`.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) -> Result<()> {
        let mut layout = OciLayoutBuilder::new();
        layout.add_image(Some(tag), self);
        layout.write(dir)
    }
}

/// A multi-platform image under construction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexBuilder {
    format: ManifestFormat,
    images: Vec<ImageBuilder>,
    annotations: BTreeMap<String, String>,
}

impl IndexBuilder {
    /// An empty index; every image is built with `format`'s media types.
    pub fn new(format: ManifestFormat) -> Self {
        IndexBuilder {
            format,
            images: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }

    /// Add a platform image.
    pub fn image(mut self, image: ImageBuilder) -> Self {
        self.images.push(image);
        self
    }

    /// Add an index annotation (OCI only).
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Set the format of the index and of every image in it.
    pub fn format(mut self, format: ManifestFormat) -> Self {
        self.format = format;
        self
    }

    /// Recompress every layer of every image.
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.images = self
            .images
            .into_iter()
            .map(|i| i.with_compression(compression))
            .collect();
        self
    }

    /// The images.
    pub fn images(&self) -> &[ImageBuilder] {
        &self.images
    }

    /// Build every image and the index over them.
    pub fn build(&self) -> Result<BuiltIndex> {
        let images = self
            .images
            .iter()
            .map(|i| i.clone().format(self.format).build())
            .collect::<Result<Vec<_>>>()?;
        let manifests: Vec<Value> = images.iter().map(BuiltImage::platform_descriptor).collect();
        let mut index = json!({
            "schemaVersion": 2,
            "mediaType": self.format.index_media_type(),
            "manifests": manifests,
        });
        if self.format == ManifestFormat::Oci && !self.annotations.is_empty() {
            index["annotations"] = json!(self.annotations);
        }
        Ok(BuiltIndex {
            format: self.format,
            index: Blob::json(self.format.index_media_type(), &index),
            images,
        })
    }
}

/// A multi-platform image after [`IndexBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltIndex {
    pub format: ManifestFormat,
    pub index: Blob,
    pub images: Vec<BuiltImage>,
}

impl BuiltIndex {
    /// Digest of the index (what a registry reports for the tag).
    pub fn digest(&self) -> &Digest {
        &self.index.digest
    }

    /// The image built for `platform`.
    pub fn image_for(&self, platform: &Platform) -> Option<&BuiltImage> {
        self.images.iter().find(|i| &i.platform == platform)
    }

    /// Write this index alone as an OCI layout in `dir`, tagged `tag`.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) -> Result<()> {
        let mut layout = OciLayoutBuilder::new();
        layout.add_index(Some(tag), self);
        layout.write(dir)
    }
}

/// Collects images and indexes, then writes one OCI image layout.
#[derive(Debug, Clone, Default)]
pub struct OciLayoutBuilder {
    blobs: BTreeMap<Digest, Vec<u8>>,
    refs: Vec<Value>,
}

impl OciLayoutBuilder {
    /// An empty layout.
    pub fn new() -> Self {
        OciLayoutBuilder::default()
    }

    /// Add an image; with a tag, `index.json` names it with
    /// `org.opencontainers.image.ref.name`.
    pub fn add_image(&mut self, tag: Option<&str>, image: &BuiltImage) -> &mut Self {
        for blob in image.blobs() {
            self.blobs.insert(blob.digest, blob.data);
        }
        self.push_ref(tag, image.manifest.descriptor());
        self
    }

    /// Add a multi-platform index and all its images.
    pub fn add_index(&mut self, tag: Option<&str>, index: &BuiltIndex) -> &mut Self {
        for image in &index.images {
            for blob in image.blobs() {
                self.blobs.insert(blob.digest, blob.data);
            }
        }
        self.add_blob(&index.index);
        self.push_ref(tag, index.index.descriptor());
        self
    }

    /// Add a blob not referenced from `index.json`.
    pub fn add_blob(&mut self, blob: &Blob) -> &mut Self {
        self.blobs.insert(blob.digest.clone(), blob.data.clone());
        self
    }

    /// Leave a blob out (to make a layout with a missing blob).
    pub fn remove_blob(&mut self, digest: &Digest) -> &mut Self {
        self.blobs.remove(digest);
        self
    }

    fn push_ref(&mut self, tag: Option<&str>, mut descriptor: Value) {
        if let Some(tag) = tag {
            descriptor["annotations"] = json!({ REF_NAME_ANNOTATION: tag });
        }
        self.refs.push(descriptor);
    }

    /// The `index.json` this layout will have.
    pub fn index_json(&self) -> Value {
        json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_INDEX,
            "manifests": self.refs,
        })
    }

    /// Write `oci-layout`, `index.json` and `blobs/sha256/*` into `dir`
    /// (created if missing).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let blob_dir = dir.join("blobs").join("sha256");
        fs::create_dir_all(&blob_dir).map_err(|e| Error::io("create", &blob_dir, e))?;
        for (digest, data) in &self.blobs {
            let path = blob_dir.join(digest.hex());
            fs::write(&path, data).map_err(|e| Error::io("write", &path, e))?;
        }
        let path = dir.join("oci-layout");
        fs::write(&path, br#"{"imageLayoutVersion":"1.0.0"}"#)
            .map_err(|e| Error::io("write", &path, e))?;
        let path = dir.join("index.json");
        let index = serde_json::to_vec(&self.index_json()).expect("Value serialises");
        fs::write(&path, index).map_err(|e| Error::io("write", &path, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_and_manifest_reference_the_layers() {
        let image = ImageBuilder::new()
            .layer(Layer::new().file("a", "1"))
            .empty_layer("CMD [\"sh\"]")
            .layer(Layer::new().file("b", "2").compression(Compression::Zstd))
            .build()
            .unwrap();
        let config = image.config.json_value();
        assert_eq!(
            config["rootfs"]["diff_ids"][1],
            image.layers[1].diff_id.as_str()
        );
        assert_eq!(config["history"][1]["empty_layer"], true);
        let manifest = image.manifest.json_value();
        assert_eq!(manifest["config"]["digest"], image.config_digest().as_str());
        assert_eq!(
            manifest["layers"][1]["mediaType"],
            media_type::OCI_LAYER_ZSTD
        );
        assert_eq!(
            manifest["layers"][0]["digest"],
            image.layers[0].digest.as_str()
        );
    }

    #[test]
    fn docker_format_has_no_zstd() {
        let err = ImageBuilder::new()
            .format(ManifestFormat::Docker)
            .layer(Layer::new().compression(Compression::Zstd))
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::UnsupportedCompression { .. }));
    }

    #[test]
    fn index_lists_platforms() {
        let index = IndexBuilder::new(ManifestFormat::Docker)
            .image(ImageBuilder::new().layer(Layer::new()))
            .image(
                ImageBuilder::new()
                    .platform(Platform::linux_arm64())
                    .layer(Layer::new()),
            )
            .build()
            .unwrap();
        let v = index.index.json_value();
        assert_eq!(v["mediaType"], media_type::DOCKER_MANIFEST_LIST);
        assert_eq!(v["manifests"][1]["platform"]["variant"], "v8");
        assert_eq!(
            index.images[1].manifest.media_type,
            media_type::DOCKER_MANIFEST
        );
        assert!(index.image_for(&Platform::linux_arm64()).is_some());
    }
}
