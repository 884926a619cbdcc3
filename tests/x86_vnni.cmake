# The x86 backend's vpdpbusd step for real (included by tests/CMakeLists.txt on AVX2 machines).
# For each target that has a 256-bit vpdpbusd: where this CPU executes it, the x86 suite runs
# with it; everywhere, unit/x86_vnni_build.cpp is compiled for it and x86_vnni_<encoding>
# checks that its object code holds vpdpbusd in that encoding (VEX for AVX-VNNI, EVEX for
# AVX-512 VNNI) -- the selection from the target flags, checked without executing anything.
# And asking for the step without those flags must fail to compile.
include(CheckCXXSourceCompiles)
find_program(INTEGR8_GNU_OBJDUMP objdump)

# integr8_add_vnni_checks(ENCODING CPU_HAS_IT FLAGS...): CPU_HAS_IT is a C++ condition, true
# where this CPU executes the encoding (a, b, c, d are free unsigned variables for cpuid.h).
function(integr8_add_vnni_checks encoding cpu_has_it)
  set(CMAKE_REQUIRED_FLAGS "-mavx2 -mfma ${ARGN}")
  string(REPLACE ";" " " CMAKE_REQUIRED_FLAGS "${CMAKE_REQUIRED_FLAGS}")
  check_cxx_source_compiles([=[
#include <immintrin.h>
int main() { return _mm256_extract_epi32(_mm256_setzero_si256(), 0); }]=]
    INTEGR8_HAVE_${encoding}_FLAGS)
  if(NOT INTEGR8_HAVE_${encoding}_FLAGS)
    return()
  endif()
  check_cxx_source_runs("#include <cpuid.h>
int main() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return (${cpu_has_it}) ? 0 : 1;
}" INTEGR8_HAVE_RUNNABLE_${encoding})
  if(INTEGR8_HAVE_RUNNABLE_${encoding})
    integr8_add_x86_test(x86_backend_${encoding}_test x86-vnni ${ARGN})
  endif()

  set(build x86_vnni_${encoding}_build)
  add_library(${build} OBJECT unit/x86_vnni_build.cpp)
  target_link_libraries(${build} PRIVATE integr8::integr8)
  target_compile_options(${build} PRIVATE ${INTEGR8_STRICT_WARNINGS} -mavx2 -mfma ${ARGN})
  if(INTEGR8_GNU_OBJDUMP)
    add_test(NAME x86_vnni_${encoding}
      COMMAND ${CMAKE_COMMAND} -DOBJDUMP=${INTEGR8_GNU_OBJDUMP} -DENCODING=${encoding}
        "-DOBJECTS=$<TARGET_OBJECTS:${build}>"
        -P ${CMAKE_CURRENT_SOURCE_DIR}/check_vnni_encoding.cmake)
  endif()
endfunction()

# AVX-VNNI is CPUID leaf 7 subleaf 1, EAX bit 4 (clang 14's __builtin_cpu_supports lacks it).
integr8_add_vnni_checks(avxvnni "__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4))"
  -mavxvnni)
integr8_add_vnni_checks(avx512vnni
  "__builtin_cpu_supports(\"avx512vnni\") && __builtin_cpu_supports(\"avx512vl\")"
  -mavx512f -mavx512vl -mavx512vnni)

# Asking for the vpdpbusd step without the target flags fails to compile, naming them.
add_test(NAME x86_vnni_without_flags_fails_to_compile
  COMMAND ${CMAKE_CXX_COMPILER} -std=c++17 -fsyntax-only -mavx2 -mfma -DINTEGR8_X86_VNNI=1
          -I${PROJECT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR}/unit/x86_vnni_build.cpp)
set_tests_properties(x86_vnni_without_flags_fails_to_compile PROPERTIES
  PASS_REGULAR_EXPRESSION "INTEGR8_X86_VNNI needs -mavxvnni or -mavx512vnni -mavx512vl")
