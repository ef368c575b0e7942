"""Shared fixtures: the CLI binary of this build and a folder per test."""

import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(
    os.environ.get("SYSOPT_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


@pytest.fixture
def cli():
    """Runs the `sysopt` binary of this build; returns the CompletedProcess."""
    binary = os.environ.get("SYSOPT_BINARY", str(SOURCE_DIR / "build" / "sysopt"))
    assert os.access(binary, os.X_OK), f"the sysopt binary is missing: {binary}"

    def run(*args, cwd=None, check=True):
        done = subprocess.run([binary, *map(str, args)], cwd=cwd, capture_output=True,
                              text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(
                f"sysopt {' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr}")
        return done

    return run


@pytest.fixture
def graphs():
    return SOURCE_DIR / "data" / "graphs"
