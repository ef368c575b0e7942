#!/usr/bin/python3
"""Extracts the training graph of a torchvision model for `sysopt remat`.

Traces one full training step (forward, cross-entropy loss, backward to every parameter) at the
aten-operator level with torch.fx's make_fx, then runs the traced graph node by node to record
each node's output size and its measured CPU time (median of --repeats runs, in seconds).

Graph conventions (see docs/remat.md):
  * parameters, buffers, the input batch and labels are `fixed_bytes` (always resident), so
    placeholders and views of them are not nodes;
  * views (view, t, expand, ...) are folded into the tensor they alias; in-place ops on
    activations are rewritten as out-of-place ops;
  * a multi-output op is one node whose size is the sum of its outputs that are read;
  * parameter gradients live in gradient buffers counted in `fixed_bytes` (like .grad);
  * `outputs` are the sinks (ops whose results nobody reads, such as the ops writing the
    first layers' gradients), so every op must run; `backward` marks descendants of the loss.

Usage: /usr/bin/python3 tools/extract_graph.py MODEL --batch N --out data/graphs/MODEL.json
Models: vgg16, resnet50, mobilenet_v2, unet (a small U-Net defined here), fcn_resnet50.
"""
import argparse
import json
import operator
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.fx.experimental.proxy_tensor import make_fx
from torch.nn.utils import stateless

VIEW_OPS = {
    "view", "_unsafe_view", "t", "transpose", "expand", "permute", "squeeze", "unsqueeze",
    "alias", "detach", "slice", "select", "as_strided", "reshape", "_reshape_alias",
    "expand_as", "view_as", "unfold", "split", "chunk", "diagonal", "numpy_T",
}


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


def build_model(name):
    if name == "unet":
        return UNet(), "segmentation"
    if name == "fcn_resnet50":
        return torchvision.models.segmentation.fcn_resnet50(weights=None, weights_backbone=None,
                                                            num_classes=8,
                                                            aux_loss=False), "segmentation"
    return getattr(torchvision.models, name)(weights=None), "classification"


def remove_inplace(gm):
    """Rewrites in-place ops on activations (e.g. ResNet's `out += identity`, traced as
    aten.add_) as out-of-place ones, redirecting later reads of the mutated tensor to the new
    node, so that every read is an explicit edge. In-place updates of parameters and buffers
    (batch-norm running statistics) are left alone: they are side effects on fixed memory."""
    order = {n: i for i, n in enumerate(gm.graph.nodes)}
    placeholders = {n for n in gm.graph.nodes if n.op == "placeholder"}
    for node in list(gm.graph.nodes):
        if node.op != "call_function" or not hasattr(node.target, "overloadpacket"):
            continue
        name = node.target.overloadpacket.__name__
        if not name.endswith("_") or name.startswith("_") or not node.args:
            continue
        base = node.args[0]
        if not isinstance(base, torch.fx.Node) or base in placeholders:
            continue
        packet = getattr(torch.ops.aten, name[:-1], None)
        overload = getattr(packet, node.target._overloadname, None) if packet else None
        if overload is None:
            continue
        node.target = overload
        for user in list(base.users):
            if user is not node and order[user] > order[node]:
                user.replace_input_with(base, node)
    gm.graph.lint()
    gm.recompile()


def tensor_bytes(value):
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(tensor_bytes(v) for v in value)
    return 0


def op_name(node):
    target = node.target
    if target is operator.getitem:
        return "getitem"
    name = getattr(target, "__name__", str(target))
    return name.split(".")[0]


def extract(args):
    """Traces and measures one training step; returns (graph document, trace context)."""
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    model, task = build_model(args.model)
    for m in model.modules():  # in-place activations would alias their inputs
        if hasattr(m, "inplace"):
            m.inplace = False
    model.train()
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    x = torch.randn(args.batch, 3, args.resolution, args.resolution)
    if task == "classification":
        y = torch.randint(0, 1000, (args.batch,))
    else:
        y = torch.randint(0, 8, (args.batch, args.resolution, args.resolution))

    names = list(params)

    def step(param_values, buffer_values, x, y):
        state = dict(zip(names, param_values))
        state.update(buffer_values)
        out = stateless.functional_call(model, state, (x,))
        if isinstance(out, dict):
            out = out["out"]
        loss = F.cross_entropy(out, y)
        return torch.autograd.grad(loss, param_values)

    param_values = [params[n] for n in names]
    gm = make_fx(step)(param_values, buffers, x, y)
    remove_inplace(gm)
    graph = gm.graph

    # Run node by node: record every value, its size and the time of the op that made it.
    env = {}
    times = {}
    flat_inputs = list(param_values) + list(buffers.values()) + [x, y]
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    for node, value in zip(placeholders, flat_inputs):
        env[node] = value.detach()

    def load(a):
        return torch.fx.node.map_arg(a, lambda n: env[n])

    for node in graph.nodes:
        if node.op != "call_function":
            continue
        fn_args, fn_kwargs = load(node.args), load(node.kwargs)
        samples = []
        with torch.no_grad():
            for _ in range(args.repeats):
                start = time.perf_counter()
                value = node.target(*fn_args, **fn_kwargs)
                samples.append(time.perf_counter() - start)
        env[node] = value
        times[node] = statistics.median(samples)

    output_node = next(n for n in graph.nodes if n.op == "output")
    grad_nodes = [a for a in output_node.args[0] if isinstance(a, torch.fx.Node)]
    # Parameters, buffers, the batch and one gradient buffer per parameter.
    fixed = sum(tensor_bytes(v) for v in flat_inputs) + sum(tensor_bytes(p) for p in param_values)

    # Map each fx node to the graph node that holds its memory: views and in-place ops fold
    # into the tensor they alias; getitems fold into their op, except parameter gradients,
    # which are nodes of their own so that the rest of the op's outputs can be freed.
    grad_set = set(grad_nodes)
    fixed_set = set(placeholders)
    alias = {}
    for node in graph.nodes:
        if node.op != "call_function":
            continue
        base = None
        name = op_name(node)
        if node in grad_set:
            # Parameter gradients live in preallocated gradient buffers (counted in
            # fixed_bytes), as PyTorch's .grad tensors do.
            fixed_set.add(node)
            continue
        if name in VIEW_OPS or (name.endswith("_") and not name.startswith("_")):
            src = node.args[0] if node.args else None
            if isinstance(src, torch.fx.Node):
                base = alias.get(src, src)
        elif node.target is operator.getitem and node not in grad_set:
            base = alias.get(node.args[0], node.args[0])
        if base is not None:
            if base in fixed_set:
                fixed_set.add(node)
            alias[node] = base
    split_ops = set()

    def holder(n):
        return alias.get(n, n)

    # Dead code (e.g. unused reserve buffers) is not part of the step.
    live = set()
    stack = list(grad_nodes)
    while stack:
        n = stack.pop()
        if n in live:
            continue
        live.add(n)
        stack.extend(n.all_input_nodes)
    kept = [n for n in graph.nodes if n.op == "call_function" and n not in fixed_set
            and holder(n) is n and n in live]
    index = {n: i for i, n in enumerate(kept)}
    # Size of a holder: its own output, or for a multi-output op the outputs actually read.
    loss_node = None
    for n in kept:
        if op_name(n) in ("nll_loss_forward", "nll_loss2d_forward"):
            loss_node = n
    if loss_node is None:
        sys.exit("no loss node found")
    nodes_json = []
    descendants = {loss_node}
    for n in kept:
        inputs = set()
        for a in n.all_input_nodes:
            h = holder(a)
            if h in fixed_set or h not in index:
                continue
            inputs.add(index[h])
        if any(kept[i] in descendants for i in inputs):
            descendants.add(n)
        value = env[n]
        readers = [u for u in n.users if u.op == "call_function"]
        if readers and all(u in grad_set or (alias.get(u) is n and all(
                w in grad_set for w in u.users)) for u in readers):
            # Only parameter gradients read it: the result is written into the gradient
            # buffer, already counted in fixed_bytes.
            size = 0
        elif isinstance(value, (tuple, list)):
            used = {u.args[1] for u in n.users
                    if u.target is operator.getitem and u not in grad_set}
            size = sum(tensor_bytes(v) for i, v in enumerate(value) if i in used)
        else:
            size = tensor_bytes(value)
        cost = times.get(n, 0.0)
        nodes_json.append({
            "id": index[n], "name": n.name, "op": "aten." + op_name(n),
            "inputs": sorted(inputs), "bytes": int(size), "cost": cost,
            "backward": n in descendants and n is not loss_node,
        })
    # A view's time belongs to its base; getitems of split ops cost nothing.
    for n in graph.nodes:
        if n in alias and n not in fixed_set and alias[n] in index:
            nodes_json[index[alias[n]]]["cost"] += times.get(n, 0.0)
    # Every op must run: the sinks (results nobody reads, e.g. the ops that write the first
    # layers' gradients) must exist at the end.
    read = {i for nd in nodes_json for i in nd["inputs"]}
    outputs = [nd["id"] for nd in nodes_json if nd["id"] not in read]
    total = sum(nd["cost"] for nd in nodes_json)
    doc = {
        "name": f"{args.model}-b{args.batch}",
        "batch_size": args.batch,
        "fixed_bytes": int(fixed),
        "cost_unit": "seconds of measured CPU time (median of %d runs, %d thread(s), torch %s)"
                     % (args.repeats, args.threads, torch.__version__),
        "resolution": args.resolution,
        "nodes": nodes_json,
        "outputs": outputs,
    }
    context = {
        "gm": gm, "model": model, "names": names, "param_values": param_values,
        "buffers": buffers, "x": x, "y": y, "placeholders": placeholders,
        "grad_nodes": grad_nodes, "alias": alias, "fixed_set": fixed_set, "kept": kept,
        "step": step,
    }
    print(f"{args.model}: {len(nodes_json)} nodes, {len(outputs)} outputs, "
          f"fixed {fixed / 2**20:.1f} MiB, step {total:.3f} s", file=sys.stderr)
    return doc, context


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--resolution", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    doc, _ = extract(args)
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=0)


if __name__ == "__main__":
    main()
