//! `palisade policy …`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Run Gatekeeper `gator verify` suites (suite.yaml); exit 1 on any failure.
    ///
    /// PATH is a suite file or a directory searched recursively for files
    /// declaring `kind: Suite`. Each case's object is evaluated against its
    /// template and constraint, and the assertions (`violations: yes|no|N`,
    /// optional `message`) are checked, counting violations of every
    /// enforcement action as gator does. Ends with `N passed, M failed`.
    ///
    /// Example: palisade policy verify gatekeeper-library/library/general
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Suite files or directories.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
}

pub(crate) fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Verify(a) => {
            for p in &a.paths {
                if !p.exists() {
                    anyhow::bail!("{}: no such file or directory", p.display());
                }
            }
            let report = palisade_policy::suite::run(&a.paths);
            let mut out = String::new();
            use std::fmt::Write as _;
            for (path, reason) in &report.errors {
                writeln!(out, "ERROR {}: {reason}", path.display())?;
            }
            for c in report.failures() {
                writeln!(
                    out,
                    "FAIL {} {} / {}: {}",
                    c.suite.display(),
                    c.test,
                    c.case,
                    c.failure.as_deref().unwrap_or("")
                )?;
            }
            writeln!(out, "{}", report.summary())?;
            crate::output::print_stdout(&out)?;
            Ok(if report.failed() > 0 {
                ExitCode::from(crate::EXIT_FINDINGS)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
