//! The built-in rules: each fires on its test event and not on its
//! near-miss, and each names its MITRE ATT&CK technique.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use palisade_audit::AuditRules;
use palisade_rules::Scratch;

fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_owned()
}

fn is_technique(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix('T') else {
        return false;
    };
    let (main, sub) = rest.split_once('.').unwrap_or((rest, "000"));
    main.len() == 4
        && main.bytes().all(|b| b.is_ascii_digit())
        && sub.len() == 3
        && sub.bytes().all(|b| b.is_ascii_digit())
}

#[test]
fn builtin_rules_compile_cleanly() {
    let rules = AuditRules::builtin().unwrap();
    let report = rules.report();
    assert!(
        report.skipped_unknown_fields.is_empty(),
        "{:?}",
        report.skipped_unknown_fields
    );
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(
        rules.rule_set().rules().len() >= 25,
        "{}",
        rules.rule_set().rules().len()
    );
    for r in rules.rule_set().rules() {
        assert_eq!(r.source(), "k8s_audit", "{}", r.name());
        assert!(
            r.tags().iter().any(|t| is_technique(t)),
            "{} has no ATT&CK technique tag: {:?}",
            r.name(),
            r.tags()
        );
        assert!(
            r.tags().iter().any(|t| t.starts_with("mitre_")),
            "{} has no ATT&CK tactic tag",
            r.name()
        );
    }
}

#[test]
fn each_rule_fires_on_its_event_and_not_on_its_near_miss() {
    let rules = AuditRules::builtin().unwrap();
    let mut scratch = Scratch::new();
    let mut failures = Vec::new();
    for rule in rules.rule_set().rules() {
        let name = rule.name();
        for (kind, want) in [("fire", true), ("miss", false)] {
            let path = common::test_data(&format!("default-rules/{}.{kind}.json", slug(name)));
            assert!(path.exists(), "{name}: missing {}", path.display());
            let events = common::events_of(&path);
            assert_eq!(events.len(), 1, "{}", path.display());
            let matched = rules.matching_rules(&events[0], &mut scratch);
            let hit = matched.iter().any(|m| m == name);
            if hit != want {
                failures.push(format!("{name}: {kind} event matched {matched:?}"));
            }
            // A near-miss is quiet for every rule, not only its own.
            if !want && !matched.is_empty() {
                failures.push(format!("{name}: near-miss event fired {matched:?}"));
            }
            if want {
                // The alert renders every output field without panicking.
                let alerts = rules.alerts(&events[0], &mut scratch);
                let a = alerts.iter().find(|a| a.rule == name).unwrap();
                assert_eq!(a.source, "k8s_audit");
                assert!(!a.output.is_empty());
                assert!(a.time.starts_with("2026-03-04T10:"), "{}", a.time);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Alerts come out as the contract's JSON lines, one per event by default
/// (Falco's first match), every match on request.
#[test]
fn alert_writer_writes_json_lines() {
    use palisade_audit::{AlertWriter, RuleMatching};
    // Fires both "Privileged Pod Created" and "Pod Sharing Host PID Namespace".
    let text = std::fs::read_to_string(common::test_data(
        "default-rules/privileged-pod-created.fire.json",
    ))
    .unwrap()
    .replace(r#""containers":"#, r#""hostPID":true,"containers":"#);
    let event = palisade_audit::AuditEvent::from_json(text.trim()).unwrap();
    for (matching, want) in [(RuleMatching::First, 1), (RuleMatching::All, 2)] {
        let mut w = AlertWriter::new(AuditRules::builtin().unwrap(), matching, Vec::new());
        assert_eq!(w.write_event(&event).unwrap(), want);
        assert_eq!(w.counts(), (1, want as u64));
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), want);
        let a = &lines[0];
        assert_eq!(a["rule"], "Privileged Pod Created");
        assert_eq!(a["priority"], "Warning");
        assert_eq!(a["source"], "k8s_audit");
        assert!(a["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(a["output_fields"]["ka.target.namespace"], "shop");
        assert!(a["tags"].as_array().unwrap().iter().any(|t| t == "T1611"));
    }
}
