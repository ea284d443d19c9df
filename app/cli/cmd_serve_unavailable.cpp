// `sieve serve` in a build without cpp-httplib (the MinGW cross build): says
// so instead of failing to link.

#include <cstdio>

#include "cli/commands.h"

namespace sieve::cli {

int cmd_serve(CommandArgs) {
  std::fprintf(stderr,
               "sieve serve: this build has no HTTP server (cpp-httplib was not found when it was built; "
               "Debian: libcpp-httplib-dev)\n");
  return 1;
}

}  // namespace sieve::cli
