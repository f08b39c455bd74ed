#![doc = include_str!("../README.md")]

pub mod engine;
pub mod event;
pub mod fields;
mod json;
mod limits;
pub mod scan;
#[cfg(feature = "server")]
pub mod server;
pub mod time;
mod warning;

pub use engine::{
    AlertWriter, AuditCatalog, AuditRules, BoundEvent, RuleMatching, RulesError, DEFAULT_RULES,
    SOURCE,
};
pub use event::{decode_document, AuditEvent, DecodeError, Decoded, Origin};
pub use fields::{AuditField, FieldError, FieldInfo, FieldValue, FIELDS};
pub use limits::Limits;
pub use scan::{scan_files, AuditScan, ScanError, ScanStats};
#[cfg(feature = "server")]
pub use server::{
    shutdown_signal, AuditServer, Batch, BatchHandler, ServeReport, ServerConfig, ServerError,
    ServerStats, StatsHandle, TlsFiles,
};
pub use warning::{DecodeWarning, WarningKind, Warnings};
