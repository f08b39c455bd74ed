//! Non-fatal problems, returned as data.

use std::fmt;

use crate::error::Position;

/// What a [`Warning`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// A key the rule format does not define (ignored).
    UnknownKey,
    /// A top-level item that is not a list, macro, rule or version requirement (ignored).
    UnknownItem,
    /// A deprecated construct (`append: true`, `enabled` without `override`).
    Deprecated,
    /// A rule skipped because it uses a field its source's catalog does not know.
    UnknownField,
    /// A rule skipped because no catalog serves its source.
    UnknownSource,
    /// A syscall rule that does not restrict `evt.type` and so runs on every event.
    NoEventType,
    /// A list defined but never referenced by an enabled rule.
    UnusedList,
    /// A macro defined but never referenced by an enabled rule.
    UnusedMacro,
}

/// A non-fatal problem found while loading or compiling rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where, when known.
    pub at: Option<Position>,
    /// What kind of problem.
    pub kind: WarningKind,
    /// A sentence naming the item (and field) concerned.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}
