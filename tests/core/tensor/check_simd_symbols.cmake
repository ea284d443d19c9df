# Fails when a SIMD kernel object defines a weak (COMDAT) symbol. Such a
# symbol — an inline helper or template instantiated with AVX-512 flags — may
# be picked by the linker for every caller, including scalar code, and would
# then crash on CPUs without that instruction set.
# Usage: cmake -DNM=nm -DOBJECTS="a.o;b.o" -P check_simd_symbols.cmake
set(bad "")
foreach(obj IN LISTS OBJECTS)
  execute_process(COMMAND ${NM} -C --defined-only ${obj} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "nm failed on ${obj}")
  endif()
  string(REGEX MATCHALL "[^\n]* [WVu] [^\n]*" weak "${symbols}")
  foreach(line IN LISTS weak)
    string(APPEND bad "  ${obj}: ${line}\n")
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "SIMD objects define weak symbols (make those helpers static or file-local):\n${bad}")
endif()
message(STATUS "no weak symbols in ${OBJECTS}")
