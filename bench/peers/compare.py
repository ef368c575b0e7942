#!/usr/bin/python3
"""Tabulates raw traces of bench_samplers (--raw *.json) and optuna_peers.py side by side.

  bench/peers/compare.py --budgets 20,50,100,200 sysopt_raw.json optuna_raw.json > table.md

Each input is a JSON array of runs {"sampler", "problem", "seed", "error", "seconds", "values",
"failure", "best_quality", "optimum", "random_median"} (bench_samplers' JSON raw format).
Definitions are bench_samplers': quality is "smaller is better" (first objective, or minus the
hypervolume for two-objective problems); with q* = "optimum" and q_rand = "random_median",
  normalised regret = (q_best - q*) / (q_rand - q*)   (0 optimal, 1 a typical random guess),
  within 5%         = normalised regret <= 0.05,
the value at budget b is the best quality after min(b, trials run) trials of the run, and
"evals to 5%" is the median over seeds of the first trial within 5% (inf when never, within
the largest budget).
"""

import argparse
import json
import math
import statistics
import sys
from collections import defaultdict

SYSOPT_ORDER = ["auto", "gp", "forest", "random", "lhs", "exhaustive", "evolution"]
DEFAULT = "auto"
RANDOMS = ("random", "optuna-random")


def is_peer(name):
    return name.startswith("optuna-")


def label(name):
    return f"`{name}`" if is_peer(name) else f"sysopt `{name}`"


def num(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "inf"
    if x == 0:
        return "0"
    return f"{x:.3g}"


def median(v):
    return statistics.median(v) if v else math.nan


def mean(v):
    if not v:
        return math.nan
    if any(math.isinf(x) for x in v):
        return math.inf
    return sum(v) / len(v)


def best_at(run, b):
    q = run["best_quality"]
    if not q:
        return math.inf
    x = q[min(b, len(q)) - 1]
    return math.inf if x is None else x


def normalised(run, q):
    if math.isinf(q):
        return math.inf
    return (q - run["optimum"]) / (run["random_median"] - run["optimum"])


def evals_to_within(run, max_budget, within=0.05):
    for i, q in enumerate(run["best_quality"][:max_budget]):
        if q is not None and normalised(run, q) <= within:
            return i + 1
    return math.inf


def sampler_key(name):
    if name in SYSOPT_ORDER:
        return (0, SYSOPT_ORDER.index(name), name)
    return (1 if is_peer(name) else 0, 99, name)


def better(a, b):
    """(median, mean) pairs: a strictly better than b (lower median, then lower mean)."""
    if a[0] != b[0]:
        return a[0] < b[0]
    return a[1] < b[1]


def main():
    ap = argparse.ArgumentParser(description="side-by-side tables of sysopt and peer runs")
    ap.add_argument("raw", nargs="+", help="raw JSON files")
    ap.add_argument("--budgets", default="20,50,100,200")
    ap.add_argument("--problems", default="", help="comma-separated subset, in this order")
    a = ap.parse_args()
    budgets = sorted({int(b) for b in a.budgets.split(",")})
    max_budget = budgets[-1]

    runs = []
    for path in a.raw:
        with open(path) as f:
            runs.extend(json.load(f))
    groups = defaultdict(list)
    failed_runs = []
    reference = {}
    notes = []
    for r in runs:
        if r.get("error"):
            failed_runs.append(r)
            continue
        groups[(r["problem"], r["sampler"])].append(r)
        ref = (r["optimum"], r["random_median"])
        old = reference.setdefault(r["problem"], ref)
        if any(abs(x - y) > 1e-9 * max(1.0, abs(x)) for x, y in zip(old, ref)):
            notes.append(f"`{r['problem']}`: reference values differ between inputs "
                         f"({old} vs {ref}, from `{r['sampler']}`)")
    problems = [p for p in a.problems.split(",") if p] or sorted({p for p, _ in groups},
                                                              key=lambda p: p)
    out = []
    for r in failed_runs:
        notes.append(f"`{r['sampler']}` on `{r['problem']}` seed {r['seed']} failed: {r['error']}")
    for n in sorted(set(notes)):
        out.append(f"- {n}")
    if notes:
        out.append("")

    verdicts = []
    for p in problems:
        samplers = sorted({s for q, s in groups if q == p}, key=sampler_key)
        if not samplers:
            continue
        q_star, q_rand = reference[p]
        seeds = sorted({len(groups[(p, s)]) for s in samplers})
        out.append(f"#### `{p}`\n")
        out.append(f"Normalised regret, median (mean) over {'/'.join(map(str, seeds))} seeds "
                   f"(0 = optimum {num(q_star)}, 1 = random median {num(q_rand)}); "
                   f"trials to within 5% of the optimum (median); wall time per trial.\n")
        header = "| sampler |" + "".join(f" {b} |" for b in budgets)
        header += " evals to 5% | within 5% | ms/trial |"
        out.append(header)
        out.append("|---|" + "---|" * (len(budgets) + 3))
        stats = {}
        for s in samplers:
            rs = groups[(p, s)]
            row = f"| {label(s)} |"
            for b in budgets:
                v = [normalised(r, best_at(r, b)) for r in rs]
                stats[(s, b)] = (median(v), mean(v))
                row += f" {num(stats[(s, b)][0])} ({num(stats[(s, b)][1])}) |"
            ev = [evals_to_within(r, max_budget) for r in rs]
            m = median(ev)
            within = sum(math.isfinite(e) for e in ev)
            ms = median([1000 * r["seconds"] / len(r["best_quality"]) for r in rs
                         if r["best_quality"]])
            row += f" {num(m) if math.isfinite(m) else '> ' + str(max_budget)} |"
            row += f" {within}/{len(rs)} | {num(ms)} |"
            out.append(row)
        out.append("")
        # Summary: the best sampler at each budget, and the default against every peer.
        best_parts, default_parts = [], []
        for b in budgets:
            ranked = sorted(samplers, key=lambda s: stats[(s, b)])
            top = [s for s in ranked if stats[(s, b)] == stats[(ranked[0], b)]]
            best_parts.append(f"{b}: {', '.join(label(s) for s in top)}")
        rivals = [s for s in samplers if is_peer(s) or s in RANDOMS]
        for b in budgets:
            if DEFAULT not in samplers:
                break
            d = stats[(DEFAULT, b)]
            lost = [s for s in rivals if better(stats[(s, b)], d)]
            tied = [s for s in rivals if stats[(s, b)] == d]
            if not lost and not tied:
                default_parts.append(f"{b}: beats all")
                verdicts.append((p, b, "win"))
            elif not lost:
                default_parts.append(f"{b}: ties {', '.join(label(s) for s in tied)}")
                verdicts.append((p, b, "tie"))
            else:
                default_parts.append(
                    f"{b}: **behind** " + ", ".join(
                        f"{label(s)} (median {num(stats[(s, b)][0])} vs {num(d[0])}"
                        + ("" if stats[(s, b)][0] != d[0] else
                           f", mean {num(stats[(s, b)][1])} vs {num(d[1])}") + ")"
                        for s in lost))
                verdicts.append((p, b, "loss"))
        out.append(f"Best (lowest median, then mean) at each budget — {'; '.join(best_parts)}.\n")
        if default_parts:
            out.append(f"sysopt `{DEFAULT}` against every Optuna peer and both random "
                       f"searches — {'; '.join(default_parts)}.\n")
    if verdicts:
        out.append("#### Summary: sysopt `auto` against every peer and random search\n")
        out.append("| problem |" + "".join(f" {b} |" for b in budgets))
        out.append("|---|" + "---|" * len(budgets))
        for p in problems:
            cells = {b: v for q, b, v in verdicts if q == p}
            if cells:
                out.append(f"| `{p}` |" + "".join(f" {cells.get(b, 'n/a')} |" for b in budgets))
        wins = sum(v == "win" for *_, v in verdicts)
        ties = sum(v == "tie" for *_, v in verdicts)
        out.append(f"\n`auto` strictly ahead of all rivals in {wins} of {len(verdicts)} "
                   f"(problem, budget) cells, tied at the top in {ties}, behind in "
                   f"{len(verdicts) - wins - ties}.\n")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
