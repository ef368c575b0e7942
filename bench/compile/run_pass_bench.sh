#!/usr/bin/env bash
# The pass-ordering benchmark: on every program in bench/compile/programs/ (written for this
# benchmark) and on csmith programs at fixed seeds, in one run: -O0 ... -Oz, random search, the
# greedy baseline and sysopt's default search, each given the same wall-time limit per program
# with the same number of workers. Writes the table into docs/benchmarks.md between the markers
#   <!-- passes-bench:begin --> and <!-- passes-bench:end -->
# Environment: SECONDS_PER_RUN (default 60), WORKERS (default 2), CSMITH (csmith programs,
# default 4), METHODS (default "random greedy evolution"), BUILD_DIR (default build).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
limit=${SECONDS_PER_RUN:-60}
workers=${WORKERS:-2}
csmith=${CSMITH:-4}
methods=${METHODS:-"random greedy evolution"}
out=$build/passes-bench
mkdir -p "$out"
SYSOPT_TARGET=sysopt "$root/scripts/build.sh" >/dev/null
programs=()
for d in "$root"/bench/compile/programs/*/; do programs+=("$d"); done
if ((csmith > 0)); then
  bash "$root/bench/compile/make_csmith.sh" "$out/csmith" "$csmith" >/dev/null
  for d in "$out"/csmith/csmith-*/; do programs+=("$d"); done
fi
for dir in "${programs[@]}"; do
  name=$(basename "$dir")
  sources=("$dir"*.c)
  for m in $methods; do
    echo "passes-bench: $name $m (${limit} s)" >&2
    "$build/sysopt" llvm passes "${sources[@]}" --clang-flag=-I/usr/include/csmith \
      --sampler "$m" --time-limit "$limit" --workers "$workers" --storage memory --json --quiet \
      > "$out/$name.$m.json"
  done
done
python3 "$root/bench/compile/pass_table.py" "$out" $methods > "$out/table.md"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
section=$out/section.md
{
  echo "<!-- passes-bench:begin -->"
  echo "## Compiler: LLVM pass ordering for code size (IR instruction count)"
  echo
  echo "Command: \`bench/compile/run_pass_bench.sh\` (SECONDS_PER_RUN=$limit, WORKERS=$workers," \
       "CSMITH=$csmith), commit $commit, on $(nproc) cores of ${cpu:-an unknown CPU}."
  echo "Each cell is count(-Oz) / count(found): above 1.000 is smaller than -Oz. Every search"
  echo "had the same wall-time limit for the whole command, baselines included."
  echo
  cat "$out/table.md"
  echo "<!-- passes-bench:end -->"
} > "$section"
doc=$root/docs/benchmarks.md
python3 - "$doc" "$section" <<'PY'
import sys, re
doc, section = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
pattern = re.compile(r"<!-- passes-bench:begin -->.*?<!-- passes-bench:end -->\n?", re.S)
text = pattern.sub(section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
open(doc, "w").write(text)
PY
cat "$out/table.md"
