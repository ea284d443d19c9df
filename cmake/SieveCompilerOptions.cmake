# Warnings, sanitizers and per-ISA flags shared by every target.

add_library(sieve_options INTERFACE)
if(MSVC)
  target_compile_options(sieve_options INTERFACE /W4 /permissive-)
else()
  target_compile_options(sieve_options INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)
endif()

# SIEVE_SANITIZE: ON (or "address") = AddressSanitizer + UBSan (the asan
# preset); "thread" = ThreadSanitizer (the tsan preset, docs/hardening.md).
# SIEVE_FUZZ: the libFuzzer targets of tests/fuzz (clang only); the whole
# build gets ASan + UBSan and coverage instrumentation, so the engine code the
# fuzzers reach guides them.
option(SIEVE_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only)" OFF)
if(SIEVE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SIEVE_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                        "-DCMAKE_C_COMPILER=clang, or use the fuzz preset.")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(SIEVE_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(SIEVE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# Which SIMD kernel families this build compiles. Each family lives in its own
# source files with its own flags; the CPU is asked at run time which one to use.
set(SIEVE_ARCH_X86 OFF)
set(SIEVE_ARCH_ARM64 OFF)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(SIEVE_ARCH_X86 ON)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(SIEVE_ARCH_ARM64 ON)
endif()

if(MSVC)
  set(SIEVE_AVX2_FLAGS /arch:AVX2)
  set(SIEVE_AVX512_FLAGS /arch:AVX512)
else()
  set(SIEVE_AVX2_FLAGS -mavx2 -mfma -mf16c)
  set(SIEVE_AVX512_FLAGS -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq)
endif()
