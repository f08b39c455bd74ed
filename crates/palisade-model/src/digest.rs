use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Hash algorithms allowed in OCI content digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    Sha256,
    Sha512,
}

impl DigestAlgorithm {
    /// Length of the hex encoding of this algorithm's output.
    pub fn hex_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 64,
            DigestAlgorithm::Sha512 => 128,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }
}

/// Why a string is not a valid content digest.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestError {
    #[error("digest {0:?} has no ':' between algorithm and hex")]
    MissingSeparator(String),
    #[error("digest {input:?} uses unsupported algorithm {algorithm:?} (sha256 and sha512 are)")]
    UnsupportedAlgorithm { input: String, algorithm: String },
    #[error("digest {input:?} must have {expected} lowercase hex characters")]
    BadHex { input: String, expected: usize },
}

/// An OCI content digest such as `sha256:<64 hex>`, validated on construction.
///
/// Because the hex part is checked to be lowercase hex of the right length,
/// a `Digest` is safe to use as a file name (for caches and OCI layouts).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Digest {
    algorithm: DigestAlgorithm,
    hex: String,
}

impl Digest {
    /// Build a digest from an algorithm and raw hash bytes.
    pub fn from_bytes(algorithm: DigestAlgorithm, bytes: &[u8]) -> Digest {
        let mut hex = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            for nibble in [b >> 4, b & 0x0f] {
                if let Some(&c) = HEX.get(usize::from(nibble)) {
                    hex.push(char::from(c));
                }
            }
        }
        Digest { algorithm, hex }
    }

    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The hex-encoded hash, without the algorithm prefix.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| DigestError::MissingSeparator(s.to_string()))?;
        let algorithm = match alg {
            "sha256" => DigestAlgorithm::Sha256,
            "sha512" => DigestAlgorithm::Sha512,
            other => {
                return Err(DigestError::UnsupportedAlgorithm {
                    input: s.to_string(),
                    algorithm: other.to_string(),
                })
            }
        };
        let ok = hex.len() == algorithm.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(DigestError::BadHex {
                input: s.to_string(),
                expected: algorithm.hex_len(),
            });
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }
}

impl TryFrom<String> for Digest {
    type Error = DigestError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Digest> for String {
    fn from(d: Digest) -> String {
        d.to_string()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let s = format!("sha256:{}", "ab".repeat(32));
        let d: Digest = s.parse().expect("valid");
        assert_eq!(d.to_string(), s);
        assert_eq!(d.algorithm(), DigestAlgorithm::Sha256);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            "sha256".parse::<Digest>(),
            Err(DigestError::MissingSeparator(_))
        ));
        assert!(matches!(
            "md5:abcd".parse::<Digest>(),
            Err(DigestError::UnsupportedAlgorithm { .. })
        ));
        assert!(matches!(
            format!("sha256:{}", "AB".repeat(32)).parse::<Digest>(),
            Err(DigestError::BadHex { .. })
        ));
        assert!(matches!(
            "sha256:../../etc".parse::<Digest>(),
            Err(DigestError::BadHex { .. })
        ));
    }

    #[test]
    fn from_bytes_matches_hex() {
        let d = Digest::from_bytes(DigestAlgorithm::Sha256, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(d.hex(), "deadbeef");
    }
}
