//! Conformance with Falco's own k8s audit regression suite
//! (`$PALISADE_SHARED_DATA/k8saudit/falco-tests`): each case loads the rule
//! files Falco loaded, replays the trace file, and must produce the alerts
//! the case expects, counted as Falco emits them (the first matching rule
//! per event). `detect: False` cases must produce no alert at all.
//!
//! The cases load `k8s_audit_rules.yaml` from the k8saudit plugin
//! (`$PALISADE_SHARED_DATA/k8saudit/plugins`, a newer commit than the suite);
//! Falco's syscall rules file, which some cases also load, defines no
//! `k8s_audit` rule and is not needed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_audit::{scan_files, AuditRules};
use palisade_rules::{CompileOptions, Loader, Scratch};

/// The suite was written when Falco's syscall rules defined these lists and
/// the k8s audit rules used them; `trust_nginx_container.yaml` appends to
/// them. Today's `falco_rules.yaml` no longer defines them (Falco itself
/// rejects the append), and the plugin's rules use renamed lists. The
/// prelude defines the old names; the postlude repeats the append under the
/// new names, so "trusted nginx" keeps its meaning.
const LEGACY_LISTS: &str = "
- list: falco_sensitive_mount_images
  items: []
- list: falco_privileged_images
  items: []
- list: falco_hostnetwork_images
  items: []
";
const TRUST_NGINX_RENAMED: &str = "
- list: k8s_audit_sensitive_mount_images
  items: [nginx]
  append: true
- list: k8s_audit_privileged_images
  items: [nginx]
  append: true
- list: k8s_audit_hostnetwork_images
  items: [nginx]
  append: true
";

/// Rules the plugin split since the suite was written: the old combined
/// name, and the rule that now covers the suite's (cluster-scoped) trace.
const RENAMED_RULES: &[(&str, &str)] = &[
    ("K8s Role/Clusterrole Created", "K8s ClusterRole Created"),
    ("K8s Role/Clusterrole Deleted", "K8s ClusterRole Deleted"),
    (
        "K8s Role/Clusterrolebinding Created",
        "K8s ClusterRoleBinding Created",
    ),
    (
        "K8s Role/Clusterrolebinding Deleted",
        "K8s ClusterRoleBinding Deleted",
    ),
];

fn current_name(rule: &str) -> &str {
    RENAMED_RULES
        .iter()
        .find(|(old, _)| *old == rule)
        .map_or(rule, |(_, new)| new)
}

#[derive(Debug, Default)]
struct Case {
    name: String,
    detect: bool,
    detect_level: Option<String>,
    rules_files: Vec<String>,
    detect_counts: Vec<(String, usize)>,
    trace: Option<String>,
    stderr_contains: Option<String>,
}

/// The suite's YAML is regular: cases at indent 2, keys at 4, list items at 6.
fn parse_suite(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    let mut list_key = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        match indent {
            2 if t.ends_with(':') => cases.push(Case {
                name: t.trim_end_matches(':').to_owned(),
                ..Case::default()
            }),
            4 => {
                let case = cases.last_mut().unwrap();
                let (k, v) = t.split_once(':').unwrap();
                let v = v.trim();
                list_key = k.to_owned();
                match k {
                    "detect" => case.detect = v == "True",
                    "detect_level" => case.detect_level = Some(v.to_owned()),
                    "addl_cmdline_opts" => {
                        case.trace = v
                            .split_once("open_params=")
                            .map(|(_, p)| p.trim().to_owned());
                    }
                    "stderr_contains" => {
                        case.stderr_contains = Some(v.trim_matches('\'').to_owned())
                    }
                    _ => {}
                }
            }
            6 if t.starts_with("- ") => {
                let case = cases.last_mut().unwrap();
                let item = t.trim_start_matches("- ");
                match list_key.as_str() {
                    "rules_file" => case.rules_files.push(item.to_owned()),
                    "detect_counts" => {
                        let (rule, n) = item.rsplit_once(':').unwrap();
                        case.detect_counts
                            .push((rule.trim().to_owned(), n.trim().parse().unwrap()));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    cases
}

/// Map a rules file of the suite to the shared data; `None` for Falco's
/// syscall rules.
fn rules_path(root: &Path, tests: &Path, f: &str) -> Option<PathBuf> {
    if f.ends_with("falcosecurity-rules-falco/falco_rules.yaml") {
        return None;
    }
    if f.ends_with("k8saudit-rules/k8s_audit_rules.yaml") {
        return Some(root.join("plugins/k8saudit/rules/k8s_audit_rules.yaml"));
    }
    Some(tests.join(f.trim_start_matches("./")))
}

fn priority_matches(level: &str, priority: &str) -> bool {
    let level = match level {
        "INFO" => "informational",
        other => other,
    };
    level.eq_ignore_ascii_case(priority)
}

#[test]
fn falco_k8s_audit_suite() {
    let Some(root) = common::require_shared("k8saudit", "falco_k8s_audit_suite") else {
        return;
    };
    let tests = root.join("falco-tests/test");
    let suite = std::fs::read_to_string(tests.join("falco_k8s_audit_tests.yaml")).unwrap();
    let cases = parse_suite(&suite);
    assert!(cases.len() >= 50, "parsed only {} cases", cases.len());
    let mut failures = Vec::new();
    let mut scratch = Scratch::new();
    for case in &cases {
        let files: Vec<PathBuf> = case
            .rules_files
            .iter()
            .filter_map(|f| rules_path(&root, &tests, f))
            .collect();
        let mut loader = Loader::new();
        let trusts_nginx = files
            .iter()
            .any(|f| f.ends_with("trust_nginx_container.yaml"));
        let plugin_rules = files
            .iter()
            .any(|f| f.ends_with("plugins/k8saudit/rules/k8s_audit_rules.yaml"));
        if trusts_nginx {
            loader.load_str("legacy-lists.yaml", LEGACY_LISTS).unwrap();
        }
        for f in &files {
            loader
                .load_file(f)
                .unwrap_or_else(|e| panic!("{}: rules failed to load: {e}", case.name));
        }
        if trusts_nginx && plugin_rules {
            loader
                .load_str("trust-nginx-renamed.yaml", TRUST_NGINX_RENAMED)
                .unwrap();
        }
        let loaded = loader
            .finish()
            .unwrap_or_else(|e| panic!("{}: rules failed to load: {e}", case.name));
        let rules = AuditRules::compile(&loaded, &CompileOptions::new())
            .unwrap_or_else(|e| panic!("{}: rules failed to compile: {e}", case.name));
        assert!(
            rules.report().skipped_unknown_fields.is_empty(),
            "{}: fields unknown to the catalog: {:?}",
            case.name,
            rules.report().skipped_unknown_fields
        );
        let trace = tests.join(case.trace.as_deref().unwrap());
        let mut scan = scan_files([&trace]);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut levels: BTreeMap<String, String> = BTreeMap::new();
        for event in scan.by_ref() {
            let event = event.unwrap();
            if let Some(alert) = rules.first_alert(&event, &mut scratch) {
                *counts.entry(alert.rule.clone()).or_default() += 1;
                levels.insert(alert.rule.clone(), alert.priority.as_str().to_owned());
            }
        }
        if case.detect {
            for (rule, want) in &case.detect_counts {
                let rule = current_name(rule);
                let got = counts.get(rule).copied().unwrap_or(0);
                if got != *want {
                    failures.push(format!(
                        "{}: {rule}: {got} alerts, want {want} (all: {counts:?})",
                        case.name
                    ));
                }
                if let (Some(level), Some(p)) = (&case.detect_level, levels.get(rule)) {
                    if !priority_matches(level, p) {
                        failures.push(format!("{}: {rule}: priority {p}, want {level}", case.name));
                    }
                }
            }
        } else if !counts.is_empty() {
            failures.push(format!("{}: expected no alert, got {counts:?}", case.name));
        }
        if let Some(want) = &case.stderr_contains {
            let said = scan
                .warnings()
                .kept()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>();
            if !said.iter().any(|w| w.contains(want.as_str())) {
                failures.push(format!(
                    "{}: no warning containing {want:?}: {said:?}",
                    case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A real audit log (audit2rbac's demo: reads, impersonation, 403s) is
/// benign for both the plugin's rules and Palisade's defaults.
#[test]
fn real_audit_log_is_quiet() {
    let Some(log) = common::require_shared(
        "k8saudit/samples/audit2rbac/demo.log",
        "real_audit_log_is_quiet",
    ) else {
        return;
    };
    let Some(plugin) = common::require_shared(
        "k8saudit/plugins/k8saudit/rules/k8s_audit_rules.yaml",
        "real_audit_log_is_quiet",
    ) else {
        return;
    };
    let events = common::events_of(&log);
    assert_eq!(events.len(), 37);
    let mut scratch = Scratch::new();
    for rules in [
        AuditRules::builtin().unwrap(),
        AuditRules::from_files(&[plugin]).unwrap(),
    ] {
        for e in &events {
            let m = rules.matching_rules(e, &mut scratch);
            assert!(m.is_empty(), "{:?} fired {m:?}", e.audit_id());
        }
    }
}
