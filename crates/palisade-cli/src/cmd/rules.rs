//! `palisade rules …`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use palisade_audit::AuditCatalog;
use palisade_rules::{CompileOptions, FieldCatalog, Loader, RuleSet, WarningKind};

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Parse and check Falco-format rule files; exit 2 on any error.
    ///
    /// Files are loaded in the order given as one rule set, so a file that
    /// only extends another (k8s_audit_rules_gke.yaml after
    /// k8s_audit_rules.yaml) is checked together with it. Errors name file,
    /// line and column. Rules of sources this build has no fields for yet
    /// (syscall, until the sensor lands) are counted as skipped, not errors.
    ///
    /// Example: palisade rules validate k8s_audit_rules.yaml my_overrides.yaml
    #[command(verbatim_doc_comment)]
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Rule files, in load order.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn run(cmd: RulesCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        RulesCommand::Validate(a) => validate(&a.files),
    }
}

fn validate(files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut out = String::new();
    use std::fmt::Write as _;
    let mut loader = Loader::new();
    let mut failed = false;
    for f in files {
        match loader.load_file(f) {
            Ok(s) => writeln!(
                out,
                "{}: {} rules, {} macros, {} lists{}",
                f.display(),
                s.rules,
                s.macros,
                s.lists,
                if s.overrides > 0 {
                    format!(", {} overrides", s.overrides)
                } else {
                    String::new()
                }
            )?,
            Err(errors) => {
                failed = true;
                for e in errors.as_slice() {
                    eprintln!("palisade: error: {e}");
                }
            }
        }
    }
    if failed {
        crate::output::print_stdout(&out)?;
        return Ok(ExitCode::from(crate::EXIT_ERROR));
    }
    let loaded = match loader.finish() {
        Ok(l) => l,
        Err(errors) => {
            for e in errors.as_slice() {
                eprintln!("palisade: error: {e}");
            }
            crate::output::print_stdout(&out)?;
            return Ok(ExitCode::from(crate::EXIT_ERROR));
        }
    };
    let mut audit = AuditCatalog::new();
    let mut catalogs: [&mut dyn FieldCatalog; 1] = [&mut audit];
    let (_, report) = match RuleSet::compile(&loaded, &mut catalogs, &CompileOptions::new()) {
        Ok(r) => r,
        Err(errors) => {
            for e in errors.as_slice() {
                eprintln!("palisade: error: {e}");
            }
            crate::output::print_stdout(&out)?;
            return Ok(ExitCode::from(crate::EXIT_ERROR));
        }
    };
    for w in loaded.warnings().iter().chain(report.warnings.iter()) {
        // The audit catalog indexes by resource; rules that do not
        // constrain it are normal, not worth a warning.
        if w.kind != WarningKind::NoEventType {
            eprintln!("palisade: warning: {w}");
        }
    }
    writeln!(
        out,
        "rules: {} loaded, {} enabled, {} disabled, {} skipped for unknown fields, {} skipped for sources without fields yet",
        report.loaded,
        report.enabled,
        report.disabled,
        report.skipped_for_unknown_fields(),
        report.skipped_unknown_source.values().map(Vec::len).sum::<usize>()
    )?;
    for (source, n) in &report.enabled_per_source {
        writeln!(out, "  enabled for {source}: {n}")?;
    }
    for (source, rules) in &report.skipped_unknown_source {
        writeln!(
            out,
            "  skipped, source {source} has no fields in this build: {}",
            rules.len()
        )?;
    }
    for (field, rules) in &report.skipped_unknown_fields {
        writeln!(
            out,
            "  skipped, unknown field {field}: {}",
            rules.join(", ")
        )?;
    }
    crate::output::print_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
