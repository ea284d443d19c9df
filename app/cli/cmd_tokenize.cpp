// STUB
#include <cstdio>
#include "cli/commands.h"
namespace sieve::cli {
int cmd_tokenize(CommandArgs) { std::fprintf(stderr, "not implemented yet\n"); return 1; }
}  // namespace sieve::cli
