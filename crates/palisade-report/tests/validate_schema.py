"""Validate the JSON document on stdin against a vendored official schema.

Usage: validate_schema.py SCHEMA_DIR KIND    (KIND: cyclonedx, spdx, sarif)

Prints one line per validation error and exits 1 when there are any, 0 when
the document is valid. Works with jsonschema >= 4.18 (the `referencing`
registry) and with older releases such as Debian 12's 4.10 (RefResolver).
Run by tests/schema.rs.
"""

import json
import sys
from pathlib import Path

import jsonschema

# kind -> (root schema, [other schemas it references])
SCHEMAS = {
    "cyclonedx": (
        "cyclonedx/bom-1.6.SNAPSHOT.schema.json",
        ["cyclonedx/spdx.SNAPSHOT.schema.json", "cyclonedx/jsf-0.82.SNAPSHOT.schema.json"],
    ),
    "spdx": ("spdx/spdx-schema-2.3.json", []),
    "sarif": ("sarif/sarif-schema-2.1.0.json", []),
}


def schema_id(schema):
    return schema.get("$id") or schema.get("id") or ""


def load(schema_dir, kind):
    root_name, others = SCHEMAS[kind]
    root = json.loads((schema_dir / root_name).read_text(encoding="utf-8"))
    base = schema_id(root).rsplit("/", 1)[0] + "/"
    store = {}
    for name in [root_name] + others:
        schema = json.loads((schema_dir / name).read_text(encoding="utf-8"))
        # Reachable both by its own id and by the relative $ref used for it.
        store[schema_id(schema)] = schema
        store[base + Path(name).name] = schema
    return root, store


def validator(root, store):
    cls = jsonschema.validators.validator_for(root)
    cls.check_schema(root)
    checker = cls.FORMAT_CHECKER
    try:
        from referencing import Registry, Resource
    except ImportError:
        resolver = jsonschema.RefResolver.from_schema(root, store=store)
        return cls(root, resolver=resolver, format_checker=checker)
    default = jsonschema.validators.validator_for(root).META_SCHEMA
    registry = Registry().with_resources(
        (uri, Resource.from_contents(schema, default_specification=_spec(default)))
        for uri, schema in store.items()
    )
    return cls(root, registry=registry, format_checker=checker)


def _spec(meta_schema):
    from referencing.jsonschema import specification_with

    return specification_with(schema_id(meta_schema))


def main():
    schema_dir, kind = Path(sys.argv[1]), sys.argv[2]
    root, store = load(schema_dir, kind)
    doc = json.load(sys.stdin)
    errors = sorted(validator(root, store).iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors:
        path = "/".join(str(p) for p in e.absolute_path) or "(root)"
        print(f"{kind}: {path}: {e.message[:400]}")
    if errors:
        return 1
    print(f"{kind}: valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
