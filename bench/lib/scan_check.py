#!/usr/bin/env python3
"""Check a `palisade image scan --format json` inventory of every ecosystem
against the package managers' own view and against Trivy.

    scan_check.py PALISADE_JSON [--trivy TRIVY_CDX_JSON]
        [--pip-list PIP_JSON --pip-root IMAGE_DIR]
        [--npm-ls NPM_JSON --npm-paths NPM_PARSEABLE --npm-root HOST_DIR=IMAGE_DIR]
        [--same-as OTHER_PALISADE_JSON ...] [--json OUT]

PIP_JSON: `python3 -m pip list --path DIR --format json`; every entry must be
in the scan as a PyPI package (names compared after PEP 503 normalisation)
whose metadata lies under IMAGE_DIR.
NPM_JSON: `npm ls --all --json` in the project; every (name, version) in its
tree (a package listed as `deduped` is the same install as another entry)
must be in the scan as an npm package. NPM_PARSEABLE: `npm ls --all
--parseable`, the folder of every installed package; HOST_DIR=IMAGE_DIR
maps them to image paths, and every folder must be reported at
FOLDER/package.json.
No package may appear twice with the same (ecosystem, name, version, path).
TRIVY: `trivy image --format cyclonedx` or `--format json --list-all-pkgs`;
compared per ecosystem by
(name, version) and by (name, version, path).
--same-as: other scans of the same image (warm cache, docker-archive) must
report the same packages and vulnerabilities.
Exits 1 when a ground-truth package is missing or a duplicate is found.
"""

import argparse
import json
import re
import sys
import urllib.parse
from collections import Counter, defaultdict

TRIVY_TYPES = {"debian": "Debian", "python-pkg": "PyPI", "node-pkg": "npm", "jar": "Maven",
               "gobinary": "Go", "rustbinary": "crates.io", "gemspec": "RubyGems",
               "composer-vendor": "Packagist", "dotnet-core": "NuGet"}


def pep503(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def palisade_packages(path):
    doc = json.load(open(path))
    return doc, [(p["ecosystem"], p["name"], p["version"], p.get("path", "")) for p in doc.get("packages", [])]


def trivy_packages(path):
    """Trivy's packages, from its CycloneDX or its own JSON (`--format json
    --list-all-pkgs`), as (ecosystem, name, version, path). The Debian epoch
    (a purl qualifier, or the `Epoch` field) is put back into the version;
    Debian packages get dpkg's status file as their path, as in Palisade."""
    doc = json.load(open(path))
    out = []
    if "Results" in doc:  # Trivy's own JSON
        for r in doc.get("Results") or []:
            t = r.get("Type", "?")
            for p in r.get("Packages") or []:
                v = p.get("Version", "")
                if p.get("Release"):
                    v = f"{v}-{p['Release']}"
                if p.get("Epoch"):
                    v = f"{p['Epoch']}:{v}"
                path = "var/lib/dpkg/status" if t == "debian" else p.get("FilePath", "")
                out.append((TRIVY_TYPES.get(t, t), p["Name"], v, path))
        return out
    for c in doc.get("components", []):
        if c.get("type") == "operating-system":
            continue
        props = {p["name"]: p["value"] for p in c.get("properties", [])}
        t = props.get("aquasecurity:trivy:PkgType", c.get("type", "?"))
        path = props.get("aquasecurity:trivy:FilePath", "")
        version = c.get("version", "")
        if t == "debian":
            path = "var/lib/dpkg/status"
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(c.get("purl") or "").query)
            epoch = (q.get("epoch") or [""])[0]
            if epoch and epoch != "0":
                version = f"{epoch}:{version}"
        out.append((TRIVY_TYPES.get(t, t), c["name"], version, path))
    return out


def comparable(pkgs):
    """PyPI names compared after PEP 503 normalisation (Palisade reports the
    normalised name, Trivy the `Name:` field of METADATA as written)."""
    return [(e, pep503(n) if e == "PyPI" else n, v, p) for (e, n, v, p) in pkgs]


def npm_tree(path):
    """(name, version) of every installed package in `npm ls --all --json`."""
    doc = json.load(open(path))
    seen, missing = set(), []

    def walk(node):
        for name, dep in (node.get("dependencies") or {}).items():
            if "version" not in dep:  # not installed (an optional dependency of another platform)
                missing.append(name)
                continue
            seen.add((name, dep["version"]))
            walk(dep)

    walk(doc)
    return doc, seen, missing


def vuln_keys(doc):
    return sorted((v.get("ecosystem", ""), v.get("package", ""), v.get("installed_version", ""), v.get("id", ""))
                  for v in doc.get("vulnerabilities", []))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("palisade")
    ap.add_argument("--trivy", action="append", default=[],
                    help="Trivy output (CycloneDX or its own JSON); may be repeated")
    ap.add_argument("--pip-list")
    ap.add_argument("--pip-root", default="")
    ap.add_argument("--npm-ls")
    ap.add_argument("--npm-paths")
    ap.add_argument("--npm-root")
    ap.add_argument("--same-as", action="append", default=[])
    ap.add_argument("--json")
    args = ap.parse_args()

    doc, pal = palisade_packages(args.palisade)
    out, lines, failed = {}, [], False
    by_eco = Counter(k[0] for k in pal)
    lines.append(f"palisade: {len(pal)} packages (" + ", ".join(f"{e} {n}" for e, n in sorted(by_eco.items())) + "), "
                 f"{len(doc.get('vulnerabilities', []))} vulnerabilities ("
                 + ", ".join(f"{e} {n}" for e, n in sorted(Counter(v.get('ecosystem', '?') for v in doc.get('vulnerabilities', [])).items()))
                 + f"), {len(doc.get('warnings', []))} warnings")
    out["palisade"] = {"packages": dict(by_eco), "vulnerabilities": len(doc.get("vulnerabilities", [])),
                       "warnings": [w.get("location", "") + ": " + w.get("message", "") for w in doc.get("warnings", [])]}

    dups = sorted(k for k, n in Counter(pal).items() if n > 1)
    lines.append(f"duplicates (same ecosystem, name, version, path): {len(dups)}")
    lines.extend(f"  DUPLICATE {k}" for k in dups)
    failed |= bool(dups)
    out["duplicates"] = [list(k) for k in dups]

    if args.pip_list:
        pip = json.load(open(args.pip_list))
        root = args.pip_root.strip("/")
        have = {(pep503(n), v) for (e, n, v, p) in pal if e == "PyPI" and p.startswith(root + "/")}
        miss = [f"{d['name']} {d['version']}" for d in pip if (pep503(d["name"]), d["version"]) not in have]
        extra = sorted(f"{n} {v} at {p}" for (e, n, v, p) in pal if e == "PyPI"
                       and (pep503(n), v) not in {(pep503(d["name"]), d["version"]) for d in pip})
        lines.append(f"pip list --path: {len(pip)} packages; found by palisade: {len(pip) - len(miss)}; missed: {len(miss)}"
                     f"; PyPI packages palisade reports that pip does not list: {len(extra)}")
        lines.extend(f"  MISSED {m}" for m in miss)
        lines.extend(f"  only palisade: {e}" for e in extra)
        failed |= bool(miss)
        out["pip"] = {"listed": len(pip), "missed": miss, "only_palisade": extra}

    if args.npm_ls:
        _, tree, not_installed = npm_tree(args.npm_ls)
        have = {(n, v) for (e, n, v, _) in pal if e == "npm"}
        miss = sorted(f"{n} {v}" for (n, v) in tree - have)
        extra = sorted(f"{n} {v}" for (n, v) in have - tree)
        lines.append(f"npm ls --all: {len(tree)} distinct (name, version) installed"
                     + (f" ({len(not_installed)} optional entries not installed: {', '.join(sorted(set(not_installed)))})" if not_installed else "")
                     + f"; found by palisade: {len(tree) - len(miss)}; missed: {len(miss)}"
                     f"; npm (name, version) palisade reports that npm ls does not: {len(extra)}")
        lines.extend(f"  MISSED {m}" for m in miss)
        lines.extend(f"  only palisade: {e}" for e in extra)
        failed |= bool(miss)
        out["npm"] = {"distinct": len(tree), "missed": miss, "only_palisade": extra}
        if args.npm_paths and args.npm_root:
            host, image = args.npm_root.split("=", 1)
            host, image = host.rstrip("/"), image.strip("/")
            folders = [l.strip() for l in open(args.npm_paths) if l.strip()]
            want = {image + f[len(host):] + "/package.json" for f in folders if f.startswith(host)}
            got = {p for (e, _, _, p) in pal if e == "npm"}
            miss_p = sorted(want - got)
            extra_p = sorted(got - want)
            lines.append(f"npm ls --all --parseable: {len(want)} package folders (the first is the project itself); "
                         f"reported by palisade: {len(want) - len(miss_p)}; not reported: {len(miss_p)}; "
                         f"npm paths palisade reports that npm ls does not: {len(extra_p)}")
            lines.extend(f"  not reported: {m}" for m in miss_p)
            lines.extend(f"  only palisade: {e}" for e in extra_p)
            out["npm_paths"] = {"folders": len(want), "not_reported": miss_p, "only_palisade": extra_p}

    for tpath in args.trivy:
        tname = tpath.rsplit("/", 1)[-1]
        raw = trivy_packages(tpath)
        tri, palc = comparable(raw), comparable(pal)
        renamed = sum(1 for (e, n, _, _) in raw if e == "PyPI" and n != pep503(n))
        lines.append(f"trivy ({tname}): {len(tri)} packages (" + ", ".join(f"{e} {n}" for e, n in sorted(Counter(k[0] for k in tri).items())) + ")"
                     + (f"; {renamed} PyPI names differ only in spelling (compared after PEP 503 normalisation)" if renamed else ""))
        res = out.setdefault("trivy", {})[tname] = {"pypi_names_respelled": renamed}
        for eco in sorted({k[0] for k in palc} | {k[0] for k in tri}):
            p = Counter(k[1:3] for k in palc if k[0] == eco)
            t = Counter(k[1:3] for k in tri if k[0] == eco)
            pp = Counter(k[1:] for k in palc if k[0] == eco)
            tp = Counter(k[1:] for k in tri if k[0] == eco)
            only_p, only_t = sorted(set(p) - set(t)), sorted(set(t) - set(p))
            paths_p, paths_t = sorted(set(pp) - set(tp)), sorted(set(tp) - set(pp))
            tdup = sorted(k for k, n in tp.items() if n > 1)
            lines.append(f"  {eco}: palisade {sum(p.values())} ({len(p)} distinct name+version), trivy {sum(t.values())} ({len(t)} distinct); "
                         f"name+version only palisade {len(only_p)}, only trivy {len(only_t)}; "
                         f"name+version+path only palisade {len(paths_p)}, only trivy {len(paths_t)}"
                         + (f"; trivy reports {len(tdup)} name+version+path more than once" if tdup else ""))
            lines.extend(f"    name+version only palisade: {n} {v}" for n, v in only_p)
            lines.extend(f"    name+version only trivy: {n} {v}" for n, v in only_t)
            lines.extend(f"    path only palisade: {n} {v} {pa}" for n, v, pa in paths_p[:12])
            lines.extend(f"    path only trivy: {n} {v} {pa}" for n, v, pa in paths_t[:12])
            if len(paths_p) > 12 or len(paths_t) > 12:
                lines.append("    (path lists cut at 12; all in the JSON)")
            res[eco] = {"palisade": sum(p.values()), "trivy": sum(t.values()),
                        "only_palisade": [list(k) for k in only_p], "only_trivy": [list(k) for k in only_t],
                        "path_only_palisade": [list(k) for k in paths_p], "path_only_trivy": [list(k) for k in paths_t],
                        "trivy_repeated": [list(k) for k in tdup]}

    for other in args.same_as:
        odoc, o = palisade_packages(other)
        same_p = sorted(pal) == sorted(o)
        same_v = vuln_keys(doc) == vuln_keys(odoc)
        lines.append(f"same as {other.rsplit('/', 1)[-1]}: packages {'identical' if same_p else 'DIFFERENT'}, "
                     f"vulnerabilities {'identical' if same_v else 'DIFFERENT'}")
        if not same_p:
            # Layer digests are not compared; paths and versions are.
            lines.extend(f"  only in {args.palisade.rsplit('/', 1)[-1]}: {k}" for k in sorted(set(pal) - set(o))[:20])
            lines.extend(f"  only in {other.rsplit('/', 1)[-1]}: {k}" for k in sorted(set(o) - set(pal))[:20])
        out.setdefault("same_as", {})[other] = {"packages": same_p, "vulnerabilities": same_v}

    print("\n".join(lines))
    if args.json:
        json.dump(out, open(args.json, "w"), indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
