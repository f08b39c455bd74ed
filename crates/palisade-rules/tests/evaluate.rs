//! Evaluation of every operator and transformer over a JSON-backed test event source.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use common::{compile, rule, JsonCatalog};
use palisade_rules::{FieldType, Priority, Scratch};

fn catalog() -> JsonCatalog {
    let mut c = JsonCatalog::new(
        "syscall",
        &[
            ("fd.num", FieldType::Int),
            ("fd.sip", FieldType::Ip),
            ("evt.is_open_write", FieldType::Bool),
            ("evt.buffer", FieldType::Bytes),
        ],
    );
    c.open = true;
    c
}

/// Whether `condition` matches `event` (with extra YAML `prelude` lists/macros).
fn eval_with(prelude: &str, condition: &str, event: &str) -> bool {
    let mut cat = catalog();
    let (set, _) = compile(&[&format!("{prelude}\n{}", rule(condition))], &mut cat)
        .unwrap_or_else(|e| panic!("{condition}: {e}"));
    assert_eq!(set.rules().len(), 1, "{condition}");
    let ev = cat.event(event);
    let hit = set.evaluate("syscall", &ev).next().is_some();
    // The scratch-reusing path agrees.
    let mut scratch = Scratch::new();
    assert_eq!(
        set.evaluate_with("syscall", &ev, &mut scratch).count() == 1,
        hit
    );
    hit
}

fn eval(condition: &str, event: &str) -> bool {
    eval_with("", condition, event)
}

const EV: &str = r#"{
    "proc.name": "Bash", "proc.pname": "bash", "proc.cmdline": "bash -c \"echo hi\"",
    "fd.name": "/etc/shadow", "fd.num": 3, "fd.sip": "10.1.2.3",
    "evt.is_open_write": true, "evt.type": "openat",
    "proc.args": ["-c", "echo", "hi"], "proc.aname[2]": "sshd",
    "jevt.value[/stage]": "ResponseComplete",
    "b64.v": "aGVsbG8=", "path.p": "/usr/bin/cat", "path.dir": "/usr/bin/",
    "evt.buffer": "\u00ca\u00fe", "n.s": "42"
}"#;

#[test]
fn equality_and_ordering() {
    assert!(eval("proc.name = Bash", EV));
    assert!(eval("proc.name == Bash", EV));
    assert!(!eval("proc.name = bash", EV));
    assert!(eval("proc.name != bash", EV));
    assert!(eval("fd.num = 3", EV));
    assert!(eval("fd.num = 0x3", EV));
    assert!(eval(
        "fd.num >= 3 and fd.num <= 3 and fd.num > 2 and fd.num < 4",
        EV
    ));
    assert!(!eval("fd.num > 3", EV));
    assert!(eval("evt.is_open_write = true", EV));
    assert!(eval("evt.is_open_write != false", EV));
    assert!(eval("n.s > 5", EV), "numeric strings compare as numbers");
    assert!(eval("n.s = 42", EV));
    assert!(eval("fd.sip = 10.1.2.3", EV));
    assert!(
        eval("fd.sip = 10.0.0.0/8", EV),
        "network literal contains the address"
    );
    assert!(!eval("fd.sip = 192.168.0.0/16", EV));
    assert!(eval("fd.sip in (192.168.0.0/16, 10.1.0.0/16)", EV));
    assert!(eval("jevt.value[/stage] = ResponseComplete", EV));
    assert!(eval("proc.aname[2] = sshd", EV));
}

#[test]
fn string_operators() {
    assert!(eval("proc.cmdline contains \"-c\"", EV));
    assert!(!eval("proc.cmdline contains zsh", EV));
    assert!(eval("proc.cmdline icontains BASH", EV));
    assert!(eval("proc.name startswith Ba", EV));
    assert!(eval("fd.name endswith shadow", EV));
    assert!(eval("fd.name glob '/etc/*'", EV));
    assert!(eval("fd.name glob '/e?c/s[a-z]adow'", EV));
    assert!(!eval("fd.name glob '/etc'", EV));
    assert!(eval("proc.name iglob 'ba*'", EV));
    assert!(!eval("proc.name glob 'ba*'", EV));
    assert!(eval("fd.name regex '/etc/[a-z]+'", EV));
    assert!(!eval("fd.name regex 'etc'", EV), "regex is a full match");
    assert!(eval(r#"fd.name regex ".*sha.*""#, EV));
    assert!(eval("evt.buffer bcontains cafe", EV) || eval("evt.buffer bcontains c38a", EV));
    assert!(eval("proc.name bstartswith 4261", EV), "B = 0x42, a = 0x61");
    assert!(eval("proc.name bcontains 7368", EV), "sh");
}

#[test]
fn set_operators() {
    assert!(eval("proc.pname in (sh, bash, zsh)", EV));
    assert!(!eval("proc.name in (sh, bash)", EV));
    assert!(!eval("proc.name in ()", EV));
    assert!(eval("fd.num in (1, 2, 3)", EV));
    assert!(eval("fd.name pmatch (/etc, /usr)", EV));
    assert!(eval("fd.name pmatch (/etc/shadow)", EV));
    assert!(!eval("fd.name pmatch (/et)", EV));
    assert!(eval("fd.name pmatch (/e*)", EV), "glob components");
    // List fields: in = all items in the set, intersects = any.
    assert!(eval("proc.args in (-c, echo, hi, x)", EV));
    assert!(!eval("proc.args in (-c, echo)", EV));
    assert!(eval("proc.args intersects (echo, nope)", EV));
    assert!(!eval("proc.args intersects (nope)", EV));
    // Other operators on list fields: any item.
    assert!(eval("proc.args = echo", EV));
    assert!(eval("proc.args contains ch", EV));
    assert!(!eval("proc.args != echo", EV));
}

#[test]
fn named_lists_nested_and_quoted() {
    let prelude = r#"
- list: shells
  items: [sh, bash]
- list: more_shells
  items: [shells, zsh, '"(systemd)"']
"#;
    assert!(eval_with(prelude, "proc.pname in (more_shells)", EV));
    assert!(eval_with(prelude, "proc.pname in (fish, shells)", EV));
    assert!(
        !eval_with(prelude, r#"proc.pname in ("shells")"#, EV),
        "quoted items are literal"
    );
    assert!(eval_with(
        prelude,
        "proc.name in (more_shells)",
        r#"{"proc.name": "(systemd)"}"#
    ));
    assert!(eval_with(
        prelude,
        "proc.name pmatch (more_shells)",
        r#"{"proc.name": "zsh/x"}"#
    ));
}

#[test]
fn missing_fields_behave_like_falco() {
    assert!(!eval("nope.x = 1", EV));
    assert!(
        !eval("nope.x != 1", EV),
        "comparisons on a missing field are false"
    );
    assert!(eval("not nope.x = 1", EV));
    assert!(!eval("nope.x exists", EV));
    assert!(eval("proc.name exists", EV));
    assert!(eval("not nope.x exists", EV));
    assert!(!eval("nope.x in (a)", EV));
    assert!(!eval("len(nope.x) = 0", EV));
}

#[test]
fn transformers() {
    assert!(eval("tolower(proc.name) = bash", EV));
    assert!(eval("toupper(proc.name) = BASH", EV));
    assert!(eval("b64(b64.v) = hello", EV));
    assert!(!eval("b64(proc.name) = x", EV), "invalid base64 is absent");
    assert!(eval("basename(path.p) = cat", EV));
    assert!(
        eval("basename(path.dir) = \"\"", EV),
        "basename of a directory path is empty"
    );
    assert!(eval("len(proc.name) = 4", EV));
    assert!(eval("len(proc.args) = 3", EV));
    assert!(eval("len(proc.args) > 2", EV));
    assert!(eval("toupper(tolower(proc.name)) = BASH", EV));
    assert!(eval("tolower(proc.args) intersects (echo)", EV));
    assert!(eval("basename(path.p) in (cat, dog)", EV));
}

#[test]
fn field_to_field_comparisons() {
    assert!(!eval("proc.name = val(proc.pname)", EV));
    assert!(eval("tolower(proc.name) = val(proc.pname)", EV));
    assert!(eval("tolower(proc.name) = tolower(proc.pname)", EV));
    assert!(eval("proc.name != val(proc.pname)", EV));
    assert!(eval("proc.cmdline contains val(proc.pname)", EV));
    assert!(eval(
        "proc.pname in val(proc.args)",
        r#"{"proc.pname":"echo","proc.args":["echo","x"]}"#
    ));
    assert!(eval("fd.num < val(n.s)", EV));
    assert!(!eval("proc.name = val(nope.x)", EV));
}

#[test]
fn macros_boolean_logic() {
    let prelude = "
- macro: is_bash
  condition: tolower(proc.name) = bash
- macro: is_shell
  condition: is_bash or proc.name = zsh
";
    assert!(eval_with(prelude, "is_shell and fd.num = 3", EV));
    assert!(!eval_with(prelude, "not is_shell", EV));
    assert!(eval_with(
        prelude,
        "(is_shell or nope.x = 1) and not (fd.num = 4)",
        EV
    ));
}

#[test]
fn exceptions_compile_to_and_not() {
    let rules = r#"
- list: allowed
  items: [Bash]
- rule: r
  desc: d
  condition: fd.name startswith /etc
  output: o
  priority: ERROR
  exceptions:
    - name: proc_file
      fields: [proc.name, fd.name]
      comps: [=, startswith]
      values:
        - [zsh, /etc/sh]
    - name: by_name
      fields: proc.name
      comps: in
    - name: by_list
      fields: [proc.name]
      comps: [in]
      values:
        - [[nano, vim]]
"#;
    let mut cat = catalog();
    let (set, _) = compile(&[rules], &mut cat).unwrap_or_else(|e| panic!("{e}"));
    let hit = |json: &str| set.evaluate("syscall", &cat.event(json)).count() == 1;
    assert!(hit(r#"{"proc.name":"Bash","fd.name":"/etc/shadow"}"#));
    assert!(!hit(r#"{"proc.name":"zsh","fd.name":"/etc/shadow"}"#));
    assert!(hit(r#"{"proc.name":"zsh","fd.name":"/etc/passwd"}"#));
    assert!(!hit(r#"{"proc.name":"vim","fd.name":"/etc/x"}"#));

    // Appending values to an exception, then a new exception with a list name.
    let more = r#"
- rule: r
  exceptions:
    - name: by_name
      values: [Bash]
    - name: with_list
      fields: [fd.name]
      comps: [in]
      values:
        - [allowed]
  override:
    exceptions: append
"#;
    let mut cat = catalog();
    let (set, _) = compile(&[rules, more], &mut cat).unwrap_or_else(|e| panic!("{e}"));
    let hit = |json: &str| set.evaluate("syscall", &cat.event(json)).count() == 1;
    assert!(!hit(r#"{"proc.name":"Bash","fd.name":"/etc/shadow"}"#));
    assert!(hit(r#"{"proc.name":"cat","fd.name":"/etc/shadow"}"#));
    assert!(
        !hit(r#"{"proc.name":"cat","fd.name":"Bash"}"#),
        "list name expanded in exception value"
    );
}

#[test]
fn event_type_index() {
    let rules = r#"
- rule: open_rule
  desc: d
  condition: evt.type in (open, openat) and fd.num >= 0
  output: o
  priority: NOTICE
- rule: exec_rule
  desc: d
  condition: evt.type = execve
  output: o
  priority: NOTICE
- rule: not_exec
  desc: d
  condition: evt.type != execve and proc.name = Bash
  output: o
  priority: NOTICE
- rule: negated_and
  desc: d
  condition: not (evt.type = execve and proc.name = x)
  output: o
  priority: NOTICE
- rule: any_type
  desc: d
  condition: proc.name = Bash
  output: o
  priority: NOTICE
"#;
    let mut cat = catalog();
    let (set, report) = compile(&[rules], &mut cat).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.candidates("syscall", Some("openat")), 4);
    assert_eq!(set.candidates("syscall", Some("execve")), 3);
    assert_eq!(set.candidates("syscall", Some("close")), 3);
    assert_eq!(set.candidates("syscall", None), 3);
    assert_eq!(set.candidates("k8s_audit", None), 0);
    let ev = cat.event(EV);
    let names: Vec<&str> = set
        .evaluate("syscall", &ev)
        .map(|m| m.rule().name())
        .collect();
    assert_eq!(names, ["open_rule", "not_exec", "negated_and", "any_type"]);
    let warned: Vec<&str> = report
        .warnings
        .iter()
        .filter(|w| w.kind == palisade_rules::WarningKind::NoEventType)
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(warned.len(), 3, "{warned:?}");
}

#[test]
fn output_rendering_and_alert() {
    let rules = r#"
- rule: Shell
  desc: d
  condition: proc.name exists
  output: "Shell %proc.name (parent=%proc.pname args=%proc.args fd=%fd.num x=%nope.x stage=%jevt.value[/stage]) 100%"
  priority: Warning
  tags: [container, shell]
"#;
    let mut cat = catalog();
    let (set, _) = compile(&[rules], &mut cat).unwrap_or_else(|e| panic!("{e}"));
    let ev = cat.event(EV);
    let m = set
        .evaluate("syscall", &ev)
        .next()
        .unwrap_or_else(|| panic!("no match"));
    assert_eq!(
        m.rule().render_output(&ev),
        "Shell Bash (parent=bash args=(-c,echo,hi) fd=3 x=<NA> stage=ResponseComplete) 100%"
    );
    let alert = m.rule().alert(
        &ev,
        palisade_rules::format_rfc3339_nanos(1_767_323_045_123_456_789),
    );
    let json = serde_json::to_value(&alert).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({
            "time": "2026-01-02T03:04:05.123456789Z",
            "rule": "Shell",
            "priority": "Warning",
            "source": "syscall",
            "output": "Shell Bash (parent=bash args=(-c,echo,hi) fd=3 x=<NA> stage=ResponseComplete) 100%",
            "tags": ["container", "shell"],
            "output_fields": {
                "proc.name": "Bash", "proc.pname": "bash", "proc.args": "(-c,echo,hi)",
                "fd.num": 3, "nope.x": null, "jevt.value[/stage]": "ResponseComplete"
            }
        })
    );
    let keys: Vec<String> = serde_json::to_string(&alert)
        .unwrap_or_default()
        .split("\":")
        .take(7)
        .map(|s| s.rsplit('"').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "time",
            "rule",
            "priority",
            "source",
            "output",
            "tags",
            "output_fields"
        ]
    );
}

#[test]
fn priorities_and_minimum() {
    let rules = r#"
- rule: low
  desc: d
  condition: proc.name exists
  output: o
  priority: DEBUG
- rule: mid
  desc: d
  condition: proc.name exists
  output: o
  priority: info
- rule: high
  desc: d
  condition: proc.name exists
  output: o
  priority: CRITICAL
"#;
    let mut cat = catalog();
    let (set, _) = compile(&[rules], &mut cat).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.rules().len(), 3);
    assert_eq!(
        set.rule("mid").map(|r| r.priority()),
        Some(Priority::Informational)
    );
    let set = set.with_min_priority(Priority::Notice);
    let ev = cat.event(EV);
    let names: Vec<&str> = set
        .evaluate("syscall", &ev)
        .map(|m| m.rule().name())
        .collect();
    assert_eq!(names, ["high"]);

    let mut loader = palisade_rules::Loader::new();
    loader
        .load_str("p.yaml", rules)
        .unwrap_or_else(|e| panic!("{e}"));
    let loaded = loader.finish().unwrap_or_else(|e| panic!("{e}"));
    let mut cat = catalog();
    let (set, report) = palisade_rules::RuleSet::compile(
        &loaded,
        &mut [&mut cat],
        &palisade_rules::CompileOptions::new().min_priority(Priority::Informational),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.rules().len(), 2);
    assert_eq!(report.below_min_priority, 1);
}

#[test]
fn unknown_fields_skip_rules_with_a_report() {
    let rules = r#"
- macro: m
  condition: k8s.ns.name = x
- rule: uses_unknown
  desc: d
  condition: m and proc.name = a
  output: o
  priority: WARNING
- rule: unknown_in_output
  desc: d
  condition: proc.name = a
  output: "%container.id"
  priority: WARNING
- rule: silent
  desc: d
  condition: evt.foo = 1
  output: o
  priority: WARNING
  skip-if-unknown-filter: true
- rule: fine
  desc: d
  condition: proc.name = a
  output: "%proc.name"
  priority: WARNING
- rule: off
  desc: d
  condition: proc.name = a
  output: o
  priority: WARNING
  enabled: false
"#;
    let mut cat = JsonCatalog::new("syscall", &[("proc.name", FieldType::String)]);
    let (set, report) = compile(&[rules], &mut cat).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.rules().len(), 1);
    assert_eq!(report.loaded, 5);
    assert_eq!(report.enabled, 1);
    assert_eq!(report.disabled, 1);
    assert_eq!(report.skipped_for_unknown_fields(), 3);
    assert_eq!(
        report.skipped_unknown_fields.get("k8s.ns.name"),
        Some(&vec!["uses_unknown".to_owned()])
    );
    assert_eq!(
        report.skipped_unknown_fields.get("container.id"),
        Some(&vec!["unknown_in_output".to_owned()])
    );
    let msgs: Vec<String> = report
        .warnings
        .iter()
        .filter(|w| w.kind == palisade_rules::WarningKind::UnknownField)
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        msgs.len(),
        2,
        "skip-if-unknown-filter silences the warning: {msgs:?}"
    );
    assert!(msgs.iter().any(|m| m.contains("`uses_unknown`")
        && m.contains("`k8s.ns.name`")
        && m.starts_with("f0.yaml:")));

    // A rule whose source has no catalog is skipped too.
    let other = "- rule: k\n  desc: d\n  condition: ka.verb = get\n  output: o\n  priority: INFO\n  source: k8s_audit\n";
    let mut cat = JsonCatalog::open("syscall");
    let (_, report) = compile(&[other], &mut cat).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        report.skipped_unknown_source.get("k8s_audit").map(Vec::len),
        Some(1)
    );
}

#[test]
fn typed_literals_are_checked() {
    let mut cat = catalog();
    let e = common::errors(&[&rule("fd.num >= abc")], &mut cat);
    assert!(
        e.contains("f0.yaml:3:") && e.contains("expected an integer"),
        "{e}"
    );
    let e = common::errors(&[&rule("evt.is_open_write = maybe")], &mut cat);
    assert!(e.contains("expected true or false"), "{e}");
    let e = common::errors(&[&rule("fd.sip = not-an-ip")], &mut cat);
    assert!(e.contains("IP address"), "{e}");
    let e = common::errors(&[&rule("fd.num contains 3")], &mut cat);
    assert!(e.contains("does not apply"), "{e}");
    let e = common::errors(&[&rule("fd.name regex '(unclosed'")], &mut cat);
    assert!(e.contains("invalid regex"), "{e}");
    let e = common::errors(&[&rule("evt.buffer bcontains xyz")], &mut cat);
    assert!(e.contains("hexadecimal"), "{e}");
    let e = common::errors(&[&rule("fd.num in (1, two)")], &mut cat);
    assert!(e.contains("list item `two`"), "{e}");
}
