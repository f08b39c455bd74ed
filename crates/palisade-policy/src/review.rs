//! The object under review, in the shape Gatekeeper passes as `input.review`.

use serde_json::{json, Value};

/// A group/version/kind triple.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GroupVersionKind {
    /// API group (`""` for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

impl GroupVersionKind {
    /// Splits an `apiVersion` (`group/version` or `version`) and pairs it with `kind`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        Self {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
        }
    }

    /// The `apiVersion` string.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// An admission request-like review of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// `object` (null for DELETE).
    pub object: Value,
    /// `oldObject` (UPDATE and DELETE).
    pub old_object: Option<Value>,
    /// `kind`.
    pub kind: GroupVersionKind,
    /// `operation`: CREATE, UPDATE, DELETE or CONNECT.
    pub operation: String,
    /// `namespace` (`None` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `userInfo` (null when unknown).
    pub user_info: Value,
    /// `dryRun`.
    pub dry_run: bool,
}

fn meta(object: &Value, field: &str) -> Option<String> {
    object
        .pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl Review {
    /// A CREATE review of a plain Kubernetes object (as `gator` does).
    pub fn from_object(object: Value) -> Self {
        let kind = GroupVersionKind::from_api_version(
            object
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            object
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        );
        Self {
            namespace: meta(&object, "namespace"),
            name: meta(&object, "name"),
            kind,
            object,
            old_object: None,
            operation: "CREATE".to_owned(),
            user_info: Value::Null,
            dry_run: false,
        }
    }

    /// A review from an AdmissionReview `request` object.
    pub fn from_admission_request(request: &Value) -> Self {
        let object = request.get("object").cloned().unwrap_or(Value::Null);
        let old_object = request.get("oldObject").cloned().filter(|v| !v.is_null());
        let body = if object.is_null() {
            old_object.clone().unwrap_or(Value::Null)
        } else {
            object.clone()
        };
        let mut review = Self::from_object(body);
        review.object = object;
        review.old_object = old_object;
        if let Some(kind) = request.get("kind") {
            let field = |f: &str| {
                kind.get(f)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            review.kind = GroupVersionKind {
                group: field("group"),
                version: field("version"),
                kind: field("kind"),
            };
        }
        let string = |f: &str| request.get(f).and_then(Value::as_str).map(str::to_owned);
        if let Some(op) = string("operation") {
            review.operation = op;
        }
        if let Some(ns) = string("namespace") {
            review.namespace = Some(ns);
        }
        if let Some(name) = string("name") {
            review.name = Some(name);
        }
        review.user_info = request.get("userInfo").cloned().unwrap_or(Value::Null);
        review.dry_run = request
            .get("dryRun")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        review
    }

    /// A review from either a plain object or a whole `kind: AdmissionReview` document.
    pub fn from_document(document: Value) -> Self {
        if document.get("kind").and_then(Value::as_str) == Some("AdmissionReview") {
            if let Some(request) = document.get("request") {
                return Self::from_admission_request(request);
            }
        }
        Self::from_object(document)
    }

    /// The `input.review` value.
    pub fn to_input(&self) -> Value {
        let mut review = json!({
            "kind": self.kind,
            "operation": self.operation,
            "object": self.object,
            "dryRun": self.dry_run,
        });
        if let Some(map) = review.as_object_mut() {
            if let Some(old) = &self.old_object {
                map.insert("oldObject".to_owned(), old.clone());
            }
            if let Some(ns) = &self.namespace {
                map.insert("namespace".to_owned(), Value::String(ns.clone()));
            }
            if let Some(name) = &self.name {
                map.insert("name".to_owned(), Value::String(name.clone()));
            }
            if !self.user_info.is_null() {
                map.insert("userInfo".to_owned(), self.user_info.clone());
            }
        }
        review
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_review_document() {
        let r = Review::from_document(json!({"kind": "AdmissionReview", "request": {
            "operation": "UPDATE",
            "object": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}}
        }}));
        assert_eq!(r.operation, "UPDATE");
        assert_eq!(r.kind.group, "apps");
        assert_eq!(r.namespace.as_deref(), Some("n"));
        assert_eq!(
            r.to_input().pointer("/kind/kind"),
            Some(&json!("Deployment"))
        );
    }
}
