//! Behaviour test: an image holding a Go binary, a `cargo auditable` Rust
//! binary, a Spring Boot fat jar with nested jars, an installed gemspec, a
//! Composer `installed.json` and a .NET `deps.json` gives exactly their
//! packages, and the jar is only ever held as its small extract.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::io::{Cursor, Write};

use palisade_image::scan::{read_layers, CatalogSelector};
use palisade_image::source::OciLayoutSource;
use palisade_image::{catalog, inventory, ImageRef, Limits, NoProgress, Platform, ScanOptions};
use palisade_testkit::{ImageBuilder, Layer};

/// A minimal ELF64 little-endian executable with the given sections and a
/// section header table (no program headers: the catalogers find their
/// data by section name).
fn elf64(sections: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    let mut placed = Vec::new();
    for (_, data) in sections {
        while out.len() & 15 != 0 {
            out.push(0);
        }
        placed.push((out.len() as u64, data.len() as u64));
        out.extend_from_slice(data);
    }
    let mut shstrtab = vec![0u8];
    let mut names = Vec::new();
    for (name, _) in sections {
        names.push(shstrtab.len() as u32);
        shstrtab.extend_from_slice(name.as_bytes());
        shstrtab.push(0);
    }
    let shstr_name = shstrtab.len() as u32;
    shstrtab.extend_from_slice(b".shstrtab\0");
    let shstr_off = out.len() as u64;
    out.extend_from_slice(&shstrtab);
    while out.len() & 7 != 0 {
        out.push(0);
    }
    let shoff = out.len() as u64;
    let header = |out: &mut Vec<u8>, name: u32, kind: u32, offset: u64, size: u64| {
        out.extend_from_slice(&name.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // flags
        out.extend_from_slice(&0u64.to_le_bytes()); // addr
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // link, info
        out.extend_from_slice(&1u64.to_le_bytes()); // addralign
        out.extend_from_slice(&0u64.to_le_bytes()); // entsize
    };
    header(&mut out, 0, 0, 0, 0);
    for (i, (offset, size)) in placed.iter().enumerate() {
        header(&mut out, names[i], 1, *offset, *size);
    }
    header(&mut out, shstr_name, 3, shstr_off, shstrtab.len() as u64);
    let shnum = sections.len() as u16 + 2;
    let h = &mut out[..64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // 64-bit
    h[5] = 1; // little-endian
    h[6] = 1;
    h[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    h[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[40..48].copy_from_slice(&shoff.to_le_bytes());
    h[52..54].copy_from_slice(&64u16.to_le_bytes());
    h[54..56].copy_from_slice(&56u16.to_le_bytes());
    h[58..60].copy_from_slice(&64u16.to_le_bytes());
    h[60..62].copy_from_slice(&shnum.to_le_bytes());
    h[62..64].copy_from_slice(&(shnum - 1).to_le_bytes());
    out
}

fn uvarint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A Go 1.18+ binary: inline build info in `.go.buildinfo`.
fn go_binary() -> Vec<u8> {
    let mod_info = "path\texample.com/svc/cmd/svc\n\
                    mod\texample.com/svc\t(devel)\t\n\
                    dep\tgithub.com/gorilla/mux\tv1.8.0\th1:i40aqfkR1h2SlN9hojwV5ZA91wcXFOvkdNIeFDP5koI=\n\
                    dep\tgolang.org/x/net\tv0.17.0\th1:pVaXccu1/Ed2g1d6HNk=\n\
                    =>\tgolang.org/x/net\tv0.23.0\th1:7mO0bX6gq1l8Jq+Sp0=\n\
                    build\t-compiler=gc\n";
    let mut framed = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
    framed.extend_from_slice(mod_info.as_bytes());
    framed.extend_from_slice(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
    let mut info = b"\xff Go buildinf:".to_vec();
    info.extend_from_slice(&[8, 2]);
    info.resize(32, 0);
    let version = b"go1.22.1";
    uvarint(version.len() as u64, &mut info);
    info.extend_from_slice(version);
    uvarint(framed.len() as u64, &mut info);
    info.extend_from_slice(&framed);
    elf64(&[(".text", &[0x90; 256]), (".go.buildinfo", &info)])
}

/// A `cargo auditable` binary.
fn rust_binary() -> Vec<u8> {
    let json = br#"{"packages":[{"name":"adler","version":"1.0.2","source":"crates.io"},{"name":"rapp","version":"0.1.0","source":"local","dependencies":[0,2],"root":true},{"name":"serde","version":"1.0.193","source":"crates.io"}]}"#;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(json).unwrap();
    let compressed = z.finish().unwrap();
    elf64(&[(".text", &[0xc3; 256]), (".dep-v0", &compressed)])
}

fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, stored) in entries {
        let method = if *stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        w.start_file(
            *name,
            SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn pom(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    format!("#Generated by Maven\ngroupId={group}\nartifactId={artifact}\nversion={version}\n")
        .into_bytes()
}

/// Pseudo-random bytes that do not compress: class files.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A Spring Boot executable jar of about 3 MiB: the application's own
/// pom.properties, classes, and stored nested jars (one built by Maven,
/// one by Gradle without pom.properties).
fn fat_jar() -> Vec<u8> {
    let jackson = zip(&[
        (
            "META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties",
            &pom("com.fasterxml.jackson.core", "jackson-databind", "2.15.3"),
            false,
        ),
        (
            "com/fasterxml/jackson/databind/ObjectMapper.class",
            &noise(100_000, 1),
            false,
        ),
    ]);
    let spring = zip(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nImplementation-Title: spring-core\nImplementation-Version: 6.1.2\n\n",
            false,
        ),
        ("org/springframework/core/SpringVersion.class", &noise(100_000, 2), false),
    ]);
    let classes = noise(3 << 20, 3);
    zip(&[
        (
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\nMain-Class: org.springframework.boot.loader.launch.JarLauncher\nStart-Class: com.acme.App\n\n",
            false,
        ),
        (
            "META-INF/maven/com.acme/app/pom.properties",
            &pom("com.acme", "app", "1.0.0"),
            false,
        ),
        ("BOOT-INF/classes/com/acme/App.class", &classes, false),
        ("BOOT-INF/lib/jackson-databind-2.15.3.jar", &jackson, true),
        ("BOOT-INF/lib/spring-core-6.1.2.jar", &spring, true),
    ])
}

const GEMSPEC: &str = "# -*- encoding: utf-8 -*-\n# stub: rack 3.0.8 ruby lib\n\nGem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"3.0.8\"\n  s.licenses = [\"MIT\".freeze]\nend\n";

const INSTALLED_JSON: &str = r#"{"packages": [
  {"name": "monolog/monolog", "version": "3.5.0", "type": "library", "license": ["MIT"]},
  {"name": "symfony/console", "version": "v6.4.1", "type": "library"}
], "dev": false, "dev-package-names": []}"#;

const DEPS_JSON: &str = r#"{"runtimeTarget": {"name": ".NETCoreApp,Version=v8.0"},
 "targets": {".NETCoreApp,Version=v8.0": {}},
 "libraries": {
   "WebApp/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
   "Newtonsoft.Json/13.0.1": {"type": "package", "serviceable": true, "sha512": "sha512-x", "path": "newtonsoft.json/13.0.1"}
 }}"#;

fn image(dir: &std::path::Path) -> usize {
    let jar = fat_jar();
    let jar_len = jar.len();
    let base = Layer::new()
        .file_with_mode("usr/local/bin/svc", go_binary(), 0o755)
        .file_with_mode("usr/bin/rapp", rust_binary(), 0o755)
        // Not executable: not offered to the binary catalogers.
        .file_with_mode("usr/lib/libnot-exec.so", go_binary(), 0o644)
        .file(
            "usr/local/bundle/specifications/rack-3.0.8.gemspec",
            GEMSPEC,
        )
        .file("var/www/vendor/composer/installed.json", INSTALLED_JSON)
        .file("app/net/WebApp.deps.json", DEPS_JSON);
    let top = Layer::new().file("app/app.jar", jar);
    ImageBuilder::new()
        .layer(base)
        .layer(top)
        .build()
        .unwrap()
        .write_oci_layout(dir, "t")
        .unwrap();
    jar_len
}

type Row = (String, String, String, String);

fn row(name: &str, version: &str, ecosystem: &str, path: &str) -> Row {
    (name.into(), version.into(), ecosystem.into(), path.into())
}

#[test]
fn language_packages_from_binaries_archives_and_manifests() {
    let dir = tempfile::tempdir().unwrap();
    image(dir.path());
    let inv = inventory(
        &ImageRef::parse(&format!("oci:{}:t", dir.path().display())).unwrap(),
        &ScanOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    let got: BTreeSet<Row> = inv
        .packages
        .iter()
        .map(|p| {
            (
                p.name.to_string(),
                p.version.to_string(),
                p.ecosystem.to_string(),
                p.path.clone(),
            )
        })
        .collect();
    let jar = "app/app.jar";
    let want: BTreeSet<Row> = [
        row("example.com/svc", "(devel)", "Go", "usr/local/bin/svc"),
        row(
            "github.com/gorilla/mux",
            "v1.8.0",
            "Go",
            "usr/local/bin/svc",
        ),
        row("golang.org/x/net", "v0.23.0", "Go", "usr/local/bin/svc"),
        row("stdlib", "v1.22.1", "Go", "usr/local/bin/svc"),
        row("adler", "1.0.2", "crates.io", "usr/bin/rapp"),
        row("serde", "1.0.193", "crates.io", "usr/bin/rapp"),
        row("com.acme:app", "1.0.0", "Maven", jar),
        row(
            "com.fasterxml.jackson.core:jackson-databind",
            "2.15.3",
            "Maven",
            "app/app.jar!/BOOT-INF/lib/jackson-databind-2.15.3.jar",
        ),
        row(
            "spring-core",
            "6.1.2",
            "Maven",
            "app/app.jar!/BOOT-INF/lib/spring-core-6.1.2.jar",
        ),
        row(
            "rack",
            "3.0.8",
            "RubyGems",
            "usr/local/bundle/specifications/rack-3.0.8.gemspec",
        ),
        row(
            "monolog/monolog",
            "3.5.0",
            "Packagist",
            "var/www/vendor/composer/installed.json",
        ),
        row(
            "symfony/console",
            "6.4.1",
            "Packagist",
            "var/www/vendor/composer/installed.json",
        ),
        row(
            "Newtonsoft.Json",
            "13.0.1",
            "NuGet",
            "app/net/WebApp.deps.json",
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    assert_eq!(inv.packages.len(), want.len(), "no duplicates");
    // Every package names the layer of its file; the jar is in the top one.
    let top = inv.artifact.layers[1].to_string();
    for p in &inv.packages {
        let layer = p.layer.as_ref().map(ToString::to_string).unwrap();
        assert_eq!(layer == top, p.path.starts_with(jar), "{}", p.name);
    }
    let purls: BTreeSet<&str> = inv.packages.iter().map(|p| p.purl.as_str()).collect();
    for purl in [
        "pkg:golang/golang.org/x/net@v0.23.0",
        "pkg:golang/stdlib@v1.22.1",
        "pkg:cargo/serde@1.0.193",
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.3",
        "pkg:gem/rack@3.0.8",
        "pkg:composer/symfony/console@6.4.1",
        "pkg:nuget/Newtonsoft.Json@13.0.1",
    ] {
        assert!(purls.contains(purl), "{purl} in {purls:?}");
    }
}

#[test]
fn the_jar_is_held_only_as_its_extract() {
    let dir = tempfile::tempdir().unwrap();
    let jar_len = image(dir.path());
    assert!(jar_len > 3 << 20);
    let limits = Limits {
        // The jar goes through the temporary-file path.
        max_in_memory_extract: 1 << 20,
        ..Limits::default()
    };
    let src = OciLayoutSource::open(dir.path(), Some("t"), &Platform::host(), &limits).unwrap();
    let catalogers = catalog::default_catalogers();
    let opts = ScanOptions {
        limits,
        ..ScanOptions::default()
    };
    let (view, warnings, _) =
        read_layers(&src, &CatalogSelector::new(&catalogers), &opts, &NoProgress).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(
        view.read("app/app.jar").is_none(),
        "the jar is not buffered whole"
    );
    let extracts: Vec<usize> = view.extracted("java").map(|f| f.data.len()).collect();
    assert_eq!(extracts.len(), 1);
    assert!(extracts[0] < 2048, "summary is {} bytes", extracts[0]);
    // Binaries are extracts too; everything held is a few KiB.
    assert!(view.read("usr/local/bin/svc").is_none());
    assert!(
        view.buffered_bytes() < 16 * 1024,
        "{} bytes buffered",
        view.buffered_bytes()
    );
}
