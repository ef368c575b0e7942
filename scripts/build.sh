#!/usr/bin/env bash
# Configures and builds sysopt in build/ (optimised, with debug info). Extra arguments go to
# cmake; SYSOPT_TARGET=name builds one target only (default: everything, tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
echo "sysopt: configuring and building in build/ (log: build/build.log)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > build/build.log 2>&1 \
  || { cat build/build.log; exit 1; }
cmake --build build -j"$(nproc)" --target "${SYSOPT_TARGET:-all}" >> build/build.log 2>&1 \
  || { tail -n 60 build/build.log; exit 1; }
echo "sysopt: built build/sysopt"
