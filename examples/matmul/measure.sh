#!/bin/sh
# Compiles kernel.c for one configuration and runs it; the kernel prints its time (seconds).
# Usage: measure.sh TILE_I TILE_J TILE_K ORDER UNROLL VEC   (ORDER: a permutation such as 2,0,1
# of the point loops i=0, j=1, k=2, outermost first)
set -eu
[ $# -eq 6 ] || { echo "usage: measure.sh TILE_I TILE_J TILE_K ORDER UNROLL VEC" >&2; exit 2; }
here=$(dirname "$0")
loops="LOOP_I LOOP_J LOOP_K"
pick() { echo $loops | cut -d' ' -f$(($1 + 1)); }
o0=$(echo "$4" | cut -d, -f1); o1=$(echo "$4" | cut -d, -f2); o2=$(echo "$4" | cut -d, -f3)
cache=${SYSOPT_EXAMPLE_CACHE:-${TMPDIR:-/tmp}/sysopt-matmul-$(id -u)}
mkdir -p "$cache"
bin="$cache/k_$1_$2_$3_${o0}${o1}${o2}_$5_$6"
if [ ! -x "$bin" ]; then
  ${CC:-cc} -O2 -std=gnu11 -DTI="$1" -DTJ="$2" -DTK="$3" -DL0="$(pick "$o0")" \
    -DL1="$(pick "$o1")" -DL2="$(pick "$o2")" -DUNROLL="$5" -DVEC="$6" \
    -o "$bin.tmp.$$" "$here/kernel.c" -lm
  mv "$bin.tmp.$$" "$bin"
fi
exec "$bin"
