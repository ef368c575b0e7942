#!/usr/bin/env bash
# The main job: installs what is missing, builds sysopt, and tunes the matrix-multiply kernel in
# examples/matmul (compiled with the system compiler for every configuration and timed), recording
# the study in a SQLite file. It prints the best configuration and its speedup over the untuned
# default, then runs plain random search with the same budget for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
SYSOPT_TARGET=sysopt scripts/build.sh
db=build/matmul-demo.db
budget=${BUDGET:-40}
rm -f "$db" "$db-wal" "$db-shm"
echo "== sysopt tune (Bayesian optimisation, the default), budget $budget"
./build/sysopt tune examples/matmul/spec.json --budget "$budget" --storage "$db" \
  --study matmul "$@"
echo
echo "== the same budget with plain random search, for comparison"
./build/sysopt tune examples/matmul/spec.json --budget "$budget" --storage "$db" \
  --study matmul-random --sampler random --quiet "$@" > /dev/null
./build/sysopt best --storage "$db" --study matmul
./build/sysopt best --storage "$db" --study matmul-random
echo
echo "Both studies are in $db; try './build/sysopt export --storage $db --study matmul'."
