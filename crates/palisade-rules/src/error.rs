//! Errors: every one names the file, line and column and quotes the offending text.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A place in a rule file: `file:line:column` (both 1-based, column in characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    /// The file name as given to the loader.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One error in a rule set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A rule file could not be read.
    #[error("{}: cannot read rule file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Invalid YAML, or a resource limit hit while reading it.
    #[error("{at}: invalid YAML: {message}: `{text}`")]
    Yaml {
        /// Where.
        at: Position,
        /// What the YAML parser said.
        message: String,
        /// The offending source line.
        text: String,
    },
    /// Valid YAML that is not a valid rules item (missing key, wrong type, bad override…).
    #[error("{at}: {message}: `{text}`")]
    Schema {
        /// Where.
        at: Position,
        /// What is wrong.
        message: String,
        /// The offending text.
        text: String,
    },
    /// A condition that does not parse.
    #[error("{at}: invalid condition: {message}: `{text}`")]
    Condition {
        /// Where (inside the condition string).
        at: Position,
        /// What the parser expected.
        message: String,
        /// The condition text from the offending position on (truncated).
        text: String,
    },
    /// A bare identifier in a condition that names no macro.
    #[error("{at}: undefined macro `{name}` used in condition")]
    UndefinedMacro {
        /// Where the identifier is.
        at: Position,
        /// The identifier.
        name: String,
    },
    /// Macros that reference each other in a loop.
    #[error("{at}: macro cycle: {}", cycle.join(" -> "))]
    MacroCycle {
        /// Where the reference closing the cycle is.
        at: Position,
        /// The macro names, from the first to the one repeated.
        cycle: Vec<String>,
    },
    /// An `append`/`override`/`enabled` item for a list, macro or rule not defined before it.
    #[error("{at}: {kind} `{name}` has `{key}` but no {kind} by that name is defined before it")]
    UndefinedReference {
        /// Where the item is.
        at: Position,
        /// `list`, `macro` or `rule`.
        kind: &'static str,
        /// The name.
        name: String,
        /// `append`, `override` or `enabled`.
        key: &'static str,
    },
    /// A literal that does not fit the field it is compared with, an invalid regex or glob,
    /// an operator a field type does not support.
    #[error("{at}: {message}: `{text}`")]
    InvalidComparison {
        /// Where the comparison is.
        at: Position,
        /// What is wrong.
        message: String,
        /// The offending text.
        text: String,
    },
    /// A resource limit (file size, nesting, expansion size) exceeded.
    #[error("{at}: {what} exceeds the limit of {limit}")]
    Limit {
        /// Where.
        at: Position,
        /// What was limited.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
}

impl Error {
    /// The position the error points at, if it has one.
    #[must_use]
    pub fn position(&self) -> Option<&Position> {
        match self {
            Error::Io { .. } => None,
            Error::Yaml { at, .. }
            | Error::Schema { at, .. }
            | Error::Condition { at, .. }
            | Error::UndefinedMacro { at, .. }
            | Error::MacroCycle { at, .. }
            | Error::UndefinedReference { at, .. }
            | Error::InvalidComparison { at, .. }
            | Error::Limit { at, .. } => Some(at),
        }
    }
}

/// One or more errors: loading and compiling report every error found, not only the first.
#[derive(Debug)]
pub struct Errors(Vec<Error>);

impl Errors {
    pub(crate) fn new(errors: Vec<Error>) -> Self {
        Self(errors)
    }

    /// The errors, in the order found.
    #[must_use]
    pub fn as_slice(&self) -> &[Error] {
        &self.0
    }

    /// The errors, in the order found.
    #[must_use]
    pub fn into_vec(self) -> Vec<Error> {
        self.0
    }

    /// The first error.
    #[must_use]
    pub fn first(&self) -> Option<&Error> {
        self.0.first()
    }

    /// How many.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true for an `Errors` returned by this crate.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterate over the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, Error> {
        self.0.iter()
    }
}

impl From<Error> for Errors {
    fn from(e: Error) -> Self {
        Self(vec![e])
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .first()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl<'a> IntoIterator for &'a Errors {
    type Item = &'a Error;
    type IntoIter = std::slice::Iter<'a, Error>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Errors {
    type Item = Error;
    type IntoIter = std::vec::IntoIter<Error>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
