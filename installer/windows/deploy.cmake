# Windows: sieve-desktop.exe gets its icon and version resource, and the
# install step copies beside it everything it loads at run time:
#   * the DLLs CMake knows it links (Qt, QCoro when built shared), and
#   * what windeployqt finds: Qt's plugins (platform, SQLite driver, styles),
#     the QML modules ui/qml imports (--qmldir scans the sources; the QML
#     itself is compiled into the .exe) and the compiler runtime.
# `cmake --install` runs it too, so a plain install folder is runnable.
configure_file(${SIEVE_INSTALLER_DIR}/windows/sieve-desktop.rc.in
               ${CMAKE_BINARY_DIR}/installer/sieve-desktop.rc @ONLY)
target_sources(sieve-desktop PRIVATE ${CMAKE_BINARY_DIR}/installer/sieve-desktop.rc)

find_program(SIEVE_WINDEPLOYQT windeployqt
             HINTS "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS}" "${Qt6_DIR}/../../../bin"
             DOC "Qt's windeployqt, run when installing sieve-desktop")
if(NOT SIEVE_WINDEPLOYQT)
  message(WARNING "windeployqt not found: the install folder and the NSIS installer will lack Qt's DLLs")
endif()

install(CODE "
  set(sieve_bin \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(sieve_dlls \"$<TARGET_RUNTIME_DLLS:sieve-desktop>\")
  if(sieve_dlls)
    file(INSTALL \${sieve_dlls} DESTINATION \"\${sieve_bin}\")
  endif()
  if(EXISTS \"${SIEVE_WINDEPLOYQT}\")
    execute_process(
      COMMAND \"${SIEVE_WINDEPLOYQT}\"
              $<IF:$<CONFIG:Debug>,--debug,--release>
              --qmldir \"${SIEVE_QML_DIR}\"
              --no-translations
              --compiler-runtime
              \"\${sieve_bin}/$<TARGET_FILE_NAME:sieve-desktop>\"
      COMMAND_ERROR_IS_FATAL ANY)
  endif()
")
