#!/usr/bin/env python3
"""Reads the JSON results of run_pass_bench.sh (one file per program and method) and prints the
Markdown table: per program, each -O level and each search as count(-Oz) / count(found), plus
evaluations; the last row is the geometric mean over programs."""
import glob, json, math, os, sys

folder, methods = sys.argv[1], sys.argv[2:]
levels = ["o0", "o1", "o2", "o3", "os"]
rows, columns = [], {k: [] for k in levels + methods}
for path in sorted(glob.glob(os.path.join(folder, f"*.{methods[0]}.json"))):
    name = os.path.basename(path)[: -len(f".{methods[0]}.json")]
    results = {}
    for m in methods:
        try:
            results[m] = json.load(open(os.path.join(folder, f"{name}.{m}.json")))
        except (OSError, ValueError):
            results[m] = None
    base = next(r for r in results.values() if r)
    oz = base["oz_ir_count"]
    cells = [name, str(int(base["o0_ir_count"])), str(int(oz))]
    for k in levels:
        v = oz / base[f"{k}_ir_count"]
        columns[k].append(v)
        cells.append(f"{v:.3f}")
    for m in methods:
        r = results[m]
        if r is None:
            cells.append("failed")
            continue
        v = oz / r["ir_count"]
        columns[m].append(v)
        cells.append(f"{v:.3f} ({r['evaluations']})")
    rows.append(cells)

def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")

header = ["program", "-O0 count", "-Oz count"] + [f"-{k[1:].upper() if k != 'os' else 's'}".replace("-S", "-Os") for k in levels] + [f"{m} (evals)" for m in methods]
header[3:3 + len(levels)] = ["-O0", "-O1", "-O2", "-O3", "-Os"]
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))
for r in rows:
    print("| " + " | ".join(r) + " |")
print("| **geomean** | | | " + " | ".join(f"**{geomean(columns[k]):.3f}**" for k in levels + methods) + " |")
