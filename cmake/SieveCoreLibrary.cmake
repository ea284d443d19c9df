# One static library per core/ folder: sieve_core_library(<folder> [DEPENDS
# <folder>...]) in core/<folder>/CMakeLists.txt makes sieve_<folder> and links
# the folders it names PRIVATE. Those must be libraries already made: core/
# adds its folders lowest first, so a dependency can only point down, and an
# upward one fails the configure step here. Every folder's includes are
# checked against the folders it names on every build (cmake/layering.cmake),
# so an include that does not match a declared, downward dependency fails the
# build with the file and the include.
#
# core/engine.h belongs to the engine folder; core's include root is public to
# every library (headers are found as "folder/file.h").

set(SIEVE_CORE_DEPENDENCIES_FILE "${CMAKE_BINARY_DIR}/core_dependencies.cmake")
file(WRITE "${SIEVE_CORE_DEPENDENCIES_FILE}" "# Written by cmake/SieveCoreLibrary.cmake: each core/ folder and the folders it links.\n")

function(sieve_core_library folder)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "DEPENDS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sieve_core_library(${folder}): unexpected arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  foreach(dependency IN LISTS arg_DEPENDS)
    if(NOT TARGET sieve_${dependency})
      message(FATAL_ERROR "core/${folder} depends on core/${dependency}, which is not a lower layer: core/CMakeLists.txt "
                          "adds the folders lowest first, and a folder may depend only on folders added before it.")
    endif()
  endforeach()
  add_library(sieve_${folder} STATIC)
  target_include_directories(sieve_${folder} PUBLIC ${SIEVE_CORE_DIR})
  target_link_libraries(sieve_${folder} PUBLIC sieve_options PRIVATE Threads::Threads)
  foreach(dependency IN LISTS arg_DEPENDS)
    target_link_libraries(sieve_${folder} PRIVATE sieve_${dependency})
  endforeach()
  add_dependencies(sieve_${folder} check_layering)
  file(APPEND "${SIEVE_CORE_DEPENDENCIES_FILE}" "set(SIEVE_DEPENDS_${folder} \"${arg_DEPENDS}\")\nlist(APPEND SIEVE_FOLDERS ${folder})\n")
  target_link_libraries(sieve_core INTERFACE sieve_${folder})
endfunction()
