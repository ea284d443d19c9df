# The desktop app sees the engine only through its public API: core/engine.h,
# the headers it includes and the ones its comment names (its "public API"
# list). Any other core/ header included from app/desktop fails the build
# with the file and the include. Run on every build (target
# check_app_includes, which sieve_app depends on).
#
#   cmake -DCORE_DIR=.../core -DAPP_DIR=.../app/desktop -P cmake/app_includes.cmake
cmake_minimum_required(VERSION 3.25)  # IN_LIST in script mode

if(NOT CORE_DIR OR NOT APP_DIR)
  message(FATAL_ERROR "app_includes.cmake: set CORE_DIR and APP_DIR")
endif()

# Every "folder/file.h" engine.h mentions, in an #include or in its comment.
file(READ "${CORE_DIR}/engine.h" engine_header)
string(REGEX MATCHALL "\"[a-z_]+/[a-z_/]+\\.h\"" named "${engine_header}")
set(public engine.h)
foreach(quoted IN LISTS named)
  string(REPLACE "\"" "" header "${quoted}")
  list(APPEND public "${header}")
endforeach()

file(GLOB core_folders LIST_DIRECTORIES true RELATIVE "${CORE_DIR}" "${CORE_DIR}/*")
set(violations "")
file(GLOB_RECURSE sources "${APP_DIR}/*.h" "${APP_DIR}/*.cpp")
foreach(source IN LISTS sources)
  file(STRINGS "${source}" includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*$" "\\1" header "${line}")
    string(REGEX REPLACE "/.*$" "" folder "${header}")
    if(NOT (header STREQUAL "engine.h" OR (header MATCHES "/" AND folder IN_LIST core_folders)))
      continue()  # the app's own headers
    endif()
    if(NOT header IN_LIST public)
      file(RELATIVE_PATH where "${APP_DIR}/.." "${source}")
      string(APPEND violations "\n  app/${where} includes \"${header}\"")
    endif()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "The app includes only core/engine.h and the public headers it names "
                      "(cmake/app_includes.cmake):${violations}")
endif()
