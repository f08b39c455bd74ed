//! `palisade image …`

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand, ValueEnum};
use palisade_image::{ImageRef, Platform, RegistryOptions, ScanOptions};
use palisade_model::{ScanReport, Severity};

use super::db::DbArg;

use crate::output;
use crate::progress::ProgressDisplay;

#[derive(Debug, Subcommand)]
pub(crate) enum ImageCommand {
    /// Scan an image: list its packages and the vulnerabilities affecting them.
    ///
    /// IMAGE is one of:
    ///   HOST[:PORT]/REPO[:TAG|@DIGEST]  a registry (docker:// prefix allowed;
    ///                                   Docker Hub short names like debian:12 work)
    ///   oci:DIR[:TAG]                   an OCI image layout directory
    ///   docker-archive:FILE             a `docker save` tarball
    ///   dir:PATH                        an unpacked root filesystem
    ///
    /// Each layer is read once as a stream; nothing is extracted to disk.
    /// Results go to stdout (or --output), progress and logs to stderr.
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),
    /// List the packages in an image (software bill of materials).
    ///
    /// Takes the same IMAGE forms and access flags as `image scan`.
    Sbom(SbomArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ScanFormat {
    /// Human-readable table, grouped by package.
    Table,
    /// The `palisade.scan/v1` JSON document.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// CycloneDX 1.6 JSON with vulnerabilities (usable as VEX).
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
}

impl ScanFormat {
    fn report(self) -> palisade_report::Format {
        use palisade_report::Format;
        match self {
            ScanFormat::Table => Format::Table,
            ScanFormat::Json => Format::Json,
            ScanFormat::Sarif => Format::Sarif,
            ScanFormat::Cyclonedx => Format::CycloneDx,
            ScanFormat::Spdx => Format::Spdx,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    Cyclonedx,
    /// SPDX 2.3 JSON.
    Spdx,
    /// The `palisade.scan/v1` JSON document (packages only).
    Json,
    /// Human-readable table.
    Table,
}

impl SbomFormat {
    fn report(self) -> palisade_report::Format {
        use palisade_report::Format;
        match self {
            SbomFormat::Cyclonedx => Format::CycloneDx,
            SbomFormat::Spdx => Format::Spdx,
            SbomFormat::Json => Format::Json,
            SbomFormat::Table => Format::Table,
        }
    }
}

/// How to reach the image.
#[derive(Debug, Args)]
pub(crate) struct AccessArgs {
    /// Platform to read from a multi-platform image, OS/ARCH[/VARIANT].
    /// Default: this machine's (e.g. linux/amd64).
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<Platform>,
    /// Talk to the registry over plain HTTP or unverified TLS. Only for
    /// registries you trust on a network you trust.
    #[arg(long)]
    insecure: bool,
    /// Trust this CA certificate (PEM) for the registry's TLS.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Registry user name; the password is read from stdin (--password-stdin).
    /// Without it, credentials come from ~/.docker/config.json (`auths`).
    #[arg(long, short = 'u', requires = "password_stdin")]
    username: Option<String>,
    /// Read the registry password (or token) from the first line of stdin.
    #[arg(long, requires = "username")]
    password_stdin: bool,
    /// Layers to read at once (default: one per CPU).
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    parallelism: usize,
    /// Layer cache directory: layers seen before are not read again
    /// (default: $PALISADE_CACHE_DIR, else ~/.cache/palisade/layers).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Size cap of the layer cache in MiB; least recently used layers go first.
    #[arg(long, value_name = "MIB", default_value_t = 2048)]
    cache_max_mib: u64,
    /// Do not read or write the layer cache.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// The image to scan (see `palisade image scan --help` for the forms).
    #[arg(value_name = "IMAGE")]
    image: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = ScanFormat::Table)]
    format: ScanFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Report only these severities (comma-separated: UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL).
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_severity)]
    severity: Vec<Severity>,
    /// Exit with code 1 when a reported vulnerability is at least this severe.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    fail_on: Option<Severity>,
    /// Leave out vulnerabilities that have no fixed version yet.
    #[arg(long)]
    ignore_unfixed: bool,
    /// Accepted risks (YAML: id, package, reason, expires). Default:
    /// ./.palisadeignore when it exists. Applied before --fail-on; expired
    /// entries stop suppressing and are reported.
    #[arg(long, value_name = "FILE")]
    ignore_file: Option<PathBuf>,
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    access: AccessArgs,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>().map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub(crate) struct SbomArgs {
    /// The image to inventory.
    #[arg(value_name = "IMAGE")]
    image: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = SbomFormat::Cyclonedx)]
    format: SbomFormat,
    /// Write the SBOM to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    access: AccessArgs,
}

pub(crate) fn run(cmd: ImageCommand, quiet: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        ImageCommand::Scan(a) => {
            // Check the reference, then open the database: both should fail
            // before a long download, not after.
            ImageRef::parse(&a.image)?;
            let db_dir = a.db.dir();
            let db = palisade_vulndb::VulnDb::open(&db_dir)?;
            let mut report = scan(&a.image, &a.access, quiet)?;
            let outcome =
                palisade_vulndb::match_packages(&db, &report.packages, report.artifact.os.as_ref())
                    .context("matching packages against the vulnerability database")?;
            for w in &outcome.warnings {
                tracing::warn!(location = %w.location, "{}", w.message);
            }
            report.warnings.extend(outcome.warnings);
            let mut vulns = outcome.matches;
            let ignore = match &a.ignore_file {
                Some(p) => Some(palisade_vulndb::IgnoreFile::load(p)?),
                None => {
                    let p = std::path::Path::new(".palisadeignore");
                    p.is_file()
                        .then(|| palisade_vulndb::IgnoreFile::load(p))
                        .transpose()?
                }
            };
            if let Some(ignore) = ignore {
                let out = ignore.apply(&mut vulns, palisade_vulndb::ignore::today());
                for w in &out.warnings {
                    tracing::warn!(location = %w.location, "{}", w.message);
                }
                if !out.suppressed.is_empty() {
                    tracing::info!(count = out.suppressed.len(), file = %ignore.path, "vulnerabilities suppressed by the ignore file");
                }
                report.warnings.extend(out.warnings);
            }
            if a.ignore_unfixed {
                vulns.retain(|v| v.fixed_version.is_some());
            }
            if !a.severity.is_empty() {
                vulns.retain(|v| a.severity.contains(&v.severity));
            }
            report.vulnerabilities = vulns;
            output::write_report(a.output.as_deref(), a.format.report(), &report)?;
            if let Some(threshold) = a.fail_on {
                let crossed = report
                    .vulnerabilities
                    .iter()
                    .filter(|v| v.severity >= threshold)
                    .count();
                if crossed > 0 {
                    tracing::info!(count = crossed, %threshold, "--fail-on threshold crossed");
                    return Ok(ExitCode::from(crate::EXIT_FINDINGS));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ImageCommand::Sbom(a) => {
            let report = scan(&a.image, &a.access, quiet)?;
            output::write_report(a.output.as_deref(), a.format.report(), &report)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let pw = line.trim_end_matches(['\r', '\n']).to_string();
    if pw.is_empty() {
        bail!("--password-stdin: stdin gave an empty password");
    }
    Ok(pw)
}

fn scan(image: &str, access: &AccessArgs, quiet: bool) -> anyhow::Result<ScanReport> {
    let reference = ImageRef::parse(image)?;
    let password = if access.password_stdin {
        Some(read_password()?)
    } else {
        None
    };
    let opts = ScanOptions {
        platform: access.platform.clone().unwrap_or_else(Platform::host),
        registry: RegistryOptions {
            insecure: access.insecure,
            ca_file: access.ca_cert.clone(),
            username: access.username.clone(),
            password,
            ..RegistryOptions::default()
        },
        parallelism: access.parallelism,
        cache: (!access.no_cache).then(|| {
            palisade_image::LayerCache::new(
                access
                    .cache_dir
                    .clone()
                    .unwrap_or_else(palisade_image::LayerCache::default_dir),
                access.cache_max_mib.saturating_mul(1 << 20),
                palisade_image::cache_key(&palisade_image::catalog::default_catalogers()),
            )
        }),
        ..ScanOptions::default()
    };
    let progress = ProgressDisplay::new(quiet);
    let inv = palisade_image::inventory(&reference, &opts, &progress);
    progress.finish();
    let inv = inv.with_context(|| format!("scanning {image}"))?;
    for w in &inv.warnings {
        tracing::warn!(location = %w.location, "{}", w.message);
    }
    let mut report = ScanReport::new(inv.artifact, inv.packages);
    report.warnings = inv.warnings;
    Ok(report)
}
