"""The replay tuning spaces: parameters, conditions and how to build one configuration.

Each space is a dict with
  name, description, problem_size, kernel (source file in bench/replay/<name>/),
  params:     [(name, [values...]), ...] in the order of the cache keys,
  conditions: Python boolean expressions over the parameters (also the T1 "Conditions"),
  compile:    function(config) -> (compiler, [flags...]) building kernel.c for that configuration.
Python evaluates the conditions here; sysopt reads the same strings from the T1 files.
"""

import itertools
import re

COMMON = ["-O2", "-march=native", "-std=gnu11"]
LIBS = ["-lm", "-lpthread"]


def _defines(config, names):
    return ["-D%s=%s" % (n, config[n]) for n in names]


def _matmul(c):
    return "gcc", COMMON + _defines(c, ["MB", "NB", "KB", "UNROLL", "VEC", "PACK"]) + [
        "-DORDER_" + c["ORDER"]]


def _stencil(c):
    return c["CC"], COMMON + ["-fstack-clash-protection"] + _defines(c, ["BX", "BY", "TT", "UNROLL"])


def _conv2d(c):
    return "gcc", COMMON + _defines(c, ["TX", "TY", "RX", "RY", "UF", "COPY"])


def _dot(c):
    return "gcc", COMMON + _defines(c, ["VEC", "NACC", "UNROLL", "CHUNK", "PF"]) + [
        "-DACC=%d" % (c["ACC"] == "double")]


SMALL_SORTS = {"insertion": 0, "binary": 1, "shell": 2}


def _sort(c):
    return "gcc", COMMON + ["-fstack-clash-protection"] + _defines(
        c, ["BITS", "CUTOFF", "NHIST", "PINGPONG"]) + ["-DSMALL=%d" % SMALL_SORTS[c["SMALL"]]]


def _transpose(c):
    return "gcc", COMMON + _defines(c, ["TBX", "TBY", "IB", "UNROLL", "BUF"]) + [
        "-DORDER=%d" % (c["ORDER"] == "b_rows")]


SPACES = [
    dict(
        name="matmul",
        description="Tiled single-precision matrix multiply C = A * B, 256 x 256, with tile "
        "sizes, point-loop order, innermost unrolling, vector width along j and packing of B "
        "tiles into a 32 KiB stack panel (too large a panel fails to compile).",
        problem_size=[256, 256, 256],
        params=[
            ("MB", [16, 32, 64, 128]),
            ("NB", [32, 64, 128, 256]),
            ("KB", [16, 32, 64, 128, 256]),
            ("ORDER", ["ijk", "ikj", "jki", "kij"]),
            ("UNROLL", [1, 4]),
            ("VEC", [1, 4, 8]),
            ("PACK", [0, 1]),
        ],
        conditions=["VEC == 1 or ORDER in ['ikj', 'kij']", "UNROLL * VEC <= 16"],
        compile=_matmul,
    ),
    dict(
        name="stencil",
        description="2-D Jacobi 5-point stencil, 8 sweeps over a 512 x 512 interior of "
        "doubles, with tile sizes, overlapped time tiling (TT sweeps per tile in two stack "
        "buffers on a 256 KiB thread stack: too large a tile overflows it and crashes), x-loop "
        "unrolling and the compiler (gcc 12 or clang 14).",
        problem_size=[512, 512, 8],
        params=[
            ("BX", [16, 32, 64, 128, 256, 512]),
            ("BY", [2, 4, 8, 16, 32, 64, 128]),
            ("TT", [1, 2, 4, 8]),
            ("UNROLL", [1, 2, 4, 8]),
            ("CC", ["gcc", "clang"]),
        ],
        conditions=["BX * BY >= 128", "TT <= BY"],
        compile=_stencil,
    ),
    dict(
        name="conv2d",
        description="2-D convolution of a 512 x 512 single-precision image with a 7 x 7 "
        "filter, with output tile sizes, a register block of RX x RY outputs, unrolling of the "
        "filter loops and copying of the input tile into a 32 KiB stack buffer (too large a "
        "tile fails to compile).",
        problem_size=[512, 512, 7, 7],
        params=[
            ("TX", [16, 32, 64, 128, 256, 512]),
            ("TY", [1, 4, 16, 64]),
            ("RX", [1, 2, 4, 8]),
            ("RY", [1, 2, 4]),
            ("UF", [0, 1, 2]),
            ("COPY", [0, 1]),
        ],
        conditions=["TY % RY == 0", "RX * RY <= 16", "UF < 2 or RX * RY <= 4"],
        compile=_conv2d,
    ),
    dict(
        name="dot",
        description="Single-precision dot product of two 32768-element vectors (L2-resident), "
        "512 times per call, with vector width, number of accumulators, unrolling, chunk "
        "length, accumulator precision and software prefetch distance. Results must match a "
        "double-precision reference to 2e-7 relative: some float-accumulating configurations "
        "do not (a wrong result is a failure).",
        problem_size=[32768, 512],
        params=[
            ("VEC", [1, 4, 8, 16]),
            ("NACC", [1, 2, 3, 4, 6, 8, 12, 16]),
            ("UNROLL", [1, 2, 4]),
            ("CHUNK", [256, 1024, 4096, 32768]),
            ("ACC", ["float", "double"]),
            ("PF", [0, 128]),
        ],
        conditions=["VEC * NACC <= 64"],
        compile=_dot,
    ),
    dict(
        name="sort",
        description="Most-significant-digit radix sort of 131072 random 32-bit keys, with digit "
        "size, small-sort cutoff and algorithm, interleaved histograms and buffer strategy. "
        "The histograms of each recursion level live on a 192 KiB thread stack: large digits "
        "with many histograms overflow it and crash.",
        problem_size=[131072],
        params=[
            ("BITS", [4, 5, 6, 7, 8, 9, 10, 11, 12]),
            ("CUTOFF", [4, 8, 16, 32, 64, 128, 256, 512]),
            ("SMALL", ["insertion", "binary", "shell"]),
            ("NHIST", [1, 2, 4]),
            ("PINGPONG", [0, 1]),
        ],
        conditions=["SMALL != 'shell' or CUTOFF >= 16", "NHIST == 1 or BITS >= 6"],
        compile=_sort,
    ),
    dict(
        name="transpose",
        description="Out-of-place transpose of a 1024 x 1024 single-precision matrix (a power "
        "of two: strided accesses hit few cache sets), with outer tile sizes, an inner block, "
        "which side is walked contiguously, unrolling and a 32 KiB stack tile buffer (too "
        "large a buffer fails to compile).",
        problem_size=[1024, 1024],
        params=[
            ("TBX", [8, 16, 32, 64, 128, 256]),
            ("TBY", [8, 16, 32, 64, 128, 256]),
            ("IB", [1, 4, 8, 16]),
            ("ORDER", ["a_rows", "b_rows"]),
            ("UNROLL", [1, 4, 8]),
            ("BUF", [0, 1]),
        ],
        conditions=["IB <= TBX // 2 and IB <= TBY // 2"],
        compile=_transpose,
    ),
]

BY_NAME = {s["name"]: s for s in SPACES}


def feasible(space):
    """All configurations (dicts, in enumeration order) that satisfy the conditions."""
    names = [n for n, _ in space["params"]]
    codes = [compile(c, "<condition>", "eval") for c in space["conditions"]]
    out = []
    for values in itertools.product(*[v for _, v in space["params"]]):
        config = dict(zip(names, values))
        if all(eval(code, {"__builtins__": {}}, config) for code in codes):
            out.append(config)
    return out


def key(space, config):
    """The cache key: the values in parameter order, as str() prints them, joined by commas."""
    return ",".join(str(config[n]) for n, _ in space["params"])


def t1_document(space):
    """The space as an Autotuning Association T1 document."""
    names = [n for n, _ in space["params"]]
    params = []
    for n, values in space["params"]:
        kind = "string" if isinstance(values[0], str) else "int"
        params.append({"Name": n, "Type": kind, "Values": repr(list(values))})
    conditions = []
    for c in space["conditions"]:
        used = [n for n in names if re.search(r"\b%s\b" % re.escape(n), c)]
        conditions.append({"Expression": c, "Parameters": used})
    compiler, flags = space["compile"](feasible(space)[0])
    return {
        "General": {"BenchmarkName": space["name"], "OutputFormat": "JSON"},
        "ConfigurationSpace": {"TuningParameters": params, "Conditions": conditions},
        "KernelSpecification": {
            "Language": "C",
            "KernelName": space["name"],
            "KernelFile": "kernel.c",
            "Compiler": "gcc" if "CC" not in names else "the value of CC (gcc or clang)",
            "CompilerOptions": [f for f in flags if not f.startswith("-D")] + LIBS,
            "ProblemSize": space["problem_size"],
            "Description": space["description"],
        },
    }
