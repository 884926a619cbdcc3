#!/usr/bin/env bash
# Runs every integr8 test: the C++ suite under g++ and under clang (ctest), then pytest
# against this tree installed with pip.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

for compiler in g++ clang++; do
  build="build/test-${compiler}"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$compiler" >/dev/null
  cmake --build "$build" --parallel "$jobs"
  ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
done

# The Python tests exercise the installed package, so install this tree first.
python3 -m pip install --quiet .
python3 -m pytest tests/python -q
