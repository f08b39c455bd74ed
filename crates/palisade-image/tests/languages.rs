//! Behaviour tests for the language catalogers: a Debian-based image with
//! Python distributions in three places and an npm app, read end to end
//! from an OCI layout; whiteouts of distribution directories; and
//! cross-checks against pip and npm on this machine.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use palisade_image::catalog::python::normalize_name;
use palisade_image::{inventory, ImageRef, Inventory, NoProgress, ScanOptions};
use palisade_testkit::{BuiltImage, ImageBuilder, Layer};

fn scan(reference: &str) -> Inventory {
    inventory(
        &ImageRef::parse(reference).expect("reference parses"),
        &ScanOptions::default(),
        &NoProgress,
    )
    .unwrap_or_else(|e| panic!("{reference}: {e}"))
}

fn scan_image(img: &BuiltImage) -> Inventory {
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), "t").unwrap();
    scan(&format!("oci:{}:t", dir.path().display()))
}

/// (name, version, ecosystem, path), in inventory order.
fn rows(inv: &Inventory) -> Vec<(String, String, String, String)> {
    inv.packages
        .iter()
        .map(|p| {
            (
                p.name.to_string(),
                p.version.to_string(),
                p.ecosystem.to_string(),
                p.path.clone(),
            )
        })
        .collect()
}

fn row(name: &str, version: &str, eco: &str, path: &str) -> (String, String, String, String) {
    (name.into(), version.into(), eco.into(), path.into())
}

fn metadata(name: &str, version: &str, license: &str) -> String {
    format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: fixture\n\
         License: {license}\nRequires-Python: >=3.7\n\n{name} long description\n"
    )
}

fn manifest(name: &str, version: &str) -> String {
    format!(
        "{{\n  \"name\": \"{name}\",\n  \"version\": \"{version}\",\n  \"license\": \"MIT\"\n}}\n"
    )
}

const DIST: &str = "usr/lib/python3/dist-packages";

const STATUS: &str = "\
Package: base-files
Status: install ok installed
Priority: required
Architecture: amd64
Version: 12.4+deb12u5

Package: python3-urllib3
Status: install ok installed
Architecture: all
Version: 1.26.12-1
";

/// package-lock v3 of the npm app: express and debug (with its nested ms)
/// are installed; cookie is declared but missing from node_modules; a dev
/// dependency was omitted at install time.
const WEB_LOCK: &str = r#"{
  "name": "web",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "web",
      "version": "1.0.0",
      "dependencies": {
        "@hapi/hoek": "^9.3.0",
        "cookie": "^0.5.0",
        "debug": "^2.6.9",
        "express": "^4.18.2"
      },
      "devDependencies": {
        "jest": "^29.7.0"
      }
    },
    "node_modules/@hapi/hoek": {
      "version": "9.3.0",
      "resolved": "https://registry.npmjs.org/@hapi/hoek/-/hoek-9.3.0.tgz",
      "license": "BSD-3-Clause"
    },
    "node_modules/cookie": {
      "version": "0.5.0",
      "resolved": "https://registry.npmjs.org/cookie/-/cookie-0.5.0.tgz",
      "license": "MIT"
    },
    "node_modules/debug": {
      "version": "2.6.9",
      "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz",
      "dependencies": {
        "ms": "2.0.0"
      }
    },
    "node_modules/debug/node_modules/ms": {
      "version": "2.0.0",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.0.0.tgz"
    },
    "node_modules/express": {
      "version": "4.18.2",
      "resolved": "https://registry.npmjs.org/express/-/express-4.18.2.tgz"
    },
    "node_modules/jest": {
      "version": "29.7.0",
      "resolved": "https://registry.npmjs.org/jest/-/jest-29.7.0.tgz",
      "dev": true
    }
  }
}
"#;

fn base_layer() -> Layer {
    Layer::new()
        .file(
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
        )
        .file("var/lib/dpkg/status", STATUS)
}

fn debian_python_layer() -> Layer {
    Layer::new()
        .file(
            format!("{DIST}/urllib3-1.26.12.dist-info/METADATA"),
            metadata("urllib3", "1.26.12", "MIT"),
        )
        .file(format!("{DIST}/urllib3-1.26.12.dist-info/RECORD"), "")
        .file(format!("{DIST}/urllib3/__init__.py"), "")
        .file(
            format!("{DIST}/typing_extensions-4.4.0.dist-info/METADATA"),
            metadata("typing_extensions", "4.4.0", "UNKNOWN"),
        )
}

fn app_layer() -> Layer {
    Layer::new()
        .file(
            "app/deps/requests-2.19.1.dist-info/METADATA",
            metadata("requests", "2.19.1", "Apache 2.0"),
        )
        .file("app/deps/requests-2.19.1.dist-info/INSTALLER", "pip\n")
        .file("app/deps/requests/__init__.py", "")
        .file("srv/web/package.json", manifest("web", "1.0.0"))
        .file("srv/web/package-lock.json", WEB_LOCK)
        .file("srv/web/node_modules/.package-lock.json", WEB_LOCK)
        .file(
            "srv/web/node_modules/express/package.json",
            manifest("express", "4.18.2"),
        )
        .file(
            "srv/web/node_modules/express/lib/package.json",
            "{\"type\": \"commonjs\"}",
        )
        .file(
            "srv/web/node_modules/debug/package.json",
            manifest("debug", "2.6.9"),
        )
        .file(
            "srv/web/node_modules/debug/node_modules/ms/package.json",
            manifest("ms", "2.0.0"),
        )
        .file(
            "srv/web/node_modules/@hapi/hoek/package.json",
            manifest("@hapi/hoek", "9.3.0"),
        )
}

#[test]
fn python_and_npm_packages_in_a_debian_image() {
    let img = ImageBuilder::new()
        .layer(base_layer())
        .layer(debian_python_layer())
        .layer(app_layer())
        .build()
        .unwrap();
    let inv = scan_image(&img);
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    assert_eq!(
        inv.artifact.os.as_ref().map(|o| o.family.as_str()),
        Some("debian")
    );
    assert_eq!(
        rows(&inv),
        [
            row(
                "base-files",
                "12.4+deb12u5",
                "Debian",
                "var/lib/dpkg/status"
            ),
            row(
                "python3-urllib3",
                "1.26.12-1",
                "Debian",
                "var/lib/dpkg/status"
            ),
            row(
                "requests",
                "2.19.1",
                "PyPI",
                "app/deps/requests-2.19.1.dist-info/METADATA"
            ),
            row(
                "typing-extensions",
                "4.4.0",
                "PyPI",
                &format!("{DIST}/typing_extensions-4.4.0.dist-info/METADATA")
            ),
            row(
                "urllib3",
                "1.26.12",
                "PyPI",
                &format!("{DIST}/urllib3-1.26.12.dist-info/METADATA")
            ),
            row(
                "@hapi/hoek",
                "9.3.0",
                "npm",
                "srv/web/node_modules/@hapi/hoek/package.json"
            ),
            row("cookie", "0.5.0", "npm", "srv/web/package-lock.json"),
            row(
                "debug",
                "2.6.9",
                "npm",
                "srv/web/node_modules/debug/package.json"
            ),
            row(
                "express",
                "4.18.2",
                "npm",
                "srv/web/node_modules/express/package.json"
            ),
            row(
                "ms",
                "2.0.0",
                "npm",
                "srv/web/node_modules/debug/node_modules/ms/package.json"
            ),
        ]
    );
    let layers = img.layer_digests();
    let layer_of = |name: &str| {
        inv.packages
            .iter()
            .find(|p| p.name.as_str() == name)
            .and_then(|p| p.layer.as_ref())
            .map(ToString::to_string)
    };
    assert_eq!(layer_of("urllib3"), Some(layers[1].to_string()));
    assert_eq!(layer_of("requests"), Some(layers[2].to_string()));
    assert_eq!(layer_of("cookie"), Some(layers[2].to_string()));
    let purl = |name: &str| {
        inv.packages
            .iter()
            .find(|p| p.name.as_str() == name)
            .map(|p| p.purl.clone())
            .unwrap()
    };
    assert_eq!(purl("requests"), "pkg:pypi/requests@2.19.1");
    assert_eq!(
        purl("typing-extensions"),
        "pkg:pypi/typing-extensions@4.4.0"
    );
    assert_eq!(purl("@hapi/hoek"), "pkg:npm/%40hapi/hoek@9.3.0");
    assert_eq!(purl("cookie"), "pkg:npm/cookie@0.5.0");
}

#[test]
fn whiteouts_remove_distributions_and_packages() {
    let img = ImageBuilder::new()
        .layer(base_layer())
        .layer(debian_python_layer())
        .layer(app_layer())
        // `pip uninstall urllib3`, and the npm app's express removed.
        .layer(
            Layer::new()
                .whiteout(&format!("{DIST}/urllib3-1.26.12.dist-info"))
                .whiteout(&format!("{DIST}/urllib3"))
                .whiteout("srv/web/node_modules/express"),
        )
        .build()
        .unwrap();
    let inv = scan_image(&img);
    let names: Vec<String> = inv
        .packages
        .iter()
        .filter(|p| p.ecosystem.as_str() != "Debian")
        .map(|p| format!("{}@{} {}", p.name, p.version, p.path))
        .collect();
    assert_eq!(
        names,
        [
            "requests@2.19.1 app/deps/requests-2.19.1.dist-info/METADATA",
            "typing-extensions@4.4.0 usr/lib/python3/dist-packages/typing_extensions-4.4.0.dist-info/METADATA",
            "@hapi/hoek@9.3.0 srv/web/node_modules/@hapi/hoek/package.json",
            "cookie@0.5.0 srv/web/package-lock.json",
            "debug@2.6.9 srv/web/node_modules/debug/package.json",
            // No longer installed: the lock declares it.
            "express@4.18.2 srv/web/package-lock.json",
            "ms@2.0.0 srv/web/node_modules/debug/node_modules/ms/package.json",
        ]
    );

    // An opaque whiteout over the whole dist-packages directory.
    let img = ImageBuilder::new()
        .layer(base_layer())
        .layer(debian_python_layer())
        .layer(Layer::new().opaque_whiteout(DIST))
        .build()
        .unwrap();
    let inv = scan_image(&img);
    assert!(inv
        .packages
        .iter()
        .all(|p| p.ecosystem.as_str() == "Debian"));
}

/// Copy `src` (a directory tree) into `dst`.
fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let ty = entry.file_type().unwrap();
        let to = dst.join(entry.file_name());
        if ty.is_dir() {
            copy_tree(&entry.path(), &to);
        } else if ty.is_file() {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

fn tool_output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn python_inventory_matches_pip_list_on_this_machine() {
    let Some(site) = tool_output(
        Command::new("python3").args(["-c", "import site; print(site.getsitepackages()[0])"]),
    ) else {
        eprintln!("skipped: python3 is not available");
        return;
    };
    let site = Path::new(site.trim());
    let root = tempfile::tempdir().unwrap();
    let copy = root.path().join("usr/local/lib/python3/site-packages");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(site).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let ty = entry.file_type().unwrap();
        if name.ends_with(".dist-info") && ty.is_dir() {
            copy_tree(&entry.path(), &copy.join(&name));
        } else if name.ends_with(".egg-info") {
            if ty.is_dir() {
                copy_tree(&entry.path(), &copy.join(&name));
            } else if ty.is_file() {
                std::fs::copy(entry.path(), copy.join(&name)).unwrap();
            }
        }
    }
    let listed = tool_output(Command::new("python3").args([
        "-m",
        "pip",
        "list",
        "--disable-pip-version-check",
        "--no-color",
        "--format",
        "json",
        "--path",
        copy.to_str().unwrap(),
    ]))
    .expect("pip list runs");
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    let want: BTreeSet<(String, String)> = listed
        .iter()
        .map(|d| {
            (
                normalize_name(d["name"].as_str().unwrap()),
                d["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(!want.is_empty(), "pip lists the copied distributions");
    let inv = scan(&format!("dir:{}", root.path().display()));
    let got: BTreeSet<(String, String)> = inv
        .packages
        .iter()
        .filter(|p| p.ecosystem.as_str() == "PyPI")
        .map(|p| (p.name.to_string(), p.version.to_string()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        inv.packages.len(),
        want.len(),
        "one package per distribution"
    );
}

#[test]
fn npm_inventory_matches_npm_query_on_this_machine() {
    // npm's own installation is a real node_modules tree; `npm query "*"`
    // lists every package in it as arborist loads it.
    let Some(root_g) = tool_output(Command::new("npm").args(["root", "-g"])) else {
        eprintln!("skipped: npm is not available");
        return;
    };
    let npm_dir = Path::new(root_g.trim()).join("npm");
    if !npm_dir.join("node_modules").is_dir() {
        eprintln!("skipped: npm has no bundled node_modules");
        return;
    }
    let Some(queried) = tool_output(
        Command::new("npm")
            .args(["query", "*", "--no-workspaces"])
            .current_dir(&npm_dir),
    ) else {
        eprintln!("skipped: npm query is not available");
        return;
    };
    let queried: Vec<serde_json::Value> = serde_json::from_str(&queried).unwrap();
    let want: BTreeSet<(String, String, String)> = queried
        .iter()
        .filter(|p| p["location"].as_str().is_some_and(|l| !l.is_empty()))
        .filter(|p| p["link"].as_bool() != Some(true))
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
                format!("npm/{}/package.json", p["location"].as_str().unwrap()),
            )
        })
        .collect();
    assert!(!want.is_empty());
    // Copy only the manifests, in place, under an image root.
    let root = tempfile::tempdir().unwrap();
    let mut stack = vec![npm_dir.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let ty = entry.file_type().unwrap();
            if ty.is_dir() {
                stack.push(entry.path());
            } else if ty.is_file() && entry.file_name() == "package.json" {
                let rel = entry.path().strip_prefix(&npm_dir).unwrap().to_path_buf();
                let to = root.path().join("npm").join(rel);
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(entry.path(), to).unwrap();
            }
        }
    }
    let inv = scan(&format!("dir:{}", root.path().display()));
    let got: BTreeSet<(String, String, String)> = inv
        .packages
        .iter()
        .filter(|p| p.ecosystem.as_str() == "npm")
        .map(|p| (p.name.to_string(), p.version.to_string(), p.path.clone()))
        .collect();
    assert_eq!(got, want);
}
