# ctest test_qmllint: every ui/qml/*.qml through qmllint with the build's QML
# import path (<build>/ui: Sieve/Ui and Sieve/App, whose qmltypes
# qmltyperegistrar writes when sieve_app builds). Fails on anything qmllint
# prints — a warning, or an info line such as "Did you mean ...?" — and on a
# non-zero exit, so the QML stays free of unqualified access, unknown
# properties and unresolved types.
#   cmake -DQMLLINT=<qmllint> -DQML_DIR=<src>/ui/qml -DIMPORT_PATH=<build>/ui -P qmllint.cmake
foreach(var QMLLINT QML_DIR IMPORT_PATH)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "qmllint.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT EXISTS "${IMPORT_PATH}/Sieve/App/qmldir")
  message(FATAL_ERROR "qmllint.cmake: ${IMPORT_PATH}/Sieve/App/qmldir is missing: build sieve_app first")
endif()
file(GLOB qml_files "${QML_DIR}/*.qml")
list(LENGTH qml_files count)
if(count EQUAL 0)
  message(FATAL_ERROR "qmllint.cmake: no .qml files in ${QML_DIR}")
endif()
execute_process(
  COMMAND "${QMLLINT}" -I "${IMPORT_PATH}" ${qml_files}
  RESULT_VARIABLE status
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)
string(STRIP "${out}" out)
if(NOT status EQUAL 0 OR NOT out STREQUAL "")
  message(FATAL_ERROR "qmllint (exit ${status}) on ${count} files of ${QML_DIR}:\n${out}")
endif()
message(STATUS "qmllint: ${count} files of ${QML_DIR}, no warnings")
