# Builds tests/determinism with every compiler in COMPILERS (;-list) at -O0, -O2 and -O3, runs
# each build and requires identical digest lines from all of them, written to
# BINARY_DIR/digest.txt; then, if PYTHON is given and can import the integr8 binding, requires
# the same lines from tools/model_digest.py (the same headers compiled by the wheel's build).
#   cmake -DSOURCE_DIR=<integr8> -DBINARY_DIR=<dir> -DCOMPILERS=g++;clang++
#         -DGENERATOR=Ninja [-DPYTHON=python3] -P check_determinism.cmake
set(reference "")
set(reference_build "")
foreach(compiler IN LISTS COMPILERS)
  foreach(opt -O0 -O2 -O3)
    get_filename_component(compiler_name ${compiler} NAME)
    set(build ${BINARY_DIR}/${compiler_name}${opt})
    execute_process(
      COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/determinism -B ${build} -G ${GENERATOR}
              -DCMAKE_BUILD_TYPE= -DCMAKE_CXX_COMPILER=${compiler} -DINTEGR8_OPT=${opt}
              -DINTEGR8_SOURCE_DIR=${SOURCE_DIR}
      RESULT_VARIABLE result OUTPUT_QUIET ERROR_VARIABLE errors)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "configuring ${compiler} ${opt} failed:\n${errors}")
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} --build ${build}
                    RESULT_VARIABLE result OUTPUT_VARIABLE build_log ERROR_VARIABLE build_log)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "building ${compiler} ${opt} failed:\n${build_log}")
    endif()
    execute_process(COMMAND ${build}/model_digest RESULT_VARIABLE result OUTPUT_VARIABLE digest)
    message("${compiler_name} ${opt}:\n${digest}")
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "model_digest (${compiler} ${opt}) failed")
    endif()
    file(WRITE ${build}/digest.txt "${digest}")
    if(reference_build STREQUAL "")
      set(reference "${digest}")
      set(reference_build "${compiler_name} ${opt}")
    elseif(NOT digest STREQUAL reference)
      message(FATAL_ERROR "${compiler_name} ${opt} differs from ${reference_build}")
    endif()
  endforeach()
endforeach()
message("all builds agree")
# For tools/model_digest.py --expect, run once the Python package of this tree is installed.
file(WRITE ${BINARY_DIR}/digest.txt "${reference}")

# Optional (-DPYTHON=...): the installed binding must match too. Not used by ctest, which runs
# before tools/test_all.sh reinstalls the package; a stale wheel would be compared otherwise.
if(PYTHON)
  execute_process(COMMAND ${PYTHON} -c "import integr8; integr8.MnistMlp; integr8.MnistConvNet"
                  RESULT_VARIABLE importable
                  OUTPUT_QUIET ERROR_QUIET)
  if(importable EQUAL 0)
    execute_process(COMMAND ${PYTHON} ${SOURCE_DIR}/tools/model_digest.py
                            --expect ${BINARY_DIR}/digest.txt
                    RESULT_VARIABLE result OUTPUT_VARIABLE python_digest
                    ERROR_VARIABLE python_digest)
    message("Python binding (tools/model_digest.py):\n${python_digest}")
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "the Python binding's digests differ from the C++ builds")
    endif()
  else()
    message("Python binding not importable: C++ builds compared among themselves only")
  endif()
endif()
