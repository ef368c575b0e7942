"""Traces one training step of any torch.nn.Module into a `sysopt remat` graph.

`trace_step` records forward, loss and `torch.autograd.grad` to every parameter at the aten
level with torch.fx's make_fx, tags every op with the module it comes from, and returns a
`TracedStep`: the traced program plus the bookkeeping that turns it into a graph (`to_graph`,
at aten or layer level) and that `sysopt_torch.run` needs to execute a schedule on it.

Graph conventions (docs/remat.md, "Graph extraction"):
  * `fixed_bytes` = parameters + buffers + one gradient buffer per parameter + optimiser state
    + the example inputs and targets; they are not nodes;
  * views (view, t, expand, ...) and getitems fold into the tensor they alias;
  * in-place ops on activations (ResNet's `out += identity`, dropout's `bernoulli_` and
    `div_`) become out-of-place ops, each its own node with its own bytes;
  * random ops (bernoulli, dropout, rand*, normal) are marked `"random": true`; the executor
    records the generator state at their first draw and replays it when they are recomputed;
  * an op whose result is (a view of) a parameter gradient allocates it, and the result is
    copied into the gradient buffer and released: its bytes count, it is freed right after it
    is computed (it is not an output); except a matrix product (Linear weights), computed
    straight into the gradient buffer, whose bytes are 0;
  * `outputs` are the loss and any result nobody reads that is not a gradient;
  * `module` is the module path an op comes from: the innermost module whose forward ran it,
    and for backward ops the module whose forward op they differentiate ("" is the model's own
    forward code, "<loss>" the loss function).
"""
import operator
import statistics
import time

import torch
import torch.fx
from torch.fx.experimental.proxy_tensor import make_fx
from torch.nn.utils import stateless

VIEW_OPS = {
    "view", "_unsafe_view", "t", "transpose", "expand", "permute", "squeeze", "unsqueeze",
    "alias", "detach", "slice", "select", "as_strided", "reshape", "_reshape_alias",
    "expand_as", "view_as", "unfold", "split", "chunk", "diagonal", "numpy_T", "unbind",
    "split_with_sizes", "unsafe_split", "narrow", "movedim", "lift_fresh",
}
RANDOM_OPS = {
    "bernoulli", "bernoulli_", "rand", "rand_like", "randn", "randn_like", "randint",
    "randint_like", "randperm", "normal", "normal_", "uniform_", "native_dropout", "dropout",
    "exponential_", "geometric_", "cauchy_", "log_normal_", "random_", "multinomial",
    "feature_dropout", "alpha_dropout", "rrelu_with_noise",
}
LOSS_MODULE = "<loss>"


def op_name(node):
    if node.target is operator.getitem:
        return "getitem"
    name = getattr(node.target, "__name__", str(node.target))
    return name.split(".")[0]


def tensor_bytes(value):
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(tensor_bytes(v) for v in value)
    return 0


def _is_inplace(name):
    return name.endswith("_") and not name.startswith("_")


class _OutOfPlace:
    """An in-place aten op applied to a copy of its first argument: the out-of-place form of
    an op (such as `bernoulli_.float`) that has no functional overload of its own."""

    def __init__(self, target):
        self.target = target
        self.__name__ = target.overloadpacket.__name__[:-1]

    def __call__(self, base, *args, **kwargs):
        return self.target(base.clone(), *args, **kwargs)


def _remove_inplace(gm):
    """Rewrites in-place ops on activations as out-of-place ones, redirecting later reads of
    the mutated tensor to the new node, so that every value is written once and every read is
    an edge. In-place updates of parameters and buffers are side effects on fixed memory and
    are kept as they are."""
    order = {n: i for i, n in enumerate(gm.graph.nodes)}
    placeholders = {n for n in gm.graph.nodes if n.op == "placeholder"}
    views = {}
    for node in list(gm.graph.nodes):
        if node.op != "call_function":
            continue
        name = op_name(node)
        if name in VIEW_OPS and node.args and isinstance(node.args[0], torch.fx.Node):
            views[node] = views.get(node.args[0], node.args[0])
            continue
        if not hasattr(node.target, "overloadpacket") or not _is_inplace(name) or not node.args:
            continue
        base = node.args[0]
        if not isinstance(base, torch.fx.Node) or views.get(base, base) in placeholders:
            continue
        if base in views:
            raise ValueError(f"in-place op {node.name} ({name}) writes into a view of the "
                             f"activation {views[base].name}; such graphs are not supported")
        packet = getattr(torch.ops.aten, name[:-1], None)
        overload = getattr(packet, node.target._overloadname, None) if packet else None
        node.target = overload if overload is not None else _OutOfPlace(node.target)
        for user in list(base.users):
            if user is not node and order[user] > order[node]:
                user.replace_input_with(base, node)
    gm.graph.lint()
    gm.recompile()


class _ModuleTagger:
    """Tags each fx node created while tracing with the module it comes from (see the module
    docstring). Forward ops: a stack kept by forward pre- and post-hooks. Backward ops: hooks on
    the autograd nodes of the forward pass, tagged by the innermost module whose output they
    lead to; the ops traced before such a hook fires belong to it."""

    def __init__(self, model):
        self.stack = []
        self.pending = []
        self.tagged = set()
        self.handles = []
        self.last = LOSS_MODULE
        for name, module in model.named_modules():
            self.handles.append(module.register_forward_pre_hook(
                lambda m, i, name=name: self.stack.append(name)))
            self.handles.append(module.register_forward_hook(
                lambda m, i, o, name=name: self._post(name, o)))
        self._create_node = torch.fx.Graph.create_node
        tagger = self

        def create_node(graph, *args, **kwargs):
            node = tagger._create_node(graph, *args, **kwargs)
            if tagger.stack:
                node.meta["module"] = tagger.stack[-1]
            else:
                tagger.pending.append(node)
            return node

        self._patched = create_node

    def _post(self, name, output):
        self.stack.pop()
        outs = output if isinstance(output, (tuple, list)) else [output]
        for out in outs:
            if isinstance(out, torch.Tensor) and out.grad_fn is not None:
                self._tag_autograd(out.grad_fn, name)

    def _tag_autograd(self, fn, name):
        todo = [fn]
        while todo:
            f = todo.pop()
            if f is None or f in self.tagged:
                continue
            self.tagged.add(f)
            if type(f).__name__ != "AccumulateGrad":
                f.register_hook(lambda gi, go, name=name: self._flush(name))
            todo.extend(g for g, _ in f.next_functions)

    def _flush(self, name):
        for node in self.pending:
            node.meta["module"] = name
        self.pending.clear()
        self.last = name

    def start_loss(self):
        self.stack.append(LOSS_MODULE)

    def end_loss(self):
        self.stack.pop()
        self.pending.clear()

    def __enter__(self):
        torch.fx.Graph.create_node = self._patched
        return self

    def __exit__(self, *exc):
        torch.fx.Graph.create_node = self._create_node
        self._flush(self.last)
        for h in self.handles:
            h.remove()


class TracedStep:
    """One traced training step: `gm(params, buffers, inputs, targets)` returns the parameter
    gradients, and the classification of its nodes (holders, aliases, gradients)."""

    def __init__(self, gm, model, names, buffer_names, n_inputs, n_targets, loss_node):
        self.gm = gm
        self.model = model
        self.param_names = names
        self.buffer_names = buffer_names
        self.n_inputs = n_inputs
        self.n_targets = n_targets
        graph = gm.graph
        self.placeholders = [n for n in graph.nodes if n.op == "placeholder"]
        output = next(n for n in graph.nodes if n.op == "output")
        self.grad_nodes = list(output.args[0])
        self.loss_node = loss_node
        placeholders = set(self.placeholders)
        # alias: fx node -> the fx node that holds its memory (views and getitems fold).
        self.alias = {}
        for node in graph.nodes:
            if node.op != "call_function":
                continue
            name = op_name(node)
            src = node.args[0] if node.args else None
            if (name in VIEW_OPS or node.target is operator.getitem or _is_inplace(name)) \
                    and isinstance(src, torch.fx.Node):
                self.alias[node] = self.alias.get(src, src)
        self.fixed = set(placeholders) | {n for n, b in self.alias.items() if b in placeholders}
        # Ops that lead to a gradient (the rest is dead code or side effects on buffers).
        live = set()
        stack = [g for g in self.grad_nodes if isinstance(g, torch.fx.Node)] + [loss_node]
        while stack:
            n = stack.pop()
            if n not in live:
                live.add(n)
                stack.extend(n.all_input_nodes)
        self.holders = [n for n in graph.nodes if n.op == "call_function" and n in live
                        and n not in self.fixed and n not in self.alias]
        self.side_effects = [n for n in graph.nodes if n.op == "call_function"
                             and n not in live and _is_inplace(op_name(n))]
        # Gradient k is a view (or the whole) of holder grad_holder[k].
        self.grad_holder = {}
        for k, g in enumerate(self.grad_nodes):
            if isinstance(g, torch.fx.Node) and g not in self.fixed:
                self.grad_holder[k] = self.alias.get(g, g)
        self.grads_of = {}
        for k, h in self.grad_holder.items():
            self.grads_of.setdefault(h, []).append(k)
        # Matrix products whose result is a gradient, whole or transposed (Linear weights):
        # computed straight into the gradient buffer (mm's out= form), allocating nothing.
        self.direct_grad = {}
        for h, ks in self.grads_of.items():
            if h.target is not torch.ops.aten.mm.default or len(ks) != 1:
                continue
            g, flips = self.grad_nodes[ks[0]], 0
            while g is not h and op_name(g) == "t":
                g, flips = g.args[0], flips + 1
            if g is h:
                self.direct_grad[h] = (ks[0], flips % 2 == 1)
        # Outputs (by getitem index) of multi-output holders that something reads.
        self.used_outputs = {h: {u.args[1] for u in h.users
                                 if u.target is operator.getitem and u.users}
                             for h in self.holders}
        # Holders read (through views) by a later holder.
        self.readers = {h: set() for h in self.holders}
        for n in self.holders:
            for a in self._holder_inputs(n):
                self.readers[a].add(n)
        # Descendants of the loss: the backward pass.
        self.descendants = set()
        for n in self.holders:
            if any(a in self.descendants or a is loss_node for a in self._holder_inputs(n)):
                self.descendants.add(n)
        self.module = {n: n.meta.get("module", "") for n in graph.nodes}
        self.random = {n for n in self.holders if op_name(n) in RANDOM_OPS}
        self.times = {}
        self.values = {}

    def _holder_inputs(self, node):
        """The holders a node reads (through views), itself and fixed memory left out."""
        out = []
        for a in node.all_input_nodes:
            h = self.alias.get(a, a)
            if h not in self.fixed and h is not node and h not in out:
                out.append(h)
        return out

    def holder_inputs(self, node):
        return self._holder_inputs(node)

    def flat_inputs(self, params, buffers, inputs, targets):
        return list(params) + list(buffers) + list(inputs) + list(targets)

    def measure(self, params, buffers, inputs, targets, repeats=1):
        """Runs the traced step op by op, recording every holder's value and its median time."""
        env = dict(zip(self.placeholders, self.flat_inputs(
            [p.detach() for p in params], [b.detach().clone() for b in buffers], inputs,
            targets)))
        state = torch.get_rng_state()
        for node in self.gm.graph.nodes:
            if node.op != "call_function":
                continue
            args = torch.fx.node.map_arg(node.args, lambda n: env[n])
            kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: env[n])
            samples = []
            with torch.no_grad():
                for _ in range(repeats):
                    start = time.perf_counter()
                    value = node.target(*args, **kwargs)
                    samples.append(time.perf_counter() - start)
            env[node] = value
            self.times[node] = statistics.median(samples)
        torch.set_rng_state(state)
        self.values = {n: env[n] for n in self.holders}

    def holder_bytes(self, node):
        """Bytes a holder allocates: the outputs of a multi-output op that are read (as
        activations or gradients), or its single output."""
        value = self.values[node]
        if node in self.direct_grad:
            return 0
        if isinstance(value, (tuple, list)):
            used = self.used_outputs[node]
            return sum(tensor_bytes(v) for i, v in enumerate(value) if i in used)
        return tensor_bytes(value)

    def counted_outputs(self, node):
        """Indices of a multi-output holder's outputs that the graph counts."""
        return self.used_outputs[node]

    def to_graph(self, name, level="aten", fixed_bytes=0, batch_size=None, cost_unit=None):
        """The `sysopt remat` graph of this step. level "aten": one node per op holding memory;
        level "layer": consecutive ops of the same module and pass merged into one node (see
        `groups`)."""
        groups = self.groups(level)
        index = {}
        for gi, members in enumerate(groups):
            for n in members:
                index[n] = gi
        nodes = []
        read = set()
        outputs = []
        for gi, members in enumerate(groups):
            inputs = sorted({index[a] for n in members for a in self._holder_inputs(n)
                             if index[a] != gi})
            backward = any(n in self.descendants for n in members)
            size = sum(self.holder_bytes(n) for n in members
                       if self._read_outside(n, members) or n in self.grads_of
                       or n is self.loss_node)
            cost = 0.0
            for n in members:
                cost += self.times.get(n, 0.0)
            read.update(inputs)
            first = members[0]
            node = {"id": gi, "name": first.name if len(members) == 1 else
                    f"{first.name}..{members[-1].name}",
                    "op": ("aten." + op_name(first)) if len(members) == 1 else "layer",
                    "module": self.module[first], "inputs": inputs, "bytes": int(size),
                    "cost": cost, "backward": bool(backward)}
            if any(n in self.random for n in members):
                node["random"] = True
            nodes.append(node)
        # A view's time belongs to its holder.
        for n, h in self.alias.items():
            if h in index:
                nodes[index[h]]["cost"] += self.times.get(n, 0.0)
        for gi, members in enumerate(groups):
            only_grads = all(n in self.grads_of and not self.readers[n] for n in members
                             if self._read_outside(n, members) or n in self.grads_of)
            if self.loss_node in members or (gi not in read and not only_grads):
                outputs.append(gi)
        doc = {"name": name, "fixed_bytes": int(fixed_bytes), "level": level,
               "nodes": nodes, "outputs": outputs}
        if batch_size is not None:
            doc["batch_size"] = int(batch_size)
        if cost_unit:
            doc["cost_unit"] = cost_unit
        return doc, groups

    def _read_outside(self, node, members):
        return any(r not in members for r in self.readers[node])

    def groups(self, level):
        if level == "aten":
            return [[n] for n in self.holders]
        if level != "layer":
            raise ValueError(f"level must be 'aten' or 'layer', got {level!r}")
        groups = []
        key = None
        for n in self.holders:
            k = (self.module[n], n in self.descendants, n is self.loss_node)
            if groups and k == key and n is not self.loss_node:
                groups[-1].append(n)
            else:
                groups.append([n])
                key = k
        return groups


def trace_step(model, loss_fn, inputs, targets):
    """Traces forward, `loss_fn(model(*inputs), *targets)` and the gradients of every
    parameter that requires one. Returns a TracedStep (not yet measured)."""
    inputs = tuple(inputs)
    targets = tuple(targets)
    for m in model.modules():  # in-place activations would alias their inputs
        if hasattr(m, "inplace"):
            m.inplace = False
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    names = [n for n, _ in named]
    buffer_names = [n for n, _ in model.named_buffers()]
    tagger = _ModuleTagger(model)
    n_in = len(inputs)

    def step(param_values, buffer_values, *flat):
        state = dict(zip(names, param_values))
        state.update(zip(buffer_names, buffer_values))
        out = stateless.functional_call(model, state, flat[:n_in])
        tagger.start_loss()
        loss = loss_fn(out, *flat[n_in:])
        tagger.end_loss()
        loss_box.append(loss)
        return torch.autograd.grad(loss, param_values)

    loss_box = []
    # Tracing runs the step once: leave the buffers (running statistics) and the generator as
    # they were.
    saved = [b.detach().clone() for _, b in model.named_buffers()]
    rng = torch.get_rng_state()
    with tagger:
        gm = make_fx(step)([p.detach().requires_grad_() for _, p in named],
                           [b for _, b in model.named_buffers()], *inputs, *targets)
    with torch.no_grad():
        for (_, b), v in zip(model.named_buffers(), saved):
            b.copy_(v)
    torch.set_rng_state(rng)
    _remove_inplace(gm)
    # The loss: the op that makes the scalar whose gradient is seeded (ones_like's input).
    loss_node = None
    for node in gm.graph.nodes:
        if node.op == "call_function" and op_name(node) == "ones_like" and \
                isinstance(node.args[0], torch.fx.Node):
            src = node.args[0]
            while src.target is operator.getitem or op_name(src) in VIEW_OPS:
                src = src.args[0]
            loss_node = src
            break
    if loss_node is None:
        raise ValueError("the traced step has no loss (no ones_like seeding the backward pass)")
    return TracedStep(gm, model, names, buffer_names, n_in, len(targets), loss_node)


def optimizer_state_bytes(kind, params):
    """Optimiser state per parameter byte: sgd 0, momentum 1 (velocity), adam 2 (moments)."""
    per = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
    if kind not in per:
        raise ValueError(f"optimizer must be one of {sorted(per)}, got {kind!r}")
    return per[kind] * sum(tensor_bytes(p) for p in params)


def extract(model, loss_fn, inputs, targets, name, level="aten", optimizer="sgd", repeats=3,
            threads=1, workspaces=True):
    """Traces, measures and returns (graph document, TracedStep, groups). With `workspaces`,
    the temporaries each node's ops allocate are measured and added as workspace nodes (see
    sysopt_torch.run.with_workspaces); groups[i] is None for those."""
    torch.set_num_threads(threads)
    traced = trace_step(model, loss_fn, inputs, targets)
    params = [p for p in model.parameters() if p.requires_grad]
    buffers = [b for _, b in model.named_buffers()]
    traced.measure(params, buffers, inputs, targets, repeats=repeats)
    fixed = (2 * sum(tensor_bytes(p) for p in params) + sum(tensor_bytes(b) for b in buffers)
             + sum(tensor_bytes(t) for t in inputs) + sum(tensor_bytes(t) for t in targets)
             + optimizer_state_bytes(optimizer, params))
    batch = inputs[0].shape[0] if inputs and isinstance(inputs[0], torch.Tensor) \
        and inputs[0].dim() else None
    unit = "seconds of measured CPU time (median of %d runs, %d thread(s), torch %s)" % (
        repeats, threads, torch.__version__)
    doc, groups = traced.to_graph(name, level=level, fixed_bytes=fixed, batch_size=batch,
                                  cost_unit=unit)
    doc["optimizer"] = optimizer
    if workspaces:
        from .run import ScheduleRunner, measure_transients, with_workspaces
        runner = ScheduleRunner(traced, groups)
        state = torch.get_rng_state()
        grads = [torch.zeros_like(p) for p in params]
        transients = measure_transients(
            runner, doc, [p.detach() for p in params], [b.detach().clone() for b in buffers],
            inputs, targets, grads)
        torch.set_rng_state(state)
        doc, groups = with_workspaces(doc, groups, transients)
    return doc, traced, groups
