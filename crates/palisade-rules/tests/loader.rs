//! Loading: file/line/column of every kind of error, override and append semantics.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use common::{compile, errors, JsonCatalog};
use palisade_rules::{Error, Loader, Priority, WarningKind};

fn load(files: &[&str]) -> Result<palisade_rules::LoadedRules, String> {
    let mut loader = Loader::new();
    let mut errs = Vec::new();
    for (i, f) in files.iter().enumerate() {
        if let Err(e) = loader.load_str(&format!("f{i}.yaml"), f) {
            errs.push(e.to_string());
        }
    }
    if !errs.is_empty() {
        return Err(errs.join("\n"));
    }
    loader.finish().map_err(|e| e.to_string())
}

fn load_err(files: &[&str]) -> String {
    match load(files) {
        Ok(_) => panic!("expected an error for {files:?}"),
        Err(e) => e,
    }
}

fn cond_of<'a>(r: &'a palisade_rules::LoadedRules, rule: &str) -> &'a str {
    r.rules()
        .iter()
        .find(|x| x.name == rule)
        .map(|x| x.condition.text())
        .unwrap_or_default()
}

const BASE: &str = "
- list: shells
  items: [bash, sh]
- macro: spawned
  condition: evt.type = execve
- rule: Shell
  desc: a shell
  condition: spawned and proc.name in (shells)
  output: shell %proc.name
  priority: WARNING
  tags: [shell]
";

#[test]
fn condition_errors_point_into_the_file() {
    // Folded block: the bad operator `~` is on line 5, column 13.
    let folded = "- rule: r\n  desc: d\n  condition: >\n    proc.name = bash and\n    fd.name ~ x\n  output: o\n  priority: INFO\n";
    let e = load_err(&[folded]);
    assert!(
        e.starts_with("f0.yaml:5:13: invalid condition: expected a comparison operator: `~ x`"),
        "{e}"
    );

    // Plain scalar on the key line.
    let plain = "- macro: m\n  condition: proc.name = (a, b)\n";
    let e = load_err(&[plain]);
    assert!(e.starts_with("f0.yaml:2:26: invalid condition:"), "{e}");
    assert!(e.contains("single value"), "{e}");

    // Double-quoted with escapes before the error.
    let quoted = "- macro: m\n  condition: \"proc.cmdline contains \\\"x\\\" and (fd.name = y\"\n";
    let e = load_err(&[quoted]);
    assert!(
        e.starts_with("f0.yaml:2:47: invalid condition: unbalanced `(`"),
        "{e}"
    );

    // Literal block, unbalanced `)`.
    let literal = "- macro: m\n  condition: |\n    a.b = 1\n      or c.d = 2)\n";
    let e = load_err(&[literal]);
    assert!(
        e.starts_with("f0.yaml:4:17: invalid condition: unbalanced `)`"),
        "{e}"
    );

    // Every bad condition is reported, not only the first.
    let two = "- macro: a\n  condition: x.y ==\n- macro: b\n  condition: ((x.y = 1)\n";
    let e = load_err(&[two]);
    assert_eq!(e.lines().count(), 2, "{e}");
    assert!(
        e.contains("f0.yaml:2:") && e.contains("f0.yaml:4:14"),
        "{e}"
    );
}

#[test]
fn appended_conditions_map_to_their_own_file() {
    let ext = "- macro: spawned\n  condition: or and\n  override:\n    condition: append\n";
    let e = load_err(&[BASE, ext]);
    assert!(
        e.starts_with("f1.yaml:2:17: invalid condition: unexpected `and`"),
        "{e}"
    );
}

#[test]
fn undefined_macro_and_cycles() {
    let mut cat = JsonCatalog::open("syscall");
    let undefined = "- rule: r\n  desc: d\n  condition: evt.type = open and\n    not known_macro\n  output: o\n  priority: INFO\n";
    let e = errors(&[undefined], &mut cat);
    assert_eq!(
        e,
        "f0.yaml:4:9: undefined macro `known_macro` used in condition"
    );

    let cycle = "
- macro: a
  condition: b and x.y = 1
- macro: b
  condition: x.z = 2 or c
- macro: c
  condition: (a)
- rule: r
  desc: d
  condition: a
  output: o
  priority: INFO
";
    let e = errors(&[cycle], &mut cat);
    assert_eq!(e, "f0.yaml:7:15: macro cycle: a -> b -> c -> a");
    let own = "- macro: m\n  condition: not m\n- rule: r\n  desc: d\n  condition: m\n  output: o\n  priority: INFO\n";
    let e = errors(&[own], &mut cat);
    assert_eq!(e, "f0.yaml:2:18: macro cycle: m -> m");
}

#[test]
fn yaml_errors() {
    let e = load_err(&["- rule: r\n  desc: [unclosed\n"]);
    assert!(e.starts_with("f0.yaml:"), "{e}");
    assert!(e.contains("invalid YAML"), "{e}");
    let e = load_err(&["- rule: r\n   desc: d\n  bad: indent\n"]);
    assert!(e.starts_with("f0.yaml:"), "{e}");
    let e = load_err(&["rule: r\n"]);
    assert_eq!(
        e,
        "f0.yaml:1:1: rules content must be a YAML sequence of items, not a mapping: `rule: r`"
    );
    let e = load_err(&["- just a string\n"]);
    assert_eq!(
        e,
        "f0.yaml:1:3: a rules item must be a mapping, not a scalar: `- just a string`"
    );
    // Deep nesting is bounded.
    let deep = format!(
        "- list: l\n  items: {}a{}\n",
        "[".repeat(500),
        "]".repeat(500)
    );
    let e = load_err(&[&deep]);
    assert!(
        e.contains("f0.yaml:2:") && e.contains("recursion limit"),
        "{e}"
    );
    // Aliases are resolved.
    let alias = "- list: a\n  items: &x [one, two]\n- list: b\n  items: *x\n";
    let r = load(&[alias]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.lists().get(1).map(|l| l.items.len()), Some(2));
    // Multiple documents, empty files.
    assert!(load(&[
        "",
        "# only a comment\n",
        "---\n- list: a\n  items: []\n---\n- list: b\n  items: []\n"
    ])
    .is_ok());
}

#[test]
fn schema_errors_and_warnings() {
    let e = load_err(&["- rule: r\n  desc: d\n  condition: a.b = 1\n  priority: INFO\n"]);
    assert_eq!(e, "f0.yaml:1:3: rule `r` has no `output`: `- rule: r`");
    let e =
        load_err(&["- rule: r\n  desc: d\n  condition: a.b = 1\n  output: o\n  priority: LOUD\n"]);
    assert!(
        e.starts_with("f0.yaml:5:13: unknown priority `LOUD`"),
        "{e}"
    );
    let e = load_err(&["- list: l\n  items: {a: b}\n"]);
    assert!(
        e.starts_with("f0.yaml:2:10: `items` must be a sequence, not a mapping"),
        "{e}"
    );
    let e = load_err(&["- macro: m\n  condition: [a]\n"]);
    assert!(
        e.starts_with("f0.yaml:2:14: `condition` must be a string"),
        "{e}"
    );
    let e = load_err(&["- rule: r\n  desc: d\n  condition: a.b = 1\n  output: o\n  priority: INFO\n  enabled: maybe\n"]);
    assert!(
        e.starts_with("f0.yaml:6:12: `enabled` must be true or false"),
        "{e}"
    );
    let e = load_err(&[
        BASE,
        "- list: shells\n  items: [zsh]\n  append: true\n  override:\n    items: append\n",
    ]);
    assert!(
        e.contains("f1.yaml:5:5: `append` and `override` cannot be used together"),
        "{e}"
    );
    let e = load_err(&[
        BASE,
        "- rule: Shell\n  priority: INFO\n  override:\n    priority: append\n",
    ]);
    assert!(
        e.contains("key `priority` cannot be overridden with `append`"),
        "{e}"
    );
    let e = load_err(&[
        BASE,
        "- rule: Shell\n  desc: x\n  output: y\n  override:\n    desc: replace\n",
    ]);
    assert!(
        e.contains("f1.yaml:3:3: key `output` has no override mode"),
        "{e}"
    );
    let e = load_err(&[BASE, "- rule: Shell\n  override:\n    desc: replace\n"]);
    assert!(
        e.contains("`override` names `desc` but the item has no `desc`"),
        "{e}"
    );
    let e = load_err(&["- rule: r\n  desc: d\n  condition: a.b = 1\n  output: o\n  priority: INFO\n  exceptions:\n    - name: e\n      fields: [a.b, c.d]\n      comps: [=]\n"]);
    assert!(
        e.contains("f0.yaml:9:14: `comps` has 1 operators but `fields` has 2 fields"),
        "{e}"
    );
    let e = load_err(&["- rule: r\n  desc: d\n  condition: a.b = 1\n  output: o\n  priority: INFO\n  exceptions:\n    - name: e\n      fields: [a.b, c.d]\n      values:\n        - [x]\n"]);
    assert!(
        e.contains("f0.yaml:10:11: exception value tuple has 1 items but `fields` has 2"),
        "{e}"
    );
    let e = load_err(&["- rule: r\n  desc: d\n  condition: a.b = 1\n  output: o\n  priority: INFO\n  exceptions:\n    - name: e\n      fields: [a.b]\n      comps: [like]\n"]);
    assert!(
        e.contains("f0.yaml:9:15: `like` is not a comparison operator"),
        "{e}"
    );
    let e = load_err(&["- rule: r\n  desc: d\n  condition: a.b = 1\n  output: o\n  priority: INFO\n  exceptions:\n    - name: e\n      fields: [a.b =]\n"]);
    assert!(e.contains("f0.yaml:8:16: invalid condition"), "{e}");

    let r = load(&["- rule: r\n  desc: d\n  condition: a.b = 1\n  output: o\n  priority: INFO\n  colour: red\n- something: else\n"])
        .unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<WarningKind> = r.warnings().iter().map(|w| w.kind).collect();
    assert_eq!(kinds, [WarningKind::UnknownKey, WarningKind::UnknownItem]);
    assert!(r
        .warnings()
        .first()
        .map(ToString::to_string)
        .unwrap_or_default()
        .starts_with("f0.yaml:6:3: unknown key `colour`"));
}

#[test]
fn overrides_to_undefined_items_fail() {
    for (item, what) in [
        (
            "- list: nope\n  items: [a]\n  append: true\n",
            "list `nope` has `append`",
        ),
        (
            "- list: nope\n  items: [a]\n  override:\n    items: replace\n",
            "list `nope` has `override`",
        ),
        (
            "- macro: nope\n  condition: or a.b = 1\n  append: true\n",
            "macro `nope` has `append`",
        ),
        (
            "- rule: nope\n  condition: and a.b = 1\n  append: true\n",
            "rule `nope` has `append`",
        ),
        (
            "- rule: nope\n  enabled: false\n",
            "rule `nope` has `enabled`",
        ),
    ] {
        let e = load_err(&[BASE, item]);
        assert!(e.starts_with("f1.yaml:1:3: ") && e.contains(what), "{e}");
    }
    // Order matters: an override before the definition fails.
    let e = load_err(&["- list: shells\n  items: [zsh]\n  append: true\n", BASE]);
    assert!(
        e.starts_with("f0.yaml:1:3: list `shells` has `append`"),
        "{e}"
    );
}

#[test]
fn list_overrides() {
    let r = load(&[
        BASE,
        "- list: shells\n  items: [zsh]\n  override:\n    items: append\n",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.lists().first().map(|l| l.items.clone()),
        Some(vec!["bash".into(), "sh".into(), "zsh".into()])
    );
    let r = load(&[BASE, "- list: shells\n  items: [zsh]\n  append: true\n"])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.lists().first().map(|l| l.items.len()), Some(3));
    assert!(r
        .warnings()
        .iter()
        .any(|w| w.kind == WarningKind::Deprecated));
    let r = load(&[
        BASE,
        "- list: shells\n  items: [zsh]\n  override:\n    items: replace\n",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.lists().first().map(|l| l.items.clone()),
        Some(vec!["zsh".into()])
    );
    // Redefinition replaces.
    let r = load(&[BASE, "- list: shells\n  items: []\n"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.lists().first().map(|l| l.items.len()), Some(0));
}

#[test]
fn macro_overrides() {
    let r = load(&[BASE, "- macro: spawned\n  condition: or evt.type = execveat\n  override:\n    condition: append\n"]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.macros().first().map(|m| m.condition.text()),
        Some("evt.type = execve or evt.type = execveat")
    );
    let r = load(&[
        BASE,
        "- macro: spawned\n  condition: or evt.type = clone\n  append: true\n",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.macros().first().map(|m| m.condition.text()),
        Some("evt.type = execve or evt.type = clone")
    );
    let r = load(&[
        BASE,
        "- macro: spawned\n  condition: evt.type = fork\n  override:\n    condition: replace\n",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.macros().first().map(|m| m.condition.text()),
        Some("evt.type = fork")
    );
}

#[test]
fn rule_overrides() {
    let ext = "
- rule: Shell
  condition: and not user.name = root
  output: replaced %user.name
  desc: more
  tags: [mitre, shell]
  priority: ERROR
  override:
    condition: append
    output: replace
    desc: append
    tags: append
    priority: replace
";
    let r = load(&[BASE, ext]).unwrap_or_else(|e| panic!("{e}"));
    let rule = r.rules().first().unwrap_or_else(|| panic!("no rule"));
    assert_eq!(
        rule.condition.text(),
        "spawned and proc.name in (shells) and not user.name = root"
    );
    assert_eq!(rule.output, "replaced %user.name");
    assert_eq!(rule.desc, "a shell more");
    assert_eq!(rule.tags, ["shell", "mitre"]);
    assert_eq!(rule.priority, Priority::Error);

    let r = load(&[
        BASE,
        "- rule: Shell\n  condition: and fd.num = 1\n  append: true\n",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        cond_of(&r, "Shell"),
        "spawned and proc.name in (shells) and fd.num = 1"
    );

    let r = load(&[
        BASE,
        "- rule: Shell\n  condition: evt.type = open\n  override:\n    condition: replace\n",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cond_of(&r, "Shell"), "evt.type = open");

    // enabled toggles: legacy and override.
    let r = load(&[BASE, "- rule: Shell\n  enabled: false\n"]).unwrap_or_else(|e| panic!("{e}"));
    assert!(!r.rules().iter().all(|x| x.enabled));
    let r = load(&[
        BASE,
        "- rule: Shell\n  enabled: false\n",
        "- rule: Shell\n  enabled: true\n  override:\n    enabled: replace\n",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.rules().iter().all(|x| x.enabled));

    // Redefinition replaces the rule in place; source defaults to syscall.
    let redefine = "- rule: Shell\n  desc: new\n  condition: proc.name = x\n  output: o\n  priority: DEBUG\n  source: k8s_audit\n";
    let r = load(&[BASE, redefine]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.rules().len(), 1);
    assert_eq!(
        r.rules().first().map(|x| x.source.as_str()),
        Some("k8s_audit")
    );
    let r = load(&[BASE]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.rules().first().map(|x| x.source.as_str()),
        Some("syscall")
    );

    // Per-file summaries.
    let r = load(&[
        BASE,
        "- list: shells\n  items: [zsh]\n  append: true\n- required_engine_version: 0.31.0\n",
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let files = r.files();
    assert_eq!(
        (
            files[0].lists,
            files[0].macros,
            files[0].rules,
            files[0].overrides
        ),
        (1, 1, 1, 0)
    );
    assert_eq!((files[1].rules, files[1].overrides), (0, 1));
    assert_eq!(files[1].required_engine_version.as_deref(), Some("0.31.0"));
}

#[test]
fn overridden_rule_evaluates() {
    let ext = "- list: shells\n  items: [zsh]\n  override:\n    items: append\n- rule: Shell\n  condition: and not proc.pname = sshd\n  override:\n    condition: append\n";
    let mut cat = JsonCatalog::open("syscall");
    let (set, report) = compile(&[BASE, ext], &mut cat).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.enabled, 1);
    let hit = |j: &str| set.evaluate("syscall", &cat.event(j)).count();
    assert_eq!(
        hit(r#"{"evt.type":"execve","proc.name":"zsh","proc.pname":"init"}"#),
        1
    );
    assert_eq!(
        hit(r#"{"evt.type":"execve","proc.name":"zsh","proc.pname":"sshd"}"#),
        0
    );
    assert_eq!(
        hit(r#"{"evt.type":"open","proc.name":"zsh","proc.pname":"init"}"#),
        0
    );
}

#[test]
fn limits_are_enforced() {
    let mut limits = palisade_rules::Limits::default();
    limits.max_file_bytes = 64;
    let mut loader = Loader::with_limits(limits);
    let e = loader
        .load_str("big.yaml", &"#".repeat(100))
        .expect_err("too big");
    assert!(matches!(e.first(), Some(Error::Limit { .. })));
    assert_eq!(
        e.to_string(),
        "big.yaml:1:1: rule file size exceeds the limit of 64"
    );

    let deep = format!(
        "- macro: m\n  condition: {}a.b = 1{}\n",
        "(".repeat(150),
        ")".repeat(150)
    );
    let e = load_err(&[&deep]);
    assert!(
        e.starts_with("f0.yaml:2:114: invalid condition: nesting deeper than 100 levels"),
        "{e}"
    );

    let e = Loader::new()
        .load_file(std::path::Path::new("/nonexistent/rules.yaml"))
        .expect_err("missing file");
    assert!(
        e.to_string()
            .starts_with("/nonexistent/rules.yaml: cannot read rule file"),
        "{e}"
    );
}
