# The installers (issue 8), included last from the top-level CMakeLists.txt:
#   Linux   .deb         cpack -G DEB        (system Qt 6 / QCoro packages as dependencies)
#   Windows NSIS .exe    cpack -G NSIS       (Qt deployed beside the app by windeployqt)
#   macOS   DragNDrop    cpack -G DragNDrop  (Sieve.app deployed by macdeployqt)
# One command on each OS: `cmake --workflow --preset package` (docs/installers.md).
# The executables' own install() rules are in app/CMakeLists.txt and
# app/desktop/CMakeLists.txt; this file adds the desktop integration, the Qt
# deployment steps and the CPack settings.
include(GNUInstallDirs)

set(SIEVE_INSTALLER_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SIEVE_ICON_DIR ${CMAKE_SOURCE_DIR}/resources/icons)
set(SIEVE_QML_DIR ${CMAKE_SOURCE_DIR}/ui/qml)

if(TARGET sieve-desktop)
  if(WIN32)
    include(${SIEVE_INSTALLER_DIR}/windows/deploy.cmake)
  elseif(APPLE)
    include(${SIEVE_INSTALLER_DIR}/macos/deploy.cmake)
  else()
    include(${SIEVE_INSTALLER_DIR}/linux/deploy.cmake)
  endif()
endif()

# ---- CPack: what every generator shares ----
set(CPACK_PACKAGE_NAME "sieve")
set(CPACK_PACKAGE_VENDOR "Sieve")
set(SIEVE_PACKAGE_CONTACT "Sieve developers <sieve@sieve.app>" CACHE STRING
    "Maintainer named in the installers (Debian's Maintainer field)")
set(CPACK_PACKAGE_CONTACT "${SIEVE_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Offline chat with language models larger than your RAM")
set(CPACK_PACKAGE_DESCRIPTION
    "Sieve is an offline desktop assistant that chats with language models larger than the \
computer's free RAM: it keeps the weights on the SSD and, for each token, reads only the \
feed-forward neurons that token needs. Nothing leaves the machine. This package holds the \
desktop app (sieve-desktop) and the command-line tool (sieve).")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "Sieve")
set(CPACK_PACKAGE_EXECUTABLES "sieve-desktop" "Sieve")
set(CPACK_RESOURCE_FILE_LICENSE ${SIEVE_INSTALLER_DIR}/about.txt)
set(CPACK_STRIP_FILES ON)
set(CPACK_VERBATIM_VARIABLES ON)
# Per-generator settings that must be decided when cpack runs (e.g. the DMG
# volume icon, which NSIS would misread as its header bitmap).
configure_file(${SIEVE_INSTALLER_DIR}/cpack-per-generator.cmake.in
               ${CMAKE_BINARY_DIR}/SieveCPackOptions.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_BINARY_DIR}/SieveCPackOptions.cmake)

if(WIN32)
  set(CPACK_GENERATOR "NSIS")
  include(${SIEVE_INSTALLER_DIR}/windows/nsis.cmake)
elseif(APPLE)
  set(CPACK_GENERATOR "DragNDrop")
  set(CPACK_DMG_VOLUME_NAME "Sieve")
  set(CPACK_DMG_FORMAT "UDZO")
  set(CPACK_PACKAGE_FILE_NAME "Sieve-${PROJECT_VERSION}-macos-${CMAKE_SYSTEM_PROCESSOR}")
else()
  set(CPACK_GENERATOR "DEB")
  include(${SIEVE_INSTALLER_DIR}/linux/deb.cmake)
endif()

include(CPack)
