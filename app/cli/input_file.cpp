#include "cli/input_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "util/error.h"

namespace sieve::cli {

std::string read_input_file(const std::string& path) {
  std::ostringstream content;
  if (path == "-") {
    content << std::cin.rdbuf();
    return content.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read the file (" + std::strerror(errno) + ")");
  content << in.rdbuf();
  return content.str();
}

}  // namespace sieve::cli
