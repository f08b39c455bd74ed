//! Falco's rule language for Palisade: load Falco rule files, parse their conditions, and compile
//! them into a fast evaluator over any event source that exposes fields.
//!
//! # Pipeline
//!
//! ```text
//! rule files ──Loader──▶ LoadedRules ──RuleSet::compile(catalogs)──▶ RuleSet ──evaluate(event)──▶ Match
//!   (YAML)    lists, macros, rules,      fields resolved to ids,          only the rules indexed
//!             overrides applied,         lists → hash/prefix sets,        for the event's source
//!             conditions parsed          regex/glob precompiled           and type are evaluated
//! ```
//!
//! # Stable API (the contract with event sources)
//!
//! An event source implements two traits (see [`field`]):
//!
//! ```text
//! pub trait FieldCatalog {
//!     fn source(&self) -> &str;                                   // "syscall", "k8s_audit", …
//!     fn resolve(&mut self, name: &str, arg: Option<&str>) -> Result<FieldId, UnknownField>;
//!     fn field_type(&self, id: FieldId) -> FieldType;
//!     fn event_type_field(&self) -> Option<&str> { None }        // "evt.type" for syscalls
//! }
//! pub trait Event {
//!     fn get<'a>(&'a self, field: FieldId, buf: &'a mut FieldBuf) -> Option<Value<'a>>;
//!     fn event_type(&self) -> Option<&str> { None }
//! }
//! ```
//!
//! [`Value`] is `Str(&str)`, `Bytes(&[u8])`, `Int(i64)`, `Bool(bool)`, `Ip(IpAddr)` or
//! `List(StrList)`; borrow from the event where possible, otherwise write into the [`FieldBuf`]
//! (`set_str`, `text_mut`, `push_item` + `list()`), which is reused between calls. Returning
//! `None` means the field is absent: every comparison on it is false, `exists` is false, and
//! `not (…)` of such a comparison is true — as in Falco.
//!
//! Then:
//!
//! ```text
//! let mut loader = Loader::new();
//! loader.load_file(Path::new("k8s_audit_rules.yaml"))?;      // several files: in order
//! let loaded: LoadedRules = loader.finish()?;                 // Errors: file:line:col + text
//! let mut catalog = MyCatalog::new();
//! let (rules, report): (RuleSet, CompileReport) =
//!     RuleSet::compile(&loaded, &mut [&mut catalog], &CompileOptions::new())?;
//! let mut scratch = Scratch::new();                           // reuse per thread
//! for m in rules.evaluate_with("k8s_audit", &event, &mut scratch) {
//!     let alert: Alert = m.rule().alert(&event, time_rfc3339);   // contract's JSON alert
//! }
//! ```
//!
//! [`RuleSet::evaluate`] yields every matching rule in load order (take the first for Falco's
//! default "first match" behaviour). [`CompileOptions::permissive`] compiles against
//! [`PermissiveCatalog`]s that accept any field, for parse-only validation. Rules using a field
//! the catalog does not know are skipped with a [`Warning`] and counted in
//! [`CompileReport::skipped_unknown_fields`]; they do not fail the load.
//!
//! # Semantics worth knowing
//! - Conditions appended with `override: {condition: append}` or `append: true` are joined to
//!   the original text with a space, exactly as Falco does (mind the operator precedence).
//! - `glob` follows `fnmatch(3)` without flags (`*` matches `/` too); `pmatch` matches whole
//!   path components and accepts glob components; `regex` is a full match (anchored).
//! - Comparisons with a list-valued field (`=`, `contains`, …) are true if any item matches;
//!   `in` needs every item in the set, `intersects` any.
//! - Exceptions compile to `… and not ((f1 c1 v1 and f2 c2 v2) or …)` per exception.
//! - `=`/`in` with an IP field accept networks (`10.0.0.0/8`); `len()` counts bytes of strings.
//!
//! # Not supported
//! - `required_engine_version` and `required_plugin_versions` are recorded, not enforced;
//!   `capture`/`capture_duration` are accepted and ignored.
//! - `\xHH` escapes that make a string invalid UTF-8 are rejected.
//! - `regex` uses the `regex` crate's syntax (close to RE2's POSIX mode, not identical).
//! - Output strings support `%field` and `%field[arg]` only (no `%(field)`, no `*` prefix);
//!   an output field the catalog does not know skips the rule like a condition field does.
//! - `val()` is not accepted in exception values.

#![cfg_attr(
    test,
    allow(
        clippy::panic,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing
    )
)]

mod compile;
pub mod condition;
mod error;
mod eval;
pub mod field;
mod loader;
mod matchers;
mod output;
mod priority;
mod ruleset;
mod warning;
mod yaml;

pub use compile::{CompileOptions, CompileReport};
pub use error::{Error, Errors, Position};
pub use field::{
    Event, FieldBuf, FieldCatalog, FieldId, FieldType, PermissiveCatalog, StrList, UnknownField,
    Value,
};
pub use loader::{
    Condition, ExceptionDef, ExceptionFields, ExceptionItem, FileSummary, Limits, ListDef,
    LoadedRules, Loader, MacroDef, RuleDef,
};
pub use output::{format_rfc3339_nanos, Alert, OutputTemplate};
pub use priority::{Priority, UnknownPriority};
pub use ruleset::{Match, Matches, Rule, RuleSet, Scratch};
pub use warning::{Warning, WarningKind};
