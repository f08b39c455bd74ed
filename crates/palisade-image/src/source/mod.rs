//! Where images come from. Every source resolves a reference to an
//! [`ImageInfo`] (the chosen manifest's layers) and opens each layer blob as
//! a byte stream; the plain-directory source yields a filesystem instead.

mod dir;
mod docker_archive;
mod manifest;
mod oci_layout;
mod platform;
mod reference;
mod registry;

use std::io::Read;
use std::path::PathBuf;

use palisade_model::Digest;

pub use dir::read_dir_source;
pub use docker_archive::DockerArchiveSource;
pub use manifest::ManifestError;
pub use oci_layout::OciLayoutSource;
pub use platform::Platform;
pub use reference::{ImageRef, ImageRefError};
pub use registry::{RegistryOptions, RegistrySource};

/// One layer of the selected image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRef {
    /// The blob digest, when the source knows it (always, except legacy
    /// `docker save` archives without a config).
    pub digest: Option<Digest>,
    pub media_type: String,
    /// Blob size in bytes, as the manifest says.
    pub size: Option<u64>,
    /// Whether the blob's bytes must hash to `digest` (false only where
    /// the digest names other bytes: a compressed layer in a legacy
    /// `docker save` archive, identified by its uncompressed diff id).
    pub verify: bool,
}

/// A resolved image: what will be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The reference as the user wrote it.
    pub name: String,
    /// Digest of the top-level manifest or index (what `name@digest` pins);
    /// for `docker save` archives, the image id (config digest).
    pub digest: Option<Digest>,
    /// Platform of the chosen manifest, `os/arch[/variant]`.
    pub platform: Option<String>,
    pub layers: Vec<LayerRef>,
}

/// Why an image could not be opened or a blob read. Each names its input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error(transparent)]
    Reference(#[from] ImageRefError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },
    #[error("{input}: {message}")]
    Invalid { input: String, message: String },
}

/// A source of layer blobs.
pub trait LayerSource: Send + Sync {
    fn info(&self) -> &ImageInfo;

    /// Open layer `index` of [`ImageInfo::layers`] as a stream of the raw
    /// (possibly compressed) blob.
    fn open_layer(&self, index: usize) -> Result<Box<dyn Read + Send + '_>, SourceError>;

    /// Whether a failed read may be retried by opening the layer again.
    fn reopenable(&self) -> bool {
        false
    }
}
