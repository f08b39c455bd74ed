use super::*;
use crate::fs::FsView;

fn run(fs: &FsView) -> CatalogOutput {
    let mut out = CatalogOutput::default();
    NodeCataloger.catalog(&CatalogContext { fs, os: None }, &mut out);
    out
}

fn rows(out: &CatalogOutput) -> Vec<(&str, &str, &str)> {
    let mut r: Vec<_> = out
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.path.as_str()))
        .collect();
    r.sort();
    r
}

fn manifest(name: &str, version: &str) -> String {
    format!(
        r#"{{
  "name": "{name}",
  "version": "{version}",
  "description": "fixture",
  "main": "index.js",
  "license": "MIT",
  "_resolved": "https://registry.npmjs.org/{name}/-/x-{version}.tgz"
}}
"#
    )
}

#[test]
fn installed_manifest_paths() {
    for (path, want) in [
        ("app/node_modules/a/package.json", Some("a")),
        ("app/node_modules/@scope/b/package.json", Some("@scope/b")),
        ("app/node_modules/a/node_modules/c/package.json", Some("c")),
        ("node_modules/a/package.json", Some("a")),
        (
            "app/node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/package.json",
            Some("lodash"),
        ),
        (
            "usr/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json",
            Some("@npmcli/arborist"),
        ),
        ("app/node_modules/a/lib/package.json", None),
        ("app/node_modules/@scope/b/lib/package.json", None),
        ("app/node_modules/@scope/package.json", None),
        ("app/node_modules/.bin/package.json", None),
        ("app/node_modules/package.json", None),
        ("app/package.json", None),
        ("package.json", None),
        ("app/xnode_modules/a/package.json", None),
        ("app/node_modules/@/b/package.json", None),
        ("app/node_modules//package.json", None),
    ] {
        assert_eq!(installed_dir_name(path), want, "{path}");
        assert_eq!(NodeCataloger.wants(path), want.is_some(), "{path}");
    }
}

#[test]
fn lock_paths() {
    for (path, want) in [
        ("app/package-lock.json", Some(LockKind::PackageLock)),
        ("package-lock.json", Some(LockKind::PackageLock)),
        ("srv/npm-shrinkwrap.json", Some(LockKind::Shrinkwrap)),
        ("srv/web/yarn.lock", Some(LockKind::Yarn)),
        ("srv/web/pnpm-lock.yaml", Some(LockKind::Pnpm)),
        ("app/node_modules/.package-lock.json", None),
        ("app/node_modules/a/yarn.lock", None),
        ("node_modules/a/package-lock.json", None),
        ("app/package-lock.json.bak", None),
        ("app/yarn.lock/x", None),
    ] {
        assert_eq!(LockKind::of(path), want, "{path}");
        assert_eq!(NodeCataloger.wants(path), want.is_some(), "{path}");
    }
}

#[test]
fn package_json_fields() {
    let m = parse_package_json(manifest("@scope/b", "2.0.0").as_bytes()).unwrap();
    assert_eq!(
        m,
        Manifest {
            name: Some("@scope/b".into()),
            version: "2.0.0".into(),
            licenses: vec!["MIT".into()],
        }
    );
    let m = parse_package_json(
        br#"{"version": "0.1.0", "license": {"type": "BSD-3-Clause", "url": "x"}}"#,
    )
    .unwrap();
    assert_eq!(m.name, None);
    assert_eq!(m.licenses, ["BSD-3-Clause"]);
    let m = parse_package_json(
        b"\xef\xbb\xbf{\"name\": \"old\", \"version\": \"1.0.0\", \"licenses\": [{\"type\": \"MIT\"}, \"Apache-2.0\", 3]}",
    )
    .unwrap();
    assert_eq!(m.licenses, ["MIT", "Apache-2.0"]);

    assert!(matches!(
        parse_package_json(b"{"),
        Err(ManifestError::InvalidJson(_))
    ));
    assert_eq!(parse_package_json(b"[]"), Err(ManifestError::NotAnObject));
    assert_eq!(
        parse_package_json(br#"{"name": "a"}"#),
        Err(ManifestError::MissingVersion)
    );
    assert_eq!(
        parse_package_json(br#"{"name": "a", "version": 1}"#),
        Err(ManifestError::MissingVersion)
    );
    assert_eq!(
        parse_package_json(br#"{"name": "a b", "version": "1"}"#),
        Err(ManifestError::InvalidName("a b".into()))
    );
    assert_eq!(
        parse_package_json(br#"{"name": "a", "version": "git+https://x/y"}"#),
        Err(ManifestError::InvalidVersion("git+https://x/y".into()))
    );
    // Unknown members are skipped whatever their shape or depth.
    let deep = format!(
        r#"{{"name": "a", "readme": {}0{}, "version": "1.0.0", "license": ["x"], "licenses": {{"type": "y"}}}}"#,
        "[{\"k\": ".repeat(200_000),
        "}]".repeat(200_000)
    );
    let m = parse_package_json(deep.as_bytes()).unwrap();
    assert_eq!(
        (m.name.as_deref(), m.version.as_str()),
        (Some("a"), "1.0.0")
    );
    assert_eq!(m.licenses, ["y"], "an array `license` is not a licence");
    let big = vec![b' '; MAX_MANIFEST_SIZE + 1];
    assert!(matches!(
        parse_package_json(&big),
        Err(ManifestError::TooLarge { .. })
    ));
}

#[test]
fn names_and_specs() {
    for (name, ok) in [
        ("a", true),
        ("@scope/b", true),
        ("JSONStream", true),
        ("@scope", false),
        ("@scope/", false),
        ("@/b", false),
        ("a/b", false),
        ("@s/b/c", false),
        (".hidden", false),
        ("", false),
        ("a b", false),
    ] {
        assert_eq!(is_valid_name(name), ok, "{name}");
    }
    assert!(!is_valid_name(&"a".repeat(215)));
    assert_eq!(split_name("a@^1"), Some(("a", "^1")));
    assert_eq!(split_name("@s/b@npm:c@1"), Some(("@s/b", "npm:c@1")));
    assert_eq!(split_name("@s/b"), None);
    assert_eq!(split_name("@"), None);
    assert_eq!(split_name("@@"), None);
    assert_eq!(split_name(""), None);
}

#[test]
fn installed_tree_and_lock_together() {
    let lock = super::package_lock::tests::LOCK_V3;
    let fs = FsView::from_files([
        ("srv/app/package.json", manifest("monorepo", "1.0.0")),
        ("srv/app/package-lock.json", lock.to_string()),
        // Installed: @types/node (dev, kept since installed), left-pad via
        // its alias directory, and a nested copy.
        (
            "srv/app/node_modules/@types/node/package.json",
            manifest("@types/node", "20.10.0"),
        ),
        (
            "srv/app/node_modules/pad/package.json",
            manifest("left-pad", "1.3.0"),
        ),
        (
            "srv/app/node_modules/pad/node_modules/ms/package.json",
            manifest("ms", "2.0.0"),
        ),
        (
            "srv/app/node_modules/pad/lib/package.json",
            r#"{"type": "module"}"#.to_string(),
        ),
        ("srv/app/node_modules/.package-lock.json", lock.to_string()),
    ]);
    let out = run(&fs);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    // undici-types (dev) and fsevents (optional) are in the lock but not
    // installed: omitted at install time, not reported.
    assert_eq!(
        rows(&out),
        [
            (
                "@types/node",
                "20.10.0",
                "srv/app/node_modules/@types/node/package.json"
            ),
            ("left-pad", "1.3.0", "srv/app/node_modules/pad/package.json"),
            (
                "ms",
                "2.0.0",
                "srv/app/node_modules/pad/node_modules/ms/package.json"
            ),
        ]
    );
    let types = out
        .packages
        .iter()
        .find(|p| p.name.as_str() == "@types/node")
        .unwrap();
    assert_eq!(types.purl, "pkg:npm/%40types/node@20.10.0");
    assert_eq!(types.ecosystem.as_str(), "npm");
    assert_eq!(types.licenses, ["MIT"]);
}

#[test]
fn lock_without_installed_tree_declares_everything() {
    let fs = FsView::from_files([
        ("a/package-lock.json", super::package_lock::tests::LOCK_V3),
        ("b/package-lock.json", super::package_lock::tests::LOCK_V1),
    ]);
    let out = run(&fs);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(
        rows(&out),
        [
            ("@types/node", "14.18.63", "b/package-lock.json"),
            ("@types/node", "20.10.0", "a/package-lock.json"),
            ("debug", "2.6.9", "b/package-lock.json"),
            ("fsevents", "2.3.3", "a/package-lock.json"),
            ("left-pad", "1.3.0", "a/package-lock.json"),
            ("left-pad", "1.3.0", "b/package-lock.json"),
            ("ms", "2.0.0", "b/package-lock.json"),
            ("ms", "2.1.3", "b/package-lock.json"),
            ("undici-types", "5.26.5", "a/package-lock.json"),
        ]
    );
    let pad = out
        .packages
        .iter()
        .find(|p| p.path == "a/package-lock.json" && p.name.as_str() == "left-pad")
        .unwrap();
    assert_eq!(pad.purl, "pkg:npm/left-pad@1.3.0");
    assert_eq!(pad.licenses, ["WTFPL"]);
}

#[test]
fn one_project_lists_a_package_once() {
    // v2 lists ms@2.0.0 once nested; the same project's yarn.lock and
    // pnpm-lock.yaml repeat packages: each name@version is reported once,
    // from the first lock read (package-lock, then pnpm, then yarn).
    let fs = FsView::from_files([
        ("w/package-lock.json", super::package_lock::tests::LOCK_V2),
        (
            "w/yarn.lock",
            "ms@^2.1.3:\n  version \"2.1.3\"\n\nchalk@^2:\n  version \"2.4.2\"\n",
        ),
        (
            "w/pnpm-lock.yaml",
            "lockfileVersion: '9.0'\n\npackages:\n\n  ms@2.1.3:\n    resolution: {integrity: sha512-x}\n\n  chalk@2.4.2:\n    resolution: {integrity: sha512-y}\n",
        ),
    ]);
    let out = run(&fs);
    assert_eq!(
        rows(&out),
        [
            ("chalk", "2.4.2", "w/pnpm-lock.yaml"),
            ("debug", "2.6.9", "w/package-lock.json"),
            ("ms", "2.0.0", "w/package-lock.json"),
            ("ms", "2.1.3", "w/package-lock.json"),
        ]
    );
}

#[test]
fn yarn_and_pnpm_projects() {
    let fs = FsView::from_files([
        ("y1/yarn.lock", super::yarn::tests::YARN_V1),
        ("y2/yarn.lock", super::yarn::tests::YARN_BERRY),
        ("p9/pnpm-lock.yaml", super::pnpm::tests::PNPM_V9),
        // pnpm's installed layout: the real copy under .pnpm.
        (
            "p9/node_modules/.pnpm/react@18.2.0/node_modules/react/package.json",
            &manifest("react", "18.2.0"),
        ),
    ]);
    let out = run(&fs);
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let r = rows(&out);
    assert_eq!(r.len(), 4 + 3 + 4, "{r:?}");
    assert!(r.contains(&(
        "react",
        "18.2.0",
        "p9/node_modules/.pnpm/react@18.2.0/node_modules/react/package.json"
    )));
    assert!(!r.contains(&("react", "18.2.0", "p9/pnpm-lock.yaml")));
    assert!(r.contains(&("react-dom", "18.2.0", "p9/pnpm-lock.yaml")));
    assert!(r.contains(&("@babel/code-frame", "7.22.13", "y2/yarn.lock")));
    assert!(r.contains(&("string-width", "4.2.3", "y1/yarn.lock")));
    let babel = out
        .packages
        .iter()
        .find(|p| p.path == "p9/pnpm-lock.yaml" && p.name.as_str() == "@babel/code-frame")
        .unwrap();
    assert_eq!(babel.purl, "pkg:npm/%40babel/code-frame@7.23.5");
}

#[test]
fn broken_files_become_warnings() {
    let fs = FsView::from_files([
        ("app/node_modules/a/package.json", "{ not json"),
        ("app/node_modules/b/package.json", r#"{"name": "b"}"#),
        // No name: the directory names the package.
        (
            "app/node_modules/@s/c/package.json",
            r#"{"version": "3.0.0"}"#,
        ),
        ("app/package-lock.json", "[1, 2"),
        ("app/yarn.lock", "\u{ff}"),
    ]);
    let mut fs = fs;
    fs.insert_file(
        "app/pnpm-lock.yaml".into(),
        std::sync::Arc::from(&b"packages:\n  /x@1:\n\xff"[..]),
        None,
    );
    let out = run(&fs);
    assert_eq!(
        rows(&out),
        [("@s/c", "3.0.0", "app/node_modules/@s/c/package.json")]
    );
    assert_eq!(out.packages[0].purl, "pkg:npm/%40s/c@3.0.0");
    let locations: Vec<&str> = out.warnings.iter().map(|w| w.location.as_str()).collect();
    assert_eq!(
        locations,
        [
            "app/node_modules/a/package.json",
            "app/node_modules/b/package.json",
            "app/package-lock.json",
            "app/pnpm-lock.yaml",
            "app/yarn.lock",
        ]
    );
}

#[test]
fn one_directory_reached_twice_is_one_package() {
    let mut fs = FsView::from_files([
        (
            "opt/app/node_modules/a/package.json",
            manifest("a", "1.0.0"),
        ),
        ("srv/node_modules/a/package.json", manifest("a", "1.0.0")),
    ]);
    // `srv -> opt/app`: a later layer wrote through the link.
    fs.insert_symlink("srv".into(), "opt/app".into(), None);
    let out = run(&fs);
    assert_eq!(
        rows(&out),
        [("a", "1.0.0", "opt/app/node_modules/a/package.json")]
    );
}

#[test]
fn registry_name() {
    assert_eq!(NodeCataloger.name(), "npm");
}
