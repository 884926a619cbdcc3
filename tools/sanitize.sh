#!/usr/bin/env bash
# Builds and runs the whole C++ test suite (ctest) under the sanitizers: clang with
# -fsanitize=address,undefined,implicit-conversion -fno-sanitize-recover=all, so that the first
# report fails its test. Pass other compilers as arguments (g++ gets address,undefined only).
#   tools/sanitize.sh                 # clang++
#   tools/sanitize.sh clang++ g++
# INTEGR8_JOBS (default: nproc) bounds build and test parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${INTEGR8_JOBS:-$(nproc)}
# Reports abort at once and name the failing line; leaks are errors too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

compilers=("$@")
[ ${#compilers[@]} -eq 0 ] && compilers=(clang++)
for compiler in "${compilers[@]}"; do
  build="build/san-${compiler}"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$compiler" \
    -DINTEGR8_SANITIZE=ON >/dev/null
  cmake --build "$build" --parallel "$jobs"
  ctest --test-dir "$build" --output-on-failure --parallel "$jobs"
done
