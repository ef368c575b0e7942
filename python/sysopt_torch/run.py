"""Executes a `sysopt remat` schedule on a traced training step, and measures its memory.

`ScheduleRunner.step` runs the traced aten ops in the schedule's order -- computing, freeing
and recomputing exactly as the schedule says -- and writes the parameter gradients into the
parameters' `.grad` buffers. Random ops replay their first draw when recomputed (the CPU
generator's state is recorded before the first draw and restored around every recomputation),
and ops that update buffers in place (batch norm's running statistics) update them once: a
recomputation gets throwaway copies.

`LiveTensorMeter` measures memory independently of the schedule's bookkeeping: a dispatch mode
that sees every tensor any aten op returns and follows it, by a weak reference, until it is
released; its peak is the peak of live storage bytes allocated during the step (storages of
tensors that existed before, such as parameters, are not counted).
"""
import contextlib
import weakref

import torch
import torch.fx
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from .trace import op_name

BUFFER_UPDATING_OPS = {"native_batch_norm", "_native_batch_norm_legit", "batch_norm"}


class LiveTensorMeter(TorchDispatchMode):
    """Peak bytes of live storages created by aten ops while the mode is active."""

    def __init__(self, external=()):
        super().__init__()
        self.external = {t.storage().data_ptr() for t in external
                         if isinstance(t, torch.Tensor)}
        self.refs = {}
        self.live = 0
        self.peak = 0
        self.window_peak = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                self._track(t)
        return out

    def _track(self, t):
        storage = t.storage()
        ptr = storage.data_ptr()
        if ptr == 0 or ptr in self.external:
            return
        entry = self.refs.get(ptr)
        if entry is None:
            self.refs[ptr] = [1, storage.nbytes()]
            self.live += storage.nbytes()
            self.peak = max(self.peak, self.live)
            self.window_peak = max(self.window_peak, self.live)
        else:
            entry[0] += 1
        weakref.finalize(t, self._release, ptr)

    def _release(self, ptr):
        entry = self.refs[ptr]
        entry[0] -= 1
        if entry[0] == 0:
            self.live -= entry[1]
            del self.refs[ptr]


class ScheduleError(RuntimeError):
    pass


class ScheduleRunner:
    """Runs schedules of the graph `traced.to_graph(level=...)` made (groups as returned)."""

    def __init__(self, traced, groups):
        self.traced = traced
        self.groups = groups
        self.group_of = {}
        groups = [g if g is not None else [] for g in groups]
        self.groups = groups
        for gi, members in enumerate(groups):
            for n in members:
                self.group_of[n] = gi
        # Members a group keeps once it is computed (read by another group, or the loss).
        self.kept = []
        for members in groups:
            mset = set(members)
            self.kept.append([n for n in members
                              if any(r not in mset for r in traced.readers[n])
                              or n is traced.loss_node])
        self.last_use = []  # per group: member -> position of its last in-group read
        for members in groups:
            pos = {n: i for i, n in enumerate(members)}
            last = {}
            for i, n in enumerate(members):
                for a in traced.holder_inputs(n):
                    if a in pos:
                        last[a] = i
            self.last_use.append(last)

    def step(self, schedule, params, buffers, inputs, targets, grads, meter_external=(),
             measure=True, transients=None):
        """Executes `schedule` ({"steps": [...]}) once. Writes gradient k into grads[k]
        (preallocated, e.g. the parameters' .grad). Returns a dict with the loss value, the
        bookkeeping peak (bytes of distinct live storages the graph counts, after each
        compute, as the simulator counts), the live-tensor meter's peak, and the number of
        computes and recomputes."""
        tr = self.traced
        fixed_env = dict(zip(tr.placeholders, tr.flat_inputs(params, buffers, inputs,
                                                             targets)))
        live = {}
        cache = {}
        rng = {}
        computed = set()
        produced = [False] * len(tr.grad_nodes)
        peak = 0
        recomputes = 0
        loss = None

        def value_of(node):
            if node in fixed_env:
                return fixed_env[node]
            if node in live:
                return live[node]
            if node in tr.alias:
                base = tr.alias[node]
                if base in tr.placeholders:
                    if node not in cache:  # an in-place side effect on fixed memory: once
                        cache[node] = call(node, recompute=False)
                    return cache[node]
                if base not in live:
                    raise ScheduleError(f"schedule error: {base.name} (read through "
                                        f"{node.name}) is not resident")
                return call(node, recompute=False)
            raise ScheduleError(f"schedule error: {node.name} is not resident")

        def call(node, recompute):
            args = torch.fx.node.map_arg(node.args, value_of)
            kwargs = torch.fx.node.map_arg(node.kwargs, value_of)
            if recompute and op_name(node) in BUFFER_UPDATING_OPS:
                # Running statistics are updated by the first computation only.
                args = tuple(a.clone() if isinstance(a, torch.Tensor) and
                             isinstance(node.args[i], torch.fx.Node) and
                             node.args[i] in fixed_env and i in (3, 4) else a
                             for i, a in enumerate(args))
            with torch.no_grad():
                if node in tr.direct_grad:
                    k, flipped = tr.direct_grad[node]
                    out = grads[k].t() if flipped else grads[k]
                    torch.ops.aten.mm.out(*args, **kwargs, out=out)
                    return out
                if node in tr.random:
                    if node not in rng:
                        rng[node] = torch.get_rng_state()
                        return node.target(*args, **kwargs)
                    with torch.random.fork_rng(devices=[]):
                        torch.set_rng_state(rng[node])
                        return node.target(*args, **kwargs)
                return node.target(*args, **kwargs)

        def write_grads(node, value):
            live[node] = value
            for k in tr.grads_of.get(node, ()):
                if node not in tr.direct_grad:
                    with torch.no_grad():
                        grads[k].copy_(value_of(tr.grad_nodes[k]))
                produced[k] = True

        def counted_bytes():
            seen = {}
            for node, v in live.items():
                if isinstance(v, (tuple, list)):
                    used = tr.counted_outputs(node)
                    v = [t for i, t in enumerate(v) if i in used]
                else:
                    v = [v]
                for t in v:
                    if isinstance(t, torch.Tensor):
                        st = t.storage()
                        seen[st.data_ptr()] = st.nbytes()
            return sum(seen.values())

        meter = LiveTensorMeter(external=list(fixed_env.values()) + list(grads) +
                                list(meter_external))
        with (meter if measure else contextlib.nullcontext()):
            for k, s in enumerate(schedule["steps"]):
                if "compute" in s:
                    gi = s["compute"]
                    if gi < 0 or gi >= len(self.groups):
                        raise ScheduleError(f"steps[{k}]: node id {gi} does not exist")
                    members = self.groups[gi]
                    again = gi in computed
                    recomputes += again
                    computed.add(gi)
                    keep = set(self.kept[gi])
                    last = self.last_use[gi]
                    meter.window_peak = meter.live
                    for i, n in enumerate(members):
                        if n in live:
                            raise ScheduleError(f"steps[{k}]: {n.name} is already resident")
                        value = call(n, recompute=again)
                        write_grads(n, value)
                        if n is tr.loss_node:
                            loss = value[0] if isinstance(value, (tuple, list)) else value
                        if transients is not None and i == len(members) - 1:
                            transients[gi] = max(transients.get(gi, 0),
                                                 meter.window_peak - meter.live)
                        if measure:
                            peak = max(peak, counted_bytes())
                        for a in [a for a, j in last.items() if j == i and a not in keep]:
                            live.pop(a, None)
                        if n not in keep and last.get(n) is None:
                            live.pop(n, None)
                        del value  # or its tensors would outlive their frees
                elif "page_out" in s or "page_in" in s:
                    raise ScheduleError(f"steps[{k}]: {s}: paging steps are not applied here; "
                                        f"plan without --page-bandwidth to run the plan")
                else:
                    gi = s["free"]
                    for n in self.kept[gi]:
                        if n not in live:
                            raise ScheduleError(f"steps[{k}]: free of {n.name}, which is not "
                                                f"resident")
                        del live[n]
            live.clear()
        missing = [tr.grad_nodes[k].name for k, ok in enumerate(produced)
                   if not ok and k in tr.grad_holder]
        if missing:
            raise ScheduleError(f"the schedule never computed the gradients {missing}")
        # Side effects on buffers that no gradient depends on (num_batches_tracked += 1).
        for node in tr.side_effects:
            if node not in cache:
                call(node, recompute=False)
        return {"loss": float(loss) if loss is not None else None, "peak_bytes": peak,
                "meter_peak_bytes": meter.peak, "recomputes": recomputes}


def measure_transients(runner, doc, params, buffers, inputs, targets, grads):
    """Runs the keep-everything schedule once under the meter and returns, per graph node, the
    bytes an op (or a layer's ops) allocates beyond what is live when it is done: temporaries
    made inside composite ops (contiguous copies, intermediate results), and at layer level the
    layer's internal results."""
    transients = {}
    runner.step(keep_everything_schedule(doc), params, buffers, inputs, targets, grads,
                measure=True, transients=transients)
    return transients


def with_workspaces(doc, groups, transients):
    """Adds, before every node whose op needs temporaries, a zero-cost node of that many bytes
    read only by it (`"op": "workspace"`): it is resident exactly while the op runs, so the
    planner and the simulator count the temporaries at their peak. Returns (doc, groups)."""
    new_nodes, new_groups, remap = [], [], {}
    for node, members in zip(doc["nodes"], groups):
        extra = transients.get(node["id"], 0)
        inputs = [remap[i] for i in node["inputs"]]
        if extra > 0:
            w = len(new_nodes)
            new_nodes.append({"id": w, "name": node["name"] + ".workspace", "op": "workspace",
                              "module": node.get("module", ""), "inputs": inputs,
                              "bytes": int(extra), "cost": 0.0,
                              "backward": node["backward"]})
            new_groups.append(None)
            inputs = inputs + [w]
        remap[node["id"]] = len(new_nodes)
        new_nodes.append(dict(node, id=len(new_nodes), inputs=inputs))
        new_groups.append(members)
    out = dict(doc, nodes=new_nodes, outputs=[remap[o] for o in doc["outputs"]])
    return out, new_groups


def schedule_from_order(graph, order):
    """A schedule computing the node ids in `order` (recomputations included), each instance
    freed right after its last read, outputs kept to the end (as the planner lowers plans)."""
    inputs = {n["id"]: n["inputs"] for n in graph["nodes"]}
    outputs = set(graph["outputs"])
    last_use, live = {}, set()
    frees_after = [[] for _ in order]
    for p, v in enumerate(order):
        for a in inputs[v]:
            last_use[a] = p
        if v in live:
            frees_after[last_use[v]].append(v)
        live.add(v)
        last_use[v] = p
    for v in live:
        if v not in outputs:
            frees_after[last_use[v]].append(v)
    steps = []
    for p, v in enumerate(order):
        steps.append({"compute": v})
        steps.extend({"free": f} for f in sorted(frees_after[p]))
    return {"steps": steps}


def keep_everything_schedule(graph):
    """Every node once in order, each freed after its last read (as the planner's keep-all)."""
    return schedule_from_order(graph, [n["id"] for n in graph["nodes"]])


def eager_step_peak(model, loss_fn, inputs, targets, grads="none"):
    """The ordinary PyTorch step (forward, loss, backward), measured with the same live-tensor
    meter; saved tensors are kept alive by their Python objects (a saved-tensor hook), so the
    meter follows them. grads="none": .grad is None before, so the step creates its gradients
    as it goes (counted by the meter); grads="zeros": .grad holds zeroed buffers, which autograd
    accumulates into in place (as after optimizer.zero_grad() in torch 1.13); they are not
    counted. Returns (loss, peak bytes allocated above what existed before)."""
    params = list(model.parameters())
    for p in params:
        p.grad = torch.zeros_like(p) if grads == "zeros" else None
    external = params + list(model.buffers()) + list(inputs) + list(targets)
    if grads == "zeros":
        external += [p.grad for p in params]
    meter = LiveTensorMeter(external=external)
    with meter:
        with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            loss = loss_fn(model(*inputs), *targets)
        loss.backward()
        value = float(loss)
        del loss
    return value, meter.peak


__all__ = ["LiveTensorMeter", "ScheduleRunner", "ScheduleError", "keep_everything_schedule",
           "eager_step_peak", "schedule_from_order", "measure_transients",
           "with_workspaces"]
