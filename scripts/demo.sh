#!/usr/bin/env bash
# The main job: installs what is missing, builds sysopt, and tunes the matrix-multiply kernel in
# examples/matmul (compiled with the system compiler for every configuration and timed), recording
# the study in a SQLite file, then prints the best configuration and its speedup over the default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
db=build/matmul-demo.db
rm -f "$db" "$db-wal" "$db-shm"
./build/sysopt tune examples/matmul/spec.json --budget "${BUDGET:-40}" --storage "$db" "$@"
echo
echo "The study is in $db: try './build/sysopt best --storage $db' or"
echo "'./build/sysopt export --storage $db --format csv'."
