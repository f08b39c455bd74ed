//! `gator verify`-style test suites (`kind: Suite`, `apiVersion: test.gatekeeper.sh/v1alpha1`).
//!
//! A suite lists tests (a template and a constraint) with cases (an object, optional inventory
//! objects, and assertions on the violations). Paths are relative to the suite file. As with
//! `gator verify`, violations of every enforcement action count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::constraint::Constraint;
use crate::inventory::Inventory;
use crate::policy_set::{PolicyResult, PolicySet};
use crate::review::Review;
use crate::template::{ConstraintTemplate, TemplateStatus};
use crate::yaml::{self, str_at};
use crate::PolicyError;

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseOutcome {
    /// The suite file.
    pub suite: PathBuf,
    /// The test's name.
    pub test: String,
    /// The case's name.
    pub case: String,
    /// Why the case failed; `None` when it passed or was skipped.
    pub failure: Option<String>,
    /// The test or case says `skip: true`; it was not run.
    pub skipped: bool,
}

impl CaseOutcome {
    /// Whether the case ran and passed.
    pub fn passed(&self) -> bool {
        self.failure.is_none() && !self.skipped
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SuiteReport {
    /// Every case, in suite order.
    pub cases: Vec<CaseOutcome>,
    /// Files that could not be read as suites at all, with the reason.
    pub errors: Vec<(PathBuf, String)>,
}

impl SuiteReport {
    /// Number of passing cases.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed()).count()
    }

    /// Number of failing cases plus unreadable suites.
    pub fn failed(&self) -> usize {
        self.failures().count() + self.errors.len()
    }

    /// Number of skipped cases.
    pub fn skipped(&self) -> usize {
        self.cases.iter().filter(|c| c.skipped).count()
    }

    /// The failing cases.
    pub fn failures(&self) -> impl Iterator<Item = &CaseOutcome> {
        self.cases.iter().filter(|c| c.failure.is_some())
    }

    /// `N passed, M failed` (with `, K skipped` when any were).
    pub fn summary(&self) -> String {
        let skipped = match self.skipped() {
            0 => String::new(),
            n => format!(", {n} skipped"),
        };
        format!(
            "{} passed, {} failed{skipped}",
            self.passed(),
            self.failed()
        )
    }
}

/// Runs every suite in `paths` (suite files, or directories searched recursively for YAML files
/// declaring `kind: Suite`).
pub fn run<P: AsRef<Path>>(paths: &[P]) -> SuiteReport {
    let mut report = SuiteReport::default();
    for path in paths {
        let path = path.as_ref();
        match find_suites(path) {
            Ok(files) => {
                for file in files {
                    run_suite(&file, &mut report);
                }
            }
            Err(err) => report.errors.push((path.to_path_buf(), err.to_string())),
        }
    }
    report
}

fn find_suites(path: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    let meta = std::fs::metadata(path).map_err(|source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| PolicyError::Io {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| PolicyError::Io {
                path: dir.clone(),
                source,
            })?;
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let text = std::fs::read_to_string(&p).map_err(|source| PolicyError::Io {
                    path: p.clone(),
                    source,
                })?;
                if text.lines().any(|l| l.trim_end() == "kind: Suite") {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Loads the single object of a file (the first non-empty document).
fn load_object(path: &Path) -> Result<Value, String> {
    let docs = yaml::read_file(path).map_err(|e| e.to_string())?;
    docs.into_iter()
        .next()
        .map(|d| d.value)
        .ok_or_else(|| format!("{}: no document", path.display()))
}

fn run_suite(file: &Path, report: &mut SuiteReport) {
    let _span = tracing::info_span!("suite", file = %file.display()).entered();
    let base = file.parent().unwrap_or(Path::new("."));
    let suite = match load_object(file) {
        Ok(v) if str_at(&v, "/kind") == Some("Suite") => v,
        Ok(_) => {
            report
                .errors
                .push((file.to_path_buf(), "not a kind: Suite document".to_owned()));
            return;
        }
        Err(e) => {
            report.errors.push((file.to_path_buf(), e));
            return;
        }
    };
    let mut templates: BTreeMap<PathBuf, Result<ConstraintTemplate, String>> = BTreeMap::new();
    let tests = suite
        .get("tests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for test in &tests {
        let test_name = str_at(test, "/name").unwrap_or_default().to_owned();
        let skip_test = test.get("skip").and_then(Value::as_bool).unwrap_or(false);
        let set = if skip_test {
            Err(String::new())
        } else {
            build_set(base, test, &mut templates)
        };
        let cases = test
            .get("cases")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for case in &cases {
            let case_name = str_at(case, "/name").unwrap_or_default().to_owned();
            if skip_test || case.get("skip").and_then(Value::as_bool).unwrap_or(false) {
                report.cases.push(CaseOutcome {
                    suite: file.to_path_buf(),
                    test: test_name.clone(),
                    case: case_name,
                    failure: None,
                    skipped: true,
                });
                continue;
            }
            let failure = match &set {
                Ok(set) => run_case(base, set, case).err(),
                Err(reason) => Some(reason.clone()),
            };
            if let Some(reason) = &failure {
                tracing::info!(test = %test_name, case = %case_name, %reason, "case failed");
            }
            report.cases.push(CaseOutcome {
                suite: file.to_path_buf(),
                test: test_name.clone(),
                case: case_name,
                failure,
                skipped: false,
            });
        }
    }
}

fn build_set(
    base: &Path,
    test: &Value,
    templates: &mut BTreeMap<PathBuf, Result<ConstraintTemplate, String>>,
) -> Result<PolicySet, String> {
    let template_path = base.join(str_at(test, "/template").ok_or("test without template")?);
    let template = templates
        .entry(template_path.clone())
        .or_insert_with(|| {
            let value = load_object(&template_path)?;
            ConstraintTemplate::from_value(&value, template_path.clone(), 0)
                .map_err(|e| e.to_string())
        })
        .clone()?;
    if let TemplateStatus::Unsupported { reason } = &template.status {
        return Err(format!("template {} unsupported: {reason}", template.name));
    }
    let constraint_path = base.join(str_at(test, "/constraint").ok_or("test without constraint")?);
    let value = load_object(&constraint_path)?;
    let constraint =
        Constraint::from_value(&value, constraint_path, 0).map_err(|e| e.to_string())?;
    let mut set = PolicySet::new();
    set.add_template(template);
    set.add_constraint(constraint).map_err(|e| e.to_string())?;
    Ok(set)
}

fn run_case(base: &Path, set: &PolicySet, case: &Value) -> Result<(), String> {
    let object_path = base.join(str_at(case, "/object").ok_or("case without object")?);
    let object = load_object(&object_path)?;
    let mut inventory = Inventory::new();
    for entry in case
        .get("inventory")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let path = base.join(entry.as_str().ok_or("inventory entry is not a path")?);
        for doc in yaml::read_file(&path).map_err(|e| e.to_string())? {
            inventory.add(doc.value);
        }
    }
    let mut set = set.clone();
    set.set_inventory(inventory);
    let results = set.evaluate(&Review::from_document(object));
    if let Some(err) = results
        .iter()
        .find(|r| r.message.contains(": evaluation failed: "))
    {
        return Err(err.message.clone());
    }
    for assertion in case
        .get("assertions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check_assertion(assertion, &results)?;
    }
    Ok(())
}

/// Checks one assertion: `violations` (`yes`, `no`, or a count; default `yes`) of the results
/// whose message contains `message` (or matches it as a regular expression, as gator does).
fn check_assertion(assertion: &Value, results: &[PolicyResult]) -> Result<(), String> {
    let message = str_at(assertion, "/message");
    let regex = message.and_then(|m| regex::Regex::new(m).ok());
    let matching = results
        .iter()
        .filter(|r| match message {
            None => true,
            Some(m) => {
                r.message.contains(m) || regex.as_ref().is_some_and(|re| re.is_match(&r.message))
            }
        })
        .count();
    let expected = assertion
        .get("violations")
        .cloned()
        .unwrap_or(Value::String("yes".to_owned()));
    let ok = match &expected {
        Value::String(s) if s == "yes" => matching > 0,
        Value::String(s) if s == "no" => matching == 0,
        Value::Bool(b) => (matching > 0) == *b,
        Value::Number(n) => n
            .as_u64()
            .is_some_and(|n| usize::try_from(n).is_ok_and(|n| n == matching)),
        Value::String(s) => s.parse::<usize>().is_ok_and(|n| n == matching),
        _ => return Err(format!("invalid assertion violations: {expected}")),
    };
    if ok {
        return Ok(());
    }
    let messages: Vec<&str> = results.iter().map(|r| r.message.as_str()).collect();
    Err(format!(
        "expected violations {expected}{} but got {matching}: {messages:?}",
        message
            .map(|m| format!(" with message {m:?}"))
            .unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EnforcementAction;
    use crate::ResourceRef;
    use serde_json::json;

    fn result(message: &str) -> PolicyResult {
        PolicyResult {
            constraint_kind: "K".to_owned(),
            constraint_name: "c".to_owned(),
            enforcement_action: EnforcementAction::Dryrun,
            resource: ResourceRef {
                api_version: "v1".to_owned(),
                kind: "Pod".to_owned(),
                namespace: String::new(),
                name: "p".to_owned(),
            },
            message: message.to_owned(),
        }
    }

    #[test]
    fn assertions() {
        let results = [
            result("container a is privileged"),
            result("container b is privileged"),
        ];
        assert!(check_assertion(&json!({"violations": "yes"}), &results).is_ok());
        assert!(check_assertion(&json!({"violations": false}), &results).is_err());
        assert!(check_assertion(&json!({"violations": 2}), &results).is_ok());
        assert!(check_assertion(
            &json!({"violations": 1, "message": "container a"}),
            &results
        )
        .is_ok());
        assert!(check_assertion(&json!({"violations": "no", "message": "root"}), &results).is_ok());
        assert!(check_assertion(
            &json!({"violations": 2, "message": "container . is"}),
            &results
        )
        .is_ok());
        assert!(check_assertion(&json!({"violations": "no"}), &[]).is_ok());
    }
}
