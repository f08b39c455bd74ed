#!/usr/bin/env python3
"""Compare the Debian package inventories of Palisade, Trivy and dpkg.

    inventory_diff.py PALISADE_JSON TRIVY_CDX_JSON DPKG_TSV
        [--docker-archive-inventory PALISADE_JSON_2] [--trivy-docker-archive-inventory TRIVY_CDX_2]
        [--python-dists LIST] [--json OUT]

PALISADE_JSON: `palisade image sbom --format json` (palisade.scan/v1).
TRIVY_CDX_JSON: `trivy image --format cyclonedx`; OS packages are the
components whose `aquasecurity:trivy:PkgType` is a distribution type
(purl `pkg:deb/…`, `pkg:apk/…`, `pkg:rpm/…`).
DPKG_TSV: `dpkg-query -W -f='${Package}\\t${Version}\\t${Architecture}\\t
${db:Status-Abbrev}\\t${source:Package}\\t${source:Version}\\n'` on the
unpacked image (the ground truth; only installed `ii` rows count).

LIST (optional): paths of the `*.dist-info` / `*.egg-info` directories in
the unpacked image, one a line: the ground truth for Python packages.

A package is keyed by (name, version with epoch, architecture). Trivy puts
the epoch in a purl qualifier and leaves it out of `version`, and splits a
source version into SrcEpoch, SrcVersion and SrcRelease properties; both are
put back together here. Source package names and versions are compared too, because
distribution advisories are matched by source package.
"""

import argparse
import json
import sys
import urllib.parse
from collections import Counter

OS_PURL_TYPES = ("pkg:deb/", "pkg:apk/", "pkg:rpm/")


def palisade_inventory(path):
    doc = json.load(open(path))
    pkgs = {}
    other = Counter()
    for p in doc.get("packages", []):
        if not str(p.get("purl", "")).startswith(OS_PURL_TYPES):
            other[(p.get("ecosystem", "?"), p["name"], p["version"], p.get("path", ""))] += 1
            continue
        key = (p["name"], p["version"], p.get("arch") or "")
        src = p.get("source") or {}
        pkgs[key] = (src.get("name", p["name"]), src.get("version", p["version"]))
    return pkgs, other, len(doc.get("packages", []))


def trivy_inventory(path):
    doc = json.load(open(path))
    pkgs = {}
    other = Counter()
    comps = doc.get("components", [])
    for c in comps:
        purl = c.get("purl") or ""
        props = {p["name"]: p["value"] for p in c.get("properties", [])}
        if not purl.startswith(OS_PURL_TYPES):
            if c.get("type") != "operating-system":
                other[(props.get("aquasecurity:trivy:PkgType", c.get("type", "?")), c["name"],
                       c.get("version", ""), props.get("aquasecurity:trivy:FilePath", ""))] += 1
            continue
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(purl).query)
        epoch = (q.get("epoch") or [""])[0]
        version = c.get("version", "")
        if epoch and epoch != "0" and not version.startswith(epoch + ":"):
            version = f"{epoch}:{version}"
        arch = (q.get("arch") or [""])[0]
        src_name = props.get("aquasecurity:trivy:SrcName", c["name"])
        src_ver = props.get("aquasecurity:trivy:SrcVersion", version)
        src_release = props.get("aquasecurity:trivy:SrcRelease", "")
        if src_release:
            src_ver = f"{src_ver}-{src_release}"
        src_epoch = props.get("aquasecurity:trivy:SrcEpoch", "")
        if src_epoch and src_epoch != "0" and not src_ver.startswith(src_epoch + ":"):
            src_ver = f"{src_epoch}:{src_ver}"
        pkgs[(c["name"], version, arch)] = (src_name, src_ver)
    return pkgs, other, len(comps)


def dpkg_inventory(path):
    pkgs = {}
    not_installed = []
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if len(f) < 6:
            continue
        name, version, arch, status, src, src_ver = f[:6]
        if not status.startswith("ii"):
            not_installed.append((name, version, status.strip()))
            continue
        pkgs[(name, version, arch)] = (src or name, src_ver or version)
    return pkgs, not_installed


def fmt(key):
    return f"{key[0]} {key[1]} ({key[2]})"


def compare(a_name, a, b_name, b, out, lines):
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    src_diff = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    lines.append(f"{a_name} vs {b_name}: {len(a)} vs {len(b)} packages; "
                 f"only in {a_name}: {len(only_a)}, only in {b_name}: {len(only_b)}, "
                 f"same package with a different source: {len(src_diff)}")
    for k in only_a:
        lines.append(f"  only in {a_name}: {fmt(k)}")
    for k in only_b:
        lines.append(f"  only in {b_name}: {fmt(k)}")
    for k in src_diff:
        lines.append(f"  source differs for {fmt(k)}: {a_name} {a[k][0]} {a[k][1]}, {b_name} {b[k][0]} {b[k][1]}")
    out[f"{a_name}_vs_{b_name}"] = {
        "count": [len(a), len(b)],
        f"only_{a_name}": [list(k) for k in only_a],
        f"only_{b_name}": [list(k) for k in only_b],
        "source_differs": [{"package": list(k), a_name: list(a[k]), b_name: list(b[k])} for k in src_diff],
    }


def representation(pal_path, tri_path, out):
    """How the same packages are written: purls, OS release, layer attribution."""
    pal = json.load(open(pal_path))
    tri = json.load(open(tri_path))
    p_purl = {p["name"] + "/" + (p.get("arch") or ""): p.get("purl", "") for p in pal.get("packages", [])}
    p_layer = Counter(p.get("layer") or "-" for p in pal.get("packages", [])
                      if str(p.get("purl", "")).startswith(OS_PURL_TYPES))
    t_purl, t_layer = {}, Counter()
    for c in tri.get("components", []):
        purl = c.get("purl") or ""
        if not purl.startswith(OS_PURL_TYPES):
            continue
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(purl).query)
        t_purl[c["name"] + "/" + (q.get("arch") or [""])[0]] = purl
        props = {p["name"]: p["value"] for p in c.get("properties", [])}
        t_layer[props.get("aquasecurity:trivy:LayerDigest", "-")] += 1
    common = set(p_purl) & set(t_purl)
    same = sorted(k for k in common if p_purl[k] == t_purl[k])
    differ = sorted(k for k in common if p_purl[k] != t_purl[k])
    os_p = (pal.get("artifact") or {}).get("os") or {}
    os_t = next((c for c in tri.get("components", []) if c.get("type") == "operating-system"), {})
    lines = [
        f"representation: purl identical for {len(same)} of {len(common)} packages"
        + (f"; e.g. palisade {p_purl[differ[0]]} / trivy {t_purl[differ[0]]}" if differ else ""),
        f"  OS: palisade {os_p.get('family')} {os_p.get('version')}; trivy {os_t.get('name')} {os_t.get('version')}",
        "  layer attribution (OS packages per layer digest):",
        "    palisade (layer that last wrote the package database): "
        + ", ".join(f"{d[:19]}: {n}" for d, n in sorted(p_layer.items())),
        "    trivy (layer that first installed the package):       "
        + ", ".join(f"{d[:19]}: {n}" for d, n in sorted(t_layer.items())),
    ]
    out["representation"] = {
        "purl_identical": len(same),
        "purl_differs": [{"package": k, "palisade": p_purl[k], "trivy": t_purl[k]} for k in differ],
        "os": {"palisade": os_p, "trivy": {"name": os_t.get("name"), "version": os_t.get("version")}},
        "layers": {"palisade": dict(p_layer), "trivy": dict(t_layer)},
    }
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("palisade")
    ap.add_argument("trivy")
    ap.add_argument("dpkg")
    ap.add_argument("--docker-archive-inventory")
    ap.add_argument("--python-dists")
    ap.add_argument("--trivy-docker-archive-inventory")
    ap.add_argument("--json")
    args = ap.parse_args()

    pal, pal_other, pal_total = palisade_inventory(args.palisade)
    tri, tri_other, tri_total = trivy_inventory(args.trivy)
    dpkg, not_installed = dpkg_inventory(args.dpkg)

    out = {}
    lines = ["Inventory (Debian packages keyed by name, version with epoch, architecture)"]
    lines.append(f"  dpkg-query (ground truth): {len(dpkg)} installed"
                 + (f", {len(not_installed)} rows not installed: {not_installed}" if not_installed else ""))
    lines.append(f"  palisade: {len(pal)} OS packages of {pal_total} packages")
    lines.append(f"  trivy:    {len(tri)} OS packages of {tri_total} components (one is the operating system itself)")
    compare("palisade", pal, "dpkg", dpkg, out, lines)
    compare("trivy", tri, "dpkg", dpkg, out, lines)
    compare("palisade", pal, "trivy", tri, out, lines)
    lines.append("Other (language) packages:")
    for name, other in (("palisade", pal_other), ("trivy", tri_other)):
        lines.append(f"  {name}: {sum(other.values())}")
        for (eco, n, v, path) in sorted(other):
            lines.append(f"    {eco} {n} {v} at {path}")
    out["other_packages"] = {
        "palisade": [list(k) for k in sorted(pal_other)],
        "trivy": [list(k) for k in sorted(tri_other)],
    }
    if args.python_dists:
        dists = sorted(l.strip() for l in open(args.python_dists) if l.strip())
        lines.append(f"  ground truth: {len(dists)} Python distribution metadata directories in the image")
        seen = {path.lstrip("/").rsplit("/", 1)[0] for (eco, _, _, path) in pal_other if eco == "PyPI"}
        for d in dists:
            d = d.lstrip("./")
            lines.append(f"    {d}: {'found by palisade' if d in seen else 'NOT found by palisade'}")
        out["python_dists"] = dists
    lines.extend(representation(args.palisade, args.trivy, out))
    if args.docker_archive_inventory:
        pal2, _, _ = palisade_inventory(args.docker_archive_inventory)
        same = pal2 == pal
        lines.append(f"palisade oci layout vs docker-archive of the same image: {'identical' if same else 'DIFFERENT'}")
        out["palisade_oci_vs_docker_archive_identical"] = same
    if args.trivy_docker_archive_inventory:
        tri2, _, _ = trivy_inventory(args.trivy_docker_archive_inventory)
        same = tri2 == tri
        lines.append(f"trivy oci layout vs docker-archive of the same image: {'identical' if same else 'DIFFERENT'}")
        out["trivy_oci_vs_docker_archive_identical"] = same
    print("\n".join(lines))
    if args.json:
        json.dump(out, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())
