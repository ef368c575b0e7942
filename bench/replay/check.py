#!/usr/bin/env python3
"""Checks each replay cache against its T1 space and prints how hard the space is.

    python3 bench/replay/check.py [NAME...] [--sysopt build/sysopt]

For each space it reads bench/replay/<name>/<name>.t1.json and cache.json.gz, enumerates the
T1 space's feasible configurations (its Conditions evaluated as Python) and requires the cache
to hold exactly those, with the parameter values of its key, a time for each (a median of its
samples, or a failure string), and tune_params matching the T1 values. With --sysopt it also
asks `sysopt validate --json` for the feasible count and requires it to match. It prints per
space: configurations, failures, the optimum, the median and worst time, and the fraction of
configurations within 90% and 95% of the optimum (optimum / time >= 0.9, 0.95) among all
feasible ones. Exits 1 when a check fails.
"""

import argparse
import ast
import gzip
import itertools
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FAILURES = {"CompileFailedConfig", "RuntimeFailedConfig", "InvalidConfig"}


def load_t1(path):
    with open(path) as f:
        doc = json.load(f)
    params = []
    for tp in doc["ConfigurationSpace"]["TuningParameters"]:
        values = tp["Values"]
        if isinstance(values, str):
            values = ast.literal_eval(values)
        params.append((tp["Name"], list(values)))
    conditions = []
    for c in doc["ConfigurationSpace"].get("Conditions", []):
        conditions.append(c if isinstance(c, str) else c["Expression"])
    return params, conditions


def feasible_keys(params, conditions):
    names = [n for n, _ in params]
    codes = [compile(c, "<condition>", "eval") for c in conditions]
    keys = {}
    for values in itertools.product(*[v for _, v in params]):
        config = dict(zip(names, values))
        if all(eval(code, {"__builtins__": {}}, config) for code in codes):
            keys[",".join(str(v) for v in values)] = config
    return keys


def check(name, sysopt):
    problems = []
    t1_path = os.path.join(HERE, name, name + ".t1.json")
    cache_path = os.path.join(HERE, name, "cache.json.gz")
    params, conditions = load_t1(t1_path)
    want = feasible_keys(params, conditions)
    with gzip.open(cache_path, "rt") as f:
        doc = json.load(f)
    names = [n for n, _ in params]
    if doc.get("tune_params_keys") != names:
        problems.append("tune_params_keys %s differ from the T1 names %s" %
                        (doc.get("tune_params_keys"), names))
    if doc.get("tune_params") != {n: v for n, v in params}:
        problems.append("tune_params differ from the T1 values")
    for field in ("schema_version", "device_name", "kernel_name", "problem_size", "objective"):
        if field not in doc:
            problems.append("missing field %r" % field)
    cache = doc["cache"]
    missing = [k for k in want if k not in cache]
    extra = [k for k in cache if k not in want]
    if missing:
        problems.append("%d feasible configurations missing, e.g. %s" % (len(missing), missing[0]))
    if extra:
        problems.append("%d configurations not in the space, e.g. %s" % (len(extra), extra[0]))
    times, failures = [], {}
    for k, entry in cache.items():
        if k not in want:
            continue
        if any(entry.get(n) != v for n, v in want[k].items()):
            problems.append("entry %s: parameter values differ from its key" % k)
            break
        t = entry.get("time")
        if isinstance(t, str):
            if t not in FAILURES:
                problems.append("entry %s: unknown time %r" % (k, t))
            failures[t] = failures.get(t, 0) + 1
            if "times" in entry:
                problems.append("entry %s: a failure with times" % k)
        elif isinstance(t, (int, float)) and t > 0:
            samples = entry.get("times", [])
            if not samples or abs(statistics.median(samples) - t) > 1e-6 * t:
                problems.append("entry %s: time is not the median of its samples" % k)
            times.append(t)
        else:
            problems.append("entry %s: bad time %r" % (k, t))
    if sysopt:
        out = subprocess.run([sysopt, "validate", "--json", t1_path], capture_output=True,
                             text=True)
        if out.returncode != 0:
            problems.append("sysopt validate failed: %s" % out.stderr.strip())
        else:
            count = json.loads(out.stdout)["feasible"]["count"]
            if count != len(want):
                problems.append("sysopt counts %s feasible configurations, Python %d" %
                                (count, len(want)))
    row = {"name": name, "params": len(params), "configs": len(want),
           "failed": sum(failures.values()), "failures": failures}
    if times:
        best = min(times)
        row.update(best=best, median=statistics.median(times), worst=max(times),
                   within90=sum(best / t >= 0.9 for t in times) / len(want),
                   within95=sum(best / t >= 0.95 for t in times) / len(want))
    return row, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--sysopt", help="path of the sysopt binary, to cross-check feasible counts")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args()
    names = args.names or sorted(
        d for d in os.listdir(HERE) if os.path.exists(os.path.join(HERE, d, "cache.json.gz")))
    rows, bad = [], False
    for name in names:
        row, problems = check(name, args.sysopt)
        rows.append(row)
        for p in problems:
            print("%s: %s" % (name, p), file=sys.stderr)
        bad = bad or bool(problems)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print("%-10s %6s %7s %6s %6s %10s %10s %10s %7s %7s" %
              ("space", "params", "configs", "failed", "fail%", "best ms", "median ms",
               "worst ms", "<=90%", "<=95%"))
        for r in rows:
            print("%-10s %6d %7d %6d %5.1f%% %10.4f %10.4f %10.4f %6.2f%% %6.2f%%" %
                  (r["name"], r["params"], r["configs"], r["failed"],
                   100 * r["failed"] / r["configs"], r.get("best", 0), r.get("median", 0),
                   r.get("worst", 0), 100 * r.get("within90", 0), 100 * r.get("within95", 0)))
        print("(<=90%, <=95%: share of all feasible configurations within 90% / 95% of the "
              "optimum, optimum / time >= 0.9 / 0.95)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
