//! Gatekeeper `Constraint` objects: a template kind instantiated with parameters and a match.

use std::path::PathBuf;

use serde_json::Value;

use crate::matcher::Match;
use crate::yaml::{str_at, Document};
use crate::PolicyError;

/// What happens when a constraint is violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnforcementAction {
    /// Reject the request (Gatekeeper's default).
    #[default]
    Deny,
    /// Admit the request with a warning.
    Warn,
    /// Record the violation only.
    Dryrun,
}

impl EnforcementAction {
    /// The action's name as written in a constraint.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Warn => "warn",
            Self::Dryrun => "dryrun",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "deny" => Some(Self::Deny),
            "warn" => Some(Self::Warn),
            "dryrun" => Some(Self::Dryrun),
            _ => None,
        }
    }
}

impl std::fmt::Display for EnforcementAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// The constraint's kind (a template's `spec.crd.spec.names.kind`).
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.match`.
    pub match_: Match,
    /// `spec.parameters` (`{}` when absent).
    pub parameters: Value,
    /// `spec.enforcementAction`.
    pub enforcement_action: EnforcementAction,
    /// The file the constraint came from.
    pub source: PathBuf,
}

impl Constraint {
    /// Builds a constraint from a parsed object; `path` and `index` are used in errors.
    pub fn from_value(
        value: &Value,
        path: impl Into<PathBuf>,
        index: usize,
    ) -> Result<Self, PolicyError> {
        let path = path.into();
        let kind = str_at(value, "/kind").unwrap_or_default().to_owned();
        let invalid = |reason: String| PolicyError::Invalid {
            path: path.clone(),
            index,
            kind: if kind.is_empty() {
                "constraint".to_owned()
            } else {
                kind.clone()
            },
            reason,
        };
        if kind.is_empty() {
            return Err(invalid("missing kind".to_owned()));
        }
        let name = str_at(value, "/metadata/name")
            .ok_or_else(|| invalid("missing metadata.name".to_owned()))?
            .to_owned();
        let match_ = match value.pointer("/spec/match") {
            Some(m) => Match::from_value(m).map_err(invalid)?,
            None => Match::default(),
        };
        let parameters = value
            .pointer("/spec/parameters")
            .cloned()
            .filter(|p| !p.is_null())
            .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
        let enforcement_action = match str_at(value, "/spec/enforcementAction") {
            None | Some("") => EnforcementAction::Deny,
            Some(text) => EnforcementAction::parse(text)
                .ok_or_else(|| invalid(format!("unknown enforcementAction {text:?}")))?,
        };
        Ok(Self {
            kind,
            name,
            match_,
            parameters,
            enforcement_action,
            source: path,
        })
    }

    pub(crate) fn from_document(doc: &Document) -> Result<Self, PolicyError> {
        Self::from_value(&doc.value, doc.path.clone(), doc.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_actions() {
        let c = Constraint::from_value(
            &serde_json::json!({"kind": "K8sX", "metadata": {"name": "a"}}),
            "c.yaml",
            0,
        );
        let c = c.ok();
        assert_eq!(
            c.as_ref().map(|c| c.enforcement_action),
            Some(EnforcementAction::Deny)
        );
        let warn = Constraint::from_value(
            &serde_json::json!({"kind": "K8sX", "metadata": {"name": "a"},
                "spec": {"enforcementAction": "warn", "parameters": {"x": 1}}}),
            "c.yaml",
            0,
        )
        .ok();
        assert_eq!(
            warn.as_ref().map(|c| c.enforcement_action),
            Some(EnforcementAction::Warn)
        );
        let bad = Constraint::from_value(
            &serde_json::json!({"kind": "K8sX", "metadata": {"name": "a"},
                "spec": {"enforcementAction": "explode"}}),
            "c.yaml",
            3,
        );
        let msg = bad.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("c.yaml: document 3"), "{msg}");
    }
}
