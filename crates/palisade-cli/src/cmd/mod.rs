//! Command-line definitions (clap derive) and dispatch.

mod audit;
mod db;
mod image;
mod policy;
mod rules;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Palisade: self-hosted container security.
///
/// Scan images for vulnerable packages, list what is inside them (SBOM),
/// and — as more roles land — check Kubernetes posture, enforce admission
/// policy, and detect threats at runtime.
///
/// Examples:
///   palisade db build --source ../shared/data     (or: palisade db update)
///   palisade image sbom oci:./layout:latest
///   palisade image scan 127.0.0.1:5000/app:1 --insecure --format json
///   palisade image scan docker-archive:app.tar
///   palisade image scan dir:/srv/rootfs
///   palisade audit scan audit.log
///   palisade rules validate k8s_audit_rules.yaml
#[derive(Debug, Parser)]
#[command(
    name = "palisade",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). PALISADE_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Only errors on stderr; no progress display.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Container images: inventory (SBOM) and vulnerability scanning.
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// The local vulnerability database: build, update, status.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Detection rules in Falco's rule language.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Kubernetes audit logs: offline scan and the webhook backend.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Gatekeeper ConstraintTemplates and Constraints (Rego).
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
}

pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Image(c) => image::run(c, cli.quiet),
        Command::Db(c) => db::run(c, cli.quiet),
        Command::Rules(c) => rules::run(c),
        Command::Audit(c) => audit::run(c),
        Command::Policy(c) => policy::run(c),
    }
}
