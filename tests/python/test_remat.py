"""sysopt.remat.plan: the memory planner from Python, checked by a simulator written here."""

import json
import threading
import time

import pytest

import sysopt


def simulate(graph, steps):
    """Peak bytes and cost of a schedule, and whether every compute found its inputs."""
    nodes = {n["id"]: n for n in graph["nodes"]}
    resident = set()
    current = graph.get("fixed_bytes", 0)
    peak = current
    cost = 0.0
    for step in steps:
        if "compute" in step:
            node = nodes[step["compute"]]
            assert all(i in resident for i in node["inputs"]), step
            assert node["id"] not in resident
            resident.add(node["id"])
            current += node["bytes"]
            cost += node["cost"]
            peak = max(peak, current)
        else:
            resident.remove(step["free"])
            current -= nodes[step["free"]]["bytes"]
    return peak, cost, resident


def test_plan_within_budget_from_a_dict(graphs):
    graph = json.loads((graphs / "synthetic_chain16.json").read_text())
    plan = sysopt.remat.plan(graph, budget="50%", solvers=["sqrtn-ap", "greedy-ap", "milp"],
                             time_limit=20)
    assert plan["best"] is not None
    assert plan["budget_bytes"] < plan["keep_all_peak"]
    peak, cost, _ = simulate(graph, plan["schedule"]["steps"])
    assert peak == plan["peak_bytes"] <= plan["budget_bytes"]
    assert cost == pytest.approx(plan["cost"])
    assert cost >= sum(n["cost"] for n in graph["nodes"])
    assert plan["overhead"] == pytest.approx(cost / plan["keep_all_cost"] - 1)
    assert plan["lower_bound"] <= plan["cost"] + 1e-9
    assert [p["solver"] for p in plan["plans"]] == ["sqrtn-ap", "greedy-ap", "milp"]
    # The MILP is exact on a graph this small: no plan of the others is cheaper.
    assert all(p["cost"] >= plan["cost"] for p in plan["plans"] if p["feasible"])


def test_plan_from_a_path_with_bytes(graphs):
    path = graphs / "synthetic_diamond6.json"
    graph = json.loads(path.read_text())
    total = sum(n["bytes"] for n in graph["nodes"])
    plan = sysopt.remat.plan(path, budget=total)
    peak, _, resident = simulate(graph, plan["schedule"]["steps"])
    assert peak <= total
    assert plan["graph"] == "diamond6" and plan["nodes"] == len(graph["nodes"])


def test_bad_graph_and_budget_raise_the_engine_message(graphs):
    graph = json.loads((graphs / "synthetic_diamond6.json").read_text())
    graph["nodes"][3]["inputs"] = [99]
    with pytest.raises(sysopt.Error, match="99"):
        sysopt.remat.plan(graph, budget="50%")
    good = graphs / "synthetic_diamond6.json"
    with pytest.raises(sysopt.Error, match="12 parsecs"):
        sysopt.remat.plan(good, budget="12 parsecs")
    with pytest.raises(sysopt.Error, match="no-such-solver"):
        sysopt.remat.plan(good, budget="50%", solvers="no-such-solver")
    with pytest.raises(sysopt.Error, match="missing.json"):
        sysopt.remat.plan(graphs / "missing.json", budget="50%")


def test_the_gil_is_released_while_the_engine_plans(graphs):
    # A Python thread keeps counting while the planner works; were the GIL held, it would stand
    # still for the whole call.
    count = 0
    running = True

    def counter():
        nonlocal count
        while running:
            count += 1

    thread = threading.Thread(target=counter)
    thread.start()
    try:
        time.sleep(0.05)
        before = count
        start = time.monotonic()
        sysopt.remat.plan(graphs / "synthetic_chain16.json", budget="50%", solvers="milp",
                          time_limit=10)
        elapsed = time.monotonic() - start
        during = count - before
    finally:
        running = False
        thread.join()
    assert elapsed > 0.05, "the plan was too quick to tell"
    assert during > 1000
