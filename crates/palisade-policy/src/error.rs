//! Errors raised while loading or evaluating policies.

use std::path::PathBuf;

/// Errors of the policy engine. Each variant names the input it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A file or directory could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A YAML document could not be parsed.
    #[error("{path}: invalid YAML: {message}")]
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A document is not a valid object of the kind it declares.
    #[error("{path}: document {index}: invalid {kind}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Zero-based index of the document in the file.
        index: usize,
        /// The declared kind.
        kind: String,
        /// What is wrong.
        reason: String,
    },
    /// A template's Rego failed to parse or compile.
    #[error("template {template}: Rego error: {message}")]
    Rego {
        /// The template's name.
        template: String,
        /// regorus's message (points at the source line).
        message: String,
    },
    /// Rego evaluation failed.
    #[error("template {template}: evaluation failed: {message}")]
    Eval {
        /// The template's name.
        template: String,
        /// regorus's message.
        message: String,
    },
    /// A constraint names a kind no loaded template defines.
    #[error("{path}: constraint {kind}/{name}: no template defines kind {kind}")]
    UnknownKind {
        /// The file.
        path: PathBuf,
        /// The constraint's kind.
        kind: String,
        /// The constraint's name.
        name: String,
    },
}
