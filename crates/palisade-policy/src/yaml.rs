//! Reading multi-document YAML files and directories of them.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::PolicyError;

/// One YAML document with its origin.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) path: PathBuf,
    pub(crate) index: usize,
    pub(crate) value: Value,
}

/// Parses every non-empty document of `text`.
pub(crate) fn parse_documents(path: &Path, text: &str) -> Result<Vec<Document>, PolicyError> {
    let values: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|err| PolicyError::Yaml {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
    Ok(values
        .into_iter()
        .enumerate()
        .filter(|(_, value)| !value.is_null())
        .map(|(index, value)| Document {
            path: path.to_path_buf(),
            index,
            value,
        })
        .collect())
}

/// Reads the documents of one file.
pub(crate) fn read_file(path: &Path) -> Result<Vec<Document>, PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_documents(path, &text)
}

/// Reads a file, or every `.yaml`/`.yml` file under a directory (recursively, sorted by path).
pub(crate) fn read_path(path: &Path) -> Result<Vec<Document>, PolicyError> {
    let meta = std::fs::metadata(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return read_file(path);
    }
    let mut files = Vec::new();
    collect_yaml_files(path, &mut files)?;
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        docs.extend(read_file(&file)?);
    }
    Ok(docs)
}

fn collect_yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), PolicyError> {
    let entries = std::fs::read_dir(dir).map_err(|source| PolicyError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| PolicyError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|source| PolicyError::Io {
            path: path.clone(),
            source,
        })?;
        if file_type.is_dir() {
            collect_yaml_files(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            out.push(path);
        }
    }
    Ok(())
}

/// `value.a.b.c` as a string, if present.
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}
