#!/usr/bin/env bash
# Static analysis of the library headers (include/integr8) and the pybind11 binding
# (python/src): clang-tidy with the checks in .clang-tidy, then cppcheck. Fails on any finding;
# the few accepted ones are suppressed inline with the reason (// NOLINT(check): why,
# // cppcheck-suppress id  why).
#   tools/static_analysis.sh            # both tools
# Needs clang-tidy (CLANG_TIDY, default clang-tidy), cppcheck (CPPCHECK), python3 with pybind11,
# and Eigen for the Eigen backend header (found through pkg-config or /usr/include/eigen3).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build="$root/build/tidy"
clang_tidy=${CLANG_TIDY:-clang-tidy}
cppcheck=${CPPCHECK:-cppcheck}
jobs=${INTEGR8_JOBS:-$(nproc)}
mkdir -p "$build/tus"

pybind_includes=$(python3 -m pybind11 --includes)
eigen_include=""
if pkg-config --exists eigen3 2>/dev/null; then
  eigen_include=$(pkg-config --cflags-only-I eigen3)
elif [ -d /usr/include/eigen3 ]; then
  eigen_include="-isystem /usr/include/eigen3"
fi
# pybind11 and Eigen are third-party: include them as system headers so that neither tool
# reports on them (-isystem instead of -I).
pybind_system=${pybind_includes//-I/-isystem }
eigen_system=${eigen_include//-I/-isystem }

# A compile database: one translation unit per public header (as
# tests/consumers/standalone_headers compiles them), plus the binding's core.cpp.
common="-std=c++17 -Wall -Wextra -I$root/include"
{
  echo "["
  first=1
  while IFS= read -r header; do
    stem=$(echo "$header" | tr '/.' '__')
    tu="$build/tus/$stem.cpp"
    printf '#include <%s>\n' "$header" > "$tu.new"
    cmp -s "$tu.new" "$tu" 2>/dev/null && rm "$tu.new" || mv "$tu.new" "$tu"
    flags="$common"
    case "$header" in
      integr8/backend/eigen.h) flags="$flags $eigen_system -DINTEGR8_BACKEND_EIGEN" ;;
      integr8/backend/x86*.h) flags="$flags -mavx2 -mfma" ;;
    esac
    [ $first -eq 1 ] || echo ","
    first=0
    printf '{"directory": "%s", "file": "%s", "command": "clang++ %s -c %s"}' \
      "$build" "$tu" "$flags" "$tu"
  done < <(cd include && find integr8 -name '*.h' | sort)
  # The x86 backend once more per vpdpbusd variant: on a VNNI target, and emulated.
  for variant in "vnni|-mavx2 -mfma -mavxvnni" "emulated_vnni|-mavx2 -mfma -DINTEGR8_X86_EMULATE_VNNI=1"; do
    tu="$build/tus/integr8_backend_x86_${variant%%|*}.cpp"
    printf '#include <integr8/backend/x86.h>\n' > "$tu.new"
    cmp -s "$tu.new" "$tu" 2>/dev/null && rm "$tu.new" || mv "$tu.new" "$tu"
    printf ',\n{"directory": "%s", "file": "%s", "command": "clang++ %s %s -c %s"}' \
      "$build" "$tu" "$common" "${variant#*|}" "$tu"
  done
  printf ',\n{"directory": "%s", "file": "%s", "command": "clang++ %s %s -I%s -I%s -DINTEGR8_HEADERS_SHA256=\\"0\\" -c %s"}\n' \
    "$root" "$root/python/src/core.cpp" "$common" "$pybind_system" \
    "$root/examples/host" "$root/python/integr8/bundled" "$root/python/src/core.cpp"
  echo "]"
} > "$build/compile_commands.json"

status=0
echo "== clang-tidy ($($clang_tidy --version | grep -o 'version [0-9.]*'))"
files=$(python3 -c 'import json,sys; print("\n".join(e["file"] for e in json.load(open(sys.argv[1]))))' \
        "$build/compile_commands.json")
# -quiet: only findings; WarningsAsErrors in .clang-tidy makes any finding an error exit.
if ! echo "$files" | xargs -P "$jobs" -n 1 "$clang_tidy" -quiet -p "$build" \
     --config-file="$root/.clang-tidy" 2> "$build/clang-tidy.stderr" | tee "$build/clang-tidy.log"; then
  status=1
fi
if grep -qE "(warning|error):" "$build/clang-tidy.log"; then status=1; fi

echo "== cppcheck ($($cppcheck --version))"
# The same translation units (cppcheck analyses headers through the sources that include
# them). Third-party and generated headers are not analysed: pybind11 (-I from pybind11
# --includes, findings in it suppressed) and the bundled model headers (constant tables, left
# off the include path: ~100k-element arrays make cppcheck run for minutes), nor Eigen.
# shellcheck disable=SC2086
if ! "$cppcheck" --std=c++17 --language=c++ --enable=warning,style,performance,portability \
     --inline-suppr --error-exitcode=1 --quiet --template=gcc -j "$jobs" \
     --suppress=missingIncludeSystem --suppress=missingInclude --suppress='*:*/pybind11/*' \
     --suppress='*:*/include/python3*' \
     --suppress=unmatchedSuppression \
     --cppcheck-build-dir="$build" -D__GNUC__ -D__cplusplus=201703L -D__x86_64__ \
     -I "$root/include" -I "$root/examples/host" ${pybind_includes} \
     "$build"/tus/*.cpp "$root/python/src/core.cpp"; then
  status=1
fi

if [ $status -ne 0 ]; then
  echo "static analysis: findings above" >&2
else
  echo "static analysis: no findings"
fi
exit $status
