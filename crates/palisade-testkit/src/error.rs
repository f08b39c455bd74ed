//! The one error type of the testkit.

use std::io;
use std::path::PathBuf;

use crate::layer::Compression;
use crate::layout::ManifestFormat;

/// Result alias used across the testkit.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why building a fixture, writing a layout or running a helper program failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The `tar` crate refused an entry (use [`crate::RawEntry`] for hostile names).
    #[error("cannot write tar entry {path:?}: {source}")]
    TarEntry {
        path: String,
        #[source]
        source: io::Error,
    },
    /// Compressing a layer failed.
    #[error("cannot compress layer with {compression:?}: {source}")]
    Compress {
        compression: Compression,
        #[source]
        source: io::Error,
    },
    /// A raw tar header field is too long for its slot.
    #[error("raw tar entry {name:?}: {field} is {len} bytes, the header slot holds {max}")]
    RawFieldTooLong {
        name: String,
        field: &'static str,
        len: usize,
        max: usize,
    },
    /// The manifest format has no media type for this layer compression.
    #[error("{format:?} manifests have no layer media type for {compression:?} (set one with Layer::media_type)")]
    UnsupportedCompression {
        format: ManifestFormat,
        compression: Compression,
    },
    /// An OCI layout on disk cannot be used (missing tag, unreadable index).
    #[error("OCI layout {}: {reason}", path.display())]
    Layout { path: PathBuf, reason: String },
    /// A helper program could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    /// A helper program exited unsuccessfully.
    #[error("`{command}` failed ({status}):\n{stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    /// The registry process did not come up; `log` is everything it printed.
    #[error("registry did not start: {reason}\n--- registry log ---\n{log}")]
    RegistryStart { reason: String, log: String },
    /// A token was asked of a registry that does not use token auth.
    #[error("registry {registry} does not use token auth")]
    NoTokenServer { registry: String },
    /// An HTTP answer from `curl` could not be understood.
    #[error("unexpected answer from {url}: {reason}")]
    Http { url: String, reason: String },
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
