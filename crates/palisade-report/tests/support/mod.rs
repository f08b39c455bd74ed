//! Hand-built scan reports shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use palisade_model::{
    Artifact, Digest, Ecosystem, OsInfo, Package, PackageName, ScanReport, ScanWarning, Severity,
    SourcePackage, Version, VulnerabilityMatch,
};
use palisade_report::ReportOptions;

pub(crate) const MANIFEST: &str =
    "sha256:05b3abf2579a5eb66403cd78be557fd860633a1fe2103c7642030defe32c657f";
pub(crate) const LAYER_BASE: &str =
    "sha256:77f155e6a7e511c5b9a970783c0eedcafee157d91464e9a8a1e46030e3df3844";
pub(crate) const LAYER_APP: &str =
    "sha256:3ee14acfad37be3ea3ce1783847b190715c3041905cc0db12406bc4255178dff";

/// 2024-01-02T03:04:05Z
pub(crate) fn fixed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_164_645)
}

/// The options every golden file is rendered with.
pub(crate) fn golden_options() -> ReportOptions {
    ReportOptions::new("0.1.0")
        .with_width(Some(100))
        .with_timestamp(fixed_time())
}

fn digest(s: &str) -> Digest {
    s.parse().expect("valid digest")
}

#[allow(clippy::too_many_arguments)]
fn deb(
    name: &str,
    version: &str,
    source: Option<(&str, &str)>,
    purl_version: &str,
    licenses: &[&str],
) -> Package {
    Package {
        name: PackageName::new(name),
        version: Version::new(version),
        ecosystem: Ecosystem::new(Ecosystem::DEBIAN),
        purl: format!("pkg:deb/debian/{name}@{purl_version}?arch=amd64&distro=debian-12"),
        layer: Some(digest(LAYER_BASE)),
        path: "var/lib/dpkg/status".to_string(),
        source: source.map(|(n, v)| SourcePackage {
            name: n.to_string(),
            version: v.to_string(),
        }),
        arch: Some("amd64".to_string()),
        licenses: licenses.iter().map(|s| s.to_string()).collect(),
    }
}

fn packages() -> Vec<Package> {
    vec![
        deb("base-files", "12.4+deb12u5", None, "12.4%2Bdeb12u5", &[]),
        deb(
            "bash",
            "5.2.15-2+b7",
            Some(("bash", "5.2.15-2")),
            "5.2.15-2%2Bb7",
            &["GPL-3+"],
        ),
        deb(
            "libssl3",
            "3.0.11-1~deb12u2",
            Some(("openssl", "3.0.11-1~deb12u2")),
            "3.0.11-1~deb12u2",
            &["Apache-2.0"],
        ),
        deb(
            "zlib1g",
            "1:1.2.13.dfsg-1",
            Some(("zlib", "1:1.2.13.dfsg-1")),
            "1:1.2.13.dfsg-1",
            &["Zlib"],
        ),
        Package {
            name: PackageName::new("requests"),
            version: Version::new("2.19.1"),
            ecosystem: Ecosystem::new(Ecosystem::PYPI),
            purl: "pkg:pypi/requests@2.19.1".to_string(),
            layer: Some(digest(LAYER_APP)),
            path: "usr/local/lib/python3.11/site-packages/requests-2.19.1.dist-info/METADATA"
                .to_string(),
            source: None,
            arch: None,
            licenses: vec!["Apache 2.0".to_string()],
        },
        Package {
            name: PackageName::new("certifi"),
            version: Version::new("2024.2.2"),
            ecosystem: Ecosystem::new(Ecosystem::PYPI),
            purl: "pkg:pypi/certifi@2024.2.2".to_string(),
            layer: Some(digest(LAYER_APP)),
            path: "usr/local/lib/python3.11/site-packages/certifi-2024.2.2.dist-info/METADATA"
                .to_string(),
            source: None,
            arch: None,
            licenses: vec!["MPL-2.0".to_string()],
        },
    ]
}

#[allow(clippy::too_many_arguments)]
fn vuln(
    id: &str,
    aliases: &[&str],
    package: &str,
    ecosystem: &str,
    installed: &str,
    fixed: Option<&str>,
    severity: Severity,
    score: Option<f64>,
    source: &str,
    title: &str,
) -> VulnerabilityMatch {
    VulnerabilityMatch {
        id: id.to_string(),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        package: package.to_string(),
        ecosystem: ecosystem.to_string(),
        installed_version: installed.to_string(),
        fixed_version: fixed.map(str::to_string),
        severity,
        cvss_score: score,
        source: source.to_string(),
        title: title.to_string(),
    }
}

fn vulnerabilities() -> Vec<VulnerabilityMatch> {
    vec![
        // Two advisories against one package (named by its source package,
        // as Debian's tracker does), fixed in different versions.
        vuln(
            "CVE-2024-5535",
            &["DSA-5779-1"],
            "openssl",
            "Debian",
            "3.0.11-1~deb12u2",
            Some("3.0.15-1~deb12u1"),
            Severity::Critical,
            Some(9.1),
            "debian",
            "SSL_select_next_proto buffer overread",
        ),
        vuln(
            "CVE-2023-5678",
            &[],
            "openssl",
            "Debian",
            "3.0.11-1~deb12u2",
            Some("3.0.13-1~deb12u1"),
            Severity::Medium,
            Some(5.3),
            "debian",
            "Excessive time spent in DH check / generation with large Q parameter value",
        ),
        // No fix exists.
        vuln(
            "CVE-2023-45853",
            &[],
            "zlib",
            "Debian",
            "1:1.2.13.dfsg-1",
            None,
            Severity::Critical,
            Some(9.8),
            "debian",
            "MiniZip in zlib through 1.3 has an integer overflow and resultant heap-based buffer \
             overflow in zipOpenNewFileInZip4_64 via a long filename, comment, or extra field",
        ),
        // A GitHub advisory with aliases.
        vuln(
            "GHSA-x84v-xcm2-53pg",
            &["CVE-2018-18074", "PYSEC-2018-28"],
            "requests",
            "PyPI",
            "2.19.1",
            Some("2.20.0"),
            Severity::High,
            Some(7.5),
            "ghsa",
            "Insecure Permissions in Requests",
        ),
    ]
}

fn artifact() -> Artifact {
    Artifact {
        name: "registry.example.com/shop/api:1.4".to_string(),
        digest: Some(digest(MANIFEST)),
        os: Some(OsInfo {
            family: "debian".to_string(),
            version: "12".to_string(),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_string()),
        }),
        platform: Some("linux/amd64".to_string()),
        layers: vec![digest(LAYER_BASE), digest(LAYER_APP)],
    }
}

/// A Debian image with a few packages, one package with two
/// vulnerabilities, a PyPI package with a GHSA that has aliases, one unfixed
/// vulnerability, and a warning.
pub(crate) fn debian_report() -> ScanReport {
    let mut report = ScanReport::new(artifact(), packages());
    report.vulnerabilities = vulnerabilities();
    report.warnings = vec![ScanWarning {
        location: format!(
            "{LAYER_APP} usr/local/lib/python3.11/site-packages/broken.dist-info/METADATA"
        ),
        message: "unparseable METADATA: no Name field".to_string(),
    }];
    report
}

/// The same image, with nothing vulnerable and no warnings.
pub(crate) fn clean_report() -> ScanReport {
    ScanReport::new(artifact(), packages())
}

/// An unpacked directory: no digest, no layers, no OS.
pub(crate) fn directory_report() -> ScanReport {
    let mut packages = packages();
    for p in &mut packages {
        p.layer = None;
    }
    let mut report = ScanReport::new(
        Artifact {
            name: "dir:/srv/rootfs".to_string(),
            digest: None,
            os: None,
            platform: None,
            layers: Vec::new(),
        },
        packages,
    );
    report.vulnerabilities = vulnerabilities();
    report
}

/// Nothing at all.
pub(crate) fn empty_report() -> ScanReport {
    ScanReport::new(
        Artifact {
            name: "scratch".to_string(),
            digest: None,
            os: None,
            platform: None,
            layers: Vec::new(),
        },
        Vec::new(),
    )
}

/// Render `report` in `format` to a string.
pub(crate) fn render(
    format: palisade_report::Format,
    report: &ScanReport,
    opts: &ReportOptions,
) -> String {
    let mut out = Vec::new();
    palisade_report::write(format, report, &mut out, opts).expect("render");
    String::from_utf8(out).expect("utf-8 output")
}
