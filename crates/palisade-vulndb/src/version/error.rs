//! Errors of version parsing and comparison.

use super::Scheme;

/// Longest version string, in bytes, that any scheme accepts.
///
/// Versions come from untrusted inputs (package databases inside images,
/// advisory feeds), so parsing has a bound. Real versions are far shorter: the
/// longest seen in practice are Maven timestamped snapshots and PEP 440
/// versions with local labels, well under 200 bytes.
pub const MAX_VERSION_LEN: usize = 512;

/// At most this many bytes of an invalid input are kept in a [`VersionError`].
const MAX_ECHO_LEN: usize = 80;

/// A version could not be parsed, or two versions cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VersionError {
    /// The input is not a valid version of the scheme.
    #[error("invalid {scheme} version {input:?}: {reason}")]
    Invalid {
        /// The scheme the input was parsed as.
        scheme: Scheme,
        /// The input as given (cut after 80 bytes, marked with `…`).
        input: String,
        /// What is wrong with it.
        #[source]
        reason: InvalidReason,
    },
    /// Versions of two different schemes have no common order.
    #[error("cannot compare a {left} version with a {right} version")]
    SchemeMismatch {
        /// Scheme of the left-hand version.
        left: Scheme,
        /// Scheme of the right-hand version.
        right: Scheme,
    },
}

impl VersionError {
    pub(crate) fn invalid(scheme: Scheme, input: &str, reason: InvalidReason) -> VersionError {
        VersionError::Invalid {
            scheme,
            input: echo(input),
            reason,
        }
    }

    /// The scheme of an [`Invalid`](VersionError::Invalid) error.
    pub fn scheme(&self) -> Option<Scheme> {
        match self {
            VersionError::Invalid { scheme, .. } => Some(*scheme),
            VersionError::SchemeMismatch { .. } => None,
        }
    }
}

/// Why an input is not a valid version. Byte offsets count from the start of
/// the input as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Nothing but whitespace.
    #[error("empty version")]
    Empty,
    /// Longer than [`MAX_VERSION_LEN`].
    #[error("{len} bytes long, more than the limit of {max}")]
    TooLong {
        /// Length of the input in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character the scheme does not allow where it stands.
    #[error("unexpected character {ch:?} at byte {at}")]
    UnexpectedChar {
        /// The character.
        ch: char,
        /// Its byte offset.
        at: usize,
    },
    /// The input ends where the scheme requires more.
    #[error("ends where {expected} was expected")]
    UnexpectedEnd {
        /// What was expected.
        expected: &'static str,
    },
    /// A required part is empty (for example the revision after a final `-`).
    #[error("empty {part}")]
    EmptyPart {
        /// Which part.
        part: &'static str,
    },
    /// A numeric field is larger than the scheme allows (or than this crate
    /// represents).
    #[error("number at byte {at} is too large")]
    NumberTooLarge {
        /// Byte offset of the number.
        at: usize,
    },
    /// A numeric field has a leading zero, which the scheme forbids.
    #[error("number at byte {at} has a leading zero")]
    LeadingZero {
        /// Byte offset of the number.
        at: usize,
    },
    /// A part that must be numeric is not (for example a dpkg epoch).
    #[error("{part} is not a number")]
    NotANumber {
        /// Which part.
        part: &'static str,
    },
    /// An unknown pre- or post-release suffix (apk).
    #[error("unknown suffix {suffix:?}")]
    UnknownSuffix {
        /// The suffix as written.
        suffix: String,
    },
    /// The input matches none of the forms the scheme accepts (for schemes
    /// defined by a set of patterns, where no single character is at fault).
    #[error("matches none of the accepted forms ({forms})")]
    NoForm {
        /// The accepted forms, for the message.
        forms: &'static str,
    },
    /// A valid form of the ecosystem that has no order, so cannot be matched
    /// against ranges (for example Composer `dev-` branches).
    #[error("{what} cannot be ordered")]
    Unordered {
        /// What kind of version it is.
        what: &'static str,
    },
}

impl InvalidReason {
    /// Moves byte offsets by `by` (parsers see the input without leading
    /// whitespace).
    pub(crate) fn shifted(self, by: usize) -> InvalidReason {
        match self {
            InvalidReason::UnexpectedChar { ch, at } => InvalidReason::UnexpectedChar {
                ch,
                at: at.saturating_add(by),
            },
            InvalidReason::NumberTooLarge { at } => InvalidReason::NumberTooLarge {
                at: at.saturating_add(by),
            },
            InvalidReason::LeadingZero { at } => InvalidReason::LeadingZero {
                at: at.saturating_add(by),
            },
            other => other,
        }
    }
}

/// The input as kept in an error: at most [`MAX_ECHO_LEN`] bytes, cut at a
/// character boundary.
fn echo(input: &str) -> String {
    if input.len() <= MAX_ECHO_LEN {
        return input.to_owned();
    }
    let mut end = MAX_ECHO_LEN;
    while !input.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = input.get(..end).unwrap_or_default().to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_inputs_are_cut_in_errors() {
        let long = "é".repeat(100);
        let err = VersionError::invalid(Scheme::Dpkg, &long, InvalidReason::Empty);
        let VersionError::Invalid { input, .. } = err else {
            unreachable!("constructed as Invalid")
        };
        assert!(input.len() <= MAX_ECHO_LEN + '…'.len_utf8());
        assert!(input.ends_with('…'));
    }

    #[test]
    fn message_names_scheme_and_input() {
        let err = VersionError::invalid(
            Scheme::Rpm,
            "1:",
            InvalidReason::EmptyPart { part: "version" },
        );
        assert_eq!(err.to_string(), "invalid rpm version \"1:\": empty version");
    }
}
