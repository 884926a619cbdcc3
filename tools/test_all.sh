#!/usr/bin/env bash
# Runs every integr8 test: the C++ suite under g++ and under clang (ctest, which includes the
# Cortex-M firmware under QEMU and the cross-compiler determinism check when their tools are
# installed), the suite again under clang's sanitizers, each libFuzzer harness for
# INTEGR8_FUZZ_SECONDS (default 60), clang-tidy and cppcheck, ruff, then pytest against this tree
# installed with pip, and the Python binding's digests against the C++ builds'.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

for compiler in g++ clang++; do
  build="build/test-${compiler}"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$compiler" >/dev/null
  cmake --build "$build" --parallel "$jobs"
  ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
done

# Sanitizers: the whole C++ suite under clang with address, undefined, implicit-conversion.
INTEGR8_JOBS="$jobs" tools/sanitize.sh clang++

# libFuzzer: each harness from its committed corpus for INTEGR8_FUZZ_SECONDS; a crash fails.
cmake -S . -B build/fuzz-clang -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DINTEGR8_FUZZ=ON >/dev/null
cmake --build build/fuzz-clang --parallel "$jobs" --target fuzz_fixedpoint fuzz_kernels fuzz_validation
rm -f build/fuzz-clang/tests/fuzz/fuzz_stats.txt
ctest --test-dir build/fuzz-clang -L fuzz --output-on-failure --parallel "$jobs"
cat build/fuzz-clang/tests/fuzz/fuzz_stats.txt

# Static analysis: clang-tidy and cppcheck over include/ and the binding; any finding fails.
INTEGR8_JOBS="$jobs" tools/static_analysis.sh

# Python lint (pyproject.toml's [tool.ruff]).
python3 -m ruff check --no-cache .

# The Python tests exercise the installed package, so install this tree first.
python3 -m pip install --quiet .
python3 -m pytest tests/python -q
# The wheel's compiled models give the same digests as the six C++ builds.
python3 tools/model_digest.py --expect build/test-clang++/tests/determinism/digest.txt
