#!/usr/bin/env bash
# Builds bench_samplers and runs it with its defaults (every sampler of SamplerDescriptions() on
# every built-in problem, 10 seeds, budgets 10,20,50,100, 2 threads), then writes the result into
# the tuner section of docs/benchmarks.md, between the markers
#   <!-- tuner-bench:begin --> and <!-- tuner-bench:end -->
# leaving the rest of the file untouched (the file is created if absent). Extra arguments are
# passed to bench_samplers (e.g. --seeds 3). Environment: BUILD_DIR (default build-bench),
# JOBS (parallel compile jobs, default 2), SYSOPT_PARTS (parts to configure). The raw traces
# are left in $BUILD_DIR/tuner_bench_raw.csv.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build-bench}
parts=${SYSOPT_PARTS:-"core;space;storage;study;model;runner;sampler;tuner;problems"}

cmake -S "$root" -B "$build" -DSYSOPT_PARTS="$parts" -DSYSOPT_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target bench_samplers

table=$build/tuner_bench.md
raw=$build/tuner_bench_raw.csv
"$build/bench/tuner/bench_samplers" --out "$table" --raw "$raw" "$@"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
section=$build/tuner_bench_section.md
{
  echo "<!-- tuner-bench:begin -->"
  echo "## Tuner: samplers on built-in problems"
  echo
  echo "Command: \`bench/run_tuner_bench.sh${*:+ $*}\`, which builds and runs"
  echo "\`bench_samplers --out $(basename "$table") --raw $(basename "$raw")${*:+ $*}\`"
  echo "(all other flags at their defaults) and writes this section."
  echo
  echo "Machine: $(nproc) CPU(s), ${cpu:-unknown CPU}; $(date -u '+%Y-%m-%d %H:%M UTC'); source at"
  echo "commit $commit plus the working tree."
  echo
  cat "$table"
  echo "<!-- tuner-bench:end -->"
} >"$section"

doc=$root/docs/benchmarks.md
mkdir -p "$(dirname "$doc")"
[[ -f $doc ]] || printf '# Benchmarks\n' >"$doc"
tmp=$(mktemp "$doc.XXXXXX")
if grep -q '<!-- tuner-bench:begin -->' "$doc"; then
  awk -v f="$section" '
    BEGIN { while ((getline line < f) > 0) text = text line "\n" }
    /<!-- tuner-bench:begin -->/ { printf "%s", text; skip = 1; next }
    /<!-- tuner-bench:end -->/ { skip = 0; next }
    !skip { print }' "$doc" >"$tmp"
else
  { cat "$doc"; [[ -s $doc ]] && echo; cat "$section"; } >"$tmp"
fi
chmod 644 "$tmp"
mv "$tmp" "$doc"
echo "wrote the tuner section of $doc" >&2
