"""One SQLite file shared by the Python package and `sysopt tune`, in both directions."""

import json

import sysopt

SPEC = {
    "name": "shared",
    "parameters": [
        {"name": "x", "type": "integer", "low": 0, "high": 20},
        {"name": "y", "type": "ordinal", "values": [1, 2, 4, 8]},
    ],
    "constraints": ["x * y <= 60"],
    "objectives": [{"name": "cost"}],
    # The same objective as f below, computed by the shell.
    "run": {"command": ["sh", "-c", "echo $(( ({x} - 7) * ({x} - 7) + {y} ))"], "timeout_s": 30},
}


def f(c):
    return (c["x"] - 7) ** 2 + c["y"]


def write_spec(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SPEC))
    return path


def test_python_study_continued_by_the_cli(tmp_path, cli):
    spec = write_spec(tmp_path)
    db = tmp_path / "shared.db"
    study = sysopt.create_study(sysopt.Space.from_spec(spec), storage=str(db), sampler="random",
                                seed=3)
    study.optimize(f, budget=5)
    first = [(t.number, t.config, t.value) for t in study.trials]
    assert len(first) == 5

    done = cli("tune", spec, "--storage", db, "--budget", 10, "--sampler", "random", "--seed", 3,
               "--json")
    assert "resumed with 5 finished" in done.stderr
    summary = json.loads(done.stdout)
    assert summary["finished"] == 10 and summary["started"] == 5

    after = sysopt.load_study(storage=str(db), name="shared")
    trials = after.trials
    assert [(t.number, t.config, t.value) for t in trials[:5]] == first
    assert len(trials) == 10
    for t in trials:
        assert t.state == "COMPLETE" and t.value == f(t.config)
    # The CLI ran the last five: its worker names differ from this process's.
    assert {t.worker for t in trials[5:]}.isdisjoint({t.worker for t in trials[:5]})
    assert summary["best"]["number"] == after.best.number


def test_cli_study_continued_from_python(tmp_path, cli):
    spec = write_spec(tmp_path)
    db = tmp_path / "shared.db"
    cli("tune", spec, "--storage", db, "--budget", 4, "--sampler", "random", "--seed", 8,
        "--quiet")
    study = sysopt.load_study(storage=str(db))
    assert study.name == "shared" and study.sampler == "random" and study.seed == 8
    from_cli = [(t.number, t.config, t.value) for t in study.trials]
    assert len(from_cli) == 4
    result = study.optimize(f, budget=9)
    assert result["started"] == 5
    trials = study.trials
    assert [(t.number, t.config, t.value) for t in trials[:4]] == from_cli
    assert all(t.value == f(t.config) for t in trials)
    # Ask/tell continues the same file as well.
    trial = study.ask()
    study.tell(trial, f(trial.config))

    best = json.loads(cli("best", "--storage", db, "--json").stdout)
    assert best["best"]["number"] == study.best.number
    exported = json.loads(cli("export", "--storage", db, "--format", "json").stdout)
    assert len(exported["trials"]) == 10
