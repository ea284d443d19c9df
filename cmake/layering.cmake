# Dependencies in core/ point one way. Each folder may include its own
# headers and those of the folders its CMakeLists.txt names in
# sieve_core_library(... DEPENDS ...) (cmake/SieveCoreLibrary.cmake), which can
# only be lower layers; core/engine.h is the engine folder's public header.
# Run as a script on every build (target check_layering, which every core
# library depends on), so an include that is not a declared, downward
# dependency fails the build with the file and the include.
#
#   cmake -DCORE_DIR=.../core -DDEPENDENCIES=<build>/core_dependencies.cmake -P cmake/layering.cmake

cmake_minimum_required(VERSION 3.25)  # IN_LIST in script mode

if(NOT CORE_DIR OR NOT DEPENDENCIES)
  message(FATAL_ERROR "layering.cmake: set CORE_DIR and DEPENDENCIES")
endif()
include("${DEPENDENCIES}")

set(violations "")
foreach(folder IN LISTS SIEVE_FOLDERS)
  file(GLOB_RECURSE sources "${CORE_DIR}/${folder}/*.h" "${CORE_DIR}/${folder}/*.cpp" "${CORE_DIR}/${folder}/*.inc")
  if(folder STREQUAL "engine")
    list(APPEND sources "${CORE_DIR}/engine.h")
  endif()
  foreach(source IN LISTS sources)
    file(STRINGS "${source}" includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*$" "\\1" header "${line}")
      if(header STREQUAL "engine.h")
        set(target engine)
      elseif(header MATCHES "/")
        string(REGEX REPLACE "/.*$" "" target "${header}")
      else()
        continue()  # a file beside this one
      endif()
      if(target STREQUAL folder OR target IN_LIST SIEVE_DEPENDS_${folder})
        continue()
      endif()
      file(RELATIVE_PATH where "${CORE_DIR}" "${source}")
      if(NOT target IN_LIST SIEVE_FOLDERS)
        string(APPEND violations "\n  core/${where} includes \"${header}\": there is no core/${target} library")
      else()
        list(FIND SIEVE_FOLDERS ${folder} rank)
        list(FIND SIEVE_FOLDERS ${target} target_rank)
        if(target_rank GREATER rank)
          set(why "${target} is a higher layer than ${folder}")
        else()
          set(why "core/${folder}/CMakeLists.txt does not name ${target} in DEPENDS")
        endif()
        string(APPEND violations "\n  core/${where} includes \"${header}\": ${why}")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "core/ layering: a folder includes only itself and the lower folders it depends on "
                      "(cmake/layering.cmake):${violations}")
endif()
