"""Ask/tell, optimize, failures, results and exports on a real SQLite file."""

import json
import math

import pytest

import sysopt


def small_space():
    return sysopt.Space([
        {"name": "x", "type": "integer", "low": 0, "high": 20},
        {"name": "y", "type": "ordinal", "values": [1, 2, 4, 8]},
    ], constraints=["x * y <= 60"], name="small")


def f(c):
    return (c["x"] - 7) ** 2 + c["y"]


def test_ask_tell_records_in_sqlite_and_reloads(tmp_path):
    db = tmp_path / "study.db"
    study = sysopt.create_study(small_space(), storage=str(db), sampler="random", seed=3)
    assert study.created and study.name == "small"
    told = []
    for _ in range(5):
        trial = study.ask()
        assert set(trial.config) == {"x", "y"}
        assert trial.config["x"] * trial.config["y"] <= 60
        record = study.tell(trial, f(trial.config))
        assert record.state == "COMPLETE" and record.value == f(trial.config)
        told.append((trial.number, trial.config, f(trial.config)))
    batch = study.ask(3)
    assert len(batch) == 3
    assert len({json.dumps(t.config, sort_keys=True) for t in batch}) == 3
    for t in batch:
        study.tell(t, [f(t.config)])
    told += [(t.number, t.config, f(t.config)) for t in batch]

    again = sysopt.load_study(storage=str(db), name="small")
    assert not again.created
    assert again.sampler == "random" and again.seed == 3
    assert [(r.number, r.config, r.value) for r in again.trials] == told
    best = min(told, key=lambda t: t[2])
    assert again.best.number == best[0] and again.best.value == best[2]


def test_tell_failed_nan_and_twice(tmp_path):
    study = sysopt.create_study(small_space(), storage=str(tmp_path / "s.db"), seed=1,
                                sampler="random")
    a, b = study.ask(), study.ask()
    rec = study.tell(a, failed="out of memory")
    assert rec.failed and rec.failure_reason == "out of memory" and rec.value is None
    rec = study.tell(b, float("nan"))
    assert rec.failed and "NaN" in rec.failure_reason
    with pytest.raises(sysopt.Error, match="already finished"):
        study.tell(a, 1.0)
    c = study.ask()
    with pytest.raises(sysopt.Error, match="value"):
        study.tell(c)
    with pytest.raises(sysopt.Error, match="2 values given for 1 objectives"):
        study.tell(c, [1.0, 2.0])
    assert study.tell(c, 4.0).value == 4.0  # a refused tell leaves the trial running
    d = study.ask()
    with pytest.raises(sysopt.Error, match="not both"):
        study.tell(d, 1.0, failed="x")
    assert study.best.number == c.number


def test_records_are_immutable(tmp_path):
    study = sysopt.create_study(small_space(), storage="memory", seed=1)
    t = study.ask()
    study.tell(t, 3.0)
    record = study.trials[0]
    with pytest.raises(AttributeError):
        record.value = 1.0
    config = record.config
    config["x"] = 999
    assert study.trials[0].config["x"] != 999


def test_optimize_records_exceptions_as_failed_trials(tmp_path):
    db = tmp_path / "opt.db"

    def objective(c):
        if c["x"] % 3 == 0:
            raise RuntimeError(f"cannot build x={c['x']}")
        return f(c)

    study = sysopt.create_study(small_space(), storage=str(db), sampler="random", seed=5)
    result = study.optimize(objective, budget=15)
    trials = study.trials
    assert len(trials) == 15 and result["budget_used"] == 15
    failed = [t for t in trials if t.failed]
    assert failed, "some x divisible by 3 should have been proposed"
    for t in failed:
        assert t.config["x"] % 3 == 0
        assert t.failure_reason == f"RuntimeError: cannot build x={t.config['x']}"
    for t in trials:
        if not t.failed:
            assert t.value == f(t.config)
    assert result["failed"] == len(failed)
    # A budget already reached runs nothing more.
    assert study.optimize(objective, budget=10)["started"] == 0


def test_optimize_with_workers_and_a_bayesian_sampler(tmp_path):
    study = sysopt.create_study(small_space(), storage=str(tmp_path / "w.db"), seed=2)
    seen = []
    study.optimize(f, budget=20, workers=3, callback=lambda r: seen.append(r.number))
    assert sorted(seen) == list(range(20))
    assert len(study.trials) == 20
    # The optimum of f over the feasible set is x=7, y=1 (value 1).
    values = sorted(t.value for t in study.trials)
    assert study.best.value == values[0]


def test_objective_returning_garbage_is_a_failure():
    study = sysopt.create_study(small_space(), storage="memory", seed=1)
    study.optimize(lambda c: "fast", budget=2)
    assert all(t.failed and "fast" in t.failure_reason for t in study.trials)


def test_multi_objective_front(tmp_path):
    space = sysopt.Space([{"name": "a", "type": "integer", "low": 0, "high": 10},
                          {"name": "b", "type": "integer", "low": 0, "high": 10}])
    study = sysopt.create_study(space, objectives={"time": "minimize", "acc": "maximize"},
                                storage=str(tmp_path / "mo.db"), sampler="random", seed=4)
    assert study.objectives == ["time", "acc"]
    assert study.directions == ["minimize", "maximize"]

    def objective(c):
        return {"time": c["a"] + 0.5 * c["b"], "acc": c["a"] * c["b"] - c["b"] ** 2 / 4}

    study.optimize(objective, budget=25)
    done = [t for t in study.trials if not t.failed]
    assert len(done) == 25

    def dominates(u, v):
        return (u[0] <= v[0] and u[1] >= v[1]) and (u[0] < v[0] or u[1] > v[1])

    expected = [t.number for t in done
                if not any(dominates(u.values, t.values) for u in done)]
    assert [t.number for t in study.pareto_front] == expected
    hv, ref = study.hypervolume()
    assert hv > 0 and len(ref) == 2


def test_exports_match_the_cli(tmp_path, cli):
    db = tmp_path / "e.db"
    study = sysopt.create_study(small_space(), storage=str(db), sampler="random", seed=9)
    study.optimize(f, budget=6)
    for fmt in ("csv", "json", "t4"):
        exported = cli("export", "--storage", db, "--study", "small", "--format", fmt).stdout
        assert study.export(fmt) == exported
    data = json.loads(study.export("json"))
    assert len(data["trials"]) == 6
    with pytest.raises(sysopt.Error, match="xml"):
        study.export("xml")


def test_to_pandas_when_pandas_is_there(tmp_path):
    study = sysopt.create_study(small_space(), storage="memory", sampler="random", seed=9)
    study.optimize(f, budget=4)
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="python3-pandas"):
            study.to_pandas()
        return
    frame = study.to_pandas()
    assert list(frame["number"]) == [0, 1, 2, 3]
    assert list(frame["value"]) == [t.value for t in study.trials]


def test_load_study_errors_name_the_storage_and_study(tmp_path):
    with pytest.raises(sysopt.Error, match="does not exist"):
        sysopt.load_study(storage=str(tmp_path / "none.db"))
    db = tmp_path / "two.db"
    sysopt.create_study(small_space(), storage=str(db), name="one")
    sysopt.create_study(small_space(), storage=str(db), name="two")
    with pytest.raises(sysopt.Error, match="one, two"):
        sysopt.load_study(storage=str(db))
    with pytest.raises(sysopt.Error, match="three"):
        sysopt.load_study(storage=str(db), name="three")
    with pytest.raises(sysopt.Error, match="already exists"):
        sysopt.create_study(small_space(), storage=str(db), name="one", load_if_exists=False)
    other = sysopt.Space([{"name": "z", "type": "integer", "low": 0, "high": 1}])
    with pytest.raises(sysopt.Error, match="different space"):
        sysopt.create_study(other, storage=str(db), name="one")


def test_unknown_sampler_lists_the_known_ones():
    with pytest.raises(sysopt.Error) as e:
        sysopt.create_study(small_space(), storage="memory", sampler="simplex")
    assert "simplex" in str(e.value) and "random" in str(e.value)
    assert ("random" in dict(sysopt.samplers()))


def test_finite_space_is_exhausted():
    space = sysopt.Space([{"name": "k", "type": "ordinal", "values": [1, 2, 3]}])
    study = sysopt.create_study(space, storage="memory", sampler="random", seed=1)
    trials = study.ask(5)
    assert sorted(t.config["k"] for t in trials) == [1, 2, 3]
    for t in trials:
        study.tell(t, t.config["k"])
    assert study.ask() is None
    assert math.isclose(study.best.value, 1)


def test_time_limit_stops_starting_trials():
    import time

    study = sysopt.create_study(small_space(), storage="memory", sampler="random", seed=1)

    def slow(c):
        time.sleep(0.1)
        return f(c)

    t0 = time.monotonic()
    result = study.optimize(slow, budget=1000, time_limit=0.35)
    assert time.monotonic() - t0 < 2
    assert result["time_limit_reached"]
    assert 2 <= len(study.trials) <= 5


def test_an_exception_in_the_callback_stops_and_is_raised():
    study = sysopt.create_study(small_space(), storage="memory", sampler="random", seed=1)

    def callback(record):
        if record.number == 2:
            raise LookupError("enough")

    with pytest.raises(LookupError, match="enough"):
        study.optimize(f, budget=50, callback=callback)
    assert len(study.trials) == 3
