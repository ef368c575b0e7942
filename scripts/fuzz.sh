#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan, in build-sanitize/) and runs each one.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 600 s; targets: expression
# spec actions objective graph schedule). Corpora grow in build-sanitize/fuzz/corpus/TARGET, seeded from
# tests/fuzz/seeds/ and the repository's examples; a crashing input is saved in
# build-sanitize/fuzz/ and the script fails. SYSOPT_FUZZ_JOBS=N runs N targets at once;
# SYSOPT_FUZZ_RUNS=N stops each target after N inputs instead (SECONDS still bounds it).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(expression spec actions objective graph schedule)

scripts/sanitize.sh --build-only
out=build-sanitize/fuzz
seeds=tests/fuzz/seeds

# Seed corpora from the examples: every spec, its constraints, every training graph.
mkdir -p "$out/corpus"/{expression,spec,actions,objective,graph,schedule}
cp "$seeds"/actions/* "$out/corpus/actions/"
cp "$seeds"/expression/* "$out/corpus/expression/"
cp "$seeds"/objective/* "$out/corpus/objective/"
cp "$seeds"/schedule/* "$out/corpus/schedule/"
cp "$seeds"/spec/* "$out/corpus/spec/"
for spec in examples/*/spec.json; do
  cp "$spec" "$out/corpus/spec/example-$(basename "$(dirname "$spec")").json"
  python3 - "$spec" "$out/corpus/expression" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
for k, text in enumerate(spec.get("constraints", [])):
    with open(f"{sys.argv[2]}/example-{k}", "w") as f:
        f.write(text)
PY
done
# The synthetic graphs: the traced ones (50 KB) would slow every input tenfold.
cp data/graphs/synthetic_*.json "$out/corpus/graph/"

run() {
  local t=$1
  echo "sysopt fuzz: $t for ${seconds} s"
  # -rss_limit_mb: ASan's shadow memory counts; -timeout: one input may take at most 10 s.
  (cd "$out" && "./fuzz_$t" -max_total_time="$seconds" -runs="${SYSOPT_FUZZ_RUNS:--1}" \
     -max_len=8192 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$t-" \
     "corpus/$t" > "$t.log" 2>&1) \
    || { echo "sysopt fuzz: $t FAILED (log: $out/$t.log)"; tail -n 40 "$out/$t.log"; return 1; }
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/$t.log" | sed "s/^/  $t /"
}
status=0
jobs_max="${SYSOPT_FUZZ_JOBS:-1}"
pids=()
for t in "${targets[@]}"; do
  if ((jobs_max > 1)); then
    run "$t" & pids+=($!)
    if ((${#pids[@]} >= jobs_max)); then wait "${pids[0]}" || status=1; pids=("${pids[@]:1}"); fi
  else
    run "$t" || status=1
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
exit $status
