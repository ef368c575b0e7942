#!/usr/bin/env python3
"""Optuna TPE on the mixed8 space with the objective in process: the peer of run.sh's study."""
import argparse
import time

import optuna

T = (0.3, 1.1, 1.7, 0.6)


def objective(trial):
    f = sum((trial.suggest_float(f"x{i + 1}", 0, 2) - T[i]) ** 2 for i in range(4))
    f += ((trial.suggest_int("n1", 0, 15) - 3) / 4) ** 2
    f += ((trial.suggest_int("n2", 0, 31) - 12) / 8) ** 2
    f += {"a": 0.5, "b": 0.0, "c": 0.25, "d": 1.0}[trial.suggest_categorical("c1", list("abcd"))]
    f += {"x": 0.3, "y": 0.6, "z": 0.0}[trial.suggest_categorical("c2", list("xyz"))]
    return f


ap = argparse.ArgumentParser()
ap.add_argument("--trials", type=int, default=1000)
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=args.seed))
t0 = time.monotonic()
study.optimize(objective, n_trials=args.trials)
print(f"optuna-tpe trials {args.trials} seconds {time.monotonic() - t0:.2f} best {study.best_value:.6g}")
