//! Identifiers unique within one document (CycloneDX bom-refs, SPDX ids).

use std::collections::HashSet;

/// The identifiers handed out so far.
#[derive(Debug, Default)]
pub(crate) struct UniqueIds {
    used: HashSet<String>,
}

impl UniqueIds {
    /// Take `id`; `false` when it is already taken.
    pub(crate) fn take(&mut self, id: &str) -> bool {
        !self.used.contains(id) && self.used.insert(id.to_string())
    }

    /// Take `id` when free, else the first free of `id-2`, `id-3`, …
    pub(crate) fn take_numbered(&mut self, id: String) -> String {
        if self.take(&id) {
            return id;
        }
        let mut n: u64 = 2;
        loop {
            let numbered = format!("{id}-{n}");
            if self.take(&numbered) {
                return numbered;
            }
            n = n.saturating_add(1);
        }
    }
}
