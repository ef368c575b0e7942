#!/usr/bin/env python3
"""Per-loop vectorisation factors: sysopt against -O3, -O3 without vectorisation, random search
and brute force, on the loop kernels in kernels/, all in one run.

Per kernel: `sysopt llvm vectorize` with its default search and with random search at the same
budget (30 evaluations), and brute force (`--sampler exhaustive`) where the space is small (one
tuned loop: 48 configurations). Then every build (plain -O3, -O3 -fno-vectorize
-fno-slp-vectorize, and the annotated sources the three searches wrote) is timed again side by
side, in interleaved rounds, and the medians give the table.

  python3 bench/vectorize/run_vectorize_bench.py --sysopt build/sysopt [--rounds 9] [--out FILE]
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KERNELS = ["matmul", "stencil", "dot_i16", "complex_mul", "gather", "short_trip", "brighten_u8",
           "conv1d"]
# Not run at all while sysopt llvm vectorize was written and checked: the first figures seen for
# them are these.
HELD_OUT = {"complex_mul", "brighten_u8", "conv1d"}
KINDS = {
    "matmul": "dense linear algebra (i-k-j, float)",
    "stencil": "5-point stencil sweep and copy (double)",
    "dot_i16": "reduction, int16 -> int32",
    "complex_mul": "stride-2 complex multiply (float)",
    "gather": "indirect access y[i] = w[i] * x[idx[i]]",
    "short_trip": "short trip counts (11-12)",
    "brighten_u8": "mixed types u8 -> float -> u8",
    "conv1d": "9-tap convolution, int16 * int32",
}


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def build(sources, exe, flags=()):
    r = run(["clang-14", "-O3", *flags, *sources, "-o", exe, "-lm"])
    if r.returncode != 0:
        sys.exit(f"build of {sources} failed:\n{r.stderr}")


def timed(exe):
    """CPU time (user + system) of one run, as sysopt measures by default: on a shared, loaded
    machine it moves far less than wall time."""
    p = subprocess.Popen([exe], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, out, p.returncode


def search(sysopt, kernel, sampler, budget, out, repeat, seed):
    cmd = [sysopt, "llvm", "vectorize", kernel, "--run", "", "--repeat", str(repeat),
           "--storage", "memory", "--json", "-q", "--seed", str(seed), "--out", out,
           "--sampler", sampler]
    if budget:
        cmd += ["--budget", str(budget)]
    t0 = time.perf_counter()
    r = run(cmd)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}")
    j = json.loads(r.stdout)
    j["wall"] = time.perf_counter() - t0
    return j


def factors(j):
    def f(v):
        return "auto" if v is None else str(v)
    return " ".join(f"{l['line']}:{f(l['vf'])}/{f(l['if'])}" for l in j["loops"]) or "-"


def bench_kernel(name, args, sysopt, tmp):
    src = os.path.join(HERE, "kernels", name + ".c")
    print(f"== {name} started", file=sys.stderr, flush=True)
    res = {}
    for label, sampler in [("sysopt", "auto"), ("random", "random")]:
        out = os.path.join(tmp, f"{name}-{label}.c")
        res[label] = search(sysopt, src, sampler, args.budget, out, args.repeat, args.seed)
        res[label]["src"] = out
        print(f"   {name} {label}: {res[label]['evaluations']} evaluations, "
              f"{res[label]['speedup_vs_o3']:.3f}x reported, {res[label]['wall']:.0f} s",
              file=sys.stderr, flush=True)
    if res["sysopt"]["space_size"] <= 64:
        out = os.path.join(tmp, f"{name}-brute.c")
        res["brute"] = search(sysopt, src, "exhaustive", 0, out, args.repeat, args.seed)
        res["brute"]["src"] = out
        print(f"   {name} brute: {res['brute']['evaluations']} evaluations, "
              f"{res['brute']['speedup_vs_o3']:.3f}x reported, {res['brute']['wall']:.0f} s",
              file=sys.stderr, flush=True)
    exes = {"o3": os.path.join(tmp, name + "-o3"), "novec": os.path.join(tmp, name + "-novec")}
    build([src], exes["o3"])
    build([src], exes["novec"], ["-fno-vectorize", "-fno-slp-vectorize"])
    for label in res:
        exes[label] = os.path.join(tmp, f"{name}-{label}")
        build([res[label]["src"]], exes[label])
    times = {k: [] for k in exes}
    ref = None
    for _ in range(args.rounds):
        for k, exe in exes.items():
            t, out, rc = timed(exe)
            if ref is None:
                ref = (out, rc)
            if (out, rc) != ref and k != "novec":
                sys.exit(f"{name}: {k} build prints something else than -O3")
            times[k].append(t)
    med = {k: statistics.median(v) for k, v in times.items()}
    row = {"kernel": name, "kind": KINDS[name], "held_out": name in HELD_OUT,
           "tuned_loops": len(res["sysopt"]["loops"]),
           "not_tuned": len(res["sysopt"]["not_tuned"]),
           "space": res["sysopt"]["space_size"], "median_s": med,
           "speedup": {k: med["o3"] / v for k, v in med.items()},
           "reported": {k: res[k]["speedup_vs_o3"] for k in res},
           "factors": {k: factors(res[k]) for k in res},
           "evaluations": {k: res[k]["evaluations"] for k in res},
           "miscompiles": {k: res[k]["miscompiles"] for k in res},
           "search_s": {k: res[k]["wall"] for k in res}}
    print(f"   {name} medians: " + ", ".join(f"{k} {v:.4f} s" for k, v in med.items()),
          file=sys.stderr, flush=True)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sysopt", default="build/sysopt")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--budget", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kernels", default=",".join(KERNELS))
    ap.add_argument("--out", default="")
    ap.add_argument("--jobs", type=int, default=4)
    args = ap.parse_args()
    sysopt = os.path.abspath(args.sysopt)
    tmp = tempfile.mkdtemp(prefix="vecbench")
    names = args.kernels.split(",")
    # Kernels run side by side (--jobs): each measurement is CPU time, which other processes
    # disturb little, and a loaded machine then gives the bench a larger share.
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(lambda n: bench_kernel(n, args, sysopt, tmp), names))
    print(table(rows, args))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)


def table(rows, args):
    lines = ["| kernel | kind | loops tuned (not) | -O3 s | no-vec | random | sysopt | brute "
             "force | sysopt / brute | sysopt's factors (line:VF/IF) | brute force's |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        s = r["speedup"]
        brute = s.get("brute")
        frac = f"{s['sysopt'] / brute:.3f}" if brute else "-"
        lines.append(
            f"| {r['kernel']}{' (held out)' if r['held_out'] else ''} | {r['kind']} | "
            f"{r['tuned_loops']} ({r['not_tuned']}) | {r['median_s']['o3']:.4f} | "
            f"{s['novec']:.3f}x | {s['random']:.3f}x | {s['sysopt']:.3f}x | "
            f"{f'{brute:.3f}x' if brute else '-'} | {frac} | {r['factors']['sysopt']} | "
            f"{r['factors'].get('brute', '-')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
