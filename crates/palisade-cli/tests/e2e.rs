//! End to end, on real packages: a Debian bookworm minbase root filesystem
//! (debootstrap), a layer of old Python packages (`pip install --target`)
//! and a layer with an old npm project (`npm install`), packed as an OCI
//! image (umoci), pushed to a real registry and scanned by reference with a
//! database built from `../shared/data`. The report must carry the
//! advisories the shared OSV data lists for those versions, in every format.
//!
//! Needs the network to the package registries (Debian, PyPI, npm) and
//! root for debootstrap. It runs when `PALISADE_E2E=1` (the test command
//! sets it) and must then pass; otherwise it is skipped with a note.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_testkit::{RegistryOptions, TestRegistry};

fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn shared_data() -> PathBuf {
    std::env::var_os("PALISADE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
}

/// A bookworm minbase rootfs, cached across runs as a tarball.
fn bookworm_rootfs(work: &Path) -> PathBuf {
    let cache = dirs_cache().join("e2e");
    std::fs::create_dir_all(&cache).unwrap();
    let tarball = cache.join("bookworm-minbase.tar");
    let root = work.join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    if !tarball.is_file() {
        let tmp = work.join("debootstrap");
        sh(Command::new("debootstrap")
            .args(["--variant=minbase", "bookworm"])
            .arg(&tmp)
            .arg("http://deb.debian.org/debian"));
        sh(Command::new("tar")
            .arg("-C")
            .arg(&tmp)
            .arg("-cf")
            .arg(&tarball)
            .arg("."));
    }
    sh(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-xf")
        .arg(&tarball));
    root
}

fn dirs_cache() -> PathBuf {
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".cache/palisade"))
        .unwrap_or_else(|| std::env::temp_dir().join("palisade-cache"))
}

#[test]
fn bookworm_python_npm_image_by_reference() {
    if std::env::var("PALISADE_E2E").as_deref() != Ok("1") {
        eprintln!("skipped: set PALISADE_E2E=1 (needs network to the package registries and root)");
        return;
    }
    let data = shared_data();
    assert!(
        data.join("osv/PyPI/all.zip").is_file(),
        "shared data missing at {}",
        data.display()
    );
    let work = tempfile::tempdir().unwrap();
    let w = work.path();

    let rootfs = bookworm_rootfs(w);
    let py = w.join("py");
    sh(Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
        ])
        .arg(py.join("app/pydeps"))
        .args(["requests==2.19.1", "urllib3==1.23"]));
    let js = w.join("js/app/web");
    std::fs::create_dir_all(&js).unwrap();
    std::fs::write(
        js.join("package.json"),
        r#"{"name":"web","version":"1.0.0","private":true,"dependencies":{"lodash":"4.17.4","marked":"0.3.5"}}"#,
    )
    .unwrap();
    sh(Command::new("npm")
        .args([
            "install",
            "--silent",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
        ])
        .current_dir(&js));

    let layout = w.join("layout");
    sh(Command::new("umoci")
        .arg("init")
        .arg("--layout")
        .arg(&layout));
    let image = format!("{}:e2e", layout.display());
    sh(Command::new("umoci").args(["new", "--image", &image]));
    sh(Command::new("umoci")
        .args(["insert", "--image", &image])
        .arg(&rootfs)
        .arg("/"));
    sh(Command::new("umoci")
        .args(["insert", "--image", &image])
        .arg(py.join("app"))
        .arg("/app"));
    sh(Command::new("umoci")
        .args(["insert", "--image", &image])
        .arg(w.join("js/app"))
        .arg("/app"));

    let reg = TestRegistry::start(RegistryOptions::plain()).unwrap();
    reg.push(&layout, "e2e", "e2e/app:1").unwrap();
    let reference = format!("{}/e2e/app:1", reg.host_port());

    let db = w.join("db");
    let bin = env!("CARGO_BIN_EXE_palisade");
    sh(Command::new(bin)
        .args(["db", "build", "--source"])
        .arg(&data)
        .arg("--db")
        .arg(&db));

    // JSON: the packages and the advisories.
    let out = Command::new(bin)
        .args([
            "image",
            "scan",
            &reference,
            "--insecure",
            "--no-cache",
            "--format",
            "json",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pkgs = v["packages"].as_array().unwrap();
    let has = |eco: &str, name: &str, version: &str| {
        pkgs.iter()
            .any(|p| p["ecosystem"] == eco && p["name"] == name && p["version"] == version)
    };
    assert!(has("PyPI", "requests", "2.19.1"), "requests found");
    assert!(has("PyPI", "urllib3", "1.23"), "urllib3 found");
    assert!(has("npm", "lodash", "4.17.4"), "lodash found");
    assert!(has("npm", "marked", "0.3.5"), "marked found");
    let debs = pkgs.iter().filter(|p| p["ecosystem"] == "Debian").count();
    assert!(debs > 50, "bookworm minbase has ~90 packages, found {debs}");
    let vulns = v["vulnerabilities"].as_array().unwrap();
    let found = |id: &str, pkg: &str| {
        vulns.iter().any(|x| {
            (x["id"] == id || x["aliases"].as_array().unwrap().iter().any(|a| a == id))
                && x["package"] == pkg
        })
    };
    // From the shared OSV data: requests < 2.20.0, lodash < 4.17.5, marked <= 0.3.5.
    assert!(found("PYSEC-2018-28", "requests"), "PYSEC-2018-28");
    assert!(found("NSWG-ECO-368", "lodash"), "NSWG-ECO-368");
    assert!(found("NSWG-ECO-101", "marked"), "NSWG-ECO-101");
    // The Debian data stops at Debian 11: nothing may match bookworm packages.
    assert!(
        !vulns.iter().any(|x| x["ecosystem"] == "Debian"),
        "no Debian advisory for bookworm"
    );

    // Every other format carries the same advisories.
    for (format, needle) in [
        ("table", "PYSEC-2018-28"),
        ("sarif", "NSWG-ECO-368"),
        ("cyclonedx", "PYSEC-2018-28"),
        ("spdx", "pkg:npm/lodash@4.17.4"),
    ] {
        let out = Command::new(bin)
            .args([
                "image",
                "scan",
                &reference,
                "--insecure",
                "--format",
                format,
                "--db",
            ])
            .arg(&db)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle), "{format} output names {needle}");
    }
}
