#!/usr/bin/python3
"""Executes a `sysopt remat` schedule on a real training step and checks it.

Traces the model's training step as tools/extract_graph.py does, writes its graph, asks
`sysopt remat plan` for a schedule under the budget, then runs the traced aten ops in the
schedule's order (computing, freeing and recomputing exactly as the schedule says). Checks that
the parameter gradients equal those of the ordinary step (the traced graph run in order, and
eager autograd), and compares the peak of live tensor bytes measured during the run with the
simulator's peak.

Usage: /usr/bin/python3 tools/validate_schedule.py [--model unet] [--batch 4]
           [--resolution 64] [--budget 50%] [--sysopt build/sysopt] [--solver auto]
Exit status 0 when the gradients match and the schedule ran; 1 otherwise.
"""
import argparse
import json
import operator
import os
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import extract_graph  # noqa: E402


def storage_bytes(live, counted):
    """Bytes of the distinct storages behind the live values. Of a multi-output op, only the
    outputs in `counted` (those read as activations, not parameter gradients, which live in
    the gradient buffers of fixed_bytes) are counted."""
    seen = {}
    for node, v in live.items():
        if isinstance(v, (tuple, list)):
            v = [t for i, t in enumerate(v) if i in counted.get(node, ())]
        else:
            v = [v]
        for t in v:
            if isinstance(t, torch.Tensor):
                st = t.storage()
                seen[st.data_ptr()] = st.nbytes()
    return sum(seen.values())


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="unet")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--budget", default="50%")
    p.add_argument("--solver", default="auto")
    p.add_argument("--time-limit", default="20")
    p.add_argument("--sysopt", default="build/sysopt")
    args = p.parse_args()
    ns = argparse.Namespace(model=args.model, batch=args.batch, resolution=args.resolution,
                            repeats=1, threads=1)
    doc, ctx = extract_graph.extract(ns)
    work = tempfile.mkdtemp(prefix="remat-validate-")
    graph_path = os.path.join(work, "graph.json")
    sched_path = os.path.join(work, "schedule.json")
    with open(graph_path, "w") as f:
        json.dump(doc, f)
    plan = subprocess.run([args.sysopt, "remat", "plan", graph_path, "--budget", args.budget,
                           "--solver", args.solver, "--time-limit", args.time_limit,
                           "--out", sched_path, "--json"], capture_output=True, text=True)
    if plan.returncode != 0:
        print(plan.stdout, plan.stderr, file=sys.stderr)
        return 1
    planned = json.loads(plan.stdout)
    sim = json.loads(subprocess.run([args.sysopt, "remat", "simulate", graph_path, sched_path,
                                     "--json"], capture_output=True, text=True,
                                    check=True).stdout)
    schedule = json.load(open(sched_path))

    gm = ctx["gm"]
    alias, fixed_set, kept = ctx["alias"], ctx["fixed_set"], ctx["kept"]
    by_id = {i: n for i, n in enumerate(kept)}
    grad_nodes = ctx["grad_nodes"]
    grad_index = {g: k for k, g in enumerate(grad_nodes)}

    # Fresh copies of the inputs: BatchNorm updates its running statistics in place, and a
    # recomputed forward op updates them again (the gradients do not depend on them).
    def fresh_inputs():
        return ([t.detach().clone() for t in ctx["param_values"]],
                {k: v.detach().clone() for k, v in ctx["buffers"].items()})

    params, buffers = fresh_inputs()
    fixed_env = {}
    flat = params + list(buffers.values()) + [ctx["x"], ctx["y"]]
    for node, value in zip(ctx["placeholders"], flat):
        fixed_env[node] = value
    live = {}  # holder node -> value
    grads = [None] * len(grad_nodes)

    def value_of(node):
        """Value of any fx node from fixed inputs, live holders, or aliases of them."""
        if node in fixed_env:
            return fixed_env[node]
        if node in live:
            return live[node]
        if node in alias or node in fixed_set:
            # Views, in-place aliases and getitems are cheap; rebuild them from their base.
            return run(node)
        raise RuntimeError(f"schedule error: {node.name} is not resident")

    def run(node):
        a = torch.fx.node.map_arg(node.args, value_of)
        k = torch.fx.node.map_arg(node.kwargs, value_of)
        with torch.no_grad():
            return node.target(*a, **k)

    counted = {n: {u.args[1] for u in n.users
                   if u.target is operator.getitem and u not in grad_index}
               for n in kept}
    fixed_bytes = doc["fixed_bytes"]
    peak = measured = 0
    for step in schedule["steps"]:
        if "compute" in step:
            node = by_id[step["compute"]]
            live[node] = run(node)
            # Parameter gradients read this op directly or through views of it.
            pending = list(node.users)
            while pending:
                user = pending.pop()
                if user in grad_index:
                    grads[grad_index[user]] = run(user)
                elif alias.get(user) is node:
                    pending.extend(user.users)
            measured = storage_bytes(live, counted)
            peak = max(peak, measured)
        else:
            del live[by_id[step["free"]]]

    # Ordinary step: the traced graph in order, and eager autograd.
    params2, buffers2 = fresh_inputs()
    reference = gm(params2, buffers2, ctx["x"], ctx["y"])
    params3, buffers3 = fresh_inputs()
    leaves = [t.requires_grad_() for t in params3]
    eager = ctx["step"](leaves, buffers3, ctx["x"], ctx["y"])
    missing = [grad_nodes[k].name for k, g in enumerate(grads) if g is None]
    if missing:
        print(f"gradients never produced: {missing}", file=sys.stderr)
    ok = not missing
    max_diff = max_eager = 0.0
    if ok:
        for g, r, e in zip(grads, reference, eager):
            max_diff = max(max_diff, (g - r).abs().max().item())
            max_eager = max(max_eager, (g - e.detach()).abs().max().item())
        ok = max_diff == 0.0 and max_eager < 1e-4
    best = planned["best"]
    print(json.dumps({
        "model": args.model, "batch": args.batch, "resolution": args.resolution,
        "budget": args.budget, "solver": best,
        "simulated_peak_bytes": sim["peak_bytes"],
        "measured_peak_bytes": peak + fixed_bytes,
        "measured_over_simulated": (peak + fixed_bytes) / sim["peak_bytes"],
        "recomputes": sim["recomputes"],
        "max_abs_diff_vs_traced_step": max_diff,
        "max_abs_diff_vs_eager_autograd": max_eager,
        "gradients_match": ok,
    }, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
