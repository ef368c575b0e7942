#!/usr/bin/env bash
# Time of one suggestion: sysopt's Bayesian samplers (bench_ask, Google Benchmark) against
# Optuna's TPE (bench/ask/optuna_ask.py) on the same histories of 100, 500, 1000 and 5000 trials
# of an 8-parameter mixed space. Writes a table into docs/benchmarks.md between
# <!-- ask-bench:begin --> and <!-- ask-bench:end --> (appended when absent; the rest of the file
# is left alone). bench/ask/commentary.md, the analysis of the recorded run, is copied in.
#
# Environment: BUILD_DIR [build-peers], JOBS [2] compile jobs, REPS [5] repetitions per sysopt
# case, OPTUNA_REPS [15] per Optuna case, PYTHON [/usr/bin/python3], TABULATE_ONLY=1 to rebuild
# the section from the last run's files ($BUILD_DIR/ask_bench/).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-peers}
python=${PYTHON:-/usr/bin/python3}
reps=${REPS:-5}
parts="core;space;storage;study;model;runner;sampler;tuner;problems"
out=$build/ask_bench
mkdir -p "$out"

if [[ -z ${TABULATE_ONLY:-} ]]; then
  cmake -S "$root" -B "$build" -DSYSOPT_PARTS="$parts" -DSYSOPT_BUILD_BENCH=ON \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"${JOBS:-2}" --target bench_ask
  "$build/bench/ask/bench_ask" --dump_dir="$out/histories" --ask_repetitions="$reps" \
    --benchmark_out="$out/sysopt_ask.json" --benchmark_out_format=json \
    2>&1 | tee "$out/sysopt_ask.log"
  "$python" "$root/bench/ask/optuna_ask.py" --dir "$out/histories" --out "$out/optuna_ask.json" \
    --reps "${OPTUNA_REPS:-15}" 2>&1 | tee "$out/optuna_ask.log"
fi

table=$out/table.md
"$python" - "$out/sysopt_ask.json" "$out/optuna_ask.json" >"$table" <<'EOF'
import json, sys
sysopt = json.load(open(sys.argv[1]))
optuna = json.load(open(sys.argv[2]))
ms = {}
for b in sysopt["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    parts = b["run_name"].split("/")
    sampler, mode, n = parts[0], parts[1], int(parts[2])
    ms[(f"{sampler} {mode}", n)] = b["real_time"]  # unit: ms
for r in optuna["results"]:
    ms[(r["sampler"], r["trials"])] = r["median_ms"]
sizes = sorted({n for _, n in ms})
cols = ["auto steady", "gp steady", "forest steady", "auto cold", "gp cold", "forest cold",
        "optuna-tpe", "optuna-tpe-mv"]
def f(x):
    return "n/a" if x is None else (f"{x:.3g}" if x < 100 else f"{x:.0f}")
print("Milliseconds per suggestion, median over repetitions:\n")
print("| trials | " + " | ".join(f"sysopt `{c.split()[0]}` {c.split()[1]}" if " " in c else f"`{c}`"
                               for c in cols) + " |")
print("|---|" + "---|" * len(cols))
for n in sizes:
    print(f"| {n} | " + " | ".join(f(ms.get((c, n))) for c in cols) + " |")
print("\nRatio Optuna TPE time / sysopt time (above 1: sysopt is cheaper per suggestion):\n")
print("| trials | TPE / `auto` steady | TPE / `gp` steady | TPE / `forest` steady | "
      "TPE / `auto` cold | multivariate TPE / `auto` steady |")
print("|---|---|---|---|---|---|")
def ratio(a, b):
    x, y = ms.get(a), ms.get(b)
    return "n/a" if x is None or y is None or y == 0 else f"{x / y:.2g}"
for n in sizes:
    t = ("optuna-tpe", n)
    print(f"| {n} | {ratio(t, ('auto steady', n))} | {ratio(t, ('gp steady', n))} | "
          f"{ratio(t, ('forest steady', n))} | {ratio(t, ('auto cold', n))} | "
          f"{ratio(('optuna-tpe-mv', n), ('auto steady', n))} |")
print()
n = 1000
checks = []
if ("optuna-tpe", n) in ms and ("auto steady", n) in ms:
    r = ms[("optuna-tpe", n)] / ms[("auto steady", n)]
    checks.append(f"- Target \"at least 10x less time per suggestion than Optuna TPE at 1,000 "
                  f"trials\" (`auto`, steady state): measured {r:.2g}x — "
                  f"{'met' if r >= 10 else 'missed'}.")
if ("gp steady", n) in ms:
    g = ms[("gp steady", n)]
    checks.append(f"- Target \"under 50 ms at 1,000 trials on the GP path\" (`gp`, steady state): "
                  f"measured {g:.3g} ms — {'met' if g < 50 else 'missed'}"
                  f"{'' if g < 50 else f' by {g / 50:.2g}x'}.")
if ("gp cold", n) in ms:
    checks.append(f"- For reference, `gp` cold (full fit with hyperparameter search) at 1,000 "
                  f"trials: {ms[('gp cold', n)]:.3g} ms.")
print("\n".join(checks))
EOF

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
optuna_version=$("$python" -c 'import optuna; print(optuna.__version__)' 2>/dev/null || echo "?")
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
section=$out/section.md
{
  echo "<!-- ask-bench:begin -->"
  echo "## Cost of one suggestion: sysopt against Optuna TPE"
  echo
  echo "Command: \`bench/run_ask_bench.sh\` (REPS=$reps). It runs \`bench_ask\` (Google Benchmark;"
  echo "source \`bench/ask/bench_ask.cc\`) and \`bench/ask/optuna_ask.py\` (Optuna $optuna_version) on the"
  echo "same histories, which \`bench_ask\` draws with a fixed seed and dumps as JSON."
  echo
  echo "Machine: $(nproc) CPU(s), ${cpu:-unknown CPU}; measured $(date -u -r "$out/sysopt_ask.json" '+%Y-%m-%d %H:%M UTC'); source at"
  echo "commit $commit plus the working tree. Other work shared the machine: read ratios, not"
  echo "absolute times."
  echo
  echo "Space: 8 parameters (3 reals, one log-scaled; 2 integers, one log-scaled; an ordinal of 6"
  echo "levels; a categorical of 5 choices; a permutation of 4), a synthetic objective, about 3% of"
  echo "the trials FAILED. *steady*: the sampler has already answered on the first n-1 trials and"
  echo "the timed \`Ask(context, 1)\` sees n (the per-trial cost of a running study); *cold*: a fresh"
  echo "sampler's first \`Ask\` on n trials (full fit). Optuna: the n trials are added with"
  echo "\`add_trials\` (same values and distributions; the permutation as 4 random keys), and the"
  echo "time is \`study.ask()\` plus the space's \`suggest_*\` calls (11: 7 parameters and 4 keys)."
  echo
  cat "$table"
  if [[ -f $root/bench/ask/commentary.md ]]; then
    echo
    cat "$root/bench/ask/commentary.md"
  fi
  echo "<!-- ask-bench:end -->"
} >"$section"

doc=$root/docs/benchmarks.md
mkdir -p "$(dirname "$doc")"
[[ -f $doc ]] || printf '# Benchmarks\n\n' >"$doc"
tmp=$(mktemp "$doc.XXXXXX")
if grep -q '<!-- ask-bench:begin -->' "$doc"; then
  awk -v f="$section" '
    BEGIN { while ((getline line < f) > 0) text = text line "\n" }
    /<!-- ask-bench:begin -->/ { printf "%s", text; skip = 1; next }
    /<!-- ask-bench:end -->/ { skip = 0; next }
    !skip { print }' "$doc" >"$tmp"
else
  { cat "$doc"; [[ -s $doc ]] && echo; cat "$section"; } >"$tmp"
fi
chmod 644 "$tmp"
mv "$tmp" "$doc"
echo "wrote the ask section of $doc (files in $out)" >&2
