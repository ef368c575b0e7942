#!/usr/bin/env bash
# Installs what is missing, builds sysopt with its tests, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DSYSOPT_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 300
