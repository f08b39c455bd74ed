//! Gatekeeper's `spec.match` criteria.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::review::Review;

/// Finds a namespace object by name, for `namespaceSelector`.
pub trait NamespaceLookup {
    /// The `Namespace` object named `name`, if known.
    fn namespace(&self, name: &str) -> Option<&Value>;
}

/// No namespaces are known.
impl NamespaceLookup for () {
    fn namespace(&self, _name: &str) -> Option<&Value> {
        None
    }
}

/// One `spec.match.kinds` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindMatcher {
    /// API groups (`""` is core, `"*"` any).
    pub api_groups: Vec<String>,
    /// Kinds (`"*"` any).
    pub kinds: Vec<String>,
}

/// A Kubernetes label selector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// `matchLabels`.
    pub match_labels: BTreeMap<String, String>,
    /// `matchExpressions` as (key, operator, values).
    pub match_expressions: Vec<(String, String, Vec<String>)>,
}

impl LabelSelector {
    fn from_value(value: &Value) -> Result<Self, String> {
        let mut selector = Self::default();
        if let Some(labels) = value.get("matchLabels").and_then(Value::as_object) {
            for (key, v) in labels {
                let v = v
                    .as_str()
                    .ok_or_else(|| format!("matchLabels.{key} is not a string"))?;
                selector.match_labels.insert(key.clone(), v.to_owned());
            }
        }
        if let Some(exprs) = value.get("matchExpressions").and_then(Value::as_array) {
            for expr in exprs {
                let key = expr
                    .get("key")
                    .and_then(Value::as_str)
                    .ok_or("matchExpressions entry without key")?;
                let op = expr
                    .get("operator")
                    .and_then(Value::as_str)
                    .ok_or("matchExpressions entry without operator")?;
                if !matches!(op, "In" | "NotIn" | "Exists" | "DoesNotExist") {
                    return Err(format!("unknown matchExpressions operator {op:?}"));
                }
                let values = string_list(expr.get("values"));
                selector
                    .match_expressions
                    .push((key.to_owned(), op.to_owned(), values));
            }
        }
        Ok(selector)
    }

    /// Whether `labels` (an object of strings, or null) satisfies the selector.
    pub fn matches(&self, labels: Option<&Value>) -> bool {
        let get = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        self.match_labels
            .iter()
            .all(|(k, v)| get(k) == Some(v.as_str()))
            && self
                .match_expressions
                .iter()
                .all(|(key, op, values)| match op.as_str() {
                    "In" => get(key).is_some_and(|v| values.iter().any(|x| x == v)),
                    "NotIn" => get(key).is_none_or(|v| values.iter().all(|x| x != v)),
                    "Exists" => get(key).is_some(),
                    "DoesNotExist" => get(key).is_none(),
                    _ => false,
                })
    }
}

/// A constraint's `spec.match`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// `kinds`; empty matches every kind.
    pub kinds: Vec<KindMatcher>,
    /// `scope`: `*`, `Cluster` or `Namespaced`.
    pub scope: Option<String>,
    /// `namespaces` (globs with a leading or trailing `*`).
    pub namespaces: Option<Vec<String>>,
    /// `excludedNamespaces` (globs).
    pub excluded_namespaces: Vec<String>,
    /// `labelSelector`.
    pub label_selector: Option<LabelSelector>,
    /// `namespaceSelector`.
    pub namespace_selector: Option<LabelSelector>,
    /// `name` (glob).
    pub name: Option<String>,
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Gatekeeper's wildcard: `prefix*`, `*suffix`, `*infix*` or an exact name.
pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    match (pattern.strip_prefix('*'), pattern.strip_suffix('*')) {
        _ if pattern == "*" => true,
        (Some(rest), _) if rest.ends_with('*') => {
            text.contains(rest.strip_suffix('*').unwrap_or(rest))
        }
        (Some(suffix), _) => text.ends_with(suffix),
        (None, Some(prefix)) => text.starts_with(prefix),
        (None, None) => pattern == text,
    }
}

impl Match {
    /// Parses `spec.match`.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        let mut m = Self::default();
        if let Some(kinds) = value.get("kinds").and_then(Value::as_array) {
            for k in kinds {
                m.kinds.push(KindMatcher {
                    api_groups: string_list(k.get("apiGroups")),
                    kinds: string_list(k.get("kinds")),
                });
            }
        }
        m.scope = value
            .get("scope")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(scope) = &m.scope {
            if !matches!(scope.as_str(), "*" | "Cluster" | "Namespaced") {
                return Err(format!("unknown match.scope {scope:?}"));
            }
        }
        m.namespaces = value
            .get("namespaces")
            .filter(|v| !v.is_null())
            .map(|v| string_list(Some(v)));
        m.excluded_namespaces = string_list(value.get("excludedNamespaces"));
        if let Some(sel) = value.get("labelSelector").filter(|v| !v.is_null()) {
            m.label_selector =
                Some(LabelSelector::from_value(sel).map_err(|e| format!("labelSelector: {e}"))?);
        }
        if let Some(sel) = value.get("namespaceSelector").filter(|v| !v.is_null()) {
            m.namespace_selector = Some(
                LabelSelector::from_value(sel).map_err(|e| format!("namespaceSelector: {e}"))?,
            );
        }
        m.name = value.get("name").and_then(Value::as_str).map(str::to_owned);
        Ok(m)
    }

    /// Whether the review's object is selected by these criteria.
    pub fn matches(&self, review: &Review, namespaces: &dyn NamespaceLookup) -> bool {
        self.kind_matches(review)
            && self.scope_matches(review)
            && self.namespace_matches(review)
            && self.name_matches(review)
            && self.labels_match(review)
            && self.namespace_selector_matches(review, namespaces)
    }

    fn kind_matches(&self, review: &Review) -> bool {
        self.kinds.is_empty()
            || self.kinds.iter().any(|k| {
                let group_ok = k.api_groups.is_empty()
                    || k.api_groups
                        .iter()
                        .any(|g| g == "*" || *g == review.kind.group);
                let kind_ok = k.kinds.is_empty()
                    || k.kinds.iter().any(|x| x == "*" || *x == review.kind.kind);
                group_ok && kind_ok
            })
    }

    fn scope_matches(&self, review: &Review) -> bool {
        let namespaced = review.namespace.as_deref().is_some_and(|n| !n.is_empty());
        match self.scope.as_deref() {
            Some("Cluster") => !namespaced,
            Some("Namespaced") => namespaced,
            _ => true,
        }
    }

    /// The namespace used for namespace criteria: a Namespace's own name, else the object's
    /// namespace; `None` for other cluster-scoped objects, which namespace criteria skip.
    fn effective_namespace(review: &Review) -> Option<&str> {
        if review.kind.group.is_empty() && review.kind.kind == "Namespace" {
            return review.name.as_deref();
        }
        review.namespace.as_deref().filter(|n| !n.is_empty())
    }

    fn namespace_matches(&self, review: &Review) -> bool {
        let Some(ns) = Self::effective_namespace(review) else {
            return true;
        };
        let included = self
            .namespaces
            .as_ref()
            .is_none_or(|list| list.iter().any(|p| glob_matches(p, ns)));
        included && !self.excluded_namespaces.iter().any(|p| glob_matches(p, ns))
    }

    fn name_matches(&self, review: &Review) -> bool {
        self.name.as_ref().is_none_or(|pattern| {
            review
                .name
                .as_deref()
                .is_some_and(|name| glob_matches(pattern, name))
        })
    }

    fn labels_match(&self, review: &Review) -> bool {
        let Some(selector) = &self.label_selector else {
            return true;
        };
        let labels = |o: &Value| o.pointer("/metadata/labels").cloned();
        let new = (!review.object.is_null())
            .then(|| labels(&review.object))
            .flatten();
        let old = review.old_object.as_ref().and_then(labels);
        // Gatekeeper matches when either the new or the old object satisfies the selector.
        selector.matches(new.as_ref()) || (old.is_some() && selector.matches(old.as_ref()))
    }

    fn namespace_selector_matches(
        &self,
        review: &Review,
        namespaces: &dyn NamespaceLookup,
    ) -> bool {
        let Some(selector) = &self.namespace_selector else {
            return true;
        };
        if review.kind.group.is_empty() && review.kind.kind == "Namespace" {
            return selector.matches(review.object.pointer("/metadata/labels"));
        }
        let Some(ns) = Self::effective_namespace(review) else {
            return true;
        };
        match namespaces.namespace(ns) {
            Some(obj) => selector.matches(obj.pointer("/metadata/labels")),
            None => {
                tracing::debug!(
                    namespace = ns,
                    "namespaceSelector: namespace unknown; not matched"
                );
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn globs() {
        assert!(glob_matches("kube-*", "kube-system"));
        assert!(glob_matches("*-system", "kube-system"));
        assert!(glob_matches("*be-sy*", "kube-system"));
        assert!(glob_matches("default", "default"));
        assert!(!glob_matches("kube-*", "default"));
    }

    #[test]
    fn match_kinds_namespaces_and_labels() {
        let m = Match::from_value(&json!({
            "kinds": [{"apiGroups": [""], "kinds": ["Pod"]}],
            "excludedNamespaces": ["kube-*"],
            "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["a"]}]}
        }));
        let m = m.unwrap_or_default();
        let pod = |ns: &str, app: &str| {
            Review::from_object(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "p", "namespace": ns, "labels": {"app": app}}}))
        };
        assert!(m.matches(&pod("default", "a"), &()));
        assert!(!m.matches(&pod("kube-system", "a"), &()));
        assert!(!m.matches(&pod("default", "b"), &()));
        let deploy = Review::from_object(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"app": "a"}}}));
        assert!(!m.matches(&deploy, &()));
    }
}
