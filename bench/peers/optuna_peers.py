#!/usr/bin/python3
"""Optuna's samplers on sysopt's built-in problems, with the same seeds and budgets as
bench/tuner/bench_samplers, evaluated through bench_problem_server so that both tuners see exactly
the same problem definitions.

Run with Debian's /usr/bin/python3 and its python3-optuna package (Optuna 3.1):

  bench/peers/optuna_peers.py --server build-peers/bench/peers/bench_problem_server \
      --problems branin,hartmann6 --seeds 10 --budget 200 --raw optuna_raw.json

Peers, each given the seed of the run (0..seeds-1):
  optuna-tpe     TPESampler(seed=s)                     (independent TPE, Optuna's default)
  optuna-tpe-mv  TPESampler(multivariate=True, seed=s)  (multivariate TPE)
  optuna-random  RandomSampler(seed=s)

Mapping of sysopt's parameter kinds to Optuna's distributions:
  integer      suggest_int(name, low, high, step=step, log=log)
  real         suggest_float(name, low, high, log=log)
  ordinal      suggest_categorical(name, values)   (Optuna has no ordered choice: order is lost)
  categorical  suggest_categorical(name, values)
  permutation  random keys: one suggest_float(f"{name}[i]", 0, 1) per element; the permutation
               is the argsort of the keys (Optuna has no permutation distribution)

Known constraints: Optuna 3.1 cannot restrict sampling to a feasible set (its `constraints_func`
only ranks finished trials in the multi-objective samplers; it does not stop infeasible points
from being proposed). A configuration that violates one of the spec's constraints is therefore
sent to the server, rejected as "infeasible: <constraint>", and recorded as a FAILED trial that
consumes one unit of budget, exactly like a hidden failure (kernel_constrained). sysopt's samplers
only propose feasible configurations, so on constrained problems this is a structural difference
in favour of sysopt, not a tuning artefact.

Two-objective problems use `directions=["minimize", "minimize"]` (maximised objectives
negated) and are scored, like bench_samplers does, by the hypervolume of every point found so
far with respect to sysopt's Problem::reference_point.

Output (--raw): a JSON array in the format of bench_samplers' JSON raw output, one object per run:
  {"sampler", "problem", "seed", "error", "seconds", "values" (per trial, [] if failed),
   "failure" (per trial), "best_quality" (per trial; null while nothing has completed),
   "optimum" (q*), "random_median" (q_rand)}
"""

import argparse
import json
import math
import subprocess
import sys
import time
import warnings
from multiprocessing import Pool

import optuna
from optuna.trial import TrialState

PEERS = ["optuna-tpe", "optuna-tpe-mv", "optuna-random"]


class Server:
    """One bench_problem_server process serving one problem."""

    def __init__(self, path, problem):
        self.proc = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        self.hello = self.request({"problem": problem})
        if "error" in self.hello:
            raise RuntimeError(f"problem {problem}: {self.hello['error']}")

    def request(self, obj):
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("bench_problem_server ended unexpectedly")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def make_sampler(peer, seed):
    if peer == "optuna-tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if peer == "optuna-tpe-mv":
        return optuna.samplers.TPESampler(multivariate=True, seed=seed)
    if peer == "optuna-random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"unknown peer {peer}")


def suggest(trial, parameters):
    """Draws one configuration of the spec's parameters through Optuna's suggest API."""
    config = {}
    for p in parameters:
        name, kind = p["name"], p["type"]
        if kind == "integer":
            step = int(p.get("step", 1))
            log = bool(p.get("log", False))
            if log and step != 1:
                raise ValueError(f"{name}: Optuna cannot sample a log-scaled integer with step")
            config[name] = trial.suggest_int(name, int(p["low"]), int(p["high"]), step=step,
                                             log=log)
        elif kind == "real":
            config[name] = trial.suggest_float(name, float(p["low"]), float(p["high"]),
                                               log=bool(p.get("log", False)))
        elif kind in ("ordinal", "categorical"):
            config[name] = trial.suggest_categorical(name, list(p["values"]))
        elif kind == "permutation":
            keys = [trial.suggest_float(f"{name}[{i}]", 0.0, 1.0) for i in range(int(p["size"]))]
            config[name] = sorted(range(len(keys)), key=lambda i: keys[i])
        else:
            raise ValueError(f"{name}: unsupported parameter type {kind}")
    return config


def hypervolume_2d(points, ref):
    """Area dominated by `points` (minimised) and bounded by `ref`, as sysopt's Hypervolume2D:
    points not strictly better than the reference in both objectives add nothing."""
    pts = sorted((p[0], p[1]) for p in points if p[0] < ref[0] and p[1] < ref[1])
    area, best_f2 = 0.0, ref[1]
    for i, (f1, f2) in enumerate(pts):
        if f2 < best_f2:
            # Each new non-dominated point adds the strip between its f2 and the previous best.
            area += (ref[0] - f1) * (best_f2 - f2)
            best_f2 = f2
    return area


def quality(scoring, points, n_objectives):
    if not points:
        return math.inf
    if n_objectives > 1:
        return -hypervolume_2d(points, scoring["reference_point"])
    sign = 1.0 if scoring["minimize"] else -1.0
    return min(sign * p[0] for p in points)


def run_one(args):
    server_path, problem, peer, seed, budget = args
    warnings.filterwarnings("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    server = Server(server_path, problem)
    spec, scoring = server.hello["spec"], server.hello["scoring"]
    objectives = spec["objectives"]
    directions = ["minimize" if o.get("goal", "minimize") == "minimize" else "maximize"
                  for o in objectives]
    record = {"sampler": peer, "problem": problem, "seed": seed, "error": "", "seconds": 0.0,
              "values": [], "failure": [], "best_quality": [], "optimum": scoring["q_star"],
              "random_median": scoring["q_random"]}
    try:
        if len(directions) == 1:
            study = optuna.create_study(sampler=make_sampler(peer, seed), direction=directions[0])
        else:
            study = optuna.create_study(sampler=make_sampler(peer, seed), directions=directions)
        points = []
        best = math.inf
        start = time.perf_counter()
        for _ in range(budget):
            trial = study.ask()
            config = suggest(trial, spec["parameters"])
            reply = server.request({"config": config})
            if "values" in reply:
                values = reply["values"]
                study.tell(trial, values if len(values) > 1 else values[0])
                points.append(values)
                record["values"].append(values)
                record["failure"].append("")
                best = quality(scoring, points, len(objectives))
            else:
                study.tell(trial, state=TrialState.FAIL)
                record["values"].append([])
                record["failure"].append(reply.get("error", "unknown"))
            record["best_quality"].append(None if math.isinf(best) else best)
        record["seconds"] = time.perf_counter() - start
    except Exception as e:  # a failed run is reported, not fatal to the others
        record["error"] = f"{type(e).__name__}: {e}"
    finally:
        server.close()
    return record


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", required=True, help="path of bench_problem_server")
    ap.add_argument("--problems", required=True, help="comma-separated problem names")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers")
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1")
    ap.add_argument("--budget", type=int, default=200, help="trials per run (the largest budget)")
    ap.add_argument("--jobs", type=int, default=1, help="runs at once (processes)")
    ap.add_argument("--raw", required=True, help="JSON file to write")
    a = ap.parse_args()
    jobs = [(a.server, p, peer, s, a.budget)
            for p in a.problems.split(",") for peer in a.peers.split(",")
            for s in range(a.seeds)]
    out = []
    start = time.perf_counter()
    with Pool(max(1, a.jobs)) as pool:
        for i, r in enumerate(pool.imap_unordered(run_one, jobs), 1):
            out.append(r)
            last = r["best_quality"][-1] if r["best_quality"] else None
            status = f"FAILED: {r['error']}" if r["error"] else (
                f"{len(r['best_quality'])} trials, best quality {last} in {r['seconds']:.2f} s")
            print(f"[{i}/{len(jobs)}] {r['sampler']} on {r['problem']} seed {r['seed']}: {status}",
                  file=sys.stderr, flush=True)
    out.sort(key=lambda r: (r["problem"], r["sampler"], r["seed"]))
    with open(a.raw, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {a.raw} ({len(out)} runs, {time.perf_counter() - start:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
