#!/usr/bin/env python3
"""Tuners side by side on recorded, exhaustively measured spaces (replay mode).

For every space folder under bench/replay/ holding <name>.t1.json and cache.json.gz (a Kernel
Tuner cache file), runs `sysopt tune --replay` with each sysopt sampler and, when python3-optuna
is installed, Optuna 3.1's TPE and multivariate TPE on the same table, for seeds 0..S-1 and the
largest budget. Every evaluation counts towards the budget, failed ones included (a recorded
failure is answered as failed; for Optuna with the worst recorded time, which TPE then avoids);
configurations violating the space's constraints are never proposed by sysopt; Optuna's are
answered with the worst recorded time too, without counting them (which favours Optuna).

Metric, per budget: the fraction of the optimum reached (optimum time / best time found, 0 when
nothing succeeded), averaged over seeds and spaces; the median number of evaluations to reach
90% and 95% of the optimum; and the mean number of failed evaluations spent within the largest
budget. Prints a Markdown table.

Usage: /usr/bin/python3 bench/replay/run_replay_bench.py [--sysopt build/sysopt] [--seeds 10]
       [--budgets 20,50,100,200] [--samplers auto,random,evolution] [--spaces a,b] [--no-optuna]
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def find_spaces(only):
    spaces = []
    for name in sorted(os.listdir(HERE)):
        folder = os.path.join(HERE, name)
        t1 = [f for f in os.listdir(folder) if f.endswith(".t1.json")] if os.path.isdir(folder) else []
        cache = os.path.join(folder, "cache.json.gz")
        if t1 and os.path.exists(cache) and (not only or name in only):
            spaces.append((name, os.path.join(folder, t1[0]), cache))
    return spaces


def load_cache(path):
    with gzip.open(path, "rt") as f:
        return json.load(f)


def optimum_of(cache):
    times = [e["time"] for e in cache["cache"].values() if isinstance(e["time"], (int, float))]
    return min(times), max(times)


def sysopt_trace(binary, t1, cache_path, sampler, seed, budget):
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "s.db")
        run = subprocess.run([binary, "tune", t1, "--replay", cache_path, "--sampler", sampler,
                              "--seed", str(seed), "--budget", str(budget), "--storage", db,
                              "--quiet", "--json"], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"sysopt tune failed ({run.returncode}): {run.stderr}")
        out = subprocess.run([binary, "export", "--format", "json", "--storage", db],
                             capture_output=True, text=True, check=True)
        trials = json.loads(out.stdout)["trials"]
    trials.sort(key=lambda t: t["number"])
    values = []
    for t in trials:
        v = t.get("values") or {}
        values.append(next(iter(v.values())) if t["state"] == "COMPLETE" and v else None)
    return values[:budget]


def optuna_trace(t1_path, cache, sampler_name, seed, budget):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    t1 = json.load(open(t1_path))
    space = t1["ConfigurationSpace"]
    params = []
    for p in space["TuningParameters"]:
        values = p["Values"]
        if isinstance(values, str):
            values = eval(values, {"__builtins__": {}}, {})  # the T1 format's Python list text
        params.append((p["Name"], list(values)))
    conditions = [c["Expression"] for c in space.get("Conditions", [])]
    keys = cache["tune_params_keys"]
    worst = max(e["time"] for e in cache["cache"].values() if isinstance(e["time"], (int, float)))
    if sampler_name == "optuna-tpe":
        sampler = optuna.samplers.TPESampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True)
    study = optuna.create_study(sampler=sampler)
    values, refused = [], 0
    while len(values) < budget and refused < 100 * budget:
        trial = study.ask()
        config = {name: trial.suggest_categorical(name, vals) for name, vals in params}
        if not all(eval(c, {"__builtins__": {}}, dict(config)) for c in conditions):
            # Told as the worst time so that TPE learns the constraints, but not counted: TPE
            # ignores failed trials and would keep proposing the same infeasible region.
            study.tell(trial, worst)
            refused += 1
            continue
        entry = cache["cache"].get(",".join(str(config[k]) for k in keys))
        if entry is None or not isinstance(entry["time"], (int, float)):
            study.tell(trial, worst)
            values.append(None)
        else:
            study.tell(trial, entry["time"])
            values.append(entry["time"])
    return values


def fractions(values, optimum, budgets):
    out, best = {"failed": sum(v is None for v in values)}, None
    first90 = first95 = None
    for i, v in enumerate(values):
        if v is not None and (best is None or v < best):
            best = v
        frac = optimum / best if best else 0.0
        if first90 is None and frac >= 0.9:
            first90 = i + 1
        if first95 is None and frac >= 0.95:
            first95 = i + 1
        if i + 1 in budgets:
            out[i + 1] = frac
    for b in budgets:
        out.setdefault(b, optimum / best if best else 0.0)
    return out, first90, first95


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sysopt", default=os.path.join(HERE, "..", "..", "build", "sysopt"))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budgets", default="20,50,100,200")
    ap.add_argument("--samplers", default="auto,random,evolution")
    ap.add_argument("--spaces", default="")
    ap.add_argument("--no-optuna", action="store_true")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    spaces = find_spaces(set(filter(None, args.spaces.split(","))))
    methods = args.samplers.split(",")
    if not args.no_optuna:
        try:
            import optuna  # noqa: F401
            methods += ["optuna-tpe", "optuna-mtpe"]
        except ImportError:
            print("optuna not installed: sysopt's samplers only", file=sys.stderr)
    results = {}  # method -> list of (fractions, first90, first95)
    for name, t1, cache_path in spaces:
        cache = load_cache(cache_path)
        optimum, _ = optimum_of(cache)
        for method in methods:
            for seed in range(args.seeds):
                if method.startswith("optuna"):
                    trace = optuna_trace(t1, cache, method, seed, max(budgets))
                else:
                    trace = sysopt_trace(args.sysopt, t1, cache_path, method, seed, max(budgets))
                fr, f90, f95 = fractions(trace, optimum, budgets)
                results.setdefault(method, []).append((fr, f90, f95))
                results.setdefault((name, method), []).append((fr, f90, f95))
            print(f"{name} {method}: " + " ".join(
                f"{b}:{statistics.mean(r[0][b] for r in results[(name, method)]):.3f}"
                for b in budgets), file=sys.stderr)

    def row(label, rs):
        cells = [f"{statistics.mean(r[0][b] for r in rs):.3f}" for b in budgets]
        for k in (1, 2):
            reached = sorted(r[k] if r[k] is not None else 10**9 for r in rs)
            med = reached[len(reached) // 2]
            cells.append(str(med) if med < 10**9 else f"> {max(budgets)}")
        cells.append(f"{statistics.mean(r[0]['failed'] for r in rs):.1f}")
        return f"| {label} | " + " | ".join(cells) + " |"

    header = "| method | " + " | ".join(f"{b} evals" for b in budgets) + " | evals to 90% | evals to 95% | failed of " + str(max(budgets)) + " |"
    rule = "|---" * (len(budgets) + 4) + "|"
    print(f"Mean fraction of the optimum over {len(spaces)} spaces x {args.seeds} seeds:\n")
    print(header)
    print(rule)
    for m in methods:
        print(row(f"`{m}`", results[m]))
    print("\nPer space:\n")
    print("| space | " + header[2:])
    print("|---" + rule)
    for name, _, _ in spaces:
        for m in methods:
            print(row(f"{name} | `{m}`", results[(name, m)]))


if __name__ == "__main__":
    main()
