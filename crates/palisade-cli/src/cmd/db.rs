//! `palisade db …`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use palisade_vulndb::{default_db_dir, VulnDb};

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Build the local vulnerability database from advisory files.
    ///
    /// DIR is searched recursively for OSV exports (<Ecosystem>/all.zip, as
    /// the OSV bulk export lays them out), loose OSV *.json / *.json.gz files,
    /// the Debian security tracker JSON, and Alpine secdb YAML
    /// (<release>/<repo>.yaml). Bad advisories are counted and skipped; the
    /// previous database is replaced only when the build succeeds.
    ///
    /// Example: palisade db build --source ../shared/data
    #[command(verbatim_doc_comment)]
    Build(BuildArgs),
    /// Download advisories from their public upstream locations, then build.
    ///
    /// Fetches the OSV bulk exports (one all.zip per ecosystem) and the
    /// Debian security tracker JSON into DB/sources/, resuming partial
    /// downloads, then builds the database from them.
    Update(UpdateArgs),
    /// Show what the database holds: sources, counts, age.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DbArg {
    /// Database directory (default: $PALISADE_DB, else ~/.cache/palisade/db).
    #[arg(long, value_name = "DIR")]
    pub(crate) db: Option<PathBuf>,
}

impl DbArg {
    pub(crate) fn dir(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(default_db_dir)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum InfoFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// Directory (or single file) of advisory sources.
    #[arg(long, value_name = "DIR")]
    source: PathBuf,
    #[command(flatten)]
    db: DbArg,
    /// Output format of the build summary.
    #[arg(long, value_enum, default_value_t = InfoFormat::Table)]
    format: InfoFormat,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    db: DbArg,
    /// Base URL of the OSV bulk export (ECOSYSTEM/all.zip below it).
    #[arg(long, value_name = "URL", env = "PALISADE_OSV_URL", default_value = palisade_vulndb::update::OSV_BASE_URL)]
    osv_url: String,
    /// URL of the Debian security tracker JSON ("none" to skip).
    #[arg(long, value_name = "URL", env = "PALISADE_DEBIAN_TRACKER_URL", default_value = palisade_vulndb::update::DEBIAN_TRACKER_URL)]
    debian_tracker_url: String,
    /// Ecosystems to download (repeat or comma-separate). Default: all
    /// that Palisade catalogs.
    #[arg(long = "ecosystem", value_name = "NAME", value_delimiter = ',')]
    ecosystems: Vec<String>,
    /// Output format of the build summary.
    #[arg(long, value_enum, default_value_t = InfoFormat::Table)]
    format: InfoFormat,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    db: DbArg,
    #[arg(long, value_enum, default_value_t = InfoFormat::Table)]
    format: InfoFormat,
}

fn builder() -> String {
    format!("palisade {}", env!("CARGO_PKG_VERSION"))
}

fn print_build(report: &palisade_vulndb::BuildReport, format: InfoFormat) -> anyhow::Result<()> {
    match format {
        InfoFormat::Json => {
            let v = serde_json::json!({
                "db": report.db_path.display().to_string(),
                "advisories": report.advisories,
                "rejected": report.rejected,
                "sources": report.sources,
            });
            crate::output::print_stdout(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        }
        InfoFormat::Table => {
            let mut out = String::new();
            use std::fmt::Write as _;
            writeln!(out, "built {}", report.db_path.display())?;
            writeln!(
                out,
                "{:<48} {:>10} {:>9}",
                "SOURCE", "ADVISORIES", "REJECTED"
            )?;
            for s in &report.sources {
                writeln!(out, "{:<48} {:>10} {:>9}", s.name, s.advisories, s.rejected)?;
                for (reason, n) in s.rejected_reasons.iter().take(5) {
                    writeln!(out, "    {n:>6} × {reason}")?;
                }
            }
            writeln!(
                out,
                "{:<48} {:>10} {:>9}",
                "total", report.advisories, report.rejected
            )?;
            crate::output::print_stdout(&out)?;
        }
    }
    Ok(())
}

pub(crate) fn run(cmd: DbCommand, quiet: bool) -> anyhow::Result<ExitCode> {
    match cmd {
        DbCommand::Build(a) => {
            let dir = a.db.dir();
            if !a.source.exists() {
                anyhow::bail!("--source {}: no such file or directory", a.source.display());
            }
            let report = palisade_vulndb::build(&a.source, &dir, &builder())
                .with_context(|| format!("building the database from {}", a.source.display()))?;
            print_build(&report, a.format)?;
        }
        DbCommand::Update(a) => {
            let dir = a.db.dir();
            let progress = crate::progress::DownloadDisplay::new(quiet);
            let opts = palisade_vulndb::update::UpdateOptions {
                osv_base_url: a.osv_url.clone(),
                debian_tracker_url: (a.debian_tracker_url != "none")
                    .then(|| a.debian_tracker_url.clone()),
                ecosystems: if a.ecosystems.is_empty() {
                    palisade_vulndb::update::DEFAULT_ECOSYSTEMS
                        .iter()
                        .map(|s| s.to_string())
                        .collect()
                } else {
                    a.ecosystems.clone()
                },
            };
            let fetched = palisade_vulndb::update::download_with_report(&dir, &opts, &progress)
                .with_context(|| format!("downloading advisories into {}", dir.display()))?;
            progress.finish();
            for f in &fetched.failed {
                eprintln!(
                    "palisade: warning: {} not updated ({}): {}; any previous copy is kept",
                    f.name, f.url, f.message
                );
            }
            let sources = fetched.sources;
            let report = palisade_vulndb::build(&sources, &dir, &builder())
                .with_context(|| format!("building the database from {}", sources.display()))?;
            print_build(&report, a.format)?;
        }
        DbCommand::Status(a) => {
            let dir = a.db.dir();
            let db = VulnDb::open(&dir)?;
            let st = db.status()?;
            match a.format {
                InfoFormat::Json => crate::output::print_stdout(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&st)?
                ))?,
                InfoFormat::Table => {
                    let mut out = String::new();
                    use std::fmt::Write as _;
                    writeln!(out, "database:   {}", st.path)?;
                    writeln!(out, "schema:     {}", st.schema_version)?;
                    writeln!(out, "built:      {} by {}", st.built_at, st.builder)?;
                    writeln!(out, "size:       {} bytes", st.size_bytes)?;
                    writeln!(
                        out,
                        "advisories: {}  (affected package entries: {})",
                        st.advisories, st.affected_packages
                    )?;
                    writeln!(out)?;
                    writeln!(out, "{:<40} {:>10}", "ECOSYSTEM", "ADVISORIES")?;
                    for (e, n) in &st.ecosystems {
                        writeln!(out, "{e:<40} {n:>10}")?;
                    }
                    writeln!(out)?;
                    writeln!(
                        out,
                        "{:<48} {:>10} {:>9}  IMPORTED",
                        "SOURCE", "ADVISORIES", "REJECTED"
                    )?;
                    for s in &st.sources {
                        writeln!(
                            out,
                            "{:<48} {:>10} {:>9}  {}",
                            s.name, s.advisories, s.rejected, s.imported_at
                        )?;
                    }
                    crate::output::print_stdout(&out)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
