#!/usr/bin/python3
"""The same Python objective optimised with the sysopt module and with Optuna, side by side:
wall time, the time spent in the objective, the overhead per trial (the rest), and the best value.

  PYTHONPATH=build/python /usr/bin/python3 bench/python/bench_python.py \
      --budget 100 --seeds 3 --out bench_python.json

Runs, all on the same problems, budgets and seeds (0..seeds-1), one after another in this
process:
  sysopt-random, sysopt-auto     study.optimize(objective, budget) on a SQLite file
  sysopt-auto-memory             the same with storage="memory"
  sysopt-random-asktell          a study.ask() / study.tell() loop (SQLite)
  optuna-random, optuna-tpe      study.optimize(objective, n_trials) in memory (Optuna's default)
  optuna-tpe-sqlite              the same on a SQLite file (sqlite:/// RDB storage); seed 0
                                 only unless --sqlite-seeds says more (it is slow)
Overhead per trial = (wall time - time inside the objective) / trials: what the tuner itself
costs a Python user (proposals, storage, the binding).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from problems import PROBLEMS, suggest  # noqa: E402

import sysopt  # noqa: E402


class Timed:
    """Wraps an objective and adds up the time spent inside it."""

    def __init__(self, fn):
        self.fn = fn
        self.seconds = 0.0

    def __call__(self, config):
        t0 = time.perf_counter()
        try:
            return self.fn(config)
        finally:
            self.seconds += time.perf_counter() - t0


def run_sysopt(problem, seed, budget, sampler, storage, asktell, folder):
    fn, parameters, _ = PROBLEMS[problem]
    timed = Timed(fn)
    url = "memory" if storage == "memory" else os.path.join(folder, f"{problem}-{sampler}-{seed}"
                                                            f"{'-at' if asktell else ''}.db")
    t0 = time.perf_counter()
    study = sysopt.create_study(sysopt.Space(parameters, name=problem), storage=url,
                                sampler=sampler, seed=seed)
    if asktell:
        for _ in range(budget):
            trial = study.ask()
            study.tell(trial, timed(trial.config))
    else:
        study.optimize(timed, budget=budget)
    wall = time.perf_counter() - t0
    return wall, timed.seconds, study.best.value, len(study.trials)


def run_optuna(problem, seed, budget, sampler, storage, folder):
    import optuna

    fn, parameters, _ = PROBLEMS[problem]
    timed = Timed(fn)
    samplers = {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler}
    url = None if storage == "memory" else "sqlite:///" + os.path.join(
        folder, f"optuna-{problem}-{sampler}-{seed}.db")
    t0 = time.perf_counter()
    study = optuna.create_study(sampler=samplers[sampler](seed=seed), storage=url)
    study.optimize(lambda trial: timed(suggest(trial, parameters)), n_trials=budget)
    wall = time.perf_counter() - t0
    return wall, timed.seconds, study.best_value, len(study.trials)


RUNS = {
    "sysopt-random": lambda p, s, b, d: run_sysopt(p, s, b, "random", "sqlite", False, d),
    "sysopt-random-asktell": lambda p, s, b, d: run_sysopt(p, s, b, "random", "sqlite", True, d),
    "sysopt-auto": lambda p, s, b, d: run_sysopt(p, s, b, "auto", "sqlite", False, d),
    "sysopt-auto-memory": lambda p, s, b, d: run_sysopt(p, s, b, "auto", "memory", False, d),
    "optuna-random": lambda p, s, b, d: run_optuna(p, s, b, "random", "memory", d),
    "optuna-tpe": lambda p, s, b, d: run_optuna(p, s, b, "tpe", "memory", d),
    "optuna-tpe-sqlite": lambda p, s, b, d: run_optuna(p, s, b, "tpe", "sqlite", d),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--runs", default=",".join(RUNS))
    parser.add_argument("--sqlite-seeds", type=int, default=1,
                        help="seeds of optuna-tpe-sqlite (default 1)")
    parser.add_argument("--out", help="raw results as JSON")
    args = parser.parse_args()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore")
    problems = args.problems.split(",")
    runs = args.runs.split(",")
    raw = []
    with tempfile.TemporaryDirectory() as folder:
        for problem in problems:
            for run in runs:
                seeds = args.seeds if run != "optuna-tpe-sqlite" else min(args.seeds,
                                                                          args.sqlite_seeds)
                for seed in range(seeds):
                    wall, inside, best, n = RUNS[run](problem, seed, args.budget, folder)
                    raw.append({"problem": problem, "run": run, "seed": seed, "wall_s": wall,
                                "objective_s": inside, "best": best, "trials": n})
                    print(f"{problem:15} {run:22} seed {seed}: {wall:7.2f} s, overhead "
                          f"{1000 * (wall - inside) / n:7.2f} ms/trial, best {best:.6g}",
                          file=sys.stderr, flush=True)
    if args.out:
        with open(args.out, "w") as out:
            json.dump({"budget": args.budget, "seeds": args.seeds, "optuna": optuna.__version__,
                       "machine": f"{os.cpu_count()} CPU(s), {platform.processor() or platform.machine()}",
                       "results": raw}, out, indent=1)

    print(f"Overhead per trial in ms (median over {args.seeds} seeds, optuna-tpe-sqlite "
          f"{min(args.seeds, args.sqlite_seeds)}; budget {args.budget}), and median best value:\n")
    print("| problem (optimum) | " + " | ".join(f"`{r}`" for r in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for problem in problems:
        cells = []
        for run in runs:
            rows = [r for r in raw if r["problem"] == problem and r["run"] == run]
            over = statistics.median(1000 * (r["wall_s"] - r["objective_s"]) / r["trials"]
                                     for r in rows)
            best = statistics.median(r["best"] for r in rows)
            cells.append(f"{over:.3g} ms, best {best:.4g}")
        print(f"| {problem} ({PROBLEMS[problem][2]:g}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
