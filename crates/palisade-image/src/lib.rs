//! Container image acquisition and inventory.
//!
//! An image comes from a [`source`] (registry, OCI layout, `docker save`
//! archive, or an unpacked directory). Each layer is read once, as a stream,
//! by the [`layer`] walker, which keeps only the files catalogers asked for;
//! layers are merged in order with whiteouts applied into an [`FsView`].
//! [`catalog`]ers then turn package databases into [`palisade_model::Package`]s.
//!
//! Nothing is ever extracted to disk, and every input is treated as hostile:
//! see [`Limits`].

pub mod cache;
pub mod catalog;
pub mod fs;
pub mod purl;

pub use cache::LayerCache;
pub use catalog::{CatalogContext, CatalogOutput, Cataloger};
pub use fs::{normalize_path, FileRef, FsView, NodeKind};
pub mod layer;
pub mod limits;
mod tar;

pub use layer::{
    apply_layer, read_layer, Budget, LayerContents, LayerError, LayerReadOptions, ReadSeek,
    Selector,
};
pub use limits::Limits;
pub use tar::TarError;
pub mod source;

pub use source::{
    ImageInfo, ImageRef, LayerRef, LayerSource, Platform, RegistryOptions, SourceError,
};
pub mod scan;

pub use scan::{
    cache_key, inventory, CatalogSelector, Inventory, NoProgress, Progress, ScanError, ScanOptions,
};
