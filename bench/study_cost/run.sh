#!/usr/bin/env bash
# Whole-study cost: sysopt tune on the mixed8 space with its objective run as a real process for
# every trial, against Optuna 3.1 TPE with the objective in process, in one run. Prints each
# study's wall time and sysopt's cost per trial by stretches of its history (from the stored
# start and end times), to show whether the cost stays flat as the study grows.
#
# Usage: bench/study_cost/run.sh [SYSOPT [TRIALS [LONG_TRIALS]]]
#   SYSOPT defaults to build/sysopt; TRIALS to 1000; LONG_TRIALS (a second, longer study) to 5000.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sysopt=$(realpath "${1:-$here/../../build/sysopt}")
trials=${2:-1000}
long=${3:-5000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/spec.json" "$work/"
cc -O2 -o "$work/objective" "$here/objective.c"
cd "$work"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for n in "$trials" "$long"; do
  start=$(date +%s.%N)
  "$sysopt" tune spec.json --budget "$n" --storage "s$n.db" --quiet --json > "out$n.json"
  end=$(date +%s.%N)
  best=$(python3 -c "import json; print(json.load(open('out$n.json'))['best']['values']['value'])")
  printf 'sysopt-auto trials %d seconds %.2f best %.6g\n' "$n" "$(echo "$end - $start" | bc)" "$best"
  step=$(( n / 10 ))
  sqlite3 "s$n.db" "select printf('  trials %d-%d: %.1f ms/trial', (number / $step) * $step, (number / $step + 1) * $step - 1, (max(end_time) - min(start_time)) * 1000.0 / count(*)) from trials group by number / $step order by number / $step"
done
/usr/bin/python3 "$here/optuna_study.py" --trials "$trials"
