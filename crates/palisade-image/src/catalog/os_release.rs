//! Operating-system detection: `os-release` and the older release files.
//!
//! Sources, first match wins:
//! 1. `etc/os-release`, then `usr/lib/os-release` (os-release(5): `KEY=value`
//!    lines, values optionally quoted with shell-style escapes, `#` comments);
//! 2. `etc/lsb-release` (`DISTRIB_ID`, `DISTRIB_RELEASE`);
//! 3. `etc/debian_version`;
//! 4. `etc/alpine-release`;
//! 5. `etc/almalinux-release`, `etc/rocky-release`, `etc/centos-release`,
//!    `etc/redhat-release` (`<Name> release <version> (<codename>)`).
//!
//! [`OsInfo::family`] is the os-release `ID`, lowercased; [`OsInfo::version`]
//! is `VERSION_ID`, or for releases without one (Debian testing and sid) the
//! `VERSION_CODENAME` or the content of `etc/debian_version`, or the
//! distribution's own release file. An unknown version is the empty string.

use palisade_model::OsInfo;

use crate::fs::FsView;

const OS_RELEASE: &str = "etc/os-release";
const USR_OS_RELEASE: &str = "usr/lib/os-release";
const LSB_RELEASE: &str = "etc/lsb-release";
const DEBIAN_VERSION: &str = "etc/debian_version";
const ALPINE_RELEASE: &str = "etc/alpine-release";
/// Red Hat style release files, most specific first (`redhat-release` is a
/// symlink to the others on rebuilds).
const REDHAT_STYLE: [&str; 4] = [
    "etc/almalinux-release",
    "etc/rocky-release",
    "etc/centos-release",
    "etc/redhat-release",
];

/// Most `KEY=value` pairs kept from one file; os-release files have ~20.
const MAX_KEYS: usize = 256;
/// Longest value kept, in bytes; longer values are cut.
const MAX_VALUE_LEN: usize = 4096;

/// Whether OS detection needs the file at `path` (normalised, no leading `/`).
pub fn wanted(path: &str) -> bool {
    matches!(
        path,
        OS_RELEASE
            | USR_OS_RELEASE
            | LSB_RELEASE
            | DEBIAN_VERSION
            | ALPINE_RELEASE
            | "etc/almalinux-release"
            | "etc/rocky-release"
            | "etc/centos-release"
            | "etc/redhat-release"
    )
}

/// A parsed os-release (or lsb-release) file: its keys in file order, later
/// duplicates overriding earlier ones as a shell would.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    pairs: Vec<(String, String)>,
}

impl OsRelease {
    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every `(key, value)` pair in file order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// Parse os-release syntax. Never fails: unparseable lines are skipped, as
/// systemd does. Invalid UTF-8 is replaced with U+FFFD.
pub fn parse_os_release(data: &[u8]) -> OsRelease {
    let text = String::from_utf8_lossy(data);
    let mut pairs = Vec::new();
    for line in text.lines() {
        if pairs.len() >= MAX_KEYS {
            tracing::debug!("os-release: more than {MAX_KEYS} keys, rest ignored");
            break;
        }
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim_end();
        let key = key.strip_prefix("export ").map_or(key, str::trim_start);
        let valid_key = !key.is_empty()
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !key.starts_with(|c: char| c.is_ascii_digit());
        if !valid_key {
            continue;
        }
        pairs.push((key.to_string(), unquote(raw)));
    }
    OsRelease { pairs }
}

/// Shell-style unquoting of one value: `'…'` is literal, `"…"` honours
/// backslash before `$ " \ `` ` and newline, unquoted text honours any
/// backslash escape and ends at unquoted whitespace or an unquoted `#` that
/// starts a word. Quoted and unquoted parts concatenate, like `a"b"'c'`.
fn unquote(raw: &str) -> String {
    let raw = raw.trim();
    let mut out = String::with_capacity(raw.len().min(MAX_VALUE_LEN));
    let mut chars = raw.chars().peekable();
    let mut at_word_start = true;
    while let Some(c) = chars.next() {
        if out.len() >= MAX_VALUE_LEN {
            break;
        }
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.peek().copied() {
                            Some(n @ ('$' | '"' | '\\' | '`')) => {
                                out.push(n);
                                chars.next();
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => out.push('\\'),
                        },
                        c => out.push(c),
                    }
                }
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            '#' if at_word_start => break,
            c if c.is_whitespace() => break,
            c => out.push(c),
        }
        at_word_start = false;
    }
    if out.len() > MAX_VALUE_LEN {
        let mut end = MAX_VALUE_LEN;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

/// OS info from a parsed os-release. `None` without an `ID`.
fn from_os_release(rel: &OsRelease, fs: &FsView) -> Option<OsInfo> {
    let family = rel.get("ID").filter(|s| !s.is_empty())?.to_lowercase();
    let version = rel
        .get("VERSION_ID")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| {
            rel.get("VERSION_CODENAME")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .or_else(|| match family.as_str() {
            "debian" => read_trimmed(fs, DEBIAN_VERSION).map(|v| debian_version(&v)),
            "alpine" => read_trimmed(fs, ALPINE_RELEASE),
            _ => None,
        })
        .unwrap_or_default();
    let pretty_name = rel
        .get("PRETTY_NAME")
        .or_else(|| rel.get("NAME"))
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Some(OsInfo {
        family,
        version,
        pretty_name,
    })
}

/// The first non-empty line of a file, trimmed, lossily decoded.
fn read_trimmed(fs: &FsView, path: &str) -> Option<String> {
    let file = fs.read(path)?;
    let text = String::from_utf8_lossy(file.data);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(256).collect())
}

/// `etc/debian_version` holds `12.5` on stable releases and `trixie/sid` on
/// testing and unstable: keep numbers, keep the codename before `/sid`.
fn debian_version(content: &str) -> String {
    match content.split_once('/') {
        Some((codename, _)) if !codename.starts_with(|c: char| c.is_ascii_digit()) => {
            codename.to_string()
        }
        _ => content.to_string(),
    }
}

/// Parse a Red Hat style release line such as
/// `Rocky Linux release 9.3 (Blue Onyx)`.
pub fn parse_redhat_release(line: &str) -> Option<OsInfo> {
    let line = line.trim();
    let lower = line.to_ascii_lowercase();
    let family = if lower.starts_with("red hat") {
        "rhel"
    } else if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("oracle linux") {
        "ol"
    } else {
        return None;
    };
    let mut words = line.split_whitespace();
    let version = words
        .by_ref()
        .find(|w| w.eq_ignore_ascii_case("release"))
        .and_then(|_| words.next())
        .unwrap_or_default()
        .to_string();
    Some(OsInfo {
        family: family.to_string(),
        version,
        pretty_name: Some(line.to_string()),
    })
}

/// Detect the operating system from the merged view (see the module docs).
pub fn detect(fs: &FsView) -> Option<OsInfo> {
    for path in [OS_RELEASE, USR_OS_RELEASE] {
        if let Some(file) = fs.read(path) {
            let rel = parse_os_release(file.data);
            if let Some(info) = from_os_release(&rel, fs) {
                return Some(info);
            }
            tracing::debug!(path, "os-release without ID, trying other files");
        }
    }
    if let Some(file) = fs.read(LSB_RELEASE) {
        let rel = parse_os_release(file.data);
        if let Some(id) = rel.get("DISTRIB_ID").filter(|s| !s.is_empty()) {
            return Some(OsInfo {
                family: id.to_lowercase(),
                version: rel.get("DISTRIB_RELEASE").unwrap_or_default().to_string(),
                pretty_name: rel.get("DISTRIB_DESCRIPTION").map(str::to_string),
            });
        }
    }
    if let Some(v) = read_trimmed(fs, DEBIAN_VERSION) {
        return Some(OsInfo {
            family: "debian".to_string(),
            version: debian_version(&v),
            pretty_name: None,
        });
    }
    if let Some(v) = read_trimmed(fs, ALPINE_RELEASE) {
        return Some(OsInfo {
            family: "alpine".to_string(),
            version: v,
            pretty_name: None,
        });
    }
    REDHAT_STYLE
        .iter()
        .filter_map(|p| read_trimmed(fs, p))
        .find_map(|line| parse_redhat_release(&line))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    const DEBIAN_12: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"#;

    fn os(family: &str, version: &str) -> (String, String) {
        (family.to_string(), version.to_string())
    }

    fn detect_files(files: &[(&str, &str)]) -> Option<(String, String)> {
        let fs = FsView::from_files(files.iter().copied());
        detect(&fs).map(|o| (o.family, o.version))
    }

    #[test]
    fn debian_bookworm() {
        let fs = FsView::from_files([("etc/os-release", DEBIAN_12)]);
        let info = detect(&fs).unwrap();
        assert_eq!(info.family, "debian");
        assert_eq!(info.version, "12");
        assert_eq!(
            info.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn quoting_and_escapes() {
        let rel = parse_os_release(
            b"# comment\n  A=plain\nB=\"double \\\"q\\\" \\$x \\\\ \\n\"\nC='single \\ $x'\nD=con\"cat\"'ed'\n\
              E=unquoted\\ space\nF=trail # comment\nbad line\n1X=no\nG=\"unterminated\nexport H=1\nI=\r\n",
        );
        assert_eq!(rel.get("A"), Some("plain"));
        assert_eq!(rel.get("B"), Some("double \"q\" $x \\ \\n"));
        assert_eq!(rel.get("C"), Some("single \\ $x"));
        assert_eq!(rel.get("D"), Some("concated"));
        assert_eq!(rel.get("E"), Some("unquoted space"));
        assert_eq!(rel.get("F"), Some("trail"));
        assert_eq!(rel.get("1X"), None);
        assert_eq!(rel.get("G"), Some("unterminated"));
        assert_eq!(rel.get("H"), Some("1"));
        assert_eq!(rel.get("I"), Some(""));
    }

    #[test]
    fn later_keys_override() {
        let rel = parse_os_release(b"ID=a\nID=b\n");
        assert_eq!(rel.get("ID"), Some("b"));
        assert_eq!(rel.pairs().len(), 2);
    }

    #[test]
    fn non_utf8_and_garbage_do_not_panic() {
        let rel = parse_os_release(b"ID=\xff\xfe\nVERSION_ID=\"3\n\0\0=\x80");
        assert_eq!(rel.get("ID"), Some("\u{fffd}\u{fffd}"));
        let many = "K=v\n".repeat(10_000);
        assert_eq!(parse_os_release(many.as_bytes()).pairs().len(), MAX_KEYS);
        let long = format!("K={}", "x".repeat(100_000));
        assert_eq!(
            parse_os_release(long.as_bytes()).get("K").map(str::len),
            Some(MAX_VALUE_LEN)
        );
    }

    #[test]
    fn usr_lib_fallback_and_symlink() {
        assert_eq!(
            detect_files(&[("usr/lib/os-release", "ID=\"Alpine\"\nVERSION_ID=3.19.1\n")]),
            Some(os("alpine", "3.19.1"))
        );
        let mut fs =
            FsView::from_files([("usr/lib/os-release", "ID=ubuntu\nVERSION_ID=\"22.04\"\n")]);
        fs.insert_symlink(
            "etc/os-release".into(),
            "../usr/lib/os-release".into(),
            None,
        );
        assert_eq!(detect(&fs).map(|o| o.family), Some("ubuntu".to_string()));
    }

    #[test]
    fn debian_testing_without_version_id() {
        assert_eq!(
            detect_files(&[("etc/os-release", "ID=debian\nVERSION_CODENAME=trixie\n")]),
            Some(os("debian", "trixie"))
        );
        assert_eq!(
            detect_files(&[
                ("etc/os-release", "ID=debian\n"),
                ("etc/debian_version", "trixie/sid\n")
            ]),
            Some(os("debian", "trixie"))
        );
    }

    #[test]
    fn old_files() {
        assert_eq!(
            detect_files(&[(
                "etc/lsb-release",
                "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=14.04\nDISTRIB_DESCRIPTION=\"Ubuntu 14.04.6 LTS\"\n"
            )]),
            Some(os("ubuntu", "14.04"))
        );
        assert_eq!(
            detect_files(&[("etc/debian_version", "12.5\n")]),
            Some(os("debian", "12.5"))
        );
        assert_eq!(
            detect_files(&[("etc/debian_version", "bookworm/sid")]),
            Some(os("debian", "bookworm"))
        );
        assert_eq!(
            detect_files(&[("etc/alpine-release", "3.19.1\n")]),
            Some(os("alpine", "3.19.1"))
        );
        assert_eq!(
            detect_files(&[(
                "etc/centos-release",
                "CentOS Linux release 7.9.2009 (Core)\n"
            )]),
            Some(os("centos", "7.9.2009"))
        );
        assert_eq!(
            detect_files(&[(
                "etc/redhat-release",
                "Red Hat Enterprise Linux release 8.9 (Ootpa)\n"
            )]),
            Some(os("rhel", "8.9"))
        );
        assert_eq!(
            detect_files(&[("etc/rocky-release", "Rocky Linux release 9.3 (Blue Onyx)\n")]),
            Some(os("rocky", "9.3"))
        );
        assert_eq!(
            detect_files(&[(
                "etc/almalinux-release",
                "AlmaLinux release 9.3 (Shamrock Pink)"
            )]),
            Some(os("almalinux", "9.3"))
        );
        assert_eq!(
            detect_files(&[("etc/redhat-release", "Something else 1")]),
            None
        );
        assert_eq!(detect_files(&[]), None);
    }

    #[test]
    fn os_release_without_id_falls_through() {
        assert_eq!(
            detect_files(&[
                ("etc/os-release", "NAME=x\n"),
                ("etc/alpine-release", "3.18.0")
            ]),
            Some(os("alpine", "3.18.0"))
        );
    }

    #[test]
    fn wanted_paths() {
        for p in [
            "etc/os-release",
            "usr/lib/os-release",
            "etc/lsb-release",
            "etc/debian_version",
            "etc/alpine-release",
            "etc/redhat-release",
            "etc/centos-release",
            "etc/almalinux-release",
            "etc/rocky-release",
        ] {
            assert!(wanted(p), "{p}");
        }
        for p in [
            "etc/os-release.bak",
            "os-release",
            "usr/etc/os-release",
            "etc/fedora-release",
        ] {
            assert!(!wanted(p), "{p}");
        }
    }
}
