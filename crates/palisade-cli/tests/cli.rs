//! The command-line contract: flags, exit codes, the JSON shape, against
//! the real binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use palisade_testkit::{ImageBuilder, Layer, RegistryOptions, TestRegistry};

fn palisade() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_palisade"));
    c.env_remove("PALISADE_DB").env("NO_COLOR", "1");
    c
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo_rootfs() -> PathBuf {
    repo_root().join("fixtures/demo-image/rootfs")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("palisade runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A database built from the project's own advisory fixtures.
fn demo_db() -> tempfile::TempDir {
    let db = tempfile::tempdir().unwrap();
    let o = run(palisade()
        .args(["db", "build", "--source"])
        .arg(repo_root().join("fixtures/advisories"))
        .arg("--db")
        .arg(db.path()));
    assert!(o.status.success(), "{}", stderr(&o));
    db
}

#[test]
fn help_teaches_the_image_forms() {
    let o = run(palisade().args(["image", "scan", "--help"]));
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for form in [
        "oci:DIR",
        "docker-archive:FILE",
        "dir:PATH",
        "--fail-on",
        "--platform",
    ] {
        assert!(out.contains(form), "help mentions {form}");
    }
}

#[test]
fn usage_and_input_errors_exit_2_with_one_line() {
    let o = run(palisade().args(["image", "scan", "ftp://nope/x"]));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("ftp://nope/x"), "{e}");

    let missing = tempfile::tempdir().unwrap();
    let o = run(palisade()
        .args(["image", "scan", "dir:/nonexistent-palisade", "--db"])
        .arg(missing.path()));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("db build"), "{}", stderr(&o));

    let o = run(palisade().args(["image", "sbom", "oci:/nonexistent-palisade-layout:t"]));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("/nonexistent-palisade-layout"), "{e}");

    let o = run(palisade().args(["image", "scan", "x", "--severity", "URGENT"]));
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn scan_json_matches_the_contract_and_fail_on_sets_exit_1() {
    let db = demo_db();
    let image = format!("dir:{}", demo_rootfs().display());
    let o = run(palisade()
        .args(["image", "scan", &image, "--format", "json", "--db"])
        .arg(db.path()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "palisade.scan/v1");
    assert_eq!(v["artifact"]["os"]["family"], "debian");
    assert_eq!(v["artifact"]["os"]["version"], "11");
    let pkgs = v["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), 9);
    for p in pkgs {
        for k in ["name", "version", "ecosystem", "purl", "layer", "path"] {
            assert!(p.get(k).is_some(), "package has {k}: {p}");
        }
        assert_eq!(p["ecosystem"], "Debian");
        assert_eq!(p["path"], "var/lib/dpkg/status");
    }
    let vulns = v["vulnerabilities"].as_array().unwrap();
    let mut got: Vec<(String, String, Option<String>)> = vulns
        .iter()
        .map(|x| {
            for k in [
                "id",
                "aliases",
                "package",
                "ecosystem",
                "installed_version",
                "fixed_version",
                "severity",
                "cvss_score",
                "source",
                "title",
            ] {
                assert!(x.get(k).is_some(), "vulnerability has {k}: {x}");
            }
            (
                x["package"].as_str().unwrap().to_string(),
                x["id"].as_str().unwrap().to_string(),
                x["fixed_version"].as_str().map(str::to_string),
            )
        })
        .collect();
    got.sort();
    let want = vec![
        (
            "curl".to_string(),
            "DSA-5330-1".to_string(),
            Some("7.74.0-1.3+deb11u5".to_string()),
        ),
        (
            "libcurl4".into(),
            "DSA-5330-1".into(),
            Some("7.74.0-1.3+deb11u5".into()),
        ),
        (
            "libssl1.1".into(),
            "DSA-5343-1".into(),
            Some("1.1.1n-0+deb11u4".into()),
        ),
        (
            "openssl".into(),
            "DSA-5343-1".into(),
            Some("1.1.1n-0+deb11u4".into()),
        ),
        ("tar".into(), "DEBIAN-CVE-2005-2541".into(), None),
        (
            "zlib1g".into(),
            "DSA-5218-1".into(),
            Some("1:1.2.11.dfsg-2+deb11u2".into()),
        ),
    ];
    assert_eq!(got, want);
    // The already-fixed DSA-5169-1 (fixed in the installed version) is absent.
    assert!(!vulns.iter().any(|x| x["id"] == "DSA-5169-1"));

    // --fail-on: HIGH is crossed (CRITICAL findings) → 1; the filters apply first.
    let o = run(palisade()
        .args([
            "image",
            "scan",
            &image,
            "--format",
            "json",
            "--fail-on",
            "HIGH",
            "--db",
        ])
        .arg(db.path()));
    assert_eq!(o.status.code(), Some(1));
    let o = run(palisade()
        .args([
            "image",
            "scan",
            &image,
            "--severity",
            "LOW",
            "--fail-on",
            "HIGH",
            "--db",
        ])
        .arg(db.path()));
    assert_eq!(
        o.status.code(),
        Some(0),
        "only LOW left: threshold not crossed"
    );
    let o = run(palisade()
        .args([
            "image",
            "scan",
            &image,
            "--format",
            "json",
            "--ignore-unfixed",
            "--db",
        ])
        .arg(db.path()));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| !x["fixed_version"].is_null()));
}

#[test]
fn every_output_format_and_output_file() {
    let db = demo_db();
    let image = format!("dir:{}", demo_rootfs().display());
    let out = tempfile::tempdir().unwrap();
    for (format, probe) in [
        ("table", "DSA-5218-1"),
        ("json", "\"palisade.scan/v1\""),
        ("sarif", "\"2.1.0\""),
        ("cyclonedx", "\"CycloneDX\""),
        ("spdx", "\"SPDX-2.3\""),
    ] {
        let file = out.path().join(format!("report.{format}"));
        let o = run(palisade()
            .args(["image", "scan", &image, "--format", format, "--db"])
            .arg(db.path())
            .arg("--output")
            .arg(&file));
        assert!(o.status.success(), "{format}: {}", stderr(&o));
        assert!(
            o.stdout.is_empty(),
            "{format}: nothing on stdout with --output"
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(probe), "{format} output contains {probe}");
    }
    let o = run(palisade().args(["image", "sbom", &image]));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["bomFormat"], "CycloneDX");
}

#[test]
fn scan_by_reference_from_a_local_registry_with_auth_on_stdin() {
    let reg = TestRegistry::start(RegistryOptions::basic_auth()).unwrap();
    // The demo rootfs as one layer.
    let root = demo_rootfs();
    let mut layer = Layer::new();
    for rel in [
        "usr/lib/os-release",
        "etc/debian_version",
        "var/lib/dpkg/status",
    ] {
        layer = layer.file(rel, std::fs::read(root.join(rel)).unwrap());
    }
    layer = layer.symlink("etc/os-release", "../usr/lib/os-release");
    let img = ImageBuilder::new().layer(layer).build().unwrap();
    reg.push_image(&img, "demo/bullseye:1").unwrap();
    let creds = reg.credentials().unwrap().clone();
    let db = demo_db();
    let image = format!("{}/demo/bullseye:1", reg.host_port());
    let mut cmd = palisade();
    cmd.args([
        "image",
        "scan",
        &image,
        "--insecure",
        "--format",
        "json",
        "--username",
        &creds.username,
    ])
    .arg("--password-stdin")
    .arg("--db")
    .arg(db.path())
    .env("HOME", db.path())
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}", creds.password).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["artifact"]["digest"], img.manifest_digest().to_string());
    assert_eq!(v["vulnerabilities"].as_array().unwrap().len(), 6);
    let layer_digest = img.layer_digests()[0].to_string();
    assert!(v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["layer"] == layer_digest.as_str()));
}

#[test]
fn db_status_reports_sources_and_counts() {
    let db = demo_db();
    let o = run(palisade()
        .args(["db", "status", "--format", "json", "--db"])
        .arg(db.path()));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["advisories"], 6);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["sources"].as_array().unwrap().len(), 2);
}

#[test]
fn ignore_file_suppresses_until_expiry() {
    let db = demo_db();
    let image = format!("dir:{}", demo_rootfs().display());
    let dir = tempfile::tempdir().unwrap();
    let ignore = dir.path().join("ignore.yaml");
    std::fs::write(
        &ignore,
        "ignore:\n  - id: CVE-2022-37434\n    reason: zlib inflate not reachable\n  - id: DSA-5330-1\n    package: curl\n    expires: 2001-01-01\n",
    )
    .unwrap();
    let o = run(palisade()
        .args(["image", "scan", &image, "--format", "json", "--db"])
        .arg(db.path())
        .arg("--ignore-file")
        .arg(&ignore));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<String> = v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{}/{}",
                x["id"].as_str().unwrap(),
                x["package"].as_str().unwrap()
            )
        })
        .collect();
    // zlib's DSA is suppressed through its CVE alias; curl's entry expired.
    assert!(!ids.iter().any(|i| i.starts_with("DSA-5218-1")), "{ids:?}");
    assert!(ids.contains(&"DSA-5330-1/curl".to_string()), "{ids:?}");
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["message"].as_str().unwrap().contains("expired")));
    // A broken ignore file is an input error.
    std::fs::write(&ignore, "- id: X\n  expires: someday\n").unwrap();
    let o = run(palisade()
        .args(["image", "scan", &image, "--db"])
        .arg(db.path())
        .arg("--ignore-file")
        .arg(&ignore));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ignore.yaml"), "{}", stderr(&o));
}

#[test]
fn output_to_a_pipe_or_device_writes_through_it() {
    // `-o /dev/null` or `-o FIFO` must write through the special file, not
    // replace it with a regular one. A FIFO stands in for the device so a
    // regression cannot damage the machine's /dev/null.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    let image = format!("dir:{}", demo_rootfs().display());
    let o = run(palisade()
        .args(["image", "sbom", &image, "--format", "json", "-o"])
        .arg(&fifo));
    assert!(o.status.success(), "{}", stderr(&o));
    let got = reader.join().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&got).unwrap();
    assert_eq!(v["schema"], "palisade.scan/v1");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "still a FIFO"
    );
}

fn shared_data() -> PathBuf {
    std::env::var_os("PALISADE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data"))
}

#[test]
fn rules_validate_counts_and_errors() {
    let rules = shared_data().join("k8saudit/plugins/k8saudit/rules/k8s_audit_rules.yaml");
    if !rules.is_file() {
        assert!(
            std::env::var_os("CI").is_none(),
            "shared data missing under CI: {}",
            rules.display()
        );
        return;
    }
    let o = run(palisade().args(["rules", "validate"]).arg(&rules));
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("48 loaded, 48 enabled"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "- rule: r\n  desc: d\n  condition: ka.verb = create and (\n  output: o\n  priority: WARNING\n  source: k8s_audit\n").unwrap();
    let o = run(palisade().args(["rules", "validate"]).arg(&bad));
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("bad.yaml:3:"), "error names file and line: {e}");
}

#[test]
fn audit_scan_prints_falco_shaped_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(
        &log,
        concat!(
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"a1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/default/pods/web/exec?command=sh","verb":"create","user":{"username":"alice","groups":["system:authenticated"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","name":"web","apiVersion":"v1","subresource":"exec"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-01-02T03:04:05.123456Z","stageTimestamp":"2026-01-02T03:04:05.223456Z"}"#,
            "\n",
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a2","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"alice","groups":["system:authenticated"]},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-01-02T03:04:06Z","stageTimestamp":"2026-01-02T03:04:06Z"}"#,
            "\n",
            "not json\n"
        ),
    )
    .unwrap();
    let o = run(palisade().args(["audit", "scan"]).arg(&log));
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "only the exec fires: {lines:?}");
    let a = &lines[0];
    assert_eq!(a["rule"], "Exec Into Pod");
    assert_eq!(a["source"], "k8s_audit");
    for k in ["time", "priority", "output", "tags", "output_fields"] {
        assert!(a.get(k).is_some(), "alert has {k}");
    }
    assert!(
        stderr(&o).contains("line 3") || stderr(&o).contains(":3"),
        "the bad line is reported: {}",
        stderr(&o)
    );
}

#[test]
fn audit_serve_is_ready_then_drains_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let mut child = palisade()
        .args(["audit", "serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let mut addr = None;
    while err.read_line(&mut line).unwrap() > 0 {
        if line.contains("ready") {
            addr = line.split("http://").nth(1).map(|s| s.trim().to_string());
            break;
        }
        line.clear();
    }
    let addr = addr.expect("a ready line with the address");
    let body = r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"s1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/default/pods/web/exec","verb":"create","user":{"username":"bob"},"objectRef":{"resource":"pods","namespace":"default","name":"web","subresource":"exec"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-01-02T03:04:05Z","stageTimestamp":"2026-01-02T03:04:05Z"}]}"#;
    for _ in 0..3 {
        let status = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                body,
            ])
            .arg(format!("http://{addr}/"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&status.stdout), "200");
    }
    let bad = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--data-binary",
            "{nope",
        ])
        .arg(format!("http://{addr}/"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&bad.stdout), "400");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let alerts = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("Exec Into Pod"))
        .count();
    assert_eq!(alerts, 3, "every accepted event evaluated before exit");
}

#[test]
fn policy_verify_runs_gator_suites() {
    let lib = shared_data().join("gatekeeper-library/library/general");
    if !lib.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "shared data missing under CI: {}",
            lib.display()
        );
        return;
    }
    let o = run(palisade()
        .args(["policy", "verify"])
        .arg(lib.join("requiredlabels")));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let last = out.lines().last().unwrap_or("");
    assert!(last.ends_with("passed, 0 failed"), "{out}");
    // A suite with a known failure (a Rego construct regorus rejects) exits 1.
    let o = run(palisade()
        .args(["policy", "verify"])
        .arg(lib.join("noupdateserviceaccount")));
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = run(palisade().args(["policy", "verify", "/nonexistent-palisade-suites"]));
    assert_eq!(o.status.code(), Some(2));
}

/// A temp policies dir holding the library's required-labels template and
/// its `all-must-have-owner` constraint, plus that sample's directory;
/// `None` (skip) when shared data is missing outside CI.
fn required_labels_policies() -> Option<(tempfile::TempDir, PathBuf)> {
    let lib = shared_data().join("gatekeeper-library/library/general/requiredlabels");
    let sample = lib.join("samples/all-must-have-owner");
    if !sample.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "shared data missing under CI: {}",
            sample.display()
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(lib.join("template.yaml"), dir.path().join("template.yaml")).unwrap();
    std::fs::copy(
        sample.join("constraint.yaml"),
        dir.path().join("constraint.yaml"),
    )
    .unwrap();
    Some((dir, sample))
}

fn stdout_json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn policy_eval_denies_the_disallowed_example_and_admits_the_allowed() {
    let Some((policies, sample)) = required_labels_policies() else {
        return;
    };
    let eval = |object: &Path, format: &str| {
        run(palisade()
            .args(["policy", "eval", "--format", format, "--policies"])
            .arg(policies.path())
            .arg("--object")
            .arg(object))
    };
    let o = eval(&sample.join("example_disallowed.yaml"), "json");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = stdout_json(&o);
    assert_eq!(v["schema"], "palisade.policy/v1");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{v}");
    assert_eq!(results[0]["constraint"]["kind"], "K8sRequiredLabels");
    assert_eq!(results[0]["constraint"]["name"], "all-must-have-owner");
    assert_eq!(results[0]["enforcement_action"], "deny");
    assert_eq!(results[0]["resource"]["apiVersion"], "v1");
    assert_eq!(results[0]["resource"]["kind"], "Namespace");
    assert_eq!(results[0]["resource"]["name"], "disallowed-namespace");
    assert!(!results[0]["message"].as_str().unwrap().is_empty());

    let o = eval(&sample.join("example_allowed.yaml"), "json");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout_json(&o)["results"], serde_json::json!([]));

    // The table: a line naming action, constraint and resource, then a summary.
    let o = eval(&sample.join("example_disallowed.yaml"), "table");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines().any(|l| l.starts_with("deny")
            && l.contains("K8sRequiredLabels/all-must-have-owner")
            && l.contains("Namespace/disallowed-namespace")),
        "{out}"
    );
    assert!(
        out.lines().last().unwrap().starts_with("1 results (1 deny"),
        "{out}"
    );

    // An AdmissionReview in JSON is evaluated with its request.
    let review = policies.path().join("review.json");
    std::fs::write(
        &review,
        r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{
            "uid":"1","operation":"CREATE","kind":{"group":"","version":"v1","kind":"Namespace"},
            "name":"from-review","object":{"apiVersion":"v1","kind":"Namespace",
            "metadata":{"name":"from-review"}}}}"#,
    )
    .unwrap();
    let o = eval(&review, "json");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stdout_json(&o)["results"][0]["resource"]["name"],
        "from-review"
    );
}

#[test]
fn policy_eval_input_errors_exit_2_naming_the_file() {
    let Some((policies, _)) = required_labels_policies() else {
        return;
    };
    let objects = tempfile::tempdir().unwrap();
    let broken = objects.path().join("broken-object.yaml");
    std::fs::write(
        &broken,
        "apiVersion: v1\nkind: [Namespace\nmetadata: {name: x\n",
    )
    .unwrap();
    let o = run(palisade()
        .args(["policy", "eval", "--policies"])
        .arg(policies.path())
        .arg("--object")
        .arg(&broken));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("broken-object.yaml") && err.contains("invalid YAML"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");

    let o = run(palisade()
        .args(["policy", "eval", "--policies"])
        .arg(policies.path())
        .args(["--object", "/nonexistent-palisade-object.yaml"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent-palisade-object.yaml"));
}

#[test]
fn policy_audit_walks_files_directories_and_list_dumps() {
    let Some((policies, sample)) = required_labels_policies() else {
        return;
    };
    let objects = tempfile::tempdir().unwrap();
    let nested = objects.path().join("nested");
    std::fs::create_dir(&nested).unwrap();
    std::fs::copy(
        sample.join("example_allowed.yaml"),
        objects.path().join("allowed.yaml"),
    )
    .unwrap();
    std::fs::copy(
        sample.join("example_disallowed.yaml"),
        nested.join("disallowed.yml"),
    )
    .unwrap();
    std::fs::write(objects.path().join("README.md"), "not a manifest").unwrap();
    // A `kubectl get -A -o yaml` dump: two unlabelled namespaces, one owned
    // namespace and a pod the constraint does not match.
    let dump = objects.path().join("cluster-dump.yaml");
    std::fs::write(
        &dump,
        "apiVersion: v1
kind: List
metadata:
  resourceVersion: \"\"
items:
- apiVersion: v1
  kind: Namespace
  metadata:
    name: team-a
- apiVersion: v1
  kind: Namespace
  metadata:
    name: team-b
- apiVersion: v1
  kind: Namespace
  metadata:
    name: owned
    labels:
      owner: alice.agilebank.demo
- apiVersion: v1
  kind: Pod
  metadata:
    name: p
    namespace: team-a
",
    )
    .unwrap();
    // Multi-document YAML: one more unlabelled namespace, one owned.
    std::fs::write(
        objects.path().join("multi.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: multi-bad}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: multi-ok, labels: {owner: bob.agilebank.demo}}\n",
    )
    .unwrap();
    let o = run(palisade()
        .args(["policy", "audit", "--format", "json", "--policies"])
        .arg(policies.path())
        .arg(objects.path()));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = stdout_json(&o);
    assert_eq!(v["schema"], "palisade.policy/v1");
    let mut names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resource"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["disallowed-namespace", "multi-bad", "team-a", "team-b"],
        "{v}"
    );

    // Files may be named directly; only allowed objects → exit 0.
    let o = run(palisade()
        .args(["policy", "audit", "--policies"])
        .arg(policies.path())
        .arg(objects.path().join("allowed.yaml")));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.trim_end().ends_with("for 1 object"), "{out}");

    // A document that is not an object stops the audit, naming file and index.
    std::fs::write(
        objects.path().join("zz-bad.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: fine}\n---\n- just\n- a list\n",
    )
    .unwrap();
    let o = run(palisade()
        .args(["policy", "audit", "--policies"])
        .arg(policies.path())
        .arg(objects.path()));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("zz-bad.yaml") && err.contains("document 1"),
        "{err}"
    );
}
