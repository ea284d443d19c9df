# Cross-compiling Sieve's engine, the `sieve` CLI and the core tests for
# 64-bit Windows with Debian's MinGW-w64 toolchain:
#   apt-get install g++-mingw-w64-x86-64-posix
# The "-posix" flavour uses the winpthreads threading model, which
# std::thread, std::mutex and std::condition_variable need (the "-win32"
# flavour of GCC 12 has no std::thread).
# Used by the `mingw` preset (CMakePresets.json) and .ci/windows-check.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(SIEVE_MINGW_TRIPLE x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${SIEVE_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${SIEVE_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${SIEVE_MINGW_TRIPLE}-windres)

# Look for libraries and headers only in the MinGW sysroot (and in prefixes
# the caller adds, e.g. a GoogleTest built for Windows); programs come from
# the host.
set(CMAKE_FIND_ROOT_PATH /usr/${SIEVE_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained .exe files: no libstdc++-6.dll, libgcc_s_seh-1.dll or
# libwinpthread-1.dll to ship beside them or to find under wine.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# Tests run the cross-compiled executables under wine (ctest and
# gtest_discover_tests use this emulator).
find_program(SIEVE_WINE NAMES wine wine64)
if(SIEVE_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SIEVE_WINE})
endif()
