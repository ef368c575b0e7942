#!/usr/bin/env bash
# Builds sysopt with clang-14 under AddressSanitizer and UndefinedBehaviorSanitizer (any finding
# fails) in build-sanitize/, with the libFuzzer targets, and runs the test suite there. The LLVM
# compiler job (part compile) is left out: it only wraps LLVM, and building and running it under
# the sanitizers would more than double the time CI takes.
# Usage: scripts/sanitize.sh [--build-only] [CMAKE_ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=0
if [[ "${1:-}" == "--build-only" ]]; then
  build_only=1
  shift
fi
parts="core;space;storage;study;model;runner;sampler;tuner;problems;remat;report;cli;e2e"
mkdir -p build-sanitize
echo "sysopt: building with clang-14, ASan and UBSan in build-sanitize/ (log: build-sanitize/build.log)"
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" -DSYSOPT_SANITIZE=ON -DSYSOPT_FUZZ=ON \
  -DSYSOPT_BUILD_BENCH=OFF -DSYSOPT_BUILD_TESTS=ON -DSYSOPT_PARTS="$parts" "$@" \
  > build-sanitize/build.log 2>&1 || { cat build-sanitize/build.log; exit 1; }
cmake --build build-sanitize -j"$(nproc)" >> build-sanitize/build.log 2>&1 \
  || { tail -n 60 build-sanitize/build.log; exit 1; }
((build_only)) && exit 0
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The browser and Python tests drive the same code through a headless browser or an
# interpreter, at several times the cost under the sanitizers; the code they reach runs here
# through its unit tests.
ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)" --timeout 600 \
  -E '^(report_browser_test|python_.*)$'
