#!/usr/bin/env bash
# sysopt's samplers against Optuna's on the same problems, budgets and seeds, in one run.
#
# Builds bench_samplers and bench_problem_server, runs
#   bench_samplers            every sysopt sampler (auto, gp, forest, random, lhs, exhaustive,
#                             evolution) on the problems, seeds 0..SEEDS-1, JSON raw traces;
#   bench/peers/optuna_peers.py  Optuna TPE, multivariate TPE and random, same problems and seeds,
#                             evaluated through bench_problem_server (sysopt's own definitions);
# then tabulates both with bench/peers/compare.py and writes the result into docs/benchmarks.md
# between <!-- peer-bench:begin --> and <!-- peer-bench:end --> (the section is appended when
# absent; the rest of the file is left alone). bench/peers/commentary.md, the analysis of the
# recorded run, is copied into the section.
#
# Environment (defaults in brackets):
#   BUILD_DIR [build-peers]  SEEDS [10]  BUDGETS [20,50,100,200]  THREADS [2] (jobs at once)
#   PROBLEMS [every built-in problem]    SAMPLERS [every sysopt sampler]
#   JOBS [2] (compile jobs)   PYTHON [/usr/bin/python3, with python3-optuna]
#   TABULATE_ONLY=1  reuse the raw files of the last run, only rebuild the tables and the section.
# Raw traces: $BUILD_DIR/peer_bench/{sysopt_raw.json,optuna_raw.json}; logs beside them.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-peers}
seeds=${SEEDS:-10}
budgets=${BUDGETS:-20,50,100,200}
threads=${THREADS:-2}
python=${PYTHON:-/usr/bin/python3}
parts="core;space;storage;study;model;runner;sampler;tuner;problems"
out=$build/peer_bench
mkdir -p "$out"

if [[ -z ${TABULATE_ONLY:-} ]]; then
  cmake -S "$root" -B "$build" -DSYSOPT_PARTS="$parts" -DSYSOPT_BUILD_BENCH=ON \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"${JOBS:-2}" --target bench_samplers bench_problem_server
fi
samplers_bin=$build/bench/tuner/bench_samplers
server_bin=$build/bench/peers/bench_problem_server
problems=${PROBLEMS:-$("$samplers_bin" --list | sed -n 's/^problem \([^:]*\):.*/\1/p' | paste -sd,)}
max_budget=$(tr ',' '\n' <<<"$budgets" | sort -n | tail -1)
sampler_args=()
[[ -n ${SAMPLERS:-} ]] && sampler_args=(--samplers "$SAMPLERS")

if [[ -z ${TABULATE_ONLY:-} ]]; then
  start=$(date +%s)
  "$samplers_bin" "${sampler_args[@]}" --problems "$problems" --seeds "$seeds" \
    --budgets "$budgets" --threads "$threads" --out "$out/sysopt.md" \
    --raw "$out/sysopt_raw.json" 2>"$out/sysopt.log"
  mid=$(date +%s)
  "$python" "$root/bench/peers/optuna_peers.py" --server "$server_bin" --problems "$problems" \
    --seeds "$seeds" --budget "$max_budget" --jobs "$threads" --raw "$out/optuna_raw.json" \
    2>"$out/optuna.log"
  end=$(date +%s)
  echo "sysopt: $((mid - start)) s, optuna: $((end - mid)) s" >"$out/wall.txt"
fi

"$python" "$root/bench/peers/compare.py" --budgets "$budgets" --problems "$problems" \
  "$out/sysopt_raw.json" "$out/optuna_raw.json" >"$out/compare.md"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
optuna_version=$("$python" -c 'import optuna; print(optuna.__version__)' 2>/dev/null || echo "?")
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
section=$out/section.md
{
  echo "<!-- peer-bench:begin -->"
  echo "## Tuner: sysopt against Optuna on the same problems"
  echo
  echo "Command: \`SEEDS=$seeds BUDGETS=$budgets PROBLEMS=$problems bench/run_peer_bench.sh\`."
  echo "It runs \`bench_samplers\` (sysopt's samplers, in process) and"
  echo "\`bench/peers/optuna_peers.py\` (Optuna $optuna_version: \`TPESampler(seed=s)\`,"
  echo "\`TPESampler(multivariate=True, seed=s)\`, \`RandomSampler(seed=s)\`) with the same problems,"
  echo "seeds 0..$((seeds - 1)) and one run of $max_budget trials per (sampler, problem, seed); Optuna"
  echo "evaluates sysopt's own problem definitions through \`bench_problem_server\`. Tables by"
  echo "\`bench/peers/compare.py\`."
  echo
  echo "Machine: $(nproc) CPU(s), ${cpu:-unknown CPU}; measured $(date -u -r "$out/sysopt_raw.json" '+%Y-%m-%d %H:%M UTC'); source at"
  echo "commit $commit plus the working tree.$([[ -f $out/wall.txt ]] && echo " Wall time: $(cat "$out/wall.txt").")"
  echo
  echo "How Optuna sees sysopt's spaces: integers \`suggest_int(low, high, step, log)\`, reals"
  echo "\`suggest_float(low, high, log)\`, ordinals and categoricals \`suggest_categorical\` (so TPE"
  echo "loses the order of ordinals), permutations as random keys (one \`suggest_float\` in [0, 1] per"
  echo "element; the permutation is their argsort). Optuna 3.1 cannot sample only feasible"
  echo "points: a proposal that violates a known constraint of the spec is a FAILED trial that"
  echo "consumes budget, like a hidden failure; sysopt proposes only feasible configurations."
  echo "The two-objective problem is run with \`directions\` and scored by the hypervolume of all"
  echo "points found, with sysopt's reference point, for every sampler."
  echo
  echo "Metric (as in the tuner section): normalised regret = (f_best - f\\*) / (f_rand - f\\*), 0 is"
  echo "the optimum and 1 a typical random configuration; cells are median (mean) over seeds at"
  echo "each budget, read from the same run (anytime). ms/trial is wall time per trial of the whole"
  echo "loop (suggestion, evaluation, bookkeeping; for Optuna including the pipe to the server),"
  echo "measured while other work shared the machine: compare it in ratios only. A sampler missing"
  echo "from a table cannot run on that problem (\`exhaustive\` needs a discrete space)."
  echo
  cat "$out/compare.md"
  if [[ -f $root/bench/peers/commentary.md ]]; then
    echo
    cat "$root/bench/peers/commentary.md"
  fi
  echo "<!-- peer-bench:end -->"
} >"$section"

doc=$root/docs/benchmarks.md
mkdir -p "$(dirname "$doc")"
[[ -f $doc ]] || printf '# Benchmarks\n\n' >"$doc"
tmp=$(mktemp "$doc.XXXXXX")
if grep -q '<!-- peer-bench:begin -->' "$doc"; then
  awk -v f="$section" '
    BEGIN { while ((getline line < f) > 0) text = text line "\n" }
    /<!-- peer-bench:begin -->/ { printf "%s", text; skip = 1; next }
    /<!-- peer-bench:end -->/ { skip = 0; next }
    !skip { print }' "$doc" >"$tmp"
else
  { cat "$doc"; [[ -s $doc ]] && echo; cat "$section"; } >"$tmp"
fi
chmod 644 "$tmp"
mv "$tmp" "$doc"
echo "wrote the peer section of $doc (raw traces in $out)" >&2
