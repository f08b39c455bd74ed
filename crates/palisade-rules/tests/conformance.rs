//! Conformance: every upstream Falco rule file in `shared/data` loads and compiles (in
//! permissive, parse-only mode) with zero errors, in the order Falco would load it.
//!
//! Data: `$PALISADE_SHARED_DATA` or `<workspace>/../shared/data`. When the data is missing the
//! test is skipped, except under CI (`CI` set), where it fails.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use palisade_rules::{CompileOptions, Loader, RuleSet};

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.join("falco-rules").is_dir() && dir.join("k8saudit").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "shared data not found at {} (set PALISADE_SHARED_DATA); required under CI",
        dir.display()
    );
    eprintln!("SKIP: shared data not found at {}", dir.display());
    None
}

/// Git stores symlinks as a file holding the target path; the GKE plugin's
/// `k8s_audit_rules.yaml` is one. Follow such a stub like the checkout would.
fn resolve_stub(path: &Path) -> PathBuf {
    if let Ok(text) = std::fs::read_to_string(path) {
        let t = text.trim();
        if !t.contains('\n') && t.ends_with(".yaml") && !t.starts_with('-') {
            if let Some(parent) = path.parent() {
                return parent.join(t);
            }
        }
    }
    path.to_owned()
}

struct Outcome {
    rules_per_file: Vec<(String, usize)>,
    loaded: usize,
    enabled: usize,
    disabled: usize,
}

/// Load `files` in order as one rule set and compile it permissively; panic on any error.
fn load_set(base: &Path, files: &[&str]) -> Outcome {
    let mut loader = Loader::new();
    let mut rules_per_file = Vec::new();
    for f in files {
        let path = resolve_stub(&base.join(f));
        match loader.load_file(&path) {
            Ok(summary) => rules_per_file.push(((*f).to_owned(), summary.rules)),
            Err(e) => panic!("{f}: {} error(s):\n{e}", e.len()),
        }
    }
    let loaded = loader
        .finish()
        .unwrap_or_else(|e| panic!("{files:?}: {} error(s):\n{e}", e.len()));
    let (set, report) = RuleSet::compile(&loaded, &mut [], &CompileOptions::new().permissive(true))
        .unwrap_or_else(|e| panic!("{files:?}: {} compile error(s):\n{e}", e.len()));
    assert_eq!(report.skipped_for_unknown_fields(), 0);
    assert!(report.skipped_unknown_source.is_empty());
    assert_eq!(set.rules().len(), report.enabled);
    Outcome {
        rules_per_file,
        loaded: report.loaded,
        enabled: report.enabled,
        disabled: report.disabled,
    }
}

fn print(title: &str, o: &Outcome) {
    println!("{title}");
    for (f, n) in &o.rules_per_file {
        println!("    {n:>3} rules  {f}");
    }
    println!(
        "    => loaded {}, enabled {}, disabled {}, parse errors 0",
        o.loaded, o.enabled, o.disabled
    );
}

#[test]
fn falco_syscall_rules_load() {
    let Some(data) = data_dir() else { return };
    let base = data.join("falco-rules");
    // Falco's own order: the stable file first, then the files that extend it.
    let sets: &[(&str, &[&str])] = &[
        ("stable", &["rules/falco_rules.yaml"]),
        ("incubating alone", &["rules/falco-incubating_rules.yaml"]),
        ("sandbox alone", &["rules/falco-sandbox_rules.yaml"]),
        (
            "stable + incubating + sandbox",
            &[
                "rules/falco_rules.yaml",
                "rules/falco-incubating_rules.yaml",
                "rules/falco-sandbox_rules.yaml",
            ],
        ),
        (
            "stable + archived deprecated + application",
            &[
                "rules/falco_rules.yaml",
                "archive/falco-deprecated_rules.yaml",
                "archive/application_rules.yaml",
            ],
        ),
    ];
    for (title, files) in sets {
        let o = load_set(&base, files);
        print(title, &o);
    }
    // The event-type index: an execve event meets only the rules that can match execve.
    let mut loader = Loader::new();
    loader
        .load_file(&base.join("rules/falco_rules.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let loaded = loader.finish().unwrap_or_else(|e| panic!("{e}"));
    let (set, report) = RuleSet::compile(&loaded, &mut [], &CompileOptions::new().permissive(true))
        .unwrap_or_else(|e| panic!("{e}"));
    let total = set.rules().len();
    for t in ["execve", "openat", "connect", "close"] {
        let n = set.candidates("syscall", Some(t));
        println!("    event type {t:>8}: {n:>2} of {total} stable rules are candidates");
        assert!(n < total, "{t}");
    }
    let untyped = report
        .warnings
        .iter()
        .filter(|w| w.kind == palisade_rules::WarningKind::NoEventType)
        .count();
    println!("    stable rules without an event-type restriction: {untyped}");

    let stable = load_set(&base, &["rules/falco_rules.yaml"]);
    assert_eq!(stable.rules_per_file.first().map(|x| x.1), Some(25));
    let inc = load_set(&base, &["rules/falco-incubating_rules.yaml"]);
    assert_eq!(inc.rules_per_file.first().map(|x| x.1), Some(31));
    let sandbox = load_set(&base, &["rules/falco-sandbox_rules.yaml"]);
    assert_eq!(sandbox.rules_per_file.first().map(|x| x.1), Some(37));
    let all = load_set(
        &base,
        &[
            "rules/falco_rules.yaml",
            "rules/falco-incubating_rules.yaml",
            "rules/falco-sandbox_rules.yaml",
        ],
    );
    assert_eq!(all.loaded, 25 + 31 + 37);
}

#[test]
fn k8s_audit_rules_load() {
    let Some(data) = data_dir() else { return };
    let base = data.join("k8saudit");
    let sets: &[(&str, &[&str])] = &[
        ("k8saudit", &["plugins/k8saudit/rules/k8s_audit_rules.yaml"]),
        (
            "k8saudit-gke (base via symlink stub + GKE extension)",
            &[
                "plugins/k8saudit-gke/rules/k8s_audit_rules.yaml",
                "plugins/k8saudit-gke/rules/k8s_audit_rules_gke.yaml",
            ],
        ),
        (
            "k8saudit + GKE extension",
            &[
                "plugins/k8saudit/rules/k8s_audit_rules.yaml",
                "plugins/k8saudit-gke/rules/k8s_audit_rules_gke.yaml",
            ],
        ),
        (
            "gcpaudit",
            &["plugins/gcpaudit/rules/gcp_auditlog_rules.yaml"],
        ),
        (
            "falco-tests engine v4 rules",
            &["falco-tests/test/rules/k8s_audit/engine_v4_k8s_audit_rules.yaml"],
        ),
        (
            "falco-tests: k8s_audit_rules + local overrides",
            &[
                "plugins/k8saudit/rules/k8s_audit_rules.yaml",
                "falco-tests/test/rules/k8s_audit/allow_namespace_foo.yaml",
                "falco-tests/test/rules/k8s_audit/allow_user_some-user.yaml",
                "falco-tests/test/rules/k8s_audit/disallow_kactivity.yaml",
                "falco-tests/test/rules/k8s_audit/allow_nginx_container.yaml",
                "falco-tests/test/rules/k8s_audit/allow_only_apache_container.yaml",
            ],
        ),
        (
            "falco-tests: engine v4 + allow overrides",
            &[
                "falco-tests/test/rules/k8s_audit/engine_v4_k8s_audit_rules.yaml",
                "falco-tests/test/rules/k8s_audit/engine_v4/allow_nginx_container.yaml",
                "falco-tests/test/rules/k8s_audit/engine_v4/allow_only_apache_container.yaml",
            ],
        ),
        (
            "falco-tests: json pointer rule",
            &["falco-tests/test/rules/k8s_audit/single_rule_with_json_pointer.yaml"],
        ),
    ];
    for (title, files) in sets {
        let o = load_set(&base, files);
        print(title, &o);
    }
    // Syscall and audit rules as one rule set, as Falco's own k8s audit tests load them.
    let both = {
        let mut loader = Loader::new();
        for f in [
            data.join("falco-rules/rules/falco_rules.yaml"),
            base.join("plugins/k8saudit/rules/k8s_audit_rules.yaml"),
        ] {
            loader.load_file(&f).unwrap_or_else(|e| panic!("{e}"));
        }
        let loaded = loader.finish().unwrap_or_else(|e| panic!("{e}"));
        let (set, report) =
            RuleSet::compile(&loaded, &mut [], &CompileOptions::new().permissive(true))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.enabled_per_source.get("syscall"), Some(&25));
        assert_eq!(report.enabled_per_source.get("k8s_audit"), Some(&48));
        set.rules().len()
    };
    println!("falco_rules.yaml + k8s_audit_rules.yaml as one set: {both} rules, parse errors 0");

    // `trust_nginx_container.yaml` appends to lists that only the old in-tree k8s audit rules
    // defined; Falco rejects such appends, and so do we, naming each list.
    let mut loader = Loader::new();
    for f in [
        data.join("falco-rules/rules/falco_rules.yaml"),
        base.join("plugins/k8saudit/rules/k8s_audit_rules.yaml"),
        base.join("falco-tests/test/rules/k8s_audit/engine_v4_k8s_audit_rules.yaml"),
    ] {
        loader.load_file(&f).unwrap_or_else(|e| panic!("{e}"));
    }
    let err = loader
        .load_file(&base.join("falco-tests/test/rules/k8s_audit/trust_nginx_container.yaml"))
        .expect_err("appends to lists the current rules do not define");
    let msgs: Vec<String> = err.iter().map(ToString::to_string).collect();
    println!("trust_nginx_container.yaml (expected, as in Falco): {msgs:#?}");
    assert_eq!(err.len(), 2);
    assert!(msgs
        .iter()
        .any(|m| m.contains("falco_sensitive_mount_images")));
    assert!(msgs.iter().any(|m| m.contains("falco_hostnetwork_images")));
    assert!(msgs
        .iter()
        .all(|m| m.contains("trust_nginx_container.yaml:")));

    let k8s = load_set(&base, &["plugins/k8saudit/rules/k8s_audit_rules.yaml"]);
    assert_eq!(k8s.rules_per_file.first().map(|x| x.1), Some(48));
    let gke = load_set(
        &base,
        &[
            "plugins/k8saudit/rules/k8s_audit_rules.yaml",
            "plugins/k8saudit-gke/rules/k8s_audit_rules_gke.yaml",
        ],
    );
    assert_eq!(gke.loaded, 48);
}
