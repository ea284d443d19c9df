#pragma once
// The one exception type the engine throws for bad input or failed I/O.
// Messages are complete sentences a user can act on: they name the file (or
// thing) and the problem, e.g. "model.gguf: tensor 'blk.0.ffn_up.weight' data
// ends past the end of the file (offset 123456, file size 100000)".

#include <stdexcept>
#include <string>

namespace sieve {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace sieve
