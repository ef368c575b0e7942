#!/usr/bin/env bash
# Installs the Debian 12 packages sysopt needs to build and test, skipping those already present.
# Usage: scripts/setup.sh [--peers]   (--peers adds Optuna and torch for bench/peers, bench/python
# and tools/; pybind11 and pytest for the Python module and its tests are always installed)
set -euo pipefail

packages=(build-essential cmake pkg-config
  libeigen3-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libcli11-dev libfmt-dev liblbfgspp-dev
  coinor-libcbc-dev coinor-libclp-dev libgtest-dev libgmock-dev libbenchmark-dev python3
  python3-dev pybind11-dev python3-pytest
  zlib1g-dev llvm-14 llvm-14-dev clang-14 libclang-14-dev libclang-rt-14-dev)
if [[ "${1:-}" == "--peers" ]]; then
  packages+=(python3-optuna python3-numpy python3-torch python3-torchvision)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "sysopt setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
