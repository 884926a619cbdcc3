# cmake -DOBJDUMP=... -DENCODING=avxvnni|avx512vnni -DOBJECTS=... -P check_vnni_encoding.cmake
# Fails unless the disassembly of OBJECTS holds vpdpbusd, each in ENCODING's form: GNU objdump
# writes the VEX form (AVX-VNNI) as "{vex} vpdpbusd" and the EVEX form (AVX-512 VNNI) bare.
execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn ${OBJECTS}
  OUTPUT_VARIABLE disassembly RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} failed on ${OBJECTS}")
endif()
string(REGEX MATCHALL "[^\n]*vpdpbusd[^\n]*" lines "${disassembly}")
list(LENGTH lines count)
if(count EQUAL 0)
  message(FATAL_ERROR "no vpdpbusd in ${OBJECTS}: the ${ENCODING} flags did not select it")
endif()
foreach(line IN LISTS lines)
  string(FIND "${line}" "{vex}" vex)
  if(ENCODING STREQUAL "avxvnni" AND vex EQUAL -1)
    message(FATAL_ERROR "EVEX vpdpbusd in an AVX-VNNI build: ${line}")
  elseif(ENCODING STREQUAL "avx512vnni" AND NOT vex EQUAL -1)
    message(FATAL_ERROR "VEX vpdpbusd in an AVX-512 VNNI build: ${line}")
  endif()
endforeach()
message(STATUS "${count} vpdpbusd instructions, all in the ${ENCODING} encoding")
