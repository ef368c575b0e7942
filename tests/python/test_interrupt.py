"""Ctrl-C during study.optimize: finished trials are kept, the trials stopped run again on
resume. The study runs in a real child process that gets a real SIGINT."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import sysopt

CHILD = textwrap.dedent("""
    import sys, time
    import sysopt
    space = sysopt.Space([{"name": "x", "type": "integer", "low": 0, "high": 1000}], name="long")
    study = sysopt.create_study(space, storage=sys.argv[1], sampler="random", seed=1)
    def objective(c):
        time.sleep(0.05)
        return c["x"]
    try:
        study.optimize(objective, budget=10000, workers=int(sys.argv[2]))
    except KeyboardInterrupt:
        print("stopped with", len(study.trials), "finished", flush=True)
        raise
""")


def finished_count(db):
    try:
        return len(sysopt.load_study(storage=db, name="long").trials)
    except sysopt.Error:
        return 0  # not created yet


@pytest.mark.parametrize("workers", [1, 3])
def test_interrupt_keeps_finished_trials_and_resume_reruns_the_stopped(tmp_path, workers):
    db = str(tmp_path / "long.db")
    child = subprocess.Popen([sys.executable, "-c", CHILD, db, str(workers)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ))
    try:
        deadline = time.monotonic() + 20
        while finished_count(db) < 6:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child made no progress"
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode != 0
    assert "KeyboardInterrupt" in err
    assert "stopped with" in out

    study = sysopt.load_study(storage=db, name="long")
    trials = study.trials
    complete = [t for t in trials if t.state == "COMPLETE"]
    stopped = [t for t in trials if t.failure_reason == "interrupted"]
    assert len(complete) >= 6
    assert all(t.value == t.config["x"] for t in complete)
    assert len(stopped) <= workers
    # No trial was left RUNNING in the file.
    with sqlite3.connect(db) as conn:
        states = [row[0] for row in conn.execute("SELECT state FROM trials")]
    assert "RUNNING" not in states and len(states) == len(trials)

    # Resume: the budget counts the finished trials of the first run; the stopped ones run again.
    target = len(complete) + 4
    study.optimize(lambda c: c["x"], budget=target)
    after = study.trials
    counted = [t for t in after if t.state == "COMPLETE"]
    assert len(counted) == target
    rerun = {t.config["x"] for t in after[len(trials):]}
    assert {t.config["x"] for t in stopped} <= rerun
