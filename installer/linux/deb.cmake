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
# What the app loads at run time and dpkg-shlibdeps cannot see (QML modules,
# Qt plugins): installer/linux/runtime-depends.txt, the list .ci/install-deps
# installs too (tests/installer/runtime_depends_test.py checks both).
if(TARGET sieve-desktop)
  file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/runtime-depends.txt sieve_runtime_lines ENCODING UTF-8)
  set(sieve_runtime_packages)
  foreach(line IN LISTS sieve_runtime_lines)
    string(REGEX REPLACE "#.*" "" line "${line}")
    string(STRIP "${line}" line)
    if(line)
      list(APPEND sieve_runtime_packages ${line})
    endif()
  endforeach()
  list(JOIN sieve_runtime_packages ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/runtime-depends.txt)
  # Wayland sessions use the native platform plugin when it is installed
  # (X11's is in libqt6gui6).
  set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-wayland")
endif()

# /usr/share/doc/sieve/copyright, as Debian policy asks of every package: the
# machine-readable format (DEP-5), with the top-level LICENSE (MIT, which
# Debian calls "Expat") as its license text: indented one space, blank lines as " .".
# LICENSE ends with the third-party notice (the grid tables' ggml origin,
# under the same license): that part becomes its own Files paragraph.
function(sieve_dep5_text text out)
  string(STRIP "${text}" text)
  string(REPLACE "\n\n" "\n.\n" text "${text}")
  string(REPLACE "\n" "\n " text "${text}")
  set(${out} " ${text}" PARENT_SCOPE)
endfunction()
file(READ ${CMAKE_SOURCE_DIR}/LICENSE sieve_license_file)
string(FIND "${sieve_license_file}" "\n-----" third_party_at)
string(SUBSTRING "${sieve_license_file}" 0 ${third_party_at} sieve_license_text)
string(SUBSTRING "${sieve_license_file}" ${third_party_at} -1 third_party_text)
string(FIND "${third_party_text}" "Copyright (c)" ggml_at)
string(SUBSTRING "${third_party_text}" ${ggml_at} -1 ggml_license_text)
sieve_dep5_text("${sieve_license_text}" SIEVE_DEB_LICENSE)
sieve_dep5_text("MIT License\n\n${ggml_license_text}" SIEVE_DEB_GGML_LICENSE)
configure_file(${SIEVE_INSTALLER_DIR}/linux/copyright.in ${CMAKE_BINARY_DIR}/debian/copyright @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/debian/copyright DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/sieve)
