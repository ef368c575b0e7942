#!/usr/bin/env python3
"""Measures a replay space exhaustively and writes its T1 file and Kernel Tuner cache.

    python3 bench/replay/measure.py matmul [--jobs 2] [--core 1] [--work DIR]
    python3 bench/replay/measure.py --t1 all        # only (re)write the T1 files
    python3 bench/replay/measure.py all --recheck 50   # measure 50 cached configs again

Every feasible configuration is compiled (in parallel, --jobs at a time) and then run, one at a
time, pinned to one core with taskset and in the real-time FIFO class (chrt -f 1), so that other
processes on the machine cannot preempt a timed call (the kernel's real-time throttling still
leaves them 5% of that core). The program times REPS calls of its kernel after a
warm-up call and a check of the result, and prints the times in milliseconds; the cache keeps
every sample and their median. A configuration that fails to compile is "CompileFailedConfig";
one that exits non-zero (wrong result, crash) or runs past --timeout seconds is
"RuntimeFailedConfig". Configurations are measured in a fixed shuffled order, so that slow
drifts of the machine's load do not line up with the parameters. Results go to
WORK/<kernel>/results.jsonl as they come, and a rerun continues from there.
"""

import argparse
import concurrent.futures
import datetime
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import spaces  # noqa: E402


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def write_t1(space):
    path = os.path.join(HERE, space["name"], space["name"] + ".t1.json")
    with open(path, "w") as f:
        json.dump(spaces.t1_document(space), f, indent=2)
        f.write("\n")
    return path


def compile_one(space, config, out_dir, timeout):
    compiler, flags = space["compile"](config)
    src = os.path.join(HERE, space["name"], "kernel.c")
    binary = os.path.join(out_dir, "k_" + spaces.key(space, config).replace(",", "_"))
    cmd = [compiler] + flags + ["-o", binary, src] + spaces.LIBS
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        ok, err = p.returncode == 0, p.stderr
    except subprocess.TimeoutExpired:
        ok, err = False, "compile timeout"
    ms = (time.monotonic() - t0) * 1e3
    lines = err.strip().splitlines() if err else []
    errors = [l for l in lines if "error" in l]
    return ok, binary, ms, (errors or lines)[:1]


def run_one(binary, core, timeout, fifo=True):
    cmd = [binary]
    if core is not None:
        cmd = ["taskset", "-c", str(core)] + cmd
    if fifo:
        cmd = ["chrt", "-f", "1"] + cmd
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, None, (time.monotonic() - t0) * 1e3, "timeout"
    wall = (time.monotonic() - t0) * 1e3
    if p.returncode != 0:
        tail = p.stderr.strip().splitlines()[-1:] if p.stderr.strip() else []
        return None, None, wall, "exit %d %s" % (p.returncode, " ".join(tail))
    times = median = None
    for line in p.stdout.splitlines():
        if line.startswith("times_ms:"):
            times = [float(x) for x in line.split()[1:]]
        elif line.startswith("time_ms:"):
            median = float(line.split()[1])
    if times is None or median is None:
        return None, None, wall, "unparseable output"
    return median, times, wall, None


def measure(space, args):
    work = os.path.join(args.work, space["name"])
    bins = os.path.join(work, "bin")
    os.makedirs(bins, exist_ok=True)
    progress = os.path.join(work, "results.jsonl")
    done = {}
    if os.path.exists(progress):
        with open(progress) as f:
            for line in f:
                if line.strip():
                    r = json.loads(line)
                    done[r["key"]] = r
    configs = spaces.feasible(space)
    order = list(range(len(configs)))
    random.Random(12345).shuffle(order)
    todo = [configs[i] for i in order if spaces.key(space, configs[i]) not in done]
    print("%s: %d feasible configurations, %d to measure" % (space["name"], len(configs), len(todo)),
          flush=True)
    started = time.monotonic()
    with open(progress, "a") as log, concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        ahead = 4 * args.jobs
        futures = {}

        def submit(i):
            if i < len(todo) and i not in futures:
                futures[i] = pool.submit(compile_one, space, todo[i], bins, args.compile_timeout)

        for i in range(ahead):
            submit(i)
        for i, config in enumerate(todo):
            submit(i + ahead)
            ok, binary, compile_ms, cerr = futures.pop(i).result()
            r = {"key": spaces.key(space, config), "config": config, "compile_ms": compile_ms}
            if not ok:
                r.update(status="CompileFailedConfig", reason=" ".join(cerr))
            else:
                median, times, wall, why = run_one(binary, args.core, args.timeout, args.sched == "fifo")
                r["run_ms"] = wall
                if why is not None:
                    r.update(status="RuntimeFailedConfig", reason=why)
                else:
                    r.update(status="ok", time=median, times=times)
                os.remove(binary)
            r["timestamp"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
            log.write(json.dumps(r) + "\n")
            log.flush()
            done[r["key"]] = r
            if (i + 1) % 100 == 0 or i + 1 == len(todo):
                el = time.monotonic() - started
                print("  %d/%d  %.0f s elapsed, %.0f s left" %
                      (i + 1, len(todo), el, el / (i + 1) * (len(todo) - i - 1)), flush=True)
    shutil.rmtree(bins, ignore_errors=True)
    write_cache(space, configs, done)


def write_cache(space, configs, done):
    cache = {}
    for config in configs:
        k = spaces.key(space, config)
        r = done[k]
        entry = dict(config)
        if r["status"] == "ok":
            entry["time"] = r["time"]
            entry["times"] = r["times"]
        else:
            entry["time"] = r["status"]
        entry["compile_time"] = round(r["compile_ms"], 3)
        if "run_ms" in r:
            entry["benchmark_time"] = round(r["run_ms"], 3)
        entry["timestamp"] = r["timestamp"]
        cache[k] = entry
    doc = {
        "schema_version": "1.0.0",
        "device_name": cpu_model(),
        "kernel_name": space["name"],
        "problem_size": space["problem_size"],
        "tune_params_keys": [n for n, _ in space["params"]],
        "tune_params": {n: list(v) for n, v in space["params"]},
        "objective": "time",
        "cache": cache,
    }
    path = os.path.join(HERE, space["name"], "cache.json.gz")
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
            f.write(json.dumps(doc, separators=(",", ":")).encode())
    print("wrote %s (%d entries, %d bytes)" % (path, len(cache), os.path.getsize(path)), flush=True)


def recheck(space, args):
    """Measures a random sample of the cached configurations again and reports how far the new
    medians are from the cached ones (noise of the machine); changes nothing."""
    path = os.path.join(HERE, space["name"], "cache.json.gz")
    with gzip.open(path, "rt") as f:
        cache = json.load(f)["cache"]
    ok = sorted(k for k, e in cache.items() if not isinstance(e["time"], str))
    sample = random.Random(777).sample(ok, min(args.recheck, len(ok)))
    bins = os.path.join(args.work, space["name"], "recheck")
    os.makedirs(bins, exist_ok=True)
    ratios = []
    for k in sample:
        config = {n: cache[k][n] for n, _ in space["params"]}
        built, binary, _, _ = compile_one(space, config, bins, args.compile_timeout)
        if not built:
            continue
        median, _, _, why = run_one(binary, args.core, args.timeout, args.sched == "fifo")
        os.remove(binary)
        if why is None:
            ratios.append(median / cache[k]["time"])
    shutil.rmtree(bins, ignore_errors=True)
    ratios.sort()
    dev = sorted(abs(r - 1) for r in ratios)
    print("%s: recheck of %d configurations: new/cached median %.3f, 10%%-90%% %.3f-%.3f, "
          "median |deviation| %.1f%%" % (space["name"], len(ratios), ratios[len(ratios) // 2],
                                       ratios[len(ratios) // 10], ratios[len(ratios) * 9 // 10],
                                       100 * dev[len(dev) // 2]), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kernels", nargs="+", help="space names, or 'all'")
    ap.add_argument("--t1", action="store_true", help="only write the T1 files")
    ap.add_argument("--recheck", type=int, default=0, metavar="N",
                    help="only measure N cached configurations again and report the noise")
    ap.add_argument("--jobs", type=int, default=2, help="parallel compilations")
    ap.add_argument("--core", type=int, default=1, help="core to pin runs to (-1: no pinning)")
    ap.add_argument("--sched", choices=["fifo", "normal"], default="fifo",
                    help="scheduling class of the timed runs: fifo (chrt -f 1, needs root or "
                    "CAP_SYS_NICE) keeps other processes on that core from preempting them")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds per run")
    ap.add_argument("--compile-timeout", type=float, default=120.0)
    ap.add_argument("--work", default=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                   "replay-measure"))
    args = ap.parse_args()
    if args.core < 0:
        args.core = None
    names = [s["name"] for s in spaces.SPACES] if args.kernels == ["all"] else args.kernels
    for name in names:
        space = spaces.BY_NAME[name]
        if args.recheck:
            recheck(space, args)
            continue
        print("wrote", write_t1(space))
        if not args.t1:
            measure(space, args)


if __name__ == "__main__":
    main()
