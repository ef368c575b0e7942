#!/usr/bin/env bash
# Generates random C programs with csmith at the fixed seeds 1..N and keeps
# those that compile with clang-14 and whose -O0 build runs to completion
# (exit status 0) within 2 seconds.
#
#   usage: bench/compile/make_csmith.sh OUTDIR N
#
# Each kept program is written to OUTDIR/csmith-<seed>/csmith-<seed>.c.
# A program prints "checksum = ..." on stdout; compile it with
#   -I/usr/include/csmith
# (csmith's runtime headers, from the Debian package libcsmith-dev).
#
# The result depends only on the seeds and the csmith version (Debian 12
# ships csmith 2.3.0): csmith is run inside the program's own folder with a
# relative output name, so the options it records in the file's header
# comment do not depend on OUTDIR.  A seed that is rejected leaves no folder;
# folders of earlier runs for seeds 1..N are replaced.
set -euo pipefail

if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 OUTDIR N" >&2
  exit 2
fi
outdir="$1"
count="$2"
include=/usr/include/csmith
run_limit=2

need_install=0
command -v csmith >/dev/null 2>&1 || need_install=1
[ -f "$include/csmith.h" ] || need_install=1
if [ $need_install = 1 ]; then
  echo "installing csmith and libcsmith-dev" >&2
  if [ "$(id -u)" != 0 ]; then
    echo "csmith is missing: run as root, or apt-get install csmith libcsmith-dev" >&2
    exit 1
  fi
  apt-get install -y csmith libcsmith-dev >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y csmith libcsmith-dev >/dev/null; }
fi
command -v clang-14 >/dev/null 2>&1 || { echo "clang-14 not found" >&2; exit 1; }
command -v timeout >/dev/null 2>&1 || { echo "timeout (coreutils) not found" >&2; exit 1; }

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

kept=0
for ((seed = 1; seed <= count; seed++)); do
  name="csmith-$seed"
  work="$scratch/$name"
  rm -rf "$work" "$outdir/$name"
  mkdir -p "$work"
  reason=""
  if ! (cd "$work" && csmith --seed "$seed" -o "$name.c") >"$work/gen.log" 2>&1; then
    reason="csmith failed"
  elif ! clang-14 -O0 -w -I"$include" "$work/$name.c" -o "$work/prog" \
      >"$work/cc.log" 2>&1; then
    reason="does not compile"
  else
    set +e
    timeout -k 1 "$run_limit" "$work/prog" >"$work/out.txt" 2>/dev/null
    rc=$?
    set -e
    if [ $rc = 124 ] || [ $rc = 137 ]; then
      reason="-O0 run exceeds ${run_limit}s"
    elif [ $rc != 0 ]; then
      reason="-O0 run exits with status $rc"
    elif ! grep -q '^checksum = ' "$work/out.txt"; then
      reason="no checksum printed"
    fi
  fi
  if [ -n "$reason" ]; then
    echo "seed $seed: rejected ($reason)"
    continue
  fi
  mkdir -p "$outdir/$name"
  cp "$work/$name.c" "$outdir/$name/$name.c"
  kept=$((kept + 1))
  echo "seed $seed: kept, $(wc -l <"$work/$name.c") lines, $(cat "$work/out.txt")"
done
echo "kept $kept of $count programs in $outdir"
