#!/usr/bin/python3
"""Executes a `sysopt remat` plan on a real training step and checks it.

Traces the model's training step (python/sysopt_torch), writes its graph, asks `sysopt remat
plan` for a schedule under the budget, then runs the traced aten ops in the schedule's order
(computing, freeing and recomputing exactly as the schedule says, random ops replaying their
first draw). Checks that the parameter gradients equal those of the ordinary step (the graph
run with nothing recomputed, and eager autograd, from the same generator state), and compares
the measured peak (live-tensor meter: every tensor an op returns, from creation to release,
plus fixed bytes) with the simulator's.

Usage: /usr/bin/python3 tools/validate_schedule.py [--model unet] [--batch 2]
           [--resolution 64] [--budget 50%] [--level aten] [--sysopt build/sysopt]
Exit status 0 when the gradients match and the peak is within --peak-tolerance; 1 otherwise.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import extract_graph  # noqa: E402
import sysopt_torch  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="unet")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--budget", default="50%")
    p.add_argument("--level", choices=["aten", "layer"], default="aten")
    p.add_argument("--solver", default="auto")
    p.add_argument("--time-limit", default="20")
    p.add_argument("--sysopt", default="build/sysopt")
    p.add_argument("--peak-tolerance", type=float, default=0.05)
    args = p.parse_args()
    torch.manual_seed(0)
    model, inputs, targets, loss_fn = extract_graph.build(args.model, args.batch,
                                                          args.resolution)
    model.train()
    try:
        trainer = sysopt_torch.RematTrainer(model, loss_fn, inputs, targets,
                                            budget=args.budget, level=args.level,
                                            sysopt=args.sysopt, solver=args.solver,
                                            time_limit=args.time_limit, name=args.model)
    except sysopt_torch.PlanError as e:
        print(f"validate_schedule: {e}", file=sys.stderr)
        return 1
    figures = trainer.measure(repeats=1)
    # Gradients: the plan, keep-everything and eager autograd, each from the same RNG state
    # and the same buffers.
    state = torch.get_rng_state()
    saved = {k: v.clone() for k, v in model.named_buffers()}

    def restore():
        torch.set_rng_state(state)
        for k, v in model.named_buffers():
            v.copy_(saved[k])

    def grads_of(fn):
        restore()
        fn()
        return [q.grad.detach().clone() for q in trainer.params]

    planned = grads_of(lambda: trainer.compute_gradients(inputs, targets))
    keep = grads_of(lambda: trainer.compute_gradients(inputs, targets,
                                                      schedule=trainer.keep_all))

    def eager():
        for q in model.parameters():
            q.grad = None
        loss_fn(model(*inputs), *targets).backward()
    ref = grads_of(eager)
    diff_keep = max((a - b).abs().max().item() for a, b in zip(planned, keep))
    diff_eager = max((a - b).abs().max().item() for a, b in zip(planned, ref))
    scale = max(b.abs().max().item() for b in ref)
    ok = diff_keep == 0.0 and diff_eager <= 1e-4 * max(1.0, scale)
    ratio = figures["meter_peak_bytes"] / figures["planned_peak_bytes"]
    ok = ok and abs(ratio - 1.0) <= args.peak_tolerance
    figures.update({"model": args.model, "batch": args.batch, "resolution": args.resolution,
                    "level": args.level, "budget": args.budget,
                    "max_abs_diff_vs_keep_all": diff_keep,
                    "max_abs_diff_vs_eager_autograd": diff_eager,
                    "max_abs_gradient": scale, "ok": ok})
    print(json.dumps(figures, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
