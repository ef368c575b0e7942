#!/usr/bin/python3
"""Times one suggestion of Optuna's TPE on the histories bench_ask dumps (--dump_dir), so that
sysopt's Ask and Optuna's suggestion are measured on exactly the same finished trials.

  bench/ask/optuna_ask.py --dir DUMP_DIR --out optuna_ask.json

For each history_<n>.json: a study with TPESampler(seed=0) (and, separately,
TPESampler(multivariate=True, seed=0)) is given the n trials with add_trials (FrozenTrials with
the same values and distributions: reals and integers as FloatDistribution / IntDistribution
with their bounds, step and log scale; ordinal and categorical as CategoricalDistribution; the
permutation as 4 random keys in [0, 1], FloatDistribution each, with keys chosen so that their
argsort is the recorded permutation; failed trials as FAIL). One suggestion is then timed as
study.ask() followed by every suggest_* call of the space (11 calls: 7 parameters plus 4 keys),
which is where TPE does its work. The timed trial is then told FAIL, which TPE ignores, so every
repetition sees the same history. One warm-up suggestion is not counted; the figure is the median
over repetitions (up to --reps, fewer when --max-seconds per case runs out).

Run with Debian's /usr/bin/python3 and python3-optuna (Optuna 3.1).
"""

import argparse
import glob
import json
import os
import re
import statistics
import sys
import time
import warnings

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial


def distributions(parameters):
    d = {}
    for p in parameters:
        kind = p["type"]
        if kind == "real":
            d[p["name"]] = FloatDistribution(p["low"], p["high"], log=p.get("log", False))
        elif kind == "integer":
            d[p["name"]] = IntDistribution(p["low"], p["high"], log=p.get("log", False),
                                           step=p.get("step", 1))
        elif kind in ("ordinal", "categorical"):
            d[p["name"]] = CategoricalDistribution(p["values"])
        elif kind == "permutation":
            for i in range(p["size"]):
                d[f"{p['name']}[{i}]"] = FloatDistribution(0.0, 1.0)
        else:
            raise ValueError(f"unsupported type {kind}")
    return d


def params_of(parameters, config):
    out = {}
    for p in parameters:
        v = config[p["name"]]
        if p["type"] == "permutation":
            # Keys whose argsort is the permutation: element order[j] gets key (j + 0.5) / size.
            size = p["size"]
            for j, element in enumerate(v):
                out[f"{p['name']}[{element}]"] = (j + 0.5) / size
        else:
            out[p["name"]] = v
    return out


def suggest(trial, parameters):
    for p in parameters:
        kind, name = p["type"], p["name"]
        if kind == "real":
            trial.suggest_float(name, p["low"], p["high"], log=p.get("log", False))
        elif kind == "integer":
            trial.suggest_int(name, p["low"], p["high"], step=p.get("step", 1),
                              log=p.get("log", False))
        elif kind in ("ordinal", "categorical"):
            trial.suggest_categorical(name, p["values"])
        elif kind == "permutation":
            keys = [trial.suggest_float(f"{name}[{i}]", 0.0, 1.0) for i in range(p["size"])]
            sorted(range(len(keys)), key=lambda i: keys[i])


def time_case(path, multivariate, reps, max_seconds):
    with open(path) as f:
        h = json.load(f)
    parameters = h["parameters"]
    dist = distributions(parameters)
    trials = []
    for t in h["trials"]:
        params = params_of(parameters, t["config"])
        if t["value"] is None:
            trials.append(create_trial(params=params, distributions=dist, state=TrialState.FAIL))
        else:
            trials.append(create_trial(params=params, distributions=dist, value=t["value"]))
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(multivariate=multivariate,
                                                                   seed=0))
    study.add_trials(trials)
    times = []
    start = time.perf_counter()
    for i in range(reps + 1):
        t0 = time.perf_counter()
        trial = study.ask()
        suggest(trial, parameters)
        t1 = time.perf_counter()
        study.tell(trial, state=TrialState.FAIL)
        if i > 0:
            times.append(t1 - t0)
        if i >= 3 and time.perf_counter() - start > max_seconds:
            break
    return len(h["trials"]), statistics.median(times), len(times)


def main():
    ap = argparse.ArgumentParser(description="Optuna TPE suggestion time on bench_ask histories")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--max-seconds", type=float, default=60.0)
    a = ap.parse_args()
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    files = sorted(glob.glob(os.path.join(a.dir, "history_*.json")),
                   key=lambda p: int(re.search(r"history_(\d+)", p).group(1)))
    results = []
    for path in files:
        for name, mv in (("optuna-tpe", False), ("optuna-tpe-mv", True)):
            n, med, count = time_case(path, mv, a.reps, a.max_seconds)
            results.append({"sampler": name, "trials": n, "median_ms": 1000 * med,
                            "repetitions": count})
            print(f"{name} on {n} trials: {1000 * med:.2f} ms (median of {count})",
                  file=sys.stderr, flush=True)
    with open(a.out, "w") as f:
        json.dump({"optuna_version": optuna.__version__, "results": results}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
