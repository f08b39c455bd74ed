//! A loaded set of templates and constraints, evaluated against reviews.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::constraint::{Constraint, EnforcementAction};
use crate::inventory::Inventory;
use crate::matcher::NamespaceLookup;
use crate::review::Review;
use crate::template::ConstraintTemplate;
use crate::yaml::{self, str_at, Document};
use crate::PolicyError;

/// The resource a result is about.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResourceRef {
    /// `apiVersion`.
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace (empty for cluster-scoped resources).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// One violation of one constraint (or one evaluation error, reported as a violation with the
/// error as its message, so that failures are never silent admits).
///
/// Serialises as the CLI contract's result object:
/// `{"constraint":{"kind","name"},"enforcement_action","resource":{…},"message"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyResult {
    /// The constraint's kind.
    pub constraint_kind: String,
    /// The constraint's name.
    pub constraint_name: String,
    /// The constraint's enforcement action.
    pub enforcement_action: EnforcementAction,
    /// The reviewed resource.
    pub resource: ResourceRef,
    /// The violation message.
    pub message: String,
}

/// Templates and constraints loaded from YAML.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    templates: BTreeMap<String, ConstraintTemplate>,
    constraints: Vec<Constraint>,
    inventory: Inventory,
    /// `inventory` as regorus data, built once per [`PolicySet::set_inventory`].
    inventory_data: Option<regorus::Value>,
}

impl PolicySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every template and constraint under `path` (a file or a directory, recursively).
    /// Documents of other kinds are skipped.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, PolicyError> {
        let path = path.as_ref();
        let _span = tracing::info_span!("policy_load", path = %path.display()).entered();
        let docs = yaml::read_path(path)?;
        let mut set = Self::new();
        set.add_documents(&docs)?;
        tracing::info!(
            templates = set.templates.len(),
            constraints = set.constraints.len(),
            "loaded policies"
        );
        Ok(set)
    }

    /// Adds documents: templates first, then constraints of the kinds they define.
    pub(crate) fn add_documents(&mut self, docs: &[Document]) -> Result<(), PolicyError> {
        for doc in docs
            .iter()
            .filter(|d| str_at(&d.value, "/kind") == Some("ConstraintTemplate"))
        {
            self.add_template(ConstraintTemplate::from_document(doc)?);
        }
        for doc in docs {
            let kind = str_at(&doc.value, "/kind").unwrap_or_default();
            let group = str_at(&doc.value, "/apiVersion").unwrap_or_default();
            if kind == "ConstraintTemplate" || !group.starts_with("constraints.gatekeeper.sh/") {
                continue;
            }
            let constraint = Constraint::from_document(doc)?;
            self.add_constraint(constraint)?;
        }
        Ok(())
    }

    /// Adds (or replaces) a template.
    pub fn add_template(&mut self, template: ConstraintTemplate) {
        self.templates.insert(template.kind.clone(), template);
    }

    /// Adds a constraint; its kind must be defined by a loaded template.
    pub fn add_constraint(&mut self, constraint: Constraint) -> Result<(), PolicyError> {
        if !self.templates.contains_key(&constraint.kind) {
            return Err(PolicyError::UnknownKind {
                path: constraint.source.clone(),
                kind: constraint.kind.clone(),
                name: constraint.name.clone(),
            });
        }
        self.constraints.push(constraint);
        Ok(())
    }

    /// Sets the objects exposed to templates as `data.inventory` (and used to look up
    /// namespaces for `namespaceSelector`).
    pub fn set_inventory(&mut self, inventory: Inventory) {
        self.inventory_data = (!inventory.is_empty())
            .then(|| regorus::Value::from(json!({"inventory": inventory.to_data()})));
        self.inventory = inventory;
    }

    /// The loaded templates, by constraint kind.
    pub fn templates(&self) -> impl Iterator<Item = &ConstraintTemplate> {
        self.templates.values()
    }

    /// The loaded constraints.
    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// Evaluates every matching constraint against `review`.
    pub fn evaluate(&self, review: &Review) -> Vec<PolicyResult> {
        self.evaluate_with(review, &self.inventory)
    }

    /// Evaluates with a namespace lookup other than the inventory.
    pub fn evaluate_with(
        &self,
        review: &Review,
        namespaces: &dyn NamespaceLookup,
    ) -> Vec<PolicyResult> {
        let resource = resource_ref(review);
        let _span =
            tracing::debug_span!("policy_evaluate", kind = %resource.kind, name = %resource.name)
                .entered();
        let review_input = review.to_input();
        let mut results = Vec::new();
        for constraint in &self.constraints {
            if !constraint.match_.matches(review, namespaces) {
                continue;
            }
            let Some(template) = self.templates.get(&constraint.kind) else {
                continue;
            };
            let input = json!({"review": review_input, "parameters": constraint.parameters});
            let result = |message: String| PolicyResult {
                constraint_kind: constraint.kind.clone(),
                constraint_name: constraint.name.clone(),
                enforcement_action: constraint.enforcement_action,
                resource: resource.clone(),
                message,
            };
            match template.violations(input, self.inventory_data.as_ref()) {
                Ok(violations) => results.extend(violations.into_iter().map(|v| result(v.msg))),
                Err(err) => {
                    tracing::warn!(constraint = %constraint.name, error = %err, "evaluation failed");
                    results.push(result(err.to_string()));
                }
            }
        }
        results
    }
}

impl serde::Serialize for PolicyResult {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;

        #[derive(serde::Serialize)]
        struct ConstraintRef<'a> {
            kind: &'a str,
            name: &'a str,
        }
        let mut s = serializer.serialize_struct("PolicyResult", 4)?;
        s.serialize_field(
            "constraint",
            &ConstraintRef {
                kind: &self.constraint_kind,
                name: &self.constraint_name,
            },
        )?;
        s.serialize_field("enforcement_action", &self.enforcement_action)?;
        s.serialize_field("resource", &self.resource)?;
        s.serialize_field("message", &self.message)?;
        s.end()
    }
}

fn resource_ref(review: &Review) -> ResourceRef {
    ResourceRef {
        api_version: review.kind.api_version(),
        kind: review.kind.kind.clone(),
        namespace: review.namespace.clone().unwrap_or_default(),
        name: review.name.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8srequiredlabels
        violation[{"msg": msg, "details": {"missing_labels": missing}}] {
          provided := {label | input.review.object.metadata.labels[label]}
          required := {label | label := input.parameters.labels[_]}
          missing := required - provided
          count(missing) > 0
          msg := sprintf("you must provide labels: %v", [missing])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: ns-must-have-owner
spec:
  enforcementAction: warn
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Namespace"]
  parameters:
    labels: ["owner"]
"#;

    #[test]
    fn policy_set_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PolicySet>();
    }

    #[test]
    fn required_labels() {
        let docs = yaml::parse_documents(Path::new("inline.yaml"), POLICY).unwrap_or_default();
        let mut set = PolicySet::new();
        assert!(set.add_documents(&docs).is_ok());
        let ns = Review::from_object(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}),
        );
        let results = set.evaluate(&ns);
        assert_eq!(results.len(), 1, "{results:?}");
        let first = results.first();
        assert_eq!(
            first.map(|r| r.enforcement_action),
            Some(EnforcementAction::Warn)
        );
        assert!(first.is_some_and(|r| r.message.contains("owner")));
        let labelled = Review::from_object(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "a", "labels": {"owner": "me"}}}));
        assert!(set.evaluate(&labelled).is_empty());
        let shape = serde_json::to_value(&results).unwrap_or_default();
        assert_eq!(
            shape.pointer("/0/constraint/name"),
            Some(&json!("ns-must-have-owner"))
        );
        assert_eq!(shape.pointer("/0/enforcement_action"), Some(&json!("warn")));
        assert_eq!(shape.pointer("/0/resource/apiVersion"), Some(&json!("v1")));
        let pod = Review::from_object(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}),
        );
        assert!(set.evaluate(&pod).is_empty());
    }
}
