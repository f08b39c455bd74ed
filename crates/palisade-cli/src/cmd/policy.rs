//! `palisade policy …`

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use palisade_policy::{EnforcementAction, Inventory, PolicyResult, PolicySet, Review};
use serde_json::Value;

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
    /// Evaluate one object (or AdmissionReview) against the policies.
    ///
    /// FILE is YAML or JSON holding one Kubernetes object, evaluated as a
    /// CREATE (as gator does), or a whole `kind: AdmissionReview`, whose
    /// request (operation, oldObject, userInfo…) is used as sent.
    /// Exit 1 when a `deny` result exists, 0 otherwise, 2 on input errors.
    ///
    /// Example: palisade policy eval --policies policies/ --object pod.yaml --format json
    #[command(verbatim_doc_comment)]
    Eval(EvalArgs),
    /// Evaluate existing objects against the policies, as Gatekeeper's audit does.
    ///
    /// PATH is a manifest file, a directory (searched recursively for
    /// *.yaml, *.yml and *.json), or a `kubectl get -A -o yaml` dump (a
    /// `kind: List` whose items are the objects); YAML files may hold
    /// several documents. All objects together form the inventory
    /// (`data.inventory`, and the namespaces `namespaceSelector` looks up);
    /// each object is then evaluated as a CREATE review.
    ///
    /// Input errors stop the audit: a file that cannot be read or parsed,
    /// or a document that is not an object with `apiVersion` and `kind`,
    /// is reported with its file and document index (exit 2). Nothing is
    /// skipped silently, so a clean audit means every object was checked.
    /// Exit 1 when a `deny` result exists, 0 otherwise.
    ///
    /// Example: kubectl get -A -o yaml pods,namespaces > cluster.yaml
    ///          palisade policy audit --policies policies/ cluster.yaml
    #[command(verbatim_doc_comment)]
    Audit(AuditArgs),
}

/// Output format of `policy eval` and `policy audit`.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub(crate) enum PolicyFormat {
    /// One line per result, then a summary.
    #[default]
    Table,
    /// `{"schema":"palisade.policy/v1","results":[…]}`.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// ConstraintTemplates and Constraints (a YAML file or a directory, recursively).
    #[arg(long, value_name = "DIR")]
    policies: PathBuf,
    /// The object or AdmissionReview to evaluate (YAML or JSON).
    #[arg(long, value_name = "FILE")]
    object: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: PolicyFormat,
}

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// ConstraintTemplates and Constraints (a YAML file or a directory, recursively).
    #[arg(long, value_name = "DIR")]
    policies: PathBuf,
    /// Manifest files, directories or `kubectl get -o yaml` dumps.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: PolicyFormat,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Suite files or directories.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
}

pub(crate) fn run(cmd: PolicyCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Eval(a) => eval(&a),
        PolicyCommand::Audit(a) => audit(&a),
        PolicyCommand::Verify(a) => {
            for p in &a.paths {
                if !p.exists() {
                    anyhow::bail!("{}: no such file or directory", p.display());
                }
            }
            let report = palisade_policy::suite::run(&a.paths);
            let mut out = String::new();
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

/// Largest manifest file read (objects are untrusted input).
const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

fn load_policies(dir: &Path) -> anyhow::Result<PolicySet> {
    PolicySet::load(dir).with_context(|| format!("loading policies from {}", dir.display()))
}

fn eval(a: &EvalArgs) -> anyhow::Result<ExitCode> {
    let set = load_policies(&a.policies)?;
    let mut docs = read_documents(&a.object)?;
    let document = match (docs.pop(), docs.is_empty()) {
        (Some((_, doc)), true) => doc,
        (None, _) => anyhow::bail!("{}: no object in file", a.object.display()),
        (Some(_), false) => anyhow::bail!(
            "{}: {} documents; policy eval takes one object (use policy audit for several)",
            a.object.display(),
            docs.len() + 1
        ),
    };
    check_object(&a.object, "document 0", &document)?;
    if is_list(&document) {
        anyhow::bail!(
            "{}: a List; policy eval takes one object (use policy audit for several)",
            a.object.display()
        );
    }
    let results = set.evaluate(&Review::from_document(document));
    report(&results, 1, a.format)
}

fn audit(a: &AuditArgs) -> anyhow::Result<ExitCode> {
    let mut set = load_policies(&a.policies)?;
    let mut files = Vec::new();
    for path in &a.paths {
        collect_manifests(path, &mut files)?;
    }
    let mut inventory = Inventory::new();
    for file in &files {
        for (index, doc) in read_documents(file)? {
            check_object(file, &format!("document {index}"), &doc)?;
            if is_list(&doc) {
                let items = doc.get("items").and_then(Value::as_array);
                for (i, item) in items.into_iter().flatten().enumerate() {
                    check_object(file, &format!("document {index}, item {i}"), item)?;
                }
            }
            inventory.add(doc);
        }
    }
    let objects = inventory.objects().to_vec();
    tracing::info!(files = files.len(), objects = objects.len(), "auditing");
    set.set_inventory(inventory);
    let audited = objects.len();
    let results: Vec<PolicyResult> = objects
        .into_iter()
        .flat_map(|object| set.evaluate(&Review::from_object(object)))
        .collect();
    report(&results, audited, a.format)
}

fn is_list(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some("List") && doc.get("items").is_some()
}

/// A document must be a mapping with string `apiVersion` and `kind`; a `List` needs `items`.
fn check_object(file: &Path, what: &str, doc: &Value) -> anyhow::Result<()> {
    let field = |f: &str| doc.get(f).and_then(Value::as_str).filter(|s| !s.is_empty());
    if !doc.is_object() {
        anyhow::bail!(
            "{}: {what}: not a Kubernetes object (a mapping)",
            file.display()
        );
    }
    if field("apiVersion").is_none() || field("kind").is_none() {
        anyhow::bail!(
            "{}: {what}: not a Kubernetes object (no apiVersion or kind)",
            file.display()
        );
    }
    if field("kind") == Some("List") && !doc.get("items").is_some_and(Value::is_array) {
        anyhow::bail!("{}: {what}: List without items", file.display());
    }
    Ok(())
}

/// Manifest files under `path` (itself if a file), sorted, recursively.
fn collect_manifests(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries = std::fs::read_dir(path)
        .and_then(|rd| rd.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read {}", path.display()))?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let p = entry.path();
        let file_type = entry
            .file_type()
            .with_context(|| format!("cannot read {}", p.display()))?;
        if file_type.is_dir() {
            collect_manifests(&p, out)?;
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(p);
        }
    }
    Ok(())
}

/// The non-empty documents of a YAML or JSON file, with their zero-based indexes.
fn read_documents(path: &Path) -> anyhow::Result<Vec<(usize, Value)>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > MAX_MANIFEST_BYTES {
        anyhow::bail!(
            "{}: {size} bytes, more than the {MAX_MANIFEST_BYTES}-byte limit",
            path.display()
        );
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let values: Vec<Value> = if path.extension().is_some_and(|e| e == "json") {
        let value = serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid JSON", path.display()))?;
        vec![value]
    } else {
        serde_saphyr::from_multiple(&text)
            .with_context(|| format!("{}: invalid YAML", path.display()))?
    };
    Ok(values
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !v.is_null())
        .collect())
}

fn report(
    results: &[PolicyResult],
    objects: usize,
    format: PolicyFormat,
) -> anyhow::Result<ExitCode> {
    let mut out = match format {
        PolicyFormat::Json => {
            let doc = serde_json::json!({"schema": "palisade.policy/v1", "results": results});
            serde_json::to_string_pretty(&doc)?
        }
        PolicyFormat::Table => table(results, objects)?,
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    crate::output::print_stdout(&out)?;
    let denied = results
        .iter()
        .any(|r| r.enforcement_action == EnforcementAction::Deny);
    Ok(if denied {
        ExitCode::from(crate::EXIT_FINDINGS)
    } else {
        ExitCode::SUCCESS
    })
}

fn table(results: &[PolicyResult], objects: usize) -> anyhow::Result<String> {
    let rows: Vec<[String; 4]> = results
        .iter()
        .map(|r| {
            let res = &r.resource;
            let resource = if res.namespace.is_empty() {
                format!("{}/{}", res.kind, res.name)
            } else {
                format!("{}/{}/{}", res.kind, res.namespace, res.name)
            };
            [
                r.enforcement_action.to_string(),
                format!("{}/{}", r.constraint_kind, r.constraint_name),
                resource,
                r.message.replace('\n', " "),
            ]
        })
        .collect();
    let width = |i: usize| {
        rows.iter()
            .filter_map(|row| row.get(i))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0).max(6), width(1).max(9), width(2).max(8));
    let mut out = String::new();
    if !rows.is_empty() {
        writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  MESSAGE",
            "ACTION", "CONSTRAINT", "RESOURCE"
        )?;
    }
    for [action, constraint, resource, message] in &rows {
        writeln!(
            out,
            "{action:w0$}  {constraint:w1$}  {resource:w2$}  {message}"
        )?;
    }
    let count = |a: EnforcementAction| results.iter().filter(|r| r.enforcement_action == a).count();
    writeln!(
        out,
        "{} results ({} deny, {} warn, {} dryrun) for {objects} object{}",
        results.len(),
        count(EnforcementAction::Deny),
        count(EnforcementAction::Warn),
        count(EnforcementAction::Dryrun),
        if objects == 1 { "" } else { "s" }
    )?;
    Ok(out)
}
