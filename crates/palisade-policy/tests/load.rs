//! Loading policies from directories and evaluating them.

use std::fs;

use palisade_policy::{EnforcementAction, Inventory, PolicyError, PolicySet, Review};
use serde_json::json;

const TEMPLATE: &str = r#"
apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8sdisallowedtags
spec:
  crd:
    spec:
      names:
        kind: K8sDisallowedTags
      validation:
        openAPIV3Schema:
          type: object
          properties:
            tags:
              type: array
              items:
                type: string
  targets:
    - target: admission.k8s.gatekeeper.sh
      libs:
        - |
          package lib.images
          tag(image) = t { parts := split(image, ":"); t := parts[count(parts) - 1] }
      rego: |
        package k8sdisallowedtags
        import data.lib.images.tag
        violation[{"msg": msg}] {
          container := input.review.object.spec.containers[_]
          tag(container.image) == input.parameters.tags[_]
          msg := sprintf("container <%v> uses a disallowed tag <%v>", [container.name, container.image])
        }
"#;

const CONSTRAINTS: &str = r#"
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sDisallowedTags
metadata:
  name: no-latest
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Pod"]
    namespaceSelector:
      matchLabels:
        env: prod
  parameters:
    tags: ["latest"]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sDisallowedTags
metadata:
  name: no-dev-anywhere
spec:
  enforcementAction: dryrun
  match:
    excludedNamespaces: ["kube-*"]
  parameters:
    tags: ["dev"]
"#;

fn pod(ns: &str, image: &str) -> Review {
    Review::from_object(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": ns},
        "spec": {"containers": [{"name": "c", "image": image}]}}))
}

#[test]
fn loads_directory_recursively_and_evaluates() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    fs::create_dir_all(dir.path().join("templates/nested"))?;
    fs::write(dir.path().join("templates/nested/template.yaml"), TEMPLATE)?;
    fs::write(dir.path().join("constraints.yml"), CONSTRAINTS)?;
    fs::write(dir.path().join("README.md"), "not yaml: [")?;

    let mut set = PolicySet::load(dir.path())?;
    assert_eq!(set.templates().count(), 1);
    assert_eq!(set.constraints().len(), 2);

    // Without the namespace object, namespaceSelector cannot match.
    assert!(set.evaluate(&pod("shop", "nginx:latest")).is_empty());

    let mut inventory = Inventory::new();
    inventory.add(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"env": "prod"}}}));
    set.set_inventory(inventory);
    let results = set.evaluate(&pod("shop", "nginx:latest"));
    assert_eq!(results.len(), 1, "{results:?}");
    let result = results
        .first()
        .ok_or_else(|| anyhow::anyhow!("no result"))?;
    assert_eq!(result.constraint_name, "no-latest");
    assert_eq!(result.enforcement_action, EnforcementAction::Deny);
    assert_eq!(result.resource.namespace, "shop");
    assert_eq!(
        result.message,
        "container <c> uses a disallowed tag <nginx:latest>"
    );

    let dev = set.evaluate(&pod("shop", "nginx:dev"));
    let actions: Vec<_> = dev.iter().map(|r| r.enforcement_action).collect();
    assert_eq!(actions, [EnforcementAction::Dryrun]);
    assert!(set.evaluate(&pod("kube-system", "nginx:dev")).is_empty());
    Ok(())
}

#[test]
fn errors_name_file_and_document() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    fs::write(dir.path().join("template.yaml"), TEMPLATE)?;
    let bad = CONSTRAINTS.replace("enforcementAction: dryrun", "enforcementAction: maybe");
    fs::write(dir.path().join("constraints.yaml"), bad)?;
    let err = PolicySet::load(dir.path()).err();
    let Some(PolicyError::Invalid { path, index, .. }) = &err else {
        anyhow::bail!("expected Invalid, got {err:?}");
    };
    assert!(path.ends_with("constraints.yaml"));
    assert_eq!(*index, 1);

    fs::write(
        dir.path().join("constraints.yaml"),
        CONSTRAINTS.replace("K8sDisallowedTags", "K8sNope"),
    )?;
    let err = PolicySet::load(dir.path()).err();
    assert!(
        matches!(err, Some(PolicyError::UnknownKind { .. })),
        "{err:?}"
    );
    Ok(())
}
