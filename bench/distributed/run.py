#!/usr/bin/env python3
"""Load benchmark of distributed studies, in one run on one machine:

1. Throughput: trials per second with 1, 4, 8 and 16 worker processes sharing one study of the
   mixed8 space (bench/study_cost) whose objective is an instant C program run for every trial:
   sysopt on PostgreSQL, sysopt on SQLite (N `sysopt tune` processes on one study), and Optuna
   3.1's RDB storage on the same PostgreSQL server (N processes of optuna_peer.py worker, each
   study.optimize() on one shared study until it holds the total). Both sides use the random
   sampler, so that the storage is measured, not a model; sysopt's default sampler is run too
   with 1 and 8 workers. The rate is the trials completed over the span from the first trial's
   start to the last one's end, as each storage recorded them (process start-up is left out on
   both sides: Optuna's workers are released together once their imports are done). CPU is the
   workers' and their objectives' user+sys time plus the PostgreSQL server's.
2. Ask cost: one ask (sysopt: refresh + proposal + reservation, as its tune loop does; Optuna:
   study.ask(), and study.ask() with the 8 distributions) and one tell, median of repeats, at
   1,000 and 20,000 stored trials, on PostgreSQL and SQLite (bench_storage_ask, optuna_peer.py).

The PostgreSQL 15 server is started for the run with initdb and pg_ctl in a temporary folder,
on a free loopback port (as the user nobody when run as root, as the tests do), with
synchronous_commit=off (commits do not wait for the WAL flush), and stopped at the end.

Usage: bench/distributed/run.py [--build build] [--trials 400] [--optuna-trials 120]
         [--auto-trials 150] [--workers 1,4,8,16] [--sizes 1000,20000] [--repeats 100]
         [--optuna-repeats 15]
         [--json out.json] [--markdown out.md]
Needs build/sysopt and build/bench/distributed/bench_storage_ask
(cmake --build build --target sysopt bench_storage_ask), and /usr/bin/python3 with optuna,
sqlalchemy and psycopg2 (Debian's python3-optuna, python3-psycopg2).
"""
import argparse
import json
import os
import platform
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PG_BIN = "/usr/lib/postgresql/15/bin"
NOBODY = 65534
PG_USER, PG_PASSWORD = "bench", "bench"
PYTHON = "/usr/bin/python3"


def log(*what):
    print(*what, file=sys.stderr, flush=True)


class Server:
    """A PostgreSQL server in a temporary folder, on a free loopback port."""

    def __init__(self, root):
        self.dir = tempfile.mkdtemp(prefix="pg-", dir=root)
        self.data = os.path.join(self.dir, "data")
        self.as_root = os.getuid() == 0
        if self.as_root:
            os.chown(self.dir, NOBODY, NOBODY)
        pw = os.path.join(self.dir, "pw")
        with open(pw, "w") as f:
            f.write(PG_PASSWORD + "\n")
        if self.as_root:
            os.chown(pw, NOBODY, NOBODY)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._tool([f"{PG_BIN}/initdb", "-D", self.data, "-U", PG_USER, f"--pwfile={pw}",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                    "--locale=C", "--no-sync"])
        self._tool([f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "log"),
                    "-w", "-t", "60", "-o",
                    f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                    "-c synchronous_commit=off -c max_connections=200", "start"])
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def _tool(self, argv):
        def drop():
            if self.as_root:
                os.setgroups([NOBODY])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
        subprocess.run(argv, cwd=self.dir, preexec_fn=drop, check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        self._tool([f"{PG_BIN}/pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop"])

    def url(self, db, driver=""):
        scheme = "postgresql+" + driver if driver else "postgresql"
        return f"{scheme}://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.port}/{db}"

    def connect(self, db):
        return psycopg2.connect(host="127.0.0.1", port=self.port, user=PG_USER,
                                password=PG_PASSWORD, dbname=db)

    def create_db(self, db):
        conn = self.connect("postgres")
        conn.autocommit = True
        conn.cursor().execute(f"CREATE DATABASE {db}")
        conn.close()

    def cpu_s(self):
        """User+sys seconds of the server: the postmaster, its live processes, and the finished
        ones it has reaped (each client's backend ends with its connection)."""
        tick = os.sysconf("SC_CLK_TCK")

        def stat(pid):
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return fields  # fields[0] is the state (field 3)

        total = sum(int(x) for x in stat(self.pid)[11:15])  # utime stime cutime cstime
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == self.pid:
                continue
            try:
                f = stat(entry)
            except OSError:
                continue
            if int(f[1]) == self.pid:  # ppid
                total += int(f[11]) + int(f[12])
        return total / tick


def children_cpu_s():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def sysopt_span(storage, study):
    """(complete trials, first start, last end) of a sysopt study, from its own records."""
    if storage.startswith("postgresql"):
        conn = psycopg2.connect(storage)
        prefix = "sysopt_"
        mark = "%s"
    else:
        conn = sqlite3.connect(storage)
        prefix = ""
        mark = "?"
    cur = conn.cursor()
    cur.execute(f"SELECT COUNT(*), COUNT(DISTINCT t.config), MIN(t.start_time), MAX(t.end_time) "
                f"FROM {prefix}trials t JOIN {prefix}studies s ON s.id = t.study_id "
                f"WHERE s.name = {mark} AND t.state = 'COMPLETE'", (study,))
    n, distinct, first, last = cur.fetchone()
    conn.close()
    if n != distinct:
        raise RuntimeError(f"sysopt study {study}: {n - distinct} configurations ran twice")
    return n, first, last


def optuna_span(server, db, study):
    conn = server.connect(db)
    cur = conn.cursor()
    cur.execute("SELECT COUNT(*), EXTRACT(EPOCH FROM MIN(t.datetime_start)), "
                "EXTRACT(EPOCH FROM MAX(t.datetime_complete)) FROM trials t "
                "JOIN studies s ON s.study_id = t.study_id "
                "WHERE s.study_name = %s AND t.state = 'COMPLETE'", (study,))
    n, first, last = cur.fetchone()
    conn.close()
    return n, float(first), float(last)


def load_avg():
    return os.getloadavg()


def run_sysopt(a, work, server, storage, study, workers, trials, sampler):
    cmd = [a.sysopt, "tune", os.path.join(work, "spec.json"), "--budget", str(trials),
           "--storage", storage, "--study", study, "--quiet"]
    if sampler == "random":
        cmd += ["--sampler", "random"]
    cpu0, server0 = children_cpu_s(), server.cpu_s()
    t0 = time.monotonic()
    procs = [subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) for _ in range(workers)]
    errors = [p.communicate()[1] for p in procs]
    wall = time.monotonic() - t0
    for p, err in zip(procs, errors):
        if p.returncode != 0:
            raise RuntimeError(f"sysopt tune exited {p.returncode}: {err}")
    time.sleep(0.2)  # the server reaps the backends of the closed connections
    client = children_cpu_s() - cpu0
    server_cpu = server.cpu_s() - server0 if storage.startswith("postgresql") else 0.0
    n, first, last = sysopt_span(storage if storage.startswith("postgresql") else
                                 os.path.join(work, storage), study)
    return n, last - first, wall, client, server_cpu


def run_optuna(a, work, server, db, study, workers, trials):
    import optuna  # here only: the sysopt runs do not pay for the import
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = server.url(db, "psycopg2")
    optuna.create_study(study_name=study, storage=url)
    cmd = [PYTHON, os.path.join(HERE, "optuna_peer.py"), "worker", "--storage", url, "--study",
           study, "--trials", str(trials), "--objective", os.path.join(work, "objective")]
    procs = [subprocess.Popen(cmd + ["--seed", str(1000 + i)], cwd=work, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(workers)]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError("optuna worker: " + p.stderr.read())
    server0 = server.cpu_s()
    t0 = time.monotonic()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate() for p in procs]
    wall = time.monotonic() - t0
    client = 0.0
    for p, (out, err) in zip(procs, outs):
        if p.returncode != 0:
            raise RuntimeError(f"optuna worker exited {p.returncode}: {err}")
        client += json.loads(out.strip().splitlines()[-1])["cpu_s"]
    time.sleep(0.2)
    server_cpu = server.cpu_s() - server0
    n, first, last = optuna_span(server, db, study)
    return n, last - first, wall, client, server_cpu


def throughput(a, work, server):
    rows = []
    for db in ("tp_sysopt", "tp_optuna"):
        server.create_db(db)
    cases = [("sysopt", "postgresql", "random", w) for w in a.workers]
    cases += [("sysopt", "sqlite", "random", w) for w in a.workers]
    cases += [("optuna", "postgresql", "random", w) for w in a.workers]
    cases += [("sysopt", "postgresql", "auto", w) for w in (1, 8)]
    for tool, backend, sampler, workers in cases:
        study = f"{sampler}-{workers}"
        trials = (a.auto_trials if sampler == "auto" else
                  a.optuna_trials if tool == "optuna" else a.trials)
        load = load_avg()[0]
        if tool == "optuna":
            n, span, wall, client, server_cpu = run_optuna(a, work, server, "tp_optuna", study,
                                                           workers, trials)
        else:
            storage = server.url("tp_sysopt") if backend == "postgresql" else "tp.db"
            n, span, wall, client, server_cpu = run_sysopt(a, work, server, storage, study,
                                                           workers, trials, sampler)
        row = {"tool": tool, "storage": backend, "sampler": sampler, "workers": workers,
               "trials": n, "span_s": span, "wall_s": wall, "trials_per_s": n / span,
               "client_cpu_ms_per_trial": client / n * 1000,
               "server_cpu_ms_per_trial": server_cpu / n * 1000, "load1": load}
        log(json.dumps(row))
        rows.append(row)
    return rows


def ask_cost(a, work, server):
    rows = []
    sizes = ",".join(str(s) for s in a.sizes)
    server.create_db("ask_sysopt")
    server.create_db("ask_optuna")
    runs = [("sysopt", "postgresql", [a.bench_ask, "--storage", server.url("ask_sysopt")]),
            ("sysopt", "sqlite", [a.bench_ask, "--storage", os.path.join(work, "ask.db")]),
            ("optuna", "postgresql", [PYTHON, os.path.join(HERE, "optuna_peer.py"), "ask",
                                      "--storage", server.url("ask_optuna", "psycopg2")]),
            ("optuna", "sqlite", [PYTHON, os.path.join(HERE, "optuna_peer.py"), "ask",
                                  "--storage", "sqlite:///" + os.path.join(work, "optuna.db")])]
    for tool, backend, cmd in runs:
        if tool == "sysopt":
            cmd += ["--spec", os.path.join(work, "spec.json"), "--repeats", str(a.repeats)]
        else:
            cmd += ["--repeats", str(a.optuna_repeats)]
        load = load_avg()[0]
        out = subprocess.run(cmd + ["--sizes", sizes], cwd=work, check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            row = {**json.loads(line), "tool": tool, "storage": backend, "load1": load}
            log(json.dumps(row))
            rows.append(row)
    return rows


def markdown(result):
    m = result["machine"]
    loads = [r["load1"] for r in result["throughput"] + result["ask"]]
    out = [f"Machine: {m['cores']} cores ({m['cpu']}), {m['python']}, PostgreSQL "
           f"{m['postgres']}; 1-minute load average {m['load_before'][0]:.1f} before the run, "
           f"{min(loads):.1f} to {max(loads):.1f} at the starts of its parts, "
           f"{m['load_after'][0]:.1f} after; work folder on {m['work_fs']}; "
           f"{result['seconds']:.0f} s in all.", "",
           "Throughput (random sampler on both sides unless *auto*; trials/s over the span of "
           "the stored trials; CPU per trial: worker processes with their objective runs, and "
           "the PostgreSQL server):", "",
           "| workers | sysopt PostgreSQL | sysopt SQLite | Optuna RDB PostgreSQL | "
           "sysopt auto PostgreSQL |", "|---|---|---|---|---|"]
    tp = result["throughput"]

    def cell(tool, storage, sampler, w):
        for r in tp:
            if (r["tool"], r["storage"], r["sampler"], r["workers"]) == (tool, storage, sampler, w):
                cpu = r["client_cpu_ms_per_trial"] + r["server_cpu_ms_per_trial"]
                server = (f", {r['server_cpu_ms_per_trial']:.2g} server"
                          if storage == "postgresql" else "")
                return f"{r['trials_per_s']:.3g}/s ({cpu:.3g} ms CPU{server})"
        return "—"
    for w in sorted({r["workers"] for r in tp}):
        out.append(f"| {w} | {cell('sysopt', 'postgresql', 'random', w)} | "
                   f"{cell('sysopt', 'sqlite', 'random', w)} | "
                   f"{cell('optuna', 'postgresql', 'random', w)} | "
                   f"{cell('sysopt', 'postgresql', 'auto', w)} |")
    out += ["", "Cost of one ask and one tell (median ms of the repeats; sysopt: refresh + "
            "random proposal + reservation; Optuna: `study.ask()`, and `study.ask()` drawing the "
            "8 parameters, RandomSampler):", "",
            "| storage | trials | sysopt ask | (refresh / propose / reserve) | sysopt ask CPU | "
            "sysopt tell | Optuna ask() | Optuna ask(8 params) | Optuna tell | "
            "open: sysopt / Optuna |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    ak = result["ask"]
    for storage in ("postgresql", "sqlite"):
        s_rows = [r for r in ak if r["tool"] == "sysopt" and r["storage"] == storage]
        o_rows = [r for r in ak if r["tool"] == "optuna" and r["storage"] == storage]
        for s, o in zip(s_rows, o_rows):
            out.append(
                f"| {storage} | {s['trials']} / {o['trials']} | {s['ask_ms']:.2f} | "
                f"{s['refresh_ms']:.2f} / {s['propose_ms']:.3f} / {s['reserve_ms']:.2f} | "
                f"{s['ask_cpu_ms']:.2f} | {s['tell_ms']:.2f} | {o['ask_ms']:.1f} | {o['ask_params_ms']:.1f} | "
                f"{o['tell_ms']:.1f} | {s['open_ms']:.0f} / {o['open_ms']:.0f} |")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--auto-trials", type=int, default=150)
    ap.add_argument("--optuna-trials", type=int, default=120)
    ap.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")],
                    default=[1, 4, 8, 16])
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                    default=[1000, 20000])
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--optuna-repeats", type=int, default=15)
    ap.add_argument("--workdir", default=None, help="parent of the temporary folder")
    ap.add_argument("--json", default=None)
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--skip", default="", help="throughput or ask, to leave that part out")
    a = ap.parse_args()
    a.sysopt = os.path.join(a.build, "sysopt")
    a.bench_ask = os.path.join(a.build, "bench", "distributed", "bench_storage_ask")
    for path in (a.sysopt, a.bench_ask):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} is missing: cmake --build {a.build} --target sysopt "
                     "bench_storage_ask")
    t_start = time.monotonic()
    load_before = load_avg()
    work = tempfile.mkdtemp(prefix="sysopt-dist-bench-", dir=a.workdir)
    server = None
    try:
        if os.getuid() == 0:
            os.chmod(work, 0o755)  # the server, as nobody, lives in a folder below
        shutil.copy(os.path.join(ROOT, "bench", "study_cost", "spec.json"), work)
        subprocess.run(["cc", "-O2", "-o", os.path.join(work, "objective"),
                        os.path.join(ROOT, "bench", "study_cost", "objective.c")], check=True)
        server = Server(work)
        result = {"throughput": [], "ask": []}
        if "throughput" not in a.skip:
            result["throughput"] = throughput(a, work, server)
        if "ask" not in a.skip:
            result["ask"] = ask_cost(a, work, server)
        version = subprocess.run([f"{PG_BIN}/postgres", "--version"], stdout=subprocess.PIPE,
                                 text=True).stdout.split()[2]  # "postgres (PostgreSQL) 15.x"
        fs = subprocess.run(["df", "--output=fstype", work], stdout=subprocess.PIPE,
                            text=True).stdout.split()[-1]
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.startswith("model name")), platform.processor())
        result["machine"] = {"cores": os.cpu_count(), "cpu": cpu,
                             "python": "Python " + platform.python_version(),
                             "postgres": version, "work_fs": fs, "load_before": load_before,
                             "load_after": load_avg()}
        result["seconds"] = time.monotonic() - t_start
        result["args"] = {"trials": a.trials, "auto_trials": a.auto_trials,
                          "optuna_trials": a.optuna_trials,
                          "workers": a.workers, "sizes": a.sizes, "repeats": a.repeats,
                          "optuna_repeats": a.optuna_repeats}
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)
    text = markdown(result)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
