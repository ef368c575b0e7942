#!/usr/bin/env bash
# Checks the benchmark programs under bench/compile/programs/ and prints one
# line per program: source lines, IR instruction count of the linked
# unoptimised module, IR instruction count after opt-14 -passes='default<Oz>',
# the run time of the clang-14 -O2 build (shortest of three runs) and of the
# -O0 build (one run).
#
# For each program it
#   - compiles with gcc -Wall -Wextra (any warning fails the program),
#   - builds and runs with clang-14 -O1 -fsanitize=address,undefined,
#   - builds at clang-14 -O0 and -O2 and runs both,
#   - emits unoptimised bitcode per file (clang-14 -O1 -Xclang
#     -disable-llvm-passes), links it with llvm-link-14, runs
#     opt-14 -passes='default<Oz>' on the linked module, links that with
#     clang-14 and runs it,
#   - requires the four outputs (sanitized, -O0, -O2, Oz) to be identical.
#
# IR instructions are counted on llvm-dis-14 output: the lines inside a
# function body that start with two spaces and then an instruction (labels,
# comments, switch case lines and the closing ']' are not counted).  This is
# the number `opt -passes=instcount -stats` reports, which the Debian LLVM 14
# build cannot print because it is built without statistics.
#
# usage: bench/compile/check_programs.sh [PROGRAM...]
set -euo pipefail
shopt -s nullglob

here="$(cd "$(dirname "$0")" && pwd)"
progdir="$here/programs"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

count_ir() {
  llvm-dis-14 "$1" -o - |
    awk '/^define /{f=1; next} /^}/{f=0} f && /^  [^ ;\]]/ {n++} END {print n+0}'
}

# run_timed EXE OUTFILE REPEATS: runs EXE REPEATS times, writes its stdout to
# OUTFILE and prints the shortest wall time in seconds.
run_timed() {
  local best="" i t0 t1 t
  for ((i = 0; i < $3; i++)); do
    t0=$(date +%s.%N)
    "$1" >"$2"
    t1=$(date +%s.%N)
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$t; fi
  done
  echo "$best"
}

if [ $# -gt 0 ]; then
  names=("$@")
else
  names=()
  for d in "$progdir"/*/; do names+=("$(basename "$d")"); done
fi

failed=0
printf '%-16s %6s %8s %8s %8s %8s %s\n' program lines ir_O0 ir_Oz O2_s O0_s status
for name in "${names[@]}"; do
  src="$progdir/$name"
  out="$work/$name"
  mkdir -p "$out"
  cfiles=("$src"/*.c)
  srcs=("$src"/*.c "$src"/*.h)
  lines=$(cat "${srcs[@]}" | wc -l)
  status=ok
  note=""

  if ! gcc -std=c11 -Wall -Wextra -Werror -O2 "${cfiles[@]}" -lm -o "$out/gcc" 2>"$out/gcc.log"; then
    status=FAIL; note="gcc warnings/errors: $(head -c 300 "$out/gcc.log")"
  fi
  if [ $status = ok ]; then
    clang-14 -std=c11 -Wall -Wextra -O1 -g -fsanitize=address,undefined \
      -fno-sanitize-recover=all "${cfiles[@]}" -lm -o "$out/san"
    if ! "$out/san" >"$out/san.out" 2>"$out/san.err"; then
      status=FAIL; note="sanitizer run failed: $(head -c 300 "$out/san.err")"
    elif [ -s "$out/san.err" ]; then
      status=FAIL; note="sanitizer printed: $(head -c 300 "$out/san.err")"
    fi
  fi
  if [ $status = ok ]; then
    clang-14 -O0 "${cfiles[@]}" -lm -o "$out/o0"
    clang-14 -O2 "${cfiles[@]}" -lm -o "$out/o2"
    bcs=()
    for c in "${cfiles[@]}"; do
      b="$out/$(basename "${c%.c}").bc"
      clang-14 -O1 -Xclang -disable-llvm-passes -emit-llvm -c "$c" -o "$b"
      bcs+=("$b")
    done
    llvm-link-14 "${bcs[@]}" -o "$out/linked.bc"
    opt-14 -passes='default<Oz>' "$out/linked.bc" -o "$out/oz.bc"
    clang-14 "$out/oz.bc" -lm -o "$out/oz"
    o0s=$(run_timed "$out/o0" "$out/o0.out" 1)
    "$out/oz" >"$out/oz.out"
    o2s=$(run_timed "$out/o2" "$out/o2.out" 3)
    for v in san o2 oz; do
      if ! cmp -s "$out/o0.out" "$out/$v.out"; then
        status=FAIL; note="$note output of $v differs from -O0;"
      fi
    done
    ir0=$(count_ir "$out/linked.bc")
    irz=$(count_ir "$out/oz.bc")
  else
    ir0=-; irz=-; o2s=-; o0s=-
  fi
  [ $status = ok ] || failed=1
  printf '%-16s %6s %8s %8s %8s %8s %s %s\n' "$name" "$lines" "$ir0" "$irz" "$o2s" "$o0s" "$status" "$note"
done
exit $failed
