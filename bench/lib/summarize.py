#!/usr/bin/env python3
"""Summarise measure.py lines: median and spread per contender, and ratios
paired by round (the machine is shared, so a ratio within one round is
steadier than a ratio of medians).

    summarize.py RESULTS.jsonl [--pair A/B ...] [--json OUT]

`--pair A/B` adds the median over rounds of wall(A)/wall(B).
"""

import argparse
import json
import statistics
import sys
from collections import defaultdict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--pair", action="append", default=[])
    ap.add_argument("--json")
    args = ap.parse_args()

    rows = [json.loads(l) for l in open(args.results) if l.strip()]
    by = defaultdict(list)
    failed = defaultdict(int)
    for r in rows:
        if r["exit"] != 0:
            failed[r["label"]] += 1
            continue
        by[r["label"]].append(r)

    summary = {}
    out = []
    head = f"{'contender':<26}{'n':>3}{'median s':>10}{'min s':>8}{'max s':>8}{'cpu s':>8}{'peak RSS MiB':>14}"
    out.append(head)
    out.append("-" * len(head))
    for label, rs in by.items():
        wall = [r["wall_s"] for r in rs]
        cpu = [r["user_s"] + r["sys_s"] for r in rs]
        rss = [r["max_rss_kib"] / 1024 for r in rs]
        s = {
            "n": len(rs),
            "wall_median_s": round(statistics.median(wall), 3),
            "wall_min_s": round(min(wall), 3),
            "wall_max_s": round(max(wall), 3),
            "cpu_median_s": round(statistics.median(cpu), 3),
            "rss_median_mib": round(statistics.median(rss), 1),
            "rss_max_mib": round(max(rss), 1),
            "failed_runs": failed.get(label, 0),
            "cmd": rs[0]["cmd"],
        }
        summary[label] = s
        out.append(
            f"{label:<26}{s['n']:>3}{s['wall_median_s']:>10.3f}{s['wall_min_s']:>8.3f}{s['wall_max_s']:>8.3f}"
            f"{s['cpu_median_s']:>8.2f}{s['rss_median_mib']:>9.1f} (max {s['rss_max_mib']:.0f})"
        )
    for label, n in failed.items():
        out.append(f"{label}: {n} failed runs (non-zero exit) left out")

    pairs = {}
    rounds = defaultdict(dict)
    for label, rs in by.items():
        for r in rs:
            rounds[r["round"]][label] = r["wall_s"]
    if args.pair:
        out.append("")
        out.append("paired ratios (median over rounds of wall A / wall B; min..max)")
    for p in args.pair:
        a, b = p.split("/")
        ratios = [rd[a] / rd[b] for rd in rounds.values() if a in rd and b in rd and rd[b] > 0]
        if not ratios:
            continue
        pairs[p] = {
            "median": round(statistics.median(ratios), 3),
            "min": round(min(ratios), 3),
            "max": round(max(ratios), 3),
            "n": len(ratios),
        }
        out.append(f"  {a} / {b}: {pairs[p]['median']:.2f} ({pairs[p]['min']:.2f}..{pairs[p]['max']:.2f}, n={len(ratios)})")

    print("\n".join(out))
    if args.json:
        json.dump({"contenders": summary, "paired_ratios": pairs}, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())
