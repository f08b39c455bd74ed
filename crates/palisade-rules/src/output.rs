//! Rule output: Falco format strings (`%field`, `%field[arg]`) and the JSON alert of the
//! contract.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::field::{Event, FieldBuf, FieldId, Value};

/// A parsed output format string with its fields resolved.
#[derive(Debug, Clone, Default)]
pub struct OutputTemplate {
    parts: Vec<Part>,
    fields: Vec<(String, FieldId)>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Field(usize),
}

/// A `%field` reference found in an output string: name, optional argument, as written.
pub(crate) struct FieldToken {
    pub(crate) name: String,
    pub(crate) arg: Option<String>,
    pub(crate) written: String,
}

/// Split an output string into text and field tokens. A `%` not followed by a dotted field
/// name is literal text.
pub(crate) fn tokenize(fmt: &str) -> Vec<Result<String, FieldToken>> {
    let b = fmt.as_bytes();
    let mut out = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        if b.get(i) != Some(&b'%') {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while let Some(&c) = b.get(j) {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' {
                j += 1;
            } else {
                break;
            }
        }
        let name = fmt.get(start..j).unwrap_or_default().trim_end_matches('.');
        j = start + name.len();
        let valid = name.contains('.')
            && name
                .as_bytes()
                .first()
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_');
        if !valid {
            i += 1;
            continue;
        }
        let mut arg = None;
        if b.get(j) == Some(&b'[') {
            if let Some(close) = fmt.get(j + 1..).and_then(|s| s.find(']')) {
                arg = fmt.get(j + 1..j + 1 + close).map(str::to_owned);
                j = j + 1 + close + 1;
            }
        }
        text.push_str(fmt.get(last..i).unwrap_or_default());
        if !text.is_empty() {
            out.push(Ok(std::mem::take(&mut text)));
        }
        out.push(Err(FieldToken {
            name: name.to_owned(),
            arg,
            written: fmt.get(start..j).unwrap_or_default().to_owned(),
        }));
        i = j;
        last = j;
    }
    text.push_str(fmt.get(last..).unwrap_or_default());
    if !text.is_empty() {
        out.push(Ok(text));
    }
    out
}

impl OutputTemplate {
    /// Build a template, resolving every field with `resolve`; the first unresolvable field's
    /// error is returned.
    pub(crate) fn build<E>(
        fmt: &str,
        mut resolve: impl FnMut(&str, Option<&str>) -> Result<FieldId, E>,
    ) -> Result<Self, (String, E)> {
        let mut t = OutputTemplate::default();
        for tok in tokenize(fmt) {
            match tok {
                Ok(text) => t.parts.push(Part::Text(text)),
                Err(f) => {
                    let idx = match t.fields.iter().position(|(n, _)| *n == f.written) {
                        Some(i) => i,
                        None => {
                            let id = resolve(&f.name, f.arg.as_deref())
                                .map_err(|e| (f.written.clone(), e))?;
                            t.fields.push((f.written, id));
                            t.fields.len() - 1
                        }
                    };
                    t.parts.push(Part::Field(idx));
                }
            }
        }
        Ok(t)
    }

    /// The fields referenced, as written (`ka.user.name`, `jevt.value[/stage]`).
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(n, _)| n.as_str())
    }

    /// Render for `event`: each field's value, or `<NA>` when absent.
    pub fn render<E: Event + ?Sized>(&self, event: &E, buf: &mut FieldBuf) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(i) => {
                    let v = self.fields.get(*i).and_then(|(_, id)| event.get(*id, buf));
                    match v {
                        Some(v) => {
                            let _ = write!(out, "{v}");
                        }
                        None => out.push_str("<NA>"),
                    }
                }
            }
        }
        // Folded YAML (`output: >`) ends in a newline; an alert line does not.
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out
    }

    /// The `output_fields` map: field as written → value (`null` when absent).
    pub fn fields_json<E: Event + ?Sized>(
        &self,
        event: &E,
        buf: &mut FieldBuf,
    ) -> BTreeMap<String, serde_json::Value> {
        let mut map = BTreeMap::new();
        for (name, id) in &self.fields {
            let v = match event.get(*id, buf) {
                None => serde_json::Value::Null,
                Some(Value::Int(i)) => serde_json::Value::from(i),
                Some(Value::Bool(b)) => serde_json::Value::Bool(b),
                Some(other) => serde_json::Value::String(other.to_string()),
            };
            map.insert(name.clone(), v);
        }
        map
    }
}

/// The JSON alert of the contract, shaped like Falco's JSON output:
/// `{"time","rule","priority","source","output","tags","output_fields"}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alert {
    /// RFC 3339 time with nanoseconds, UTC (see [`format_rfc3339_nanos`]).
    pub time: String,
    /// Rule name.
    pub rule: String,
    /// Falco priority name.
    pub priority: crate::Priority,
    /// Event source (`syscall`, `k8s_audit`).
    pub source: String,
    /// The rendered output string.
    pub output: String,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// Every field of the output string with its value.
    pub output_fields: BTreeMap<String, serde_json::Value>,
}

/// Format nanoseconds since the Unix epoch as `2026-01-02T03:04:05.123456789Z`.
#[must_use]
pub fn format_rfc3339_nanos(unix_nanos: i64) -> String {
    let secs = unix_nanos.div_euclid(1_000_000_000);
    let nanos = unix_nanos.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian), valid for the whole i64 range we can see.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(format_rfc3339_nanos(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            format_rfc3339_nanos(1_767_323_045_123_456_789),
            "2026-01-02T03:04:05.123456789Z"
        );
        assert_eq!(
            format_rfc3339_nanos(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000000Z"
        );
    }

    #[test]
    fn tokens() {
        let t = tokenize("a %proc.name b=%jevt.value[/x/y] 100% %foo %ka.uri.");
        let rendered: Vec<String> = t
            .iter()
            .map(|x| match x {
                Ok(s) => format!("T({s})"),
                Err(f) => format!("F({}|{:?})", f.name, f.arg),
            })
            .collect();
        assert_eq!(
            rendered,
            vec![
                "T(a )",
                "F(proc.name|None)",
                "T( b=)",
                "F(jevt.value|Some(\"/x/y\"))",
                "T( 100% %foo )",
                "F(ka.uri|None)",
                "T(.)",
            ]
        );
    }
}
