#!/usr/bin/env python3
"""Optuna 3.1's RDB storage as the peer of bench/distributed/run.py, on the mixed8 space of
bench/study_cost with its objective run as a process for every trial, as sysopt runs it.

  worker: one of N processes sharing one study, study.optimize() until the study holds TRIALS
          complete trials (MaxTrialsCallback). It loads the study, prints "ready", waits for a
          line on stdin (so that every worker's imports are done before the clock starts), runs,
          and prints its CPU seconds (its own and its objective processes') since then as JSON.
  ask:    the cost of one ask and one tell with RandomSampler at given study sizes: the study is
          filled with rows as Optuna writes them for a complete trial (trials, trial_params,
          trial_values, through Optuna's own table models, in bulk), then loaded by a fresh
          storage object, as a worker joining it would, and asks and tells are timed going
          round the studies (one per size) in turn, after a few untimed rounds. Two asks are timed: study.ask() as such (a new trial, no
          parameters yet) and study.ask(distributions), which also draws the 8 parameters (a
          whole proposal, as sysopt's ask makes). Prints one JSON object per size.
"""
import argparse
import datetime
import json
import random
import resource
import statistics
import subprocess
import sys
import time

import optuna
from optuna.distributions import (CategoricalDistribution, FloatDistribution, IntDistribution,
                                  distribution_to_json)
from optuna.storages._rdb import models

DISTRIBUTIONS = {
    **{f"x{i}": FloatDistribution(0, 2) for i in range(1, 5)},
    "n1": IntDistribution(0, 15),
    "n2": IntDistribution(0, 31),
    "c1": CategoricalDistribution(list("abcd")),
    "c2": CategoricalDistribution(list("xyz")),
}
ORDER = ["x1", "x2", "x3", "x4", "n1", "n2", "c1", "c2"]


def cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_objective(objective, params):
    argv = [objective] + [str(params[name]) for name in ORDER]
    out = subprocess.run(argv, stdout=subprocess.PIPE, check=True, text=True).stdout
    return float(out.split()[-1])


def worker(args):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=args.study, storage=args.storage,
                              sampler=optuna.samplers.RandomSampler(seed=args.seed))

    def objective(trial):
        params = {f"x{i}": trial.suggest_float(f"x{i}", 0, 2) for i in range(1, 5)}
        params["n1"] = trial.suggest_int("n1", 0, 15)
        params["n2"] = trial.suggest_int("n2", 0, 31)
        params["c1"] = trial.suggest_categorical("c1", list("abcd"))
        params["c2"] = trial.suggest_categorical("c2", list("xyz"))
        return run_objective(args.objective, params)

    print("ready", flush=True)
    sys.stdin.readline()
    start = cpu_seconds()
    study.optimize(objective, n_trials=args.trials, callbacks=[
        optuna.study.MaxTrialsCallback(args.trials, states=(optuna.trial.TrialState.COMPLETE,))])
    print(json.dumps({"cpu_s": cpu_seconds() - start}), flush=True)


def fill(storage, study_id, first_number, count, rng):
    """Writes `count` complete trials numbered from `first_number`, in bulk, in the rows Optuna's
    RDB storage writes for one (create_new_trial with a template trial)."""
    engine = storage.engine
    with engine.begin() as conn:
        top = conn.execute(models.TrialModel.__table__.select()
                           .with_only_columns(models.TrialModel.trial_id)
                           .order_by(models.TrialModel.trial_id.desc()).limit(1)).scalar()
        next_id = (top or 0) + 1
        now = datetime.datetime.now()
        trials, params, values = [], [], []
        for k in range(count):
            trial_id = next_id + k
            trials.append({"trial_id": trial_id, "number": first_number + k, "study_id": study_id,
                           "state": optuna.trial.TrialState.COMPLETE, "datetime_start": now,
                           "datetime_complete": now})
            for name in ORDER:
                d = DISTRIBUTIONS[name]
                if isinstance(d, FloatDistribution):
                    v = rng.uniform(d.low, d.high)
                elif isinstance(d, IntDistribution):
                    v = rng.randint(d.low, d.high)
                else:
                    v = rng.choice(d.choices)
                params.append({"trial_id": trial_id, "param_name": name,
                               "param_value": d.to_internal_repr(v),
                               "distribution_json": distribution_to_json(d)})
            values.append({"trial_id": trial_id, "objective": 0, "value": rng.random(),
                           "value_type": models.TrialValueModel.TrialValueType.FINITE})
        conn.execute(models.TrialModel.__table__.insert(), trials)
        conn.execute(models.TrialParamModel.__table__.insert(), params)
        conn.execute(models.TrialValueModel.__table__.insert(), values)
        if engine.dialect.name == "postgresql":
            # The ids were given here: the sequence must move past them.
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('trials', 'trial_id'), "
                "(SELECT MAX(trial_id) FROM trials))")


def ask(args):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rng = random.Random(args.seed)
    storage = optuna.storages.RDBStorage(args.storage)
    cases = []
    for size in args.sizes:
        name = f"{args.study}-{size}"
        study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True)
        stored = len(study.get_trials(deepcopy=False))
        t0 = time.monotonic()
        if size > stored:
            fill(storage, study._study_id, stored, size - stored, rng)
        cases.append({"size": size, "name": name, "fill_s": time.monotonic() - t0,
                      "bare": [], "full": [], "tell": []})
    # Each study is then loaded as a worker joining it would (a storage object and cache of its
    # own, the random sampler), and the asks go round the studies in turn, so that a change of
    # the machine's load weighs on every size alike.
    for k in cases:
        t0 = time.monotonic()
        k["study"] = optuna.load_study(study_name=k["name"], storage=args.storage,
                                       sampler=optuna.samplers.RandomSampler(seed=args.seed))
        k["trials"] = len(k["study"].get_trials(deepcopy=False))
        k["open_ms"] = (time.monotonic() - t0) * 1000
    for r in range(3 + args.repeats):
        for k in cases:
            for with_params in (False, True):
                a = time.perf_counter()
                trial = k["study"].ask(DISTRIBUTIONS) if with_params else k["study"].ask()
                b = time.perf_counter()
                k["study"].tell(trial, 1.0)
                c = time.perf_counter()
                if r < 3:
                    continue
                k["full" if with_params else "bare"].append((b - a) * 1000)
                if with_params:
                    k["tell"].append((c - b) * 1000)
    for k in cases:
        print(json.dumps({"storage": args.storage.split("@")[-1], "trials": k["trials"],
                          "repeats": args.repeats, "ask_ms": statistics.median(k["bare"]),
                          "ask_params_ms": statistics.median(k["full"]),
                          "tell_ms": statistics.median(k["tell"]), "open_ms": k["open_ms"],
                          "fill_s": k["fill_s"]}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--storage", required=True)
    w.add_argument("--study", required=True)
    w.add_argument("--trials", type=int, required=True)
    w.add_argument("--seed", type=int, required=True)
    w.add_argument("--objective", required=True)
    a = sub.add_parser("ask")
    a.add_argument("--storage", required=True)
    a.add_argument("--study", default="ask-bench")
    a.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1000, 20000])
    a.add_argument("--repeats", type=int, default=50)
    a.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    worker(args) if args.mode == "worker" else ask(args)


if __name__ == "__main__":
    main()
