//! A JSON reader for `package.json` and `package-lock.json` that keeps only
//! the members the cataloger needs.
//!
//! Deserialising a hostile lock file into `serde_json::Value` can cost ten
//! times its size (`[{},{},…]`). Here every object is reduced while it is
//! read: unknown members are skipped without allocating
//! ([`IgnoredAny`]), a member of the wrong type reads as absent instead of
//! failing the whole file, the number of map entries kept is capped, and
//! nested `dependencies` (lockfile v1) stop at a depth limit.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{MAX_LOCK_DEPTH, MAX_LOCK_ENTRIES};

/// The members of one JSON object that matter; all empty when the value
/// was not an object.
#[derive(Debug, Default)]
pub(super) struct Picked {
    pub(super) is_object: bool,
    pub(super) name: Option<String>,
    pub(super) version: Option<String>,
    pub(super) dev: bool,
    pub(super) optional: bool,
    pub(super) dev_optional: bool,
    pub(super) link: bool,
    /// From `license`: a string, or an object's `type`.
    pub(super) license: Vec<String>,
    /// From the legacy `licenses` array.
    pub(super) legacy_licenses: Vec<String>,
    /// Nested `dependencies` (only read where asked for).
    pub(super) dependencies: Option<Vec<(String, Picked)>>,
}

/// A lock file's top level.
#[derive(Debug, Default)]
pub(super) struct LockRoot {
    pub(super) packages: Option<Vec<(String, Picked)>>,
    pub(super) dependencies: Option<Vec<(String, Picked)>>,
    /// More than [`MAX_LOCK_ENTRIES`] map entries: the rest were skipped.
    pub(super) truncated: bool,
    /// `dependencies` nested deeper than [`MAX_LOCK_DEPTH`] were skipped.
    pub(super) too_deep: bool,
}

/// Shared limits of one parse.
struct Budget {
    entries_left: Cell<usize>,
    truncated: Cell<bool>,
    too_deep: Cell<bool>,
}

/// Read one object of `package.json` shape.
pub(super) fn read_object(data: &[u8]) -> Result<Picked, serde_json::Error> {
    let budget = Budget {
        entries_left: Cell::new(MAX_LOCK_ENTRIES),
        truncated: Cell::new(false),
        too_deep: Cell::new(false),
    };
    let mut de = serde_json::Deserializer::from_slice(data);
    let picked = ObjectSeed {
        budget: &budget,
        depth: None,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(picked)
}

/// Read a `package-lock.json` / `npm-shrinkwrap.json`.
pub(super) fn read_lock(data: &[u8]) -> Result<LockRoot, serde_json::Error> {
    let budget = Budget {
        entries_left: Cell::new(MAX_LOCK_ENTRIES),
        truncated: Cell::new(false),
        too_deep: Cell::new(false),
    };
    let mut de = serde_json::Deserializer::from_slice(data);
    let mut root = RootSeed { budget: &budget }.deserialize(&mut de)?;
    de.end()?;
    root.truncated = budget.truncated.get();
    root.too_deep = budget.too_deep.get();
    Ok(root)
}

/// Any JSON value read as a string, `true`, or nothing.
enum Scalar {
    Str(String),
    True,
    Other,
}

impl Scalar {
    fn string(self) -> Option<String> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

struct ScalarSeed;

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

/// Every `visit_*` a JSON value other than an object can call, all giving
/// `$other`; arrays are skipped.
macro_rules! other_values {
    ($other:expr) => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($other)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($other)
        }
    };
}

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(if v { Scalar::True } else { Scalar::Other })
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_string()))
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// Most licences kept from one `licenses` array.
const MAX_LICENSES: usize = 16;

/// A licence member: a string, an object's `type`, or (for the legacy
/// `licenses`) an array of those.
struct LicenseSeed {
    array_allowed: bool,
}

impl<'de> DeserializeSeed<'de> for LicenseSeed {
    type Value = Vec<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_any(LicenseVisitor {
            array_allowed: self.array_allowed,
        })
    }
}

struct LicenseVisitor {
    array_allowed: bool,
}

impl<'de> Visitor<'de> for LicenseVisitor {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a licence")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<String>, E> {
        Ok(Vec::new())
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Vec<String>, E> {
        Ok(vec![v.to_string()])
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "type" && out.is_empty() {
                out.extend(map.next_value_seed(ScalarSeed)?.string());
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
        let mut out = Vec::new();
        if !self.array_allowed {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(out);
        }
        while let Some(one) = seq.next_element_seed(LicenseSeed {
            array_allowed: false,
        })? {
            if out.len() < MAX_LICENSES {
                out.extend(one);
            }
        }
        Ok(out)
    }
}

/// One object; `depth` is `Some(level)` where nested `dependencies` are
/// read (lockfile v1), `None` elsewhere.
#[derive(Clone, Copy)]
struct ObjectSeed<'b> {
    budget: &'b Budget,
    depth: Option<usize>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Picked;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Picked, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = Picked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    other_values!(Picked::default());

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Picked, A::Error> {
        let mut p = Picked {
            is_object: true,
            ..Picked::default()
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => p.name = map.next_value_seed(ScalarSeed)?.string(),
                "version" => p.version = map.next_value_seed(ScalarSeed)?.string(),
                "dev" => p.dev = matches!(map.next_value_seed(ScalarSeed)?, Scalar::True),
                "optional" => {
                    p.optional = matches!(map.next_value_seed(ScalarSeed)?, Scalar::True);
                }
                "devOptional" => {
                    p.dev_optional = matches!(map.next_value_seed(ScalarSeed)?, Scalar::True);
                }
                "link" => p.link = matches!(map.next_value_seed(ScalarSeed)?, Scalar::True),
                "license" => {
                    p.license = map.next_value_seed(LicenseSeed {
                        array_allowed: false,
                    })?;
                }
                "licenses" => {
                    p.legacy_licenses = map.next_value_seed(LicenseSeed {
                        array_allowed: true,
                    })?;
                }
                "dependencies" => match self.depth {
                    Some(d) if d.saturating_add(1) < MAX_LOCK_DEPTH => {
                        p.dependencies = map.next_value_seed(MapSeed {
                            budget: self.budget,
                            depth: Some(d.saturating_add(1)),
                        })?;
                    }
                    Some(_) => {
                        self.budget.too_deep.set(true);
                        map.next_value::<IgnoredAny>()?;
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(p)
    }
}

/// A map of names to objects (`packages`, `dependencies`); `None` when
/// the value is not an object.
#[derive(Clone, Copy)]
struct MapSeed<'b> {
    budget: &'b Budget,
    depth: Option<usize>,
}

impl<'de> DeserializeSeed<'de> for MapSeed<'_> {
    type Value = Option<Vec<(String, Picked)>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MapSeed<'_> {
    type Value = Option<Vec<(String, Picked)>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    other_values!(None);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let left = self.budget.entries_left.get();
            if left == 0 {
                self.budget.truncated.set(true);
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            self.budget.entries_left.set(left.saturating_sub(1));
            let value = map.next_value_seed(ObjectSeed {
                budget: self.budget,
                depth: self.depth,
            })?;
            out.push((key, value));
        }
        Ok(Some(out))
    }
}

struct RootSeed<'b> {
    budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for RootSeed<'_> {
    type Value = LockRoot;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<LockRoot, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RootSeed<'_> {
    type Value = LockRoot;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    other_values!(LockRoot::default());

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LockRoot, A::Error> {
        let mut root = LockRoot::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "packages" => {
                    root.packages = map.next_value_seed(MapSeed {
                        budget: self.budget,
                        depth: None,
                    })?;
                }
                // The v1 tree is only needed when there is no `packages`
                // map; npm writes `packages` first.
                "dependencies" if root.packages.is_none() => {
                    root.dependencies = map.next_value_seed(MapSeed {
                        budget: self.budget,
                        depth: Some(0),
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(root)
    }
}
