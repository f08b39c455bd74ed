//! Ready-made images with the exact answers a scanner should give.
//!
//! Each fixture is an unbuilt [`ImageBuilder`] (change its format or
//! compression before building if a test needs to) plus the operating system
//! and the packages a correct scanner reports for the *final* filesystem,
//! after applying every layer and whiteout. Package lists are sorted by name.
//!
//! | fixture | what it exercises |
//! |---|---|
//! | [`debian_bookworm`] | dpkg `status`; `Source:` with and without version; epoch; binNMU; `hold ok installed`; a `deinstall ok config-files` package that must not count; `/etc/os-release` symlinked to `../usr/lib/os-release`; an upgrade in layer 2 that rewrites `status` and leaves a stale `status-old` |
//! | [`debian_bookworm_status_whiteout`] | layer 3 deletes `var/lib/dpkg/status` (`.wh.status`): no packages |
//! | [`debian_bookworm_dpkg_dir_whiteout`] | layer 3 deletes the `var/lib/dpkg` directory (`var/lib/.wh.dpkg`): no packages |
//! | [`debian_bookworm_dpkg_opaque`] | layer 3 makes `var/lib/dpkg` opaque (`.wh..wh..opq`) and writes a new three-package `status` |
//! | [`distroless_debian12`] | `var/lib/dpkg/status.d/<pkg>` stanzas (no `Status:` field, as distroless writes them) across two layers, beside `<pkg>.md5sums` files that are not stanzas |
//! | [`alpine_3_19`] | `lib/apk/db/installed` with `P:`/`V:`/`A:`/`o:`/`L:` and file (`F:`/`R:`) lines |
//! | [`alpine_3_19_zstd`] | the same image with a zstd layer |
//! | [`multi_arch_alpine`] | an OCI index or Docker manifest list: linux/amd64 and linux/arm64/v8, differing in `zlib` |
//! | [`hostile`] | one image per [`Attack`], on top of an intact Alpine base layer |

mod alpine;
mod debian;
mod distroless;
mod hostile;

use std::path::Path;

pub use alpine::{alpine_3_19, alpine_3_19_zstd, multi_arch_alpine};
pub use debian::{
    debian_bookworm, debian_bookworm_dpkg_dir_whiteout, debian_bookworm_dpkg_opaque,
    debian_bookworm_status_whiteout,
};
pub use distroless::distroless_debian12;
pub use hostile::{hostile, hostile_all, Attack, ESCAPE_TARGET};

use crate::error::Result;
use crate::layer::Compression;
use crate::layout::{BuiltImage, BuiltIndex, ImageBuilder, IndexBuilder, ManifestFormat, Platform};

/// Which package database a package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PackageKind {
    /// dpkg (`var/lib/dpkg/status` or `status.d/`).
    Deb,
    /// apk (`lib/apk/db/installed`).
    Apk,
}

/// A package a scanner must report.
///
/// `source_name`/`source_version` are what `dpkg-query -f
/// '${source:Package} ${source:Version}'` prints (the binary's own name or
/// version when the `Source:` field omits them); for apk they are the origin
/// (`o:`) and the package version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExpectedPackage {
    pub kind: PackageKind,
    pub name: &'static str,
    pub version: &'static str,
    pub source_name: &'static str,
    pub source_version: &'static str,
    /// Architecture as the database writes it (`amd64`, `x86_64`, `all`, …).
    pub arch: &'static str,
}

/// The distribution `os-release` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExpectedOs {
    pub id: &'static str,
    pub version_id: &'static str,
    pub version_codename: Option<&'static str>,
    pub pretty_name: &'static str,
}

/// An image and what scanning it must find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixture {
    /// Short identifier, usable as a tag or file name.
    pub name: &'static str,
    /// The image, not yet built.
    pub image: ImageBuilder,
    /// The distribution, if the final filesystem has an `os-release`.
    pub os: Option<ExpectedOs>,
    /// Every package of the final filesystem, sorted by name.
    pub packages: Vec<ExpectedPackage>,
}

impl Fixture {
    /// Build the image.
    pub fn build(&self) -> Result<BuiltImage> {
        self.image.build()
    }

    /// Build and write it as an OCI layout in `dir`, tagged `tag`.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) -> Result<BuiltImage> {
        let built = self.build()?;
        built.write_oci_layout(dir, tag)?;
        Ok(built)
    }

    /// The same fixture with Docker or OCI media types.
    pub fn with_format(mut self, format: ManifestFormat) -> Self {
        self.image = self.image.format(format);
        self
    }

    /// The same fixture with every layer recompressed.
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.image = self.image.with_compression(compression);
        self
    }

    /// Package names, in order.
    pub fn package_names(&self) -> Vec<&'static str> {
        self.packages.iter().map(|p| p.name).collect()
    }
}

/// A multi-platform image and what scanning each platform must find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiArchFixture {
    pub name: &'static str,
    pub index: IndexBuilder,
    pub os: Option<ExpectedOs>,
    /// Expected packages per platform, in index order.
    pub platforms: Vec<(Platform, Vec<ExpectedPackage>)>,
}

impl MultiArchFixture {
    /// Build the index and its images.
    pub fn build(&self) -> Result<BuiltIndex> {
        self.index.build()
    }

    /// Build and write it as an OCI layout in `dir`, tagged `tag`.
    pub fn write_oci_layout(&self, dir: &Path, tag: &str) -> Result<BuiltIndex> {
        let built = self.build()?;
        built.write_oci_layout(dir, tag)?;
        Ok(built)
    }

    /// Expected packages for `platform`.
    pub fn packages_for(&self, platform: &Platform) -> Option<&[ExpectedPackage]> {
        self.platforms
            .iter()
            .find(|(p, _)| p == platform)
            .map(|(_, pkgs)| pkgs.as_slice())
    }
}

/// Every single-image fixture (hostile ones excluded), for sweeping tests.
pub fn all() -> Vec<Fixture> {
    vec![
        debian_bookworm(),
        debian_bookworm_status_whiteout(),
        debian_bookworm_dpkg_dir_whiteout(),
        debian_bookworm_dpkg_opaque(),
        distroless_debian12(),
        alpine_3_19(),
        alpine_3_19_zstd(),
    ]
}

/// A fake ELF file body: enough for `file(1)`-style sniffing, not runnable.
pub(crate) fn fake_elf(name: &str) -> Vec<u8> {
    let mut data = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    data.extend_from_slice(format!("palisade-testkit fake binary: {name}\n").as_bytes());
    data
}
