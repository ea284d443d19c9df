# The Debian package `sieve` (sieve_<version>_<arch>.deb), for Debian 12
# (bookworm) and its derivatives: /usr/bin/sieve-desktop, /usr/bin/sieve, the
# desktop entry and the icons. Per-user data (history, settings, packed
# models) is written by the app under the user's home (QStandardPaths:
# ~/.local/share/Sieve/Sieve, ~/.config/Sieve), so removing or purging the
# package leaves it in place.
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_PACKAGE_NAME "sieve")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://sieve.app")
# The shared libraries the executables link (libqt6*, libqcoro6*, libc,
# libstdc++) become dependencies through dpkg-shlibdeps.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# What the app loads at run time and dpkg-shlibdeps cannot see: the QML
# modules ui/qml imports (QtQuick, Controls, Layouts, Dialogs,
# Qt.labs.settings, and the modules those import) and the SQLite driver of
# the history store. Keep in step with .ci/install-deps.
if(TARGET sieve-desktop)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libqt6sql6-sqlite, qml6-module-qtquick, qml6-module-qtquick-controls, \
qml6-module-qtquick-templates, qml6-module-qtquick-layouts, qml6-module-qtquick-window, \
qml6-module-qtquick-dialogs, qml6-module-qt-labs-settings, qml6-module-qtqml-workerscript, \
qml6-module-qtqml-models")
  # Wayland sessions use the native platform plugin when it is installed
  # (X11's is in libqt6gui6).
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-wayland")
endif()

# /usr/share/doc/sieve/copyright, as Debian policy asks of every package: the
# machine-readable format (DEP-5), with the top-level LICENSE (MIT, which
# Debian calls "Expat") as its license text: indented one space, blank lines as " .".
file(READ ${CMAKE_SOURCE_DIR}/LICENSE sieve_license_text)
string(STRIP "${sieve_license_text}" sieve_license_text)
string(REPLACE "\n\n" "\n.\n" sieve_license_text "${sieve_license_text}")
string(REPLACE "\n" "\n " sieve_license_text "${sieve_license_text}")
set(SIEVE_DEB_LICENSE " ${sieve_license_text}")
configure_file(${SIEVE_INSTALLER_DIR}/linux/copyright.in ${CMAKE_BINARY_DIR}/debian/copyright @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/sieve)
