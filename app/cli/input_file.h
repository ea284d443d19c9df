#pragma once
// Reading a command's input text: a file, or standard input for "-".

#include <string>

namespace sieve::cli {

// The whole content of `path` ("-" reads standard input). Throws sieve::Error
// naming the path when it cannot be read.
std::string read_input_file(const std::string& path);

}  // namespace sieve::cli
