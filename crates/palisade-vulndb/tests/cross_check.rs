//! Cross-checks against the reference implementations, where they are
//! installed: Debian's `dpkg --compare-versions`, Python's `packaging`
//! (standalone or the copy vendored in pip), node-semver (the copy bundled
//! with npm) and Maven's `ComparableVersion` (Debian's maven package).
//! Each test skips, with a note on stderr, when its tool is missing.
//!
//! Versions are generated from a fixed seed, so a failure reproduces.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::cmp::Ordering;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use palisade_vulndb::Scheme;

/// SplitMix64: small, seeded, good enough to pick version pieces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    fn number(&mut self) -> String {
        self.pick(&["0", "1", "2", "3", "9", "10", "11", "01", "100", "2023"])
            .to_owned()
    }
}

fn tool_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `program` with `input` on stdin and returns stdout.
fn run_with_input(program: &str, args: &[&str], input: &str) -> String {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn ordering_from(text: &str) -> Ordering {
    match text {
        "-1" | "<" => Ordering::Less,
        "0" | "==" => Ordering::Equal,
        "1" | ">" => Ordering::Greater,
        other => panic!("unexpected reference answer {other:?}"),
    }
}

fn assert_agrees(scheme: Scheme, pairs: &[(String, String)], reference: &[Ordering], tool: &str) {
    assert_eq!(pairs.len(), reference.len());
    let mut disagreements = Vec::new();
    for ((a, b), want) in pairs.iter().zip(reference) {
        let got = scheme
            .compare(a, b)
            .unwrap_or_else(|e| panic!("{a} vs {b}: {e}"));
        if got != *want {
            disagreements.push(format!("{a} vs {b}: {tool} says {want:?}, we say {got:?}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {} pairs disagree with {tool}:\n{}",
        disagreements.len(),
        pairs.len(),
        disagreements.join("\n")
    );
    eprintln!("{scheme}: {} pairs agree with {tool}", pairs.len());
}

// ---------------------------------------------------------------- dpkg

fn dpkg_version(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.chance(15) {
        v.push_str(rng.pick(&["0:", "1:", "2:", "10:"]));
    }
    v.push_str(&rng.number());
    for _ in 0..rng.below(4) {
        let piece = match rng.below(8) {
            0 => rng.pick(&["~rc", "~beta", "~", "~~"]).to_owned(),
            1 => rng.pick(&["+dfsg", "+b", "+", "+really"]).to_owned(),
            2 => rng.pick(&["a", "b", "z", "A"]).to_owned(),
            _ => format!(".{}", rng.number()),
        };
        v.push_str(&piece);
        if rng.chance(50) {
            v.push_str(&rng.number());
        }
    }
    if rng.chance(60) {
        v.push('-');
        v.push_str(&rng.number());
        if rng.chance(40) {
            v.push_str(rng.pick(&[
                "+deb11u", "~deb12u", "ubuntu", "ubuntu0.", "+b", "~bpo", ".",
            ]));
            v.push_str(&rng.number());
        }
    }
    v
}

#[test]
fn dpkg_agrees_with_dpkg_compare_versions() {
    if !tool_works("dpkg", &["--compare-versions", "1", "lt", "2"]) {
        eprintln!("skipped: dpkg --compare-versions is not available");
        return;
    }
    let mut rng = Rng(0x5EED_D9C6);
    let pairs: Vec<(String, String)> = (0..500)
        .map(|_| {
            let a = dpkg_version(&mut rng);
            // Half the pairs share a prefix, so that they are close.
            let b = if rng.chance(50) {
                let cut = rng.below(a.len()) + 1;
                let mut b = a[..cut].trim_end_matches(['-', ':']).to_owned();
                b.push_str(&dpkg_version(&mut rng)[1..]);
                if b.matches('-').count() > 1 || b.ends_with('-') || b.contains(":-") {
                    dpkg_version(&mut rng)
                } else {
                    b
                }
            } else {
                dpkg_version(&mut rng)
            };
            (a, b)
        })
        .filter(|(a, b)| Scheme::Dpkg.is_valid(a) && Scheme::Dpkg.is_valid(b))
        .collect();
    assert!(pairs.len() > 400, "generator produced too few valid pairs");
    let reference: Vec<Ordering> = pairs
        .iter()
        .map(|(a, b)| {
            let holds = |op: &str| {
                Command::new("dpkg")
                    .args(["--compare-versions", a, op, b])
                    .stderr(Stdio::null())
                    .status()
                    .unwrap()
                    .success()
            };
            if holds("lt") {
                Ordering::Less
            } else if holds("eq") {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        })
        .collect();
    assert_agrees(Scheme::Dpkg, &pairs, &reference, "dpkg");
}

// ------------------------------------------------------------- PEP 440

fn pep440_version(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.chance(10) {
        v.push_str(rng.pick(&["v", "V"]));
    }
    if rng.chance(10) {
        v.push_str(rng.pick(&["1!", "0!", "2!"]));
    }
    v.push_str(&rng.number());
    for _ in 0..rng.below(4) {
        v.push('.');
        v.push_str(&rng.number());
    }
    if rng.chance(40) {
        v.push_str(rng.pick(&["", ".", "-", "_"]));
        v.push_str(rng.pick(&["a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "RC"]));
        if rng.chance(80) {
            v.push_str(&rng.number());
        }
    }
    if rng.chance(30) {
        match rng.below(3) {
            0 => v.push_str(&format!("-{}", rng.number())),
            _ => {
                v.push_str(rng.pick(&[".", "-", "_", ""]));
                v.push_str(rng.pick(&["post", "rev", "r", "POST"]));
                if rng.chance(80) {
                    v.push_str(&rng.number());
                }
            }
        }
    }
    if rng.chance(30) {
        v.push_str(rng.pick(&[".", "-", "_", ""]));
        v.push_str(rng.pick(&["dev", "DEV"]));
        if rng.chance(80) {
            v.push_str(&rng.number());
        }
    }
    if rng.chance(20) {
        v.push('+');
        v.push_str(rng.pick(&["ubuntu", "cu118", "1", "abc", "local", "007", "Build"]));
        for _ in 0..rng.below(3) {
            v.push_str(rng.pick(&[".", "-", "_"]));
            v.push_str(rng.pick(&["1", "2", "a", "b10", "01"]));
        }
    }
    v
}

fn python_with_packaging() -> Option<&'static str> {
    const PROBE: &str = "try:\n import packaging.version\nexcept ImportError:\n import pip._vendor.packaging.version\n";
    tool_works("python3", &["-c", PROBE]).then_some("python3")
}

#[test]
fn pep440_agrees_with_packaging() {
    let Some(python) = python_with_packaging() else {
        eprintln!("skipped: python3 with packaging (or pip's vendored copy) is not available");
        return;
    };
    let mut rng = Rng(0x009E_9440);
    let pairs: Vec<(String, String)> = (0..2000)
        .map(|_| (pep440_version(&mut rng), pep440_version(&mut rng)))
        .collect();
    for (a, b) in &pairs {
        assert!(Scheme::Pep440.is_valid(a), "generated {a:?} does not parse");
        assert!(Scheme::Pep440.is_valid(b), "generated {b:?} does not parse");
    }
    const SCRIPT: &str = r#"
import sys
try:
    from packaging.version import Version
except ImportError:
    from pip._vendor.packaging.version import Version
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    va, vb = Version(a), Version(b)
    print(-1 if va < vb else (1 if va > vb else 0), str(va), sep="\t")
"#;
    let input: String = pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect();
    let output = run_with_input(python, &["-c", SCRIPT], &input);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), pairs.len());
    let mut reference = Vec::new();
    for ((a, _), line) in pairs.iter().zip(&lines) {
        let (cmp, normalised) = line.split_once('\t').unwrap();
        reference.push(ordering_from(cmp));
        let ours = Scheme::Pep440.parse(a).unwrap().to_string();
        assert_eq!(ours, normalised, "normal form of {a:?}");
    }
    assert_agrees(Scheme::Pep440, &pairs, &reference, "packaging");
}

// --------------------------------------------------------------- semver

fn semver_version(rng: &mut Rng) -> String {
    let num = |rng: &mut Rng| {
        rng.pick(&["0", "1", "2", "9", "10", "11", "100"])
            .to_owned()
    };
    let mut v = format!("{}.{}.{}", num(rng), num(rng), num(rng));
    if rng.chance(10) {
        v.insert(0, 'v');
    }
    if rng.chance(50) {
        v.push('-');
        for i in 0..rng.below(3) + 1 {
            if i > 0 {
                v.push('.');
            }
            v.push_str(rng.pick(&[
                "alpha", "beta", "rc", "0", "1", "2", "10", "a-b", "-", "A", "x1", "1a",
            ]));
        }
    }
    if rng.chance(20) {
        v.push('+');
        v.push_str(rng.pick(&["build", "001", "sha.5114f85", "x-y"]));
    }
    v
}

fn node_semver_path() -> Option<String> {
    let out = Command::new("npm").args(["root", "-g"]).output().ok()?;
    let root = String::from_utf8(out.stdout).ok()?;
    let path = Path::new(root.trim()).join("npm/node_modules/semver");
    (path.join("package.json").exists() && tool_works("node", &["--version"]))
        .then(|| path.to_string_lossy().into_owned())
}

#[test]
fn semver_agrees_with_node_semver() {
    let Some(path) = node_semver_path() else {
        eprintln!("skipped: node and npm's bundled semver are not available");
        return;
    };
    let mut rng = Rng(0x0005_E3E4);
    let pairs: Vec<(String, String)> = (0..2000)
        .map(|_| (semver_version(&mut rng), semver_version(&mut rng)))
        .collect();
    let script = format!(
        r#"const semver = require({path:?});
const lines = require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean);
for (const line of lines) {{ const [a, b] = line.split("\t"); console.log(semver.compare(a, b)); }}"#
    );
    let input: String = pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect();
    let output = run_with_input("node", &["-e", &script], &input);
    let reference: Vec<Ordering> = output.lines().map(ordering_from).collect();
    assert_agrees(Scheme::Semver, &pairs, &reference, "node-semver");
}

// ---------------------------------------------------------------- Maven

const MAVEN_JAR: &str = "/usr/share/maven/lib/maven-artifact-3.x.jar";

fn maven_version(rng: &mut Rng) -> String {
    let mut v = rng.number();
    for _ in 0..rng.below(6) {
        v.push_str(rng.pick(&[".", "-", "", ".", "-"]));
        let token = match rng.below(3) {
            0 => rng.number(),
            _ => rng
                .pick(&[
                    "alpha",
                    "beta",
                    "milestone",
                    "rc",
                    "cr",
                    "snapshot",
                    "SNAPSHOT",
                    "ga",
                    "final",
                    "Final",
                    "release",
                    "sp",
                    "a",
                    "b",
                    "m",
                    "x",
                    "foo",
                    "jre",
                    "RC",
                    "M",
                ])
                .to_owned(),
        };
        v.push_str(&token);
    }
    v
}

#[test]
fn maven_agrees_with_comparable_version() {
    if !Path::new(MAVEN_JAR).exists() || !tool_works("java", &["-version"]) {
        eprintln!("skipped: java and {MAVEN_JAR} are not available");
        return;
    }
    let mut rng = Rng(0x0003_A7E4);
    let pairs: Vec<(String, String)> = (0..1500)
        .map(|_| {
            let a = maven_version(&mut rng);
            let b = if rng.chance(40) {
                format!(
                    "{a}{}",
                    maven_version(&mut rng).trim_start_matches(char::is_numeric)
                )
            } else {
                maven_version(&mut rng)
            };
            (a, b)
        })
        .collect();
    // ComparableVersion's main() compares each argument with the next.
    let args: Vec<&str> = pairs
        .iter()
        .flat_map(|(a, b)| [a.as_str(), b.as_str()])
        .collect();
    let out = Command::new("java")
        .args([
            "-cp",
            MAVEN_JAR,
            "org.apache.maven.artifact.versioning.ComparableVersion",
        ])
        .args(&args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let comparisons: Vec<&str> = stdout.lines().filter(|l| l.starts_with("   ")).collect();
    assert_eq!(comparisons.len(), args.len() - 1);
    let reference: Vec<Ordering> = pairs
        .iter()
        .enumerate()
        .map(|(i, (a, b))| {
            let fields: Vec<&str> = comparisons[2 * i].split_whitespace().collect();
            assert_eq!((fields[0], fields[2]), (a.as_str(), b.as_str()));
            ordering_from(fields[1])
        })
        .collect();
    assert_agrees(Scheme::Maven, &pairs, &reference, "ComparableVersion");
    // Canonical forms, too.
    let canonical: Vec<&str> = stdout
        .lines()
        .filter_map(|l| {
            l.split_once(" -> ")?
                .1
                .split_once("; tokens:")
                .map(|(c, _)| c)
        })
        .collect();
    assert_eq!(canonical.len(), args.len());
    for (input, want) in args.iter().zip(canonical) {
        let ours = input
            .parse::<palisade_vulndb::MavenVersion>()
            .unwrap()
            .canonical();
        assert_eq!(ours, want, "canonical form of {input}");
    }
}
