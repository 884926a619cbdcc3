# Runs one libFuzzer harness for $ENV{INTEGR8_FUZZ_SECONDS} seconds (default 60), starting
# from the committed seed corpus, and fails on any crash, sanitizer report or failed check.
# New inputs go to WORK_DIR (the committed corpus is only read). Prints libFuzzer's final
# "Done N runs in S second(s)" line and appends it to fuzz_stats.txt next to WORK_DIR.
#   cmake -DFUZZER=... -DSEED_CORPUS=... -DWORK_DIR=... -DMAX_LEN=... -P run_fuzzer.cmake
set(seconds 60)
if(DEFINED ENV{INTEGR8_FUZZ_SECONDS})
  set(seconds $ENV{INTEGR8_FUZZ_SECONDS})
endif()
if(NOT seconds MATCHES "^[0-9]+$" OR seconds EQUAL 0)
  message(FATAL_ERROR "INTEGR8_FUZZ_SECONDS must be a positive integer, got '${seconds}'")
endif()
file(MAKE_DIRECTORY ${WORK_DIR})
get_filename_component(name ${FUZZER} NAME)
get_filename_component(stats_dir ${WORK_DIR} DIRECTORY)
execute_process(
  COMMAND ${FUZZER} -max_total_time=${seconds} -max_len=${MAX_LEN} -timeout=30
          -print_final_stats=1 -artifact_prefix=${WORK_DIR}/ ${WORK_DIR} ${SEED_CORPUS}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
string(REGEX MATCH "Done [0-9]+ runs in [0-9]+ second\\(s\\)" done "${output}")
if(NOT result EQUAL 0 OR done STREQUAL "")
  # The report (sanitizer trace, failed check, crash input path) is at the end.
  string(LENGTH "${output}" length)
  if(length GREATER 12000)
    math(EXPR start "${length} - 12000")
    string(SUBSTRING "${output}" ${start} -1 output)
  endif()
  message("${output}")
  message(FATAL_ERROR "${name} failed (exit ${result}); the crashing input is in ${WORK_DIR}")
endif()
message("${name}: ${done}")
file(APPEND ${stats_dir}/fuzz_stats.txt "${name}: ${done}\n")
