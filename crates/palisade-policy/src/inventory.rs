//! Cluster objects visible to referential templates as `data.inventory`.

use serde_json::{Map, Value};

use crate::matcher::NamespaceLookup;

/// Objects synced into `data.inventory`:
/// `namespace[ns][apiVersion][kind][name]` and `cluster[apiVersion][kind][name]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    objects: Vec<Value>,
}

impl Inventory {
    /// An empty inventory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an object (a `kind: List`'s `items` are added one by one).
    pub fn add(&mut self, object: Value) {
        if object.get("kind").and_then(Value::as_str) == Some("List") {
            if let Some(items) = object.get("items").and_then(Value::as_array) {
                self.objects.extend(items.iter().cloned());
            }
            return;
        }
        self.objects.push(object);
    }

    /// Whether no objects are held.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The objects held.
    pub fn objects(&self) -> &[Value] {
        &self.objects
    }

    /// The `data.inventory` value.
    pub fn to_data(&self) -> Value {
        let mut namespaced = Map::new();
        let mut cluster = Map::new();
        for object in &self.objects {
            let text = |p: &str| {
                object
                    .pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            };
            let (api_version, kind, name) =
                (text("/apiVersion"), text("/kind"), text("/metadata/name"));
            let namespace = text("/metadata/namespace");
            let root = if namespace.is_empty() {
                &mut cluster
            } else {
                let entry = namespaced
                    .entry(namespace.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                match entry.as_object_mut() {
                    Some(map) => map,
                    None => continue,
                }
            };
            let by_kind = child(root, api_version);
            let Some(by_name) = by_kind.and_then(|m| child(m, kind)) else {
                continue;
            };
            by_name.insert(name.to_owned(), object.clone());
        }
        serde_json::json!({"namespace": namespaced, "cluster": cluster})
    }
}

fn child<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    map.entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

impl NamespaceLookup for Inventory {
    fn namespace(&self, name: &str) -> Option<&Value> {
        self.objects.iter().find(|o| {
            o.get("kind").and_then(Value::as_str) == Some("Namespace")
                && o.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape() {
        let mut inv = Inventory::new();
        inv.add(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}));
        inv.add(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "i", "namespace": "a"}}),
        );
        let data = inv.to_data();
        assert!(data.pointer("/cluster/v1/Namespace/a").is_some());
        assert!(data
            .pointer("/namespace/a/networking.k8s.io~1v1/Ingress/i")
            .is_some());
        assert!(inv.namespace("a").is_some());
    }
}
