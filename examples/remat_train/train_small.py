#!/usr/bin/python3
"""Trains a small convolutional network for a few steps under a memory budget that the
ordinary PyTorch step exceeds, with a plan from `sysopt remat plan`.

Usage (from the repository root, after scripts/build.sh):
    /usr/bin/python3 examples/remat_train/train_small.py [--sysopt build/sysopt]
        [--fraction 0.8] [--steps 5] [--level aten]

The budget is --fraction times the peak memory of the ordinary step (forward, loss,
backward in eager PyTorch, measured with the same live-tensor meter).
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "python"))
import sysopt_torch  # noqa: E402


def model():
    def block(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
    return nn.Sequential(block(3, 16), block(16, 16), nn.MaxPool2d(2), block(16, 32),
                         block(32, 32), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.2),
                         nn.Linear(32 * 8 * 8, 10))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sysopt", default="build/sysopt")
    p.add_argument("--fraction", type=float, default=0.8)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--level", choices=["aten", "layer"], default="aten")
    p.add_argument("--time-limit", default="10")
    args = p.parse_args()
    torch.manual_seed(0)
    net = model()
    x = torch.randn(args.batch, 3, 32, 32)
    y = torch.randint(0, 10, (args.batch,))
    # The ordinary step's peak (parameters, buffers, batch, its gradients and activations).
    static = sum(t.numel() * t.element_size() for t in list(net.parameters()) +
                 list(net.buffers()) + [x, y])
    _, above = sysopt_torch.eager_step_peak(net, F.cross_entropy, (x,), (y,))
    ordinary = static + above
    budget = int(args.fraction * ordinary)
    print(f"ordinary step peak {ordinary / 2**20:.2f} MiB; budget {budget / 2**20:.2f} MiB "
          f"({args.fraction:.0%})")
    opt = torch.optim.SGD(net.parameters(), lr=0.005, momentum=0.9)
    try:
        trainer = sysopt_torch.RematTrainer(
            net, F.cross_entropy, (x,), (y,), budget=str(budget), optimizer=opt,
            optimizer_kind="momentum", level=args.level, sysopt=args.sysopt,
            solver="stage-search", time_limit=args.time_limit, name="small-cnn")
    except sysopt_torch.PlanError as e:
        print(f"train_small: {e}", file=sys.stderr)
        return 1
    figures = trainer.measure(repeats=5)
    for step in range(args.steps):
        stats = trainer.step((x,), (y,), measure=True)
        print(f"step {step}: loss {stats['loss']:.4f}, {stats['recomputes']} recomputations, "
              f"peak {(stats['meter_peak_bytes'] + trainer.fixed_bytes) / 2**20:.2f} MiB, "
              f"{stats['seconds'] * 1000:.0f} ms")
    print(f"graph: {figures['graph_nodes']} nodes; planned peak "
          f"{figures['planned_peak_bytes'] / 2**20:.2f} MiB, measured "
          f"{figures['meter_peak_bytes'] / 2**20:.2f} MiB "
          f"({figures['meter_over_planned'] - 1:+.2%}), ordinary step "
          f"{figures['eager_peak_bytes'] / 2**20:.2f} MiB")
    print(f"time overhead: planned {figures['planned_overhead']:+.1%}, measured "
          f"{figures['measured_overhead']:+.1%} (against the same graph with nothing "
          f"recomputed; median of 5)")
    ok = figures["meter_peak_bytes"] <= budget and figures["meter_peak_bytes"] < ordinary
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
