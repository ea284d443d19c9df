# macOS: sieve-desktop is built as the bundle Sieve.app (MACOSX_BUNDLE, set
# in app/desktop/CMakeLists.txt) with installer/macos/Info.plist.in and
# resources/icons/sieve.icns; the `sieve` command line goes inside it, in
# Sieve.app/Contents/Helpers (app/CMakeLists.txt). Installing runs
# macdeployqt on the bundle: Qt frameworks, plugins and the QML modules
# ui/qml imports (-qmldir) are copied in, and the bundle is signed ad hoc
# (-codesign=-, which Apple silicon requires; a Developer ID signature and
# notarisation are a release step, docs/installers.md).
set_target_properties(sieve-desktop PROPERTIES
  OUTPUT_NAME "Sieve"
  MACOSX_BUNDLE_INFO_PLIST ${SIEVE_INSTALLER_DIR}/macos/Info.plist.in
  MACOSX_BUNDLE_BUNDLE_NAME "Sieve"
  MACOSX_BUNDLE_GUI_IDENTIFIER "app.sieve.Sieve"
  MACOSX_BUNDLE_ICON_FILE "sieve.icns"
  MACOSX_BUNDLE_BUNDLE_VERSION "${PROJECT_VERSION}"
  MACOSX_BUNDLE_SHORT_VERSION_STRING "${PROJECT_VERSION}"
  MACOSX_BUNDLE_COPYRIGHT "Sieve")
target_sources(sieve-desktop PRIVATE ${SIEVE_ICON_DIR}/sieve.icns)
set_source_files_properties(${SIEVE_ICON_DIR}/sieve.icns TARGET_DIRECTORY sieve-desktop
                            PROPERTIES MACOSX_PACKAGE_LOCATION Resources)

find_program(SIEVE_MACDEPLOYQT macdeployqt
             HINTS "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_BINS}" "${Qt6_DIR}/../../../bin"
             DOC "Qt's macdeployqt, run when installing Sieve.app")
if(NOT SIEVE_MACDEPLOYQT)
  message(WARNING "macdeployqt not found: the installed Sieve.app and the .dmg will lack Qt")
endif()

install(CODE "
  if(EXISTS \"${SIEVE_MACDEPLOYQT}\")
    execute_process(
      COMMAND \"${SIEVE_MACDEPLOYQT}\" \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/Sieve.app\"
              \"-qmldir=${SIEVE_QML_DIR}\"
              -always-overwrite
              -codesign=-
      COMMAND_ERROR_IS_FATAL ANY)
  endif()
")
