# The engine's third-party libraries, both used header-only:
#   nlohmann_json::nlohmann_json  nlohmann-json 3 (Debian nlohmann-json3-dev): JSON values,
#                                 parsing and writing (reference files, disk profiles, CLI output).
#   sieve::xxhash                 xxHash's header (Debian libxxhash-dev): the pack checksum XXH64,
#                                 compiled into core/flash/checksum.cpp with XXH_INLINE_ALL, so
#                                 nothing links libxxhash.so and no package needs libxxhash0.
#
# A cross build (the mingw preset) cannot put the host's /usr/include on its include path: its
# glibc headers would shadow MinGW's. There both come from a folder in the build tree that holds
# only links to those two headers, made here at configure time.

set(SIEVE_HOST_INCLUDE_DIR /usr/include CACHE PATH "Where the host's nlohmann/ and xxhash.h are (cross builds)")

if(NOT CMAKE_CROSSCOMPILING)
  find_package(nlohmann_json 3 REQUIRED)
  find_path(SIEVE_XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
else()
  find_path(SIEVE_HOST_NLOHMANN_DIR nlohmann/json.hpp PATHS ${SIEVE_HOST_INCLUDE_DIR}
            NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH REQUIRED)
  find_path(SIEVE_HOST_XXHASH_DIR xxhash.h PATHS ${SIEVE_HOST_INCLUDE_DIR}
            NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH REQUIRED)
  file(STRINGS ${SIEVE_HOST_NLOHMANN_DIR}/nlohmann/detail/abi_macros.hpp nlohmann_major
       REGEX "^#define NLOHMANN_JSON_VERSION_MAJOR [0-9]+")
  if(NOT nlohmann_major MATCHES "MAJOR 3( |$)")
    message(FATAL_ERROR "nlohmann-json 3 needed, ${SIEVE_HOST_NLOHMANN_DIR}/nlohmann has: ${nlohmann_major}")
  endif()
  set(third_party_include ${CMAKE_BINARY_DIR}/third_party/include)
  file(MAKE_DIRECTORY ${third_party_include})
  file(CREATE_LINK ${SIEVE_HOST_NLOHMANN_DIR}/nlohmann ${third_party_include}/nlohmann SYMBOLIC)
  file(CREATE_LINK ${SIEVE_HOST_XXHASH_DIR}/xxhash.h ${third_party_include}/xxhash.h SYMBOLIC)
  add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
  set_target_properties(nlohmann_json::nlohmann_json PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${third_party_include})
  set(SIEVE_XXHASH_INCLUDE_DIR ${third_party_include})
endif()

add_library(sieve::xxhash INTERFACE IMPORTED)
set_target_properties(sieve::xxhash PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${SIEVE_XXHASH_INCLUDE_DIR})
