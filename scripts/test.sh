#!/usr/bin/env bash
# Installs what is missing, builds sysopt with its tests, and runs every test; then builds it
# again with clang-14 under ASan and UBSan and runs the tests there (scripts/sanitize.sh), and
# runs each fuzz target for 20 s (scripts/fuzz.sh; run it alone for longer runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DSYSOPT_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 300
scripts/sanitize.sh
SYSOPT_FUZZ_JOBS="$(nproc)" scripts/fuzz.sh 20
