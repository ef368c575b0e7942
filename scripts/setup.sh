#!/usr/bin/env bash
# Installs the Debian 12 packages sysopt needs to build and test, skipping those already present.
# Usage: scripts/setup.sh [--peers]   (--peers adds Optuna and NumPy for bench/peers and
# bench/python; torch, torchvision, pytest and pybind11 are always installed: the tests apply
# memory plans to PyTorch steps and drive the Python module)
set -euo pipefail

packages=(build-essential cmake pkg-config
  libeigen3-dev nlohmann-json3-dev libsqlite3-dev sqlite3 libcli11-dev libfmt-dev liblbfgspp-dev
  coinor-libcbc-dev coinor-libclp-dev libgtest-dev libgmock-dev libbenchmark-dev python3
  libpq-dev postgresql python3-dev pybind11-dev
  zlib1g-dev llvm-14 llvm-14-dev clang-14 libclang-14-dev libclang-rt-14-dev
  python3-torch python3-torchvision python3-pytest libopenblas0-pthread
  chromium)  # chromium: headless, renders the HTML report in its test
if [[ "${1:-}" == "--peers" ]]; then
  # python3-psycopg2: only for bench/distributed (Optuna's RDB storage on PostgreSQL).
  packages+=(python3-optuna python3-numpy python3-psycopg2)
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
