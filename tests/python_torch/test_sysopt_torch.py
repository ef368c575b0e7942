"""Tests of python/sysopt_torch: plans executed on real PyTorch training steps.

Run by ctest (`python_torch`), which sets $SYSOPT to the built sysopt binary:
    SYSOPT=build/sysopt /usr/bin/python3 -m pytest -q tests/python_torch
"""
import json
import os
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "python"))
import sysopt_torch  # noqa: E402
from sysopt_torch import RematTrainer  # noqa: E402

SYSOPT = os.environ.get("SYSOPT", os.path.join(ROOT, "build", "sysopt"))


def small_net():
    """Conv, batch norm, ReLU, Hardswish, dropout and Linear layers: every kind of node the
    issue found wrong (random ops, in-place ops, Linear gradients)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
        nn.Conv2d(8, 8, 3, padding=1), nn.Hardswish(), nn.Conv2d(8, 8, 3, padding=1),
        nn.ReLU(), nn.Flatten(), nn.Dropout(0.5), nn.Linear(8 * 12 * 12, 10))


def batch(seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(4, 3, 12, 12, generator=g),), (torch.randint(0, 10, (4,), generator=g),)


def eager_grads(model, inputs, targets, seed):
    torch.manual_seed(seed)
    for p in model.parameters():
        p.grad = None
    F.cross_entropy(model(*inputs), *targets).backward()
    return [p.grad.clone() for p in model.parameters()]


def planned_grads(trainer, inputs, targets, seed, schedule=None):
    torch.manual_seed(seed)
    trainer.compute_gradients(inputs, targets, schedule=schedule)
    return [p.grad.clone() for p in trainer.params]


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    model = small_net()
    inputs, targets = batch()
    return RematTrainer(model, F.cross_entropy, inputs, targets, budget="50%", sysopt=SYSOPT,
                        solver="stage-search", time_limit=2,
                        workdir=str(tmp_path_factory.mktemp("plan")))


def test_graph_has_modules_random_nodes_and_fixed_bytes(trainer):
    doc = trainer.doc
    params = sum(p.numel() * 4 for p in trainer.model.parameters())
    buffers = sum(b.numel() * b.element_size() for b in trainer.model.buffers())
    inputs = 4 * 3 * 12 * 12 * 4 + 4 * 8
    # Parameters, their gradient buffers, buffers and the batch (SGD: no optimiser state).
    assert doc["fixed_bytes"] == 2 * params + buffers + inputs
    by_module = {n["module"] for n in doc["nodes"]}
    assert {"0", "1", "2", "3", "4", "5", "8", "9", "<loss>"} <= by_module
    random = [n for n in doc["nodes"] if n.get("random")]
    assert random and all(n["module"] == "8" for n in random)
    # The Linear layer's weight gradient (10 x 1152 floats) is computed by an mm straight into
    # its gradient buffer: no bytes of its own, and not kept to the end. Its input gradient
    # (4 x 1152) is an ordinary node.
    mm = [n for n in doc["nodes"] if n["op"] == "aten.mm"]
    assert sorted(n["bytes"] for n in mm) == [0, 4 * 1152 * 4]
    assert not any(n["id"] in doc["outputs"] for n in mm)
    # The convolutions' weight gradients are allocated by convolution_backward, then copied
    # into the buffers: their bytes count in that node (the first layer's reads no input
    # gradient, so it is only that: 8*3*3*3 + 8 floats).
    first = [n for n in doc["nodes"] if n["op"] == "aten.convolution_backward"][-1]
    assert first["bytes"] == (8 * 3 * 3 * 3 + 8) * 4 and first["id"] not in doc["outputs"]
    ops = {n["op"] for n in doc["nodes"]}
    assert not any(op.endswith("_") and not op.startswith("aten._") for op in ops
                   if op != "aten.bernoulli_"), ops


def test_plan_gradients_equal_ordinary_step(trainer):
    inputs, targets = batch()
    assert trainer.simulated["recomputes"] > 0
    planned = planned_grads(trainer, inputs, targets, seed=7)
    keep = planned_grads(trainer, inputs, targets, seed=7, schedule=trainer.keep_all)
    eager = eager_grads(trainer.model, inputs, targets, seed=7)
    for a, b, c in zip(planned, keep, eager):
        assert torch.equal(a, b)
        torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-6)
    # Another generator state draws another dropout mask: the comparison can fail.
    other = eager_grads(trainer.model, inputs, targets, seed=8)
    assert not torch.allclose(planned[-2], other[-2])


def test_measured_peak_below_ordinary_step_and_close_to_plan(trainer):
    figures = trainer.measure(repeats=1)
    assert figures["meter_peak_bytes"] < figures["eager_peak_bytes"]
    assert figures["meter_peak_bytes"] < figures["eager_lazy_grads_peak_bytes"]
    assert figures["meter_peak_bytes"] < figures["keep_all_meter_peak_bytes"]
    assert abs(figures["meter_peak_bytes"] / figures["planned_peak_bytes"] - 1) <= 0.05
    # The simulator's peak of the keep-everything schedule is what the meter measures for it.
    keep_path = os.path.join(trainer.workdir, "keep.json")
    with open(keep_path, "w") as f:
        json.dump(trainer.keep_all, f)
    sim = sysopt_torch.simulate(trainer.graph_path, keep_path, sysopt=SYSOPT)
    assert abs(figures["keep_all_meter_peak_bytes"] / sim["peak_bytes"] - 1) <= 0.05


def test_dropout_replays_its_first_draw_when_recomputed(trainer):
    doc = trainer.doc
    nodes = doc["nodes"]
    rnd = next(n for n in nodes if n.get("random"))
    # Ancestors of the random node within the forward pass, then recompute them all (and the
    # random node) right before its first backward reader.
    mask = rnd
    while not any(mask["id"] in n["inputs"] and n["backward"] for n in nodes):
        mask = next(n for n in nodes if mask["id"] in n["inputs"])  # dropout's div
    first_bw = min(n["id"] for n in nodes if mask["id"] in n["inputs"] and n["backward"])
    chain, todo = set(), [mask["id"]]
    while todo:
        v = todo.pop()
        if v not in chain:
            chain.add(v)
            todo.extend(nodes[v]["inputs"])
    order = [n["id"] for n in nodes if n["id"] < first_bw] + sorted(chain) + \
        [n["id"] for n in nodes if n["id"] >= first_bw]
    schedule = sysopt_torch.schedule_from_order(doc, order)
    path = os.path.join(trainer.workdir, "recompute_dropout.json")
    with open(path, "w") as f:
        json.dump(schedule, f)
    sim = sysopt_torch.simulate(trainer.graph_path, path, sysopt=SYSOPT)
    assert sim["recomputes"] == len(chain)
    inputs, targets = batch()
    bn = trainer.model[1]
    assert any(nodes[v]["module"] == "1" for v in chain)  # batch norm is recomputed too
    start = (bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone())
    again = planned_grads(trainer, inputs, targets, seed=3, schedule=schedule)
    after_plan = (bn.running_mean.clone(), bn.running_var.clone(), bn.num_batches_tracked.clone())
    keep = planned_grads(trainer, inputs, targets, seed=3, schedule=trainer.keep_all)
    for a, b in zip(again, keep):
        assert torch.equal(a, b)
    # Running statistics are updated once per step, as by the ordinary step.
    with torch.no_grad():
        bn.running_mean.copy_(start[0])
        bn.running_var.copy_(start[1])
        bn.num_batches_tracked.copy_(start[2])
    eager_grads(trainer.model, inputs, targets, seed=3)
    assert int(after_plan[2]) == int(start[2]) + 1 == int(bn.num_batches_tracked)
    torch.testing.assert_close(after_plan[0], bn.running_mean)
    torch.testing.assert_close(after_plan[1], bn.running_var)
    assert not torch.allclose(after_plan[0], start[0])


def test_layer_level_plan_gradients_equal(tmp_path):
    model = small_net()
    inputs, targets = batch()
    tr = RematTrainer(model, F.cross_entropy, inputs, targets, budget="80%", level="layer",
                      sysopt=SYSOPT, solver="stage-search", time_limit=1, workdir=str(tmp_path))
    assert len(tr.doc["nodes"]) < 30
    planned = planned_grads(tr, inputs, targets, seed=5)
    eager = eager_grads(model, inputs, targets, seed=5)
    for a, c in zip(planned, eager):
        torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-6)


def test_transformer_encoder_trains_with_a_plan(tmp_path):
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, 32, 0.1, batch_first=True)
    model = nn.Sequential(nn.TransformerEncoder(layer, 2, enable_nested_tensor=False),
                          nn.Flatten(), nn.Linear(16 * 6, 3))
    x = torch.randn(2, 6, 16)
    y = torch.tensor([0, 2])
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    tr = RematTrainer(model, F.cross_entropy, (x,), (y,), budget="40%", optimizer=opt,
                      sysopt=SYSOPT, solver="stage-search", time_limit=1, workdir=str(tmp_path))
    assert len(tr.doc["nodes"]) > 50
    assert any(n["module"].startswith("0.layers.1.self_attn") for n in tr.doc["nodes"])
    planned = planned_grads(tr, (x,), (y,), seed=11)
    eager = eager_grads(model, (x,), (y,), seed=11)
    for a, c in zip(planned, eager):
        torch.testing.assert_close(a, c, rtol=1e-4, atol=1e-6)
    losses = [tr.step()["loss"] for _ in range(4)]
    assert losses[-1] < losses[0]


def test_paging_steps_are_refused_by_name(trainer):
    inputs, targets = batch()
    steps = trainer.schedule["steps"]
    first = steps[0]["compute"]
    paged = dict(trainer.schedule, steps=[steps[0], {"page_out": first}] + steps[1:])
    with pytest.raises(sysopt_torch.ScheduleError, match=r"steps\[1\].*paging steps"):
        trainer.compute_gradients(inputs, targets, schedule=paged)


def test_plan_file_and_bad_budget(tmp_path):
    model = small_net()
    inputs, targets = batch()
    with pytest.raises(sysopt_torch.PlanError, match="no solver found a plan"):
        RematTrainer(model, F.cross_entropy, inputs, targets, budget="1KiB", sysopt=SYSOPT,
                     solver="stage-search", time_limit=1, workdir=str(tmp_path))
    with pytest.raises(ValueError, match="exactly one of"):
        RematTrainer(model, F.cross_entropy, inputs, targets, sysopt=SYSOPT)


def test_extract_graph_tool_on_a_custom_module(tmp_path):
    (tmp_path / "tinymodels.py").write_text(
        "import torch, torch.nn as nn, torch.nn.functional as F\n"
        "def build(batch, resolution):\n"
        "    model = nn.Sequential(nn.Linear(resolution, 32), nn.GELU(), nn.LayerNorm(32),\n"
        "                          nn.Linear(32, 5))\n"
        "    x = torch.randn(batch, resolution)\n"
        "    return model, (x,), (torch.randint(0, 5, (batch,)),), F.cross_entropy\n")
    out = tmp_path / "g.json"
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    done = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "extract_graph.py"),
                           "tinymodels:build", "--batch", "64", "--resolution", "16",
                           "--repeats", "1", "--level", "aten", "--out", str(out)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    assert doc["level"] == "aten" and doc["batch_size"] == 64
    assert {"0", "1", "2", "3", "<loss>"} <= {n["module"] for n in doc["nodes"]}
    plan = subprocess.run([SYSOPT, "remat", "plan", str(out), "--budget", "90%", "--solver",
                           "stage-search", "--time-limit", "1", "--json", "--quiet"],
                          capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["best"] == "stage-search"


def test_extract_graph_names_an_unknown_model():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import extract_graph
    with pytest.raises(SystemExit, match="unknown model 'no_such_model'"):
        extract_graph.build("no_such_model", 2, 32)
