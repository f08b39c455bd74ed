use std::fmt;

use serde::{Deserialize, Serialize};

/// A package ecosystem, named as OSV names it (`Debian`, `Alpine`, `PyPI`, `npm`, …).
///
/// Kept as an open string rather than a closed enum because OSV adds
/// ecosystems often and advisories for unknown ones must still round-trip.
/// Release-scoped forms such as `Debian:11` are represented by the base
/// ecosystem plus a release elsewhere; see [`Ecosystem::base`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ecosystem(String);

impl Ecosystem {
    pub const DEBIAN: &'static str = "Debian";
    pub const UBUNTU: &'static str = "Ubuntu";
    pub const ALPINE: &'static str = "Alpine";
    pub const RED_HAT: &'static str = "Red Hat";
    pub const ALMALINUX: &'static str = "AlmaLinux";
    pub const ROCKY: &'static str = "Rocky Linux";
    pub const OPENSUSE: &'static str = "openSUSE";
    pub const SUSE: &'static str = "SUSE";
    pub const WOLFI: &'static str = "Wolfi";
    pub const CHAINGUARD: &'static str = "Chainguard";
    pub const PYPI: &'static str = "PyPI";
    pub const NPM: &'static str = "npm";
    pub const GO: &'static str = "Go";
    pub const CRATES_IO: &'static str = "crates.io";
    pub const MAVEN: &'static str = "Maven";
    pub const RUBYGEMS: &'static str = "RubyGems";
    pub const NUGET: &'static str = "NuGet";
    pub const PACKAGIST: &'static str = "Packagist";

    pub fn new(name: impl Into<String>) -> Ecosystem {
        Ecosystem(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ecosystem without a release suffix: `Debian:11` → `Debian`.
    pub fn base(&self) -> &str {
        self.0.split_once(':').map_or(self.0.as_str(), |(b, _)| b)
    }

    /// The release suffix, if any: `Debian:11` → `Some("11")`.
    pub fn release(&self) -> Option<&str> {
        self.0.split_once(':').map(|(_, r)| r)
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Ecosystem {
    fn from(s: &str) -> Self {
        Ecosystem(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_and_release() {
        let e = Ecosystem::new("Debian:11");
        assert_eq!(e.base(), "Debian");
        assert_eq!(e.release(), Some("11"));
        let p = Ecosystem::new(Ecosystem::PYPI);
        assert_eq!(p.base(), "PyPI");
        assert_eq!(p.release(), None);
    }
}
