"""sysopt: tune any program, compiler or kernel by search, from Python.

    import sysopt

    space = sysopt.Space([
        {"name": "x", "type": "real", "low": -5, "high": 5},
        {"name": "n", "type": "integer", "low": 1, "high": 16},
    ], constraints=["x * n <= 20"])
    study = sysopt.create_study(space, objectives="loss", storage="study.db", seed=1)
    study.optimize(lambda c: (c["x"] - 1) ** 2 + c["n"], budget=30)
    print(study.best)

The space, study, samplers and storage are the engine's own, so a study started here can be
continued by `sysopt tune` on the same storage file, and the reverse.
"""

from ._core import (  # noqa: F401
    Error,
    Space,
    Study,
    Trial,
    TrialRecord,
    create_study,
    load_study,
    samplers,
)
from . import remat  # noqa: F401

__all__ = [
    "Error",
    "Space",
    "Study",
    "Trial",
    "TrialRecord",
    "create_study",
    "load_study",
    "samplers",
    "remat",
]


def _to_pandas(self):
    """The finished trials as a pandas DataFrame, one row per trial, with the columns of
    `sysopt export --format csv` (number, state, each parameter, each objective,
    failure_reason, times, worker)."""
    try:
        import pandas
    except ImportError as e:
        raise ImportError(
            "Study.to_pandas() needs pandas (Debian: apt-get install python3-pandas)") from e
    import io

    return pandas.read_csv(io.StringIO(self.export("csv")))


Study.to_pandas = _to_pandas
