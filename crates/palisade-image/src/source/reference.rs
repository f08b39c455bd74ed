use std::fmt;
use std::path::PathBuf;

/// An image reference in skopeo's transport syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// `HOST[:PORT]/REPO[:TAG|@DIGEST]`, `docker://…`, or a Docker Hub short
    /// name (`debian:12` → `docker.io/library/debian:12`).
    Registry(oci_client::Reference),
    /// `oci:DIR[:TAG]`: an OCI image layout.
    OciLayout { dir: PathBuf, tag: Option<String> },
    /// `docker-archive:FILE`: a `docker save` tarball.
    DockerArchive(PathBuf),
    /// `dir:PATH`: an unpacked root filesystem.
    Dir(PathBuf),
}

/// An image reference that cannot be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("image reference {input:?}: {reason}")]
pub struct ImageRefError {
    pub input: String,
    pub reason: String,
}

impl ImageRef {
    pub fn parse(input: &str) -> Result<ImageRef, ImageRefError> {
        let err = |reason: &str| ImageRefError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        if input.trim().is_empty() {
            return Err(err("empty"));
        }
        if let Some(rest) = input.strip_prefix("oci:") {
            if rest.is_empty() {
                return Err(err("oci: needs a directory, as oci:DIR[:TAG]"));
            }
            // A colon may be part of the directory name; prefer the whole
            // string when it names an existing directory.
            let whole = PathBuf::from(rest);
            if whole.is_dir() {
                return Ok(ImageRef::OciLayout {
                    dir: whole,
                    tag: None,
                });
            }
            return match rest.rsplit_once(':') {
                Some((dir, tag)) if !tag.is_empty() && !tag.contains('/') && !dir.is_empty() => {
                    Ok(ImageRef::OciLayout {
                        dir: PathBuf::from(dir),
                        tag: Some(tag.to_string()),
                    })
                }
                _ => Ok(ImageRef::OciLayout {
                    dir: whole,
                    tag: None,
                }),
            };
        }
        if let Some(rest) = input.strip_prefix("docker-archive:") {
            if rest.is_empty() {
                return Err(err("docker-archive: needs a file, as docker-archive:FILE"));
            }
            // skopeo allows docker-archive:FILE:REF; we read the first image.
            let path = PathBuf::from(rest);
            if !path.exists() {
                if let Some((file, _)) = rest.rsplit_once(':') {
                    return Ok(ImageRef::DockerArchive(PathBuf::from(file)));
                }
            }
            return Ok(ImageRef::DockerArchive(path));
        }
        if let Some(rest) = input.strip_prefix("dir:") {
            if rest.is_empty() {
                return Err(err("dir: needs a path, as dir:PATH"));
            }
            return Ok(ImageRef::Dir(PathBuf::from(rest)));
        }
        let rest = input.strip_prefix("docker://").unwrap_or(input);
        if let Some((scheme, _)) = rest.split_once("://") {
            return Err(err(&format!(
                "unknown transport {scheme:?}; use HOST/REPO[:TAG], docker://, oci:, docker-archive: or dir:"
            )));
        }
        rest.parse::<oci_client::Reference>()
            .map(ImageRef::Registry)
            .map_err(|e| err(&e.to_string()))
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageRef::Registry(r) => write!(f, "{}", r.whole()),
            ImageRef::OciLayout { dir, tag: Some(t) } => write!(f, "oci:{}:{t}", dir.display()),
            ImageRef::OciLayout { dir, tag: None } => write!(f, "oci:{}", dir.display()),
            ImageRef::DockerArchive(p) => write!(f, "docker-archive:{}", p.display()),
            ImageRef::Dir(p) => write!(f, "dir:{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn transports() {
        match ImageRef::parse("127.0.0.1:5000/app:1").unwrap() {
            ImageRef::Registry(r) => {
                assert_eq!(r.registry(), "127.0.0.1:5000");
                assert_eq!(r.repository(), "app");
                assert_eq!(r.tag(), Some("1"));
            }
            other => panic!("{other:?}"),
        }
        match ImageRef::parse("debian:12").unwrap() {
            ImageRef::Registry(r) => assert_eq!(r.whole(), "docker.io/library/debian:12"),
            other => panic!("{other:?}"),
        }
        match ImageRef::parse("docker://localhost:5000/a/b@sha256:0123456789012345678901234567890123456789012345678901234567890123").unwrap() {
            ImageRef::Registry(r) => assert!(r.digest().is_some()),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            ImageRef::parse("oci:/nonexistent/layout:v1").unwrap(),
            ImageRef::OciLayout {
                dir: "/nonexistent/layout".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            ImageRef::parse("docker-archive:/tmp/x.tar").unwrap(),
            ImageRef::DockerArchive("/tmp/x.tar".into())
        );
        assert_eq!(ImageRef::parse("dir:/").unwrap(), ImageRef::Dir("/".into()));
        assert!(ImageRef::parse("").is_err());
        assert!(ImageRef::parse("oci:").is_err());
        assert!(ImageRef::parse("ftp://x/y").is_err());
        assert!(ImageRef::parse("repo/with space:tag").is_err());
    }
}
