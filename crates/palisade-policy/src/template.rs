//! Gatekeeper `ConstraintTemplate`s and their compiled Rego.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use regorus::utils::limits::ExecutionTimerConfig;
use serde_json::Value;

use crate::yaml::{str_at, Document};
use crate::PolicyError;

/// The only Gatekeeper target this engine evaluates.
pub(crate) const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

/// Wall-clock limit for one template evaluation; policies are untrusted input.
pub const EVAL_TIME_LIMIT: Duration = Duration::from_secs(2);

const TIMER_CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(64) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// Whether a template can be evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateStatus {
    /// The Rego compiled; constraints of this kind are evaluated.
    Ready,
    /// The template cannot be evaluated by this engine (e.g. its only code is CEL).
    Unsupported {
        /// Why.
        reason: String,
    },
}

/// Rego sources of the admission target.
#[derive(Debug, Clone)]
struct RegoSource {
    rego: String,
    libs: Vec<String>,
    v1: bool,
}

/// A loaded constraint template.
#[derive(Debug, Clone)]
pub struct ConstraintTemplate {
    /// `metadata.name`.
    pub name: String,
    /// The constraint kind it defines (`spec.crd.spec.names.kind`).
    pub kind: String,
    /// `spec.crd.spec.validation.openAPIV3Schema`, if given.
    pub parameter_schema: Option<Value>,
    /// Whether it can be evaluated.
    pub status: TemplateStatus,
    /// The file it came from.
    pub source: PathBuf,
    compiled: Option<Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    /// Engine with the modules added and prepared (no data).
    engine: regorus::Engine,
    /// `data.<package>.violation`.
    rule: String,
}

/// One `violation` of a template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Violation {
    pub(crate) msg: String,
    pub(crate) details: Value,
}

impl ConstraintTemplate {
    /// Parses and compiles a template object; `path` and `index` are used in errors.
    pub fn from_value(
        value: &Value,
        path: impl Into<PathBuf>,
        index: usize,
    ) -> Result<Self, PolicyError> {
        let path = path.into();
        let invalid = |reason: &str| PolicyError::Invalid {
            path: path.clone(),
            index,
            kind: "ConstraintTemplate".to_owned(),
            reason: reason.to_owned(),
        };
        let api_version = str_at(value, "/apiVersion").unwrap_or_default();
        if !api_version.starts_with("templates.gatekeeper.sh/") {
            return Err(invalid(&format!("unsupported apiVersion {api_version:?}")));
        }
        let name = str_at(value, "/metadata/name")
            .ok_or_else(|| invalid("missing metadata.name"))?
            .to_owned();
        let kind = str_at(value, "/spec/crd/spec/names/kind")
            .ok_or_else(|| invalid("missing spec.crd.spec.names.kind"))?
            .to_owned();
        let parameter_schema = value
            .pointer("/spec/crd/spec/validation/openAPIV3Schema")
            .cloned();
        let targets = value
            .pointer("/spec/targets")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("missing spec.targets"))?;
        let target = targets
            .iter()
            .find(|t| t.get("target").and_then(Value::as_str) == Some(ADMISSION_TARGET))
            .ok_or_else(|| invalid("no admission.k8s.gatekeeper.sh target"))?;
        let mut template = Self {
            name,
            kind,
            parameter_schema,
            status: TemplateStatus::Ready,
            source: path.clone(),
            compiled: None,
        };
        match rego_source(target).map_err(|r| invalid(&r))? {
            Ok(source) => {
                template.compiled = Some(compile(&template.name, &source)?);
            }
            Err(reason) => {
                tracing::warn!(template = %template.name, %reason, "template not evaluable");
                template.status = TemplateStatus::Unsupported { reason };
            }
        }
        Ok(template)
    }

    pub(crate) fn from_document(doc: &Document) -> Result<Self, PolicyError> {
        Self::from_value(&doc.value, doc.path.clone(), doc.index)
    }

    /// Evaluates the template's `violation` rule for one input (`{review, parameters}`),
    /// with `data` (`{"inventory": …}`) when given.
    pub(crate) fn violations(
        &self,
        input: Value,
        data: Option<&regorus::Value>,
    ) -> Result<Vec<Violation>, PolicyError> {
        let Some(compiled) = &self.compiled else {
            return Ok(Vec::new());
        };
        let eval_err = |message: String| PolicyError::Eval {
            template: self.name.clone(),
            message,
        };
        let mut engine = compiled.engine.clone();
        if let Some(data) = data {
            engine
                .add_data(data.clone())
                .map_err(|e| eval_err(format!("{e:#}")))?;
        }
        engine.set_input(regorus::Value::from(input));
        let result = engine
            .eval_rule(compiled.rule.clone())
            .map_err(|e| eval_err(format!("{e:#}")))?;
        let json = serde_json::to_value(&result).map_err(|e| eval_err(e.to_string()))?;
        let items = match json {
            Value::Array(items) => items,
            Value::Null | Value::String(_) => Vec::new(),
            other => return Err(eval_err(format!("violation is not a set: {other}"))),
        };
        Ok(items
            .into_iter()
            .map(|item| Violation {
                msg: match item.get("msg") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
                details: item.get("details").cloned().unwrap_or(Value::Null),
            })
            .collect())
    }
}

/// The Rego of the admission target, or why there is none that can run.
fn rego_source(target: &Value) -> Result<Result<RegoSource, String>, String> {
    let libs = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(rego) = target.get("rego").and_then(Value::as_str) {
        return Ok(Ok(RegoSource {
            rego: rego.to_owned(),
            libs: libs(target.get("libs")),
            v1: false,
        }));
    }
    let code = target.get("code").and_then(Value::as_array);
    let Some(code) = code else {
        return Err("target has neither rego nor code".to_owned());
    };
    let mut engines = Vec::new();
    for entry in code {
        let engine = entry
            .get("engine")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if engine == "Rego" {
            let source = entry.get("source").cloned().unwrap_or(Value::Null);
            let rego = source
                .get("rego")
                .and_then(Value::as_str)
                .ok_or("code entry of engine Rego without source.rego")?;
            let v1 = source.get("version").and_then(Value::as_str) == Some("v1");
            return Ok(Ok(RegoSource {
                rego: rego.to_owned(),
                libs: libs(source.get("libs")),
                v1,
            }));
        }
        engines.push(engine.to_owned());
    }
    Ok(Err(format!(
        "no Rego code; only {} (CEL is not supported)",
        engines.join(", ")
    )))
}

fn compile(name: &str, source: &RegoSource) -> Result<Compiled, PolicyError> {
    let rego_err = |e: &dyn std::fmt::Display| PolicyError::Rego {
        template: name.to_owned(),
        message: format!("{e:#}"),
    };
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(!source.v1);
    // OPA (and so Gatekeeper) turns builtin errors into undefined; match it.
    engine.set_strict_builtin_errors(false);
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: EVAL_TIME_LIMIT,
        check_interval: TIMER_CHECK_INTERVAL,
    });
    let package = engine
        .add_policy(format!("{name}/template.rego"), source.rego.clone())
        .map_err(|e| rego_err(&e))?;
    for (i, lib) in source.libs.iter().enumerate() {
        engine
            .add_policy(format!("{name}/lib{i}.rego"), lib.clone())
            .map_err(|e| rego_err(&e))?;
    }
    let rule = format!("{package}.violation");
    // Prepare once (analysis, imports, functions) so every evaluation starts from a clone.
    engine.set_input(regorus::Value::new_object());
    engine.eval_rule(rule.clone()).map_err(|e| rego_err(&e))?;
    tracing::debug!(template = name, %package, "compiled template");
    Ok(Compiled { engine, rule })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(target: Value) -> Value {
        json!({"apiVersion": "templates.gatekeeper.sh/v1beta1", "kind": "ConstraintTemplate",
            "metadata": {"name": "t"},
            "spec": {"crd": {"spec": {"names": {"kind": "T"}}}, "targets": [target]}})
    }

    #[test]
    fn cel_only_is_unsupported() {
        let t = ConstraintTemplate::from_value(
            &template(json!({"target": ADMISSION_TARGET,
                "code": [{"engine": "K8sNativeValidation", "source": {"validations": []}}]})),
            "t.yaml",
            0,
        );
        assert!(matches!(
            t.map(|t| t.status),
            Ok(TemplateStatus::Unsupported { .. })
        ));
    }

    #[test]
    fn rego_v1_code_entry() {
        let rego = "package t\nviolation contains {\"msg\": \"no\"} if input.review.object.bad\n";
        let t = ConstraintTemplate::from_value(
            &template(json!({"target": ADMISSION_TARGET,
                "code": [{"engine": "Rego", "source": {"version": "v1", "rego": rego}}]})),
            "t.yaml",
            0,
        );
        let got = t.as_ref().map_err(ToString::to_string).and_then(|t| {
            t.violations(
                json!({"review": {"object": {"bad": true}}, "parameters": {}}),
                None,
            )
            .map_err(|e| e.to_string())
        });
        assert_eq!(got.map(|v| v.len()), Ok(1));
    }

    #[test]
    fn rego_errors_name_the_template() {
        let t = ConstraintTemplate::from_value(
            &template(json!({"target": ADMISSION_TARGET, "rego": "package t\nviolation[{"})),
            "t.yaml",
            0,
        );
        let msg = t.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.starts_with("template t: Rego error"), "{msg}");
    }
}
