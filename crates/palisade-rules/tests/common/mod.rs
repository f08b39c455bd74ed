//! A test-only event source over JSON objects: each field (with its `[arg]`, as written) is a
//! key of the object. Strings, integers, booleans and arrays (lists) map to [`Value`]s; fields
//! typed `Ip` are parsed from strings.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::IpAddr;

use palisade_rules::{
    CompileOptions, CompileReport, Event, FieldBuf, FieldCatalog, FieldId, FieldType, Loader,
    RuleSet, UnknownField, Value,
};

pub(crate) struct JsonCatalog {
    source: String,
    types: HashMap<String, FieldType>,
    /// Accept any field (typed Dynamic) besides the declared ones.
    pub(crate) open: bool,
    fields: Vec<(String, FieldType)>,
    event_type_field: Option<String>,
}

impl JsonCatalog {
    pub(crate) fn new(source: &str, types: &[(&str, FieldType)]) -> Self {
        Self {
            source: source.to_owned(),
            types: types.iter().map(|(n, t)| ((*n).to_owned(), *t)).collect(),
            open: false,
            fields: Vec::new(),
            event_type_field: (source == "syscall").then(|| "evt.type".to_owned()),
        }
    }

    pub(crate) fn open(source: &str) -> Self {
        let mut c = Self::new(source, &[]);
        c.open = true;
        c
    }

    pub(crate) fn event<'a>(&'a self, json: &str) -> JsonEvent<'a> {
        JsonEvent {
            catalog: self,
            value: serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}")),
        }
    }
}

impl FieldCatalog for JsonCatalog {
    fn source(&self) -> &str {
        &self.source
    }

    fn resolve(&mut self, name: &str, arg: Option<&str>) -> Result<FieldId, UnknownField> {
        let ty = match self.types.get(name) {
            Some(t) => *t,
            None if self.open => FieldType::Dynamic,
            None => return Err(UnknownField::new(name)),
        };
        let key = match arg {
            Some(a) => format!("{name}[{a}]"),
            None => name.to_owned(),
        };
        if let Some(i) = self.fields.iter().position(|(k, _)| *k == key) {
            return Ok(FieldId(i as u32));
        }
        self.fields.push((key, ty));
        Ok(FieldId(self.fields.len() as u32 - 1))
    }

    fn field_type(&self, id: FieldId) -> FieldType {
        self.fields
            .get(id.index())
            .map_or(FieldType::Dynamic, |(_, t)| *t)
    }

    fn event_type_field(&self) -> Option<&str> {
        self.event_type_field.as_deref()
    }
}

pub(crate) struct JsonEvent<'c> {
    catalog: &'c JsonCatalog,
    value: serde_json::Value,
}

impl Event for JsonEvent<'_> {
    fn get<'a>(&'a self, field: FieldId, buf: &'a mut FieldBuf) -> Option<Value<'a>> {
        let (key, ty) = self.catalog.fields.get(field.index())?;
        let v = self.value.get(key)?;
        match v {
            serde_json::Value::String(s) if *ty == FieldType::Ip => {
                s.parse::<IpAddr>().ok().map(Value::Ip)
            }
            serde_json::Value::String(s) => Some(Value::Str(s)),
            serde_json::Value::Number(n) => n.as_i64().map(Value::Int),
            serde_json::Value::Bool(b) => Some(Value::Bool(*b)),
            serde_json::Value::Array(items) => {
                buf.clear();
                for it in items {
                    match it {
                        serde_json::Value::String(s) => buf.push_item(s),
                        other => buf.push_item(&other.to_string()),
                    }
                }
                Some(Value::List(buf.list()))
            }
            serde_json::Value::Null | serde_json::Value::Object(_) => None,
        }
    }

    fn event_type(&self) -> Option<&str> {
        self.value.get("evt.type")?.as_str()
    }
}

/// Load YAML rules from strings (named `f0.yaml`, `f1.yaml`, …) and compile them against
/// `catalog`.
pub(crate) fn compile(
    files: &[&str],
    catalog: &mut JsonCatalog,
) -> Result<(RuleSet, CompileReport), String> {
    let mut loader = Loader::new();
    for (i, f) in files.iter().enumerate() {
        loader
            .load_str(&format!("f{i}.yaml"), f)
            .map_err(|e| e.to_string())?;
    }
    let loaded = loader.finish().map_err(|e| e.to_string())?;
    RuleSet::compile(&loaded, &mut [catalog], &CompileOptions::new()).map_err(|e| e.to_string())
}

/// Load-and-compile errors as strings.
pub(crate) fn errors(files: &[&str], catalog: &mut JsonCatalog) -> String {
    match compile(files, catalog) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// A one-rule file with `condition`.
pub(crate) fn rule(condition: &str) -> String {
    format!(
        "- rule: r\n  desc: d\n  condition: {}\n  output: o\n  priority: WARNING\n",
        serde_json::to_string(condition).unwrap_or_default()
    )
}
