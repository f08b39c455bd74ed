//! `palisade audit …`

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use palisade_audit::{AlertWriter, AuditRules, RuleMatching};

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Evaluate Kubernetes audit logs offline; alerts as JSON lines on stdout.
    ///
    /// FILE holds audit.k8s.io/v1 Events as JSON lines or an EventList,
    /// optionally gzip'd; `-` reads stdin. Without --rules the built-in
    /// control-plane rules apply.
    ///
    /// Example: palisade audit scan /var/log/kubernetes/audit.log
    #[command(verbatim_doc_comment)]
    Scan(ScanArgs),
    /// Run the audit webhook backend: the API server POSTs EventList batches.
    ///
    /// Prints a line containing `ready` on stderr once serving; alerts go to
    /// stdout as JSON lines. SIGINT/SIGTERM stop accepting, evaluate every
    /// queued event and flush. Plain HTTP only on a loopback address.
    ///
    /// Example: palisade audit serve --listen 0.0.0.0:8443 --tls-cert tls.crt --tls-key tls.key
    #[command(verbatim_doc_comment)]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RulesArg {
    /// Falco-format rule files, loaded in order as one rule set (default: built-in rules).
    #[arg(long = "rules", value_name = "FILE", num_args = 1..)]
    rules: Vec<PathBuf>,
    /// Report every matching rule per event, not only the first (Falco's default).
    #[arg(long)]
    all_matches: bool,
}

impl RulesArg {
    fn load(&self) -> anyhow::Result<(AuditRules, RuleMatching)> {
        let rules = if self.rules.is_empty() {
            AuditRules::builtin()?
        } else {
            AuditRules::from_files(&self.rules)?
        };
        let skipped = rules.report().skipped_for_unknown_fields();
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "rules skipped for fields the audit source does not have"
            );
        }
        let matching = if self.all_matches {
            RuleMatching::All
        } else {
            RuleMatching::First
        };
        Ok((rules, matching))
    }
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Audit log files (`-` for stdin).
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    #[command(flatten)]
    rules: RulesArg,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8765 or 0.0.0.0:8443.
    #[arg(long, value_name = "ADDR")]
    listen: SocketAddr,
    /// TLS certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    #[command(flatten)]
    rules: RulesArg,
}

pub(crate) fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Scan(a) => scan(a),
        AuditCommand::Serve(a) => serve(a),
    }
}

fn scan(a: ScanArgs) -> anyhow::Result<ExitCode> {
    let (rules, matching) = a.rules.load()?;
    let stdout = io::stdout().lock();
    let mut writer = AlertWriter::new(rules, matching, io::BufWriter::new(stdout));
    let mut events = palisade_audit::scan_files(&a.files);
    for ev in events.by_ref() {
        let ev = ev?;
        writer.write_event(&ev).context("writing alerts")?;
    }
    let (n_events, n_alerts) = writer.counts();
    writer.into_inner().context("writing alerts")?;
    let warnings = events.warnings();
    for w in warnings.kept() {
        tracing::warn!("{w}");
    }
    if warnings.total() > warnings.kept().len() as u64 {
        tracing::warn!(total = warnings.total(), "more input warnings than shown");
    }
    tracing::info!(events = n_events, alerts = n_alerts, "audit scan done");
    Ok(ExitCode::SUCCESS)
}

fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let (rules, matching) = a.rules.load()?;
    let mut config = palisade_audit::ServerConfig::new(a.listen);
    if let (Some(cert), Some(key)) = (a.tls_cert, a.tls_key) {
        config.tls = Some(palisade_audit::TlsFiles { cert, key });
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the I/O runtime")?;
    let report = rt.block_on(async move {
        let server = palisade_audit::AuditServer::bind(config).await?;
        let scheme = if server.is_tls() { "https" } else { "http" };
        eprintln!(
            "palisade audit: ready, listening on {scheme}://{}",
            server.local_addr()
        );
        let writer = AlertWriter::new(rules, matching, io::BufWriter::new(io::stdout()));
        anyhow::Ok(
            server
                .run(writer, palisade_audit::shutdown_signal())
                .await?,
        )
    })?;
    let mut writer = report.handler;
    if let Some(e) = writer.take_error() {
        return Err(e).context("writing alerts");
    }
    let (events, alerts) = writer.counts();
    writer.into_inner().context("writing alerts")?.flush().ok();
    eprintln!("palisade audit: stopped after {events} events, {alerts} alerts");
    Ok(ExitCode::SUCCESS)
}
