"""Training with a `sysopt remat` plan.

    trainer = RematTrainer(model, loss_fn, (x,), (y,), budget="50%", optimizer=opt)
    for x, y in batches:
        stats = trainer.step((x,), (y,))   # forward, backward with recomputation, opt.step()
    print(trainer.report())

The trainer traces the model's training step once (the batch shape is fixed by the example),
writes its graph, gets a plan (a schedule file given with `plan=`, or `sysopt remat plan` run as
a subprocess for `budget=`) and then, for every batch, executes the traced ops in the
schedule's order with the model's current parameters, writes the gradients into `.grad` and
calls the optimiser.
"""
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import torch

from .run import ScheduleRunner, eager_step_peak, keep_everything_schedule
from .trace import extract, tensor_bytes


class PlanError(RuntimeError):
    pass


def find_sysopt(path=None):
    """The sysopt executable: `path`, $SYSOPT, build/sysopt beside this package, or PATH."""
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in [path, os.environ.get("SYSOPT"),
                      os.path.join(here, "..", "..", "build", "sysopt"), shutil.which("sysopt")]:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise PlanError("sysopt executable not found (pass sysopt=..., set $SYSOPT, or build it "
                    "into build/sysopt)")


def plan_graph(graph_path, budget, out_path, sysopt=None, solver="auto", time_limit=30,
               timeout=None):
    """Runs `sysopt remat plan GRAPH --budget B --out OUT --json`; returns its JSON report."""
    exe = find_sysopt(sysopt)
    cmd = [exe, "remat", "plan", graph_path, "--budget", str(budget), "--solver", solver,
           "--time-limit", str(time_limit), "--out", out_path, "--json", "--quiet"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout or float(time_limit) * 4 + 60)
    except subprocess.TimeoutExpired as e:
        raise PlanError(f"{' '.join(cmd)} did not finish within {e.timeout} s") from e
    if done.returncode != 0:
        raise PlanError(f"{' '.join(cmd)} failed with exit status {done.returncode}:\n"
                        f"{done.stderr.strip()}")
    return json.loads(done.stdout)


def simulate(graph_path, schedule_path, sysopt=None):
    exe = find_sysopt(sysopt)
    done = subprocess.run([exe, "remat", "simulate", graph_path, schedule_path, "--json"],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise PlanError(f"sysopt remat simulate failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


class RematTrainer:
    """Trains `model` with a rematerialisation plan. Exactly one of `plan` (a schedule file
    written by `sysopt remat plan --out`) and `budget` (a `--budget` value such as "50%" or
    "300MiB") is given. `level` is "aten" (one graph node per op) or "layer" (one per module
    and pass). `optimizer_kind` ("sgd", "momentum", "adam") sizes the optimiser state counted in
    the graph's fixed bytes."""

    def __init__(self, model, loss_fn, inputs, targets, plan=None, budget=None, optimizer=None,
                 optimizer_kind="sgd", level="aten", sysopt=None, solver="auto", time_limit=30,
                 workdir=None, name="model"):
        if (plan is None) == (budget is None):
            raise ValueError("give exactly one of plan= and budget=")
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.inputs = tuple(inputs)
        self.targets = tuple(targets)
        self.workdir = workdir or tempfile.mkdtemp(prefix="sysopt-remat-")
        self.doc, self.traced, groups = extract(model, loss_fn, self.inputs, self.targets,
                                                name, level=level, optimizer=optimizer_kind,
                                                repeats=3, threads=torch.get_num_threads())
        self.graph_path = os.path.join(self.workdir, "graph.json")
        with open(self.graph_path, "w") as f:
            json.dump(self.doc, f)
        self.runner = ScheduleRunner(self.traced, groups)
        self.planned = None
        if plan is None:
            plan = os.path.join(self.workdir, "schedule.json")
            self.planned = plan_graph(self.graph_path, budget, plan, sysopt=sysopt,
                                      solver=solver, time_limit=time_limit)
        self.schedule_path = plan
        with open(plan) as f:
            self.schedule = json.load(f)
        self.simulated = simulate(self.graph_path, plan, sysopt=sysopt)
        self.keep_all = keep_everything_schedule(self.doc)
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.fixed_bytes = self.doc["fixed_bytes"]
        self.history = []

    def _grad_buffers(self):
        for p in self.params:
            if p.grad is None or p.grad.shape != p.shape:
                p.grad = torch.zeros_like(p)
        return [p.grad for p in self.params]

    def compute_gradients(self, inputs, targets, schedule=None, measure=True):
        """Runs the (planned) schedule once; the gradients land in the parameters' .grad.
        With `measure`, memory is measured too (slower: every op is followed by the meter)."""
        grads = self._grad_buffers()
        buffers = [b for _, b in self.model.named_buffers()]
        with torch.no_grad():
            return self.runner.step(schedule or self.schedule,
                                    [p.detach() for p in self.params], buffers,
                                    tuple(inputs), tuple(targets), grads, measure=measure)

    def step(self, inputs=None, targets=None, measure=False):
        """One training step with the plan: gradients, then optimizer.step(). Returns the
        loss, the number of recomputations, the wall time and, with `measure`, the peaks
        (above fixed_bytes)."""
        inputs = self.inputs if inputs is None else tuple(inputs)
        targets = self.targets if targets is None else tuple(targets)
        start = time.perf_counter()
        stats = self.compute_gradients(inputs, targets, measure=measure)
        if self.optimizer is not None:
            self.optimizer.step()
        stats["seconds"] = time.perf_counter() - start
        self.history.append(stats)
        return stats

    def measure(self, repeats=5):
        """Measures the plan against the ordinary step on the example batch (parameters are not
        changed; .grad is overwritten): peaks (bookkeeping and live-tensor meter, plus fixed
        bytes) of the plan, of the keep-everything schedule of the same graph and of eager
        PyTorch autograd; median times of the plan and of keep-everything."""
        state = torch.get_rng_state()
        buffers = {k: v.clone() for k, v in self.model.named_buffers()}

        def restore():
            torch.set_rng_state(state)
            for k, v in self.model.named_buffers():
                v.copy_(buffers[k])

        restore()
        planned = self.compute_gradients(self.inputs, self.targets)
        restore()
        keep = self.compute_gradients(self.inputs, self.targets, schedule=self.keep_all)
        plan_t, keep_t = [], []
        for _ in range(repeats):  # timed without the meter, alternating
            restore()
            t0 = time.perf_counter()
            self.compute_gradients(self.inputs, self.targets, measure=False)
            plan_t.append(time.perf_counter() - t0)
            restore()
            t0 = time.perf_counter()
            self.compute_gradients(self.inputs, self.targets, schedule=self.keep_all,
                                   measure=False)
            keep_t.append(time.perf_counter() - t0)
        restore()
        grad_bytes = sum(tensor_bytes(p) for p in self.params)
        _, eager_lazy = eager_step_peak(self.model, self.loss_fn, self.inputs, self.targets,
                                        grads="none")
        restore()
        _, eager_zeros = eager_step_peak(self.model, self.loss_fn, self.inputs, self.targets,
                                         grads="zeros")
        restore()
        fixed = self.fixed_bytes
        planned_peak = self.simulated["peak_bytes"]
        out = {
            "graph_nodes": len(self.doc["nodes"]),
            "fixed_bytes": fixed,
            "planned_peak_bytes": planned_peak,
            "measured_peak_bytes": planned["peak_bytes"] + fixed,
            "meter_peak_bytes": planned["meter_peak_bytes"] + fixed,
            "keep_all_meter_peak_bytes": keep["meter_peak_bytes"] + fixed,
            # The ordinary eager step, accumulating into allocated .grad buffers (fixed) ...
            "eager_peak_bytes": eager_zeros + fixed,
            # ... and creating its gradients as it goes (.grad None before; counted by the
            # meter, so the fixed bytes less the gradient buffers).
            "eager_lazy_grads_peak_bytes": eager_lazy + fixed - grad_bytes,
            "meter_over_planned": (planned["meter_peak_bytes"] + fixed) / planned_peak,
            "recomputes": planned["recomputes"],
            "planned_overhead": self.simulated["cost"] / sum(n["cost"] for n in self.doc["nodes"])
            - 1.0,
            "measured_overhead": statistics.median(plan_t) / statistics.median(keep_t) - 1.0,
            "plan_seconds": statistics.median(plan_t),
            "keep_all_seconds": statistics.median(keep_t),
        }
        if self.planned is not None:
            out["solver"] = self.planned.get("best")
        return out
