//! Test support for Palisade's integration tests. Not published.
//!
//! * [`layer`] — tar layers from in-memory entries, including hostile headers
//!   the `tar` crate refuses to write, compressed with gzip, zstd or nothing.
//! * [`layout`] — image configs, manifests, multi-platform indexes (OCI or
//!   Docker media types) and OCI image layout directories, with every digest
//!   returned for assertions.
//! * [`archive`] — `docker save` archives, in the Docker ≥ 25 (`blobs/sha256`)
//!   and legacy (`<id>/layer.tar`) layouts.
//! * [`fixtures`] — realistic Debian, distroless, Alpine, multi-arch and
//!   hostile images, each with the exact packages a scanner should report.
//! * [`registry`] — a real registry (`docker-registry`) on 127.0.0.1 with
//!   optional TLS and basic or bearer-token auth, and `skopeo` pushes that
//!   keep digests.
//! * [`token`] — the bearer-token server behind token auth: RS256 JWTs
//!   with an `x5c` certificate, signed by `openssl`.
//!
//! Everything is deterministic: the same builder always yields the same
//! digests. External programs used: `docker-registry`, `skopeo`, `openssl`,
//! `htpasswd` and `curl`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod archive;
mod command;
pub mod digest;
pub mod error;
pub mod fixtures;
pub mod layer;
pub mod layout;
pub mod media_type;
pub mod registry;
pub mod token;

pub use archive::{write_docker_archive, ArchivedImage, DockerArchiveLayout, DockerArchiveOptions};
pub use digest::Digest;
pub use error::{Error, Result};
pub use fixtures::{ExpectedOs, ExpectedPackage, Fixture, MultiArchFixture, PackageKind};
pub use layer::{BuiltLayer, Compression, Entry, Layer, RawEntry};
pub use layout::{
    Blob, BuiltImage, BuiltIndex, ImageBuilder, IndexBuilder, ManifestFormat, OciLayoutBuilder,
    Platform,
};
pub use registry::{Credentials, HttpResponse, RegistryOptions, TestRegistry};
pub use token::{Grant, IssuedToken, TokenAuth};
