//! Admission policy engine for Palisade.
//!
//! Loads OPA Gatekeeper [`ConstraintTemplate`]s and [`Constraint`]s from YAML, evaluates the
//! templates' Rego with [`regorus`] against admission [`Review`]s using Gatekeeper's input shape
//! (`input.review`, `input.parameters`, `data.inventory`), and runs `gator verify`-style test
//! [`suite`]s.
//!
//! ```no_run
//! use palisade_policy::{PolicySet, Review};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let set = PolicySet::load("policies/")?;
//! let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
//! for result in set.evaluate(&Review::from_object(pod)) {
//!     println!("[{}] {}", result.constraint_name, result.message);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Policies are untrusted input: every evaluation runs under a regorus execution time limit
//! ([`EVAL_TIME_LIMIT`]), and evaluation errors are reported as results rather than panics.
//!
//! Only the `admission.k8s.gatekeeper.sh` target's Rego is supported; templates whose only code
//! is CEL (`K8sNativeValidation`) load but are reported as [`Unsupported`](TemplateStatus).

mod constraint;
mod error;
mod inventory;
mod matcher;
mod policy_set;
mod review;
pub mod suite;
mod template;
mod yaml;

pub use constraint::{Constraint, EnforcementAction};
pub use error::PolicyError;
pub use inventory::Inventory;
pub use matcher::{LabelSelector, Match, NamespaceLookup};
pub use policy_set::{PolicyResult, PolicySet, ResourceRef};
pub use review::{GroupVersionKind, Review};
pub use template::{ConstraintTemplate, TemplateStatus, EVAL_TIME_LIMIT};
