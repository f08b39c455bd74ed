//! Rule priorities, as Falco names them.

use std::fmt;
use std::str::FromStr;

/// A rule's priority (severity). Ordered by severity: `Debug < Informational < … < Emergency`,
/// so a minimum-priority filter is `rule.priority() >= min`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    /// `DEBUG`
    Debug,
    /// `INFORMATIONAL` (also written `INFO`)
    Informational,
    /// `NOTICE`
    Notice,
    /// `WARNING` (also written `WARN`)
    Warning,
    /// `ERROR`
    Error,
    /// `CRITICAL`
    Critical,
    /// `ALERT`
    Alert,
    /// `EMERGENCY`
    Emergency,
}

impl Priority {
    /// Every priority, most severe first.
    pub const ALL: [Priority; 8] = [
        Priority::Emergency,
        Priority::Alert,
        Priority::Critical,
        Priority::Error,
        Priority::Warning,
        Priority::Notice,
        Priority::Informational,
        Priority::Debug,
    ];

    /// The name Falco prints in alerts (`Warning`, `Informational`, …).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Emergency => "Emergency",
            Priority::Alert => "Alert",
            Priority::Critical => "Critical",
            Priority::Error => "Error",
            Priority::Warning => "Warning",
            Priority::Notice => "Notice",
            Priority::Informational => "Informational",
            Priority::Debug => "Debug",
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A priority name Falco does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown priority `{0}` (expected one of emergency, alert, critical, error, warning, notice, informational, debug)")]
pub struct UnknownPriority(pub String);

impl FromStr for Priority {
    type Err = UnknownPriority;

    /// Case-insensitive, accepting Falco's aliases `info` and `warn`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let p = match s.trim().to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" | "warn" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return Err(UnknownPriority(s.to_owned())),
        };
        Ok(p)
    }
}

impl serde::Serialize for Priority {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_and_names() {
        assert!(Priority::Emergency > Priority::Debug);
        assert!(Priority::Warning > Priority::Notice);
        assert_eq!("INFO".parse::<Priority>(), Ok(Priority::Informational));
        assert_eq!("Warning".parse::<Priority>(), Ok(Priority::Warning));
        assert_eq!("CRITICAL".parse::<Priority>(), Ok(Priority::Critical));
        assert!("loud".parse::<Priority>().is_err());
        let mut all = Priority::ALL;
        all.sort();
        assert_eq!(all.first(), Some(&Priority::Debug));
        assert_eq!(Priority::Informational.to_string(), "Informational");
    }
}
