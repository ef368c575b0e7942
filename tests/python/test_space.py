"""Spaces from parameter dicts and spec files, and the engine's errors on bad input."""

import json

import pytest

import sysopt


def test_space_from_parameters_keeps_kinds_and_constraints():
    space = sysopt.Space([
        {"name": "tile", "type": "ordinal", "values": [8, 16, 32]},
        {"name": "unroll", "type": "integer", "low": 1, "high": 8, "default": 2},
        {"name": "lr", "type": "real", "low": 1e-4, "high": 1.0, "log": True},
        {"name": "algo", "type": "categorical", "values": ["a", "b"]},
        {"name": "order", "type": "permutation", "size": 3},
    ], constraints=["tile * unroll <= 128"], name="demo")
    assert len(space) == 5
    assert space.name == "demo"
    assert [p["name"] for p in space.parameters] == ["tile", "unroll", "lr", "algo", "order"]
    assert space.constraints == ["tile * unroll <= 128"]
    assert space.objectives == [{"name": "value", "goal": "minimize"}]


def test_space_from_spec_file(tmp_path):
    spec = {
        "name": "fromfile",
        "parameters": [{"name": "x", "type": "integer", "low": 0, "high": 9}],
        "objectives": [{"name": "time"}, {"name": "acc", "goal": "maximize"}],
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    space = sysopt.Space.from_spec(path)
    assert space.name == "fromfile"
    assert space.objectives == [{"name": "time", "goal": "minimize"},
                                {"name": "acc", "goal": "maximize"}]


def test_space_from_t1_file(tmp_path):
    t1 = {
        "General": {"BenchmarkName": "gemm_small", "OutputFormat": "JSON"},
        "ConfigurationSpace": {
            "TuningParameters": [
                {"Name": "MWG", "Type": "int", "Values": "[16, 32, 64]", "Default": 32},
                {"Name": "VWM", "Type": "int", "Values": [1, 2, 4], "Default": 1},
            ],
            "Conditions": [{"Expression": "MWG % VWM == 0", "Parameters": ["MWG", "VWM"]}],
        },
        "KernelSpecification": {"Language": "CUDA", "KernelName": "gemm",
                                "KernelFile": "gemm.cu", "GlobalSize": {"X": "1"},
                                "LocalSize": {"X": "1"}},
    }
    path = tmp_path / "gemm.json"
    path.write_text(json.dumps(t1))
    space = sysopt.Space.from_spec(str(path))
    assert space.name == "gemm_small"
    assert [p["name"] for p in space.parameters] == ["MWG", "VWM"]


def test_bad_parameter_raises_the_engine_message():
    with pytest.raises(sysopt.Error) as e:
        sysopt.Space([{"name": "x", "type": "integer", "low": 5, "high": 1}])
    message = str(e.value)
    assert "parameters[0]" in message
    assert isinstance(e.value, ValueError)


def test_unknown_kind_names_field_and_value():
    with pytest.raises(sysopt.Error) as e:
        sysopt.Space([{"name": "x", "type": "complex", "values": [1]}])
    assert "parameters[0]" in str(e.value) and "complex" in str(e.value)


def test_constraint_on_unknown_parameter_names_it():
    with pytest.raises(sysopt.Error) as e:
        sysopt.Space([{"name": "x", "type": "integer", "low": 0, "high": 3}],
                     constraints=["x + y < 3"])
    assert "'y'" in str(e.value)


def test_missing_spec_file_names_it(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(sysopt.Error) as e:
        sysopt.Space.from_spec(missing)
    assert str(missing) in str(e.value)


def test_bad_objective_goal_names_the_value():
    space = sysopt.Space([{"name": "x", "type": "integer", "low": 0, "high": 3}])
    with pytest.raises(sysopt.Error) as e:
        sysopt.create_study(space, objectives={"t": "smallest"}, storage="memory")
    assert "goal" in str(e.value) and "smallest" in str(e.value)
