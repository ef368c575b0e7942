#!/usr/bin/python3
"""Extracts the training graph of a model for `sysopt remat`.

Traces one full training step (forward, loss, backward to every parameter) at the aten level
with torch.fx's make_fx (python/sysopt_torch), runs it op by op to record each tensor's size,
the temporaries each op allocates and its measured CPU time (median of --repeats runs), and
writes the graph, at aten level (one node per op) or layer level (one node per module and pass).

Models: any torchvision model name (vgg11, resnet34, mobilenet_v3_large, vit_b_16, ...), `unet`
(a small U-Net), `fcn_resnet50`, `transformer` (a torch.nn.TransformerEncoder language model),
or MODULE:FUNCTION, a function of yours returning (model, inputs, targets, loss_fn), given
--batch and --resolution as keyword arguments, e.g. mymodels:build.

Usage: /usr/bin/python3 tools/extract_graph.py MODEL --batch N [--level aten|layer]
           [--resolution R] [--optimizer sgd|momentum|adam] --out graph.json
"""
import argparse
import importlib
import json
import os
import sys

# OpenBLAS (Debian's torch links it when libopenblas0 is installed) runs its own threads: give
# it --threads too, before torch loads it, so that measured costs use the threads asked for.
if "--threads" in sys.argv[:-1]:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", sys.argv[sys.argv.index("--threads") + 1])
else:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import torchvision  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import sysopt_torch  # noqa: E402


class UNet(nn.Module):
    """A small U-Net (encoder-decoder with skip connections) for segmentation."""

    def __init__(self, channels=(32, 64, 128, 256), classes=8):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())

        self.down = nn.ModuleList()
        cin = 3
        for c in channels:
            self.down.append(block(cin, c))
            cin = c
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for c in reversed(channels[:-1]):
            self.up.append(nn.ConvTranspose2d(cin, c, 2, stride=2))
            self.dec.append(block(2 * c, c))
            cin = c
        self.head = nn.Conv2d(cin, classes, 1)

    def forward(self, x):
        skips = []
        for i, d in enumerate(self.down):
            x = d(x)
            if i < len(self.down) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, dec in zip(self.up, self.dec):
            x = up(x)
            x = dec(torch.cat([x, skips.pop()], dim=1))
        return self.head(x)


class TransformerLM(nn.Module):
    """A small language model: embedding, torch.nn.TransformerEncoder, vocabulary head."""

    def __init__(self, vocab=1000, d_model=128, heads=4, layers=2, ff=256, dropout=0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, ff, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)))


def lm_loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def build(name, batch, resolution):
    """(model, inputs, targets, loss_fn) for a model name (see the module docstring)."""
    if ":" in name:
        module, function = name.split(":", 1)
        return getattr(importlib.import_module(module), function)(batch=batch,
                                                                   resolution=resolution)
    if name == "transformer":
        model = TransformerLM()
        tokens = torch.randint(0, 1000, (batch, resolution))
        return model, (tokens,), (torch.randint(0, 1000, (batch, resolution)),), lm_loss
    x = torch.randn(batch, 3, resolution, resolution)
    if name in ("unet", "fcn_resnet50"):
        if name == "unet":
            model = UNet()
        else:
            model = torchvision.models.segmentation.fcn_resnet50(
                weights=None, weights_backbone=None, num_classes=8, aux_loss=False)
        y = torch.randint(0, 8, (batch, resolution, resolution))

        def seg_loss(out, y):
            return F.cross_entropy(out["out"] if isinstance(out, dict) else out, y)
        return model, (x,), (y,), seg_loss
    if not hasattr(torchvision.models, name):
        raise SystemExit(f"extract_graph: unknown model {name!r} (a torchvision model name, "
                         f"unet, fcn_resnet50, transformer or MODULE:FUNCTION)")
    kwargs = {"image_size": resolution} if name.startswith("vit_") else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs)
    return model, (x,), (torch.randint(0, 1000, (batch,)),), F.cross_entropy


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--resolution", type=int, default=224,
                        help="image side (sequence length for the transformer)")
    parser.add_argument("--level", choices=["aten", "layer"], default="aten")
    parser.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], default="sgd",
                        help="optimiser whose state is counted in fixed_bytes")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    model, inputs, targets, loss_fn = build(args.model, args.batch, args.resolution)
    model.train()
    doc, _, _ = sysopt_torch.extract(model, loss_fn, inputs, targets,
                                     f"{args.model}-b{args.batch}-{args.level}",
                                     level=args.level, optimizer=args.optimizer,
                                     repeats=args.repeats, threads=args.threads)
    doc["resolution"] = args.resolution
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=0)
    total = sum(n["cost"] for n in doc["nodes"])
    print(f"{args.model}: {len(doc['nodes'])} nodes ({args.level} level), fixed "
          f"{doc['fixed_bytes'] / 2**20:.1f} MiB, step {total:.3f} s -> {args.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
