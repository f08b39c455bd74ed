//! OSV advisory documents: `parse_osv` must never panic, and what it
//! accepts must respect the limits the importer and matcher rely on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_vulndb::osv::{MAX_AFFECTED, MAX_EVENTS, MAX_NAME_LEN};
use palisade_vulndb::{parse_osv, Event, Scheme, MAX_VERSION_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(adv) = parse_osv(data) else { return };
    assert!(!adv.id.is_empty() && adv.id.len() <= 200);
    assert!(adv.id.trim() == adv.id);
    assert!(adv.title.chars().count() <= 500);
    assert!(adv.cvss_score.is_none_or(|s| s.is_finite() && (0.0..=10.0).contains(&s)));
    assert!(adv.affected.len() <= MAX_AFFECTED);
    for a in &adv.affected {
        assert!(!a.ecosystem.is_empty() && !a.name.is_empty());
        assert!(a.name.len() <= MAX_NAME_LEN && a.ecosystem.len() <= MAX_NAME_LEN);
        assert!(a.versions.iter().all(|v| v.len() <= MAX_VERSION_LEN));
        for r in &a.ranges {
            assert!(r.events.len() <= MAX_EVENTS);
            assert!(r.events.iter().any(|e| matches!(e, Event::Introduced(_))));
            // Every bound must be safe to hand to the ecosystem's scheme.
            if let Some(scheme) = Scheme::for_ecosystem(&a.ecosystem) {
                for e in &r.events {
                    let (Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v)) = e;
                    assert!(v.len() <= MAX_VERSION_LEN);
                    let _ = scheme.parse(v);
                }
            }
        }
    }
});
