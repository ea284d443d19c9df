#pragma once
// Parses the header, metadata and tensor table of a GGUF file held in memory
// (a mapping), checking every count, length, offset and type before use.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_value.h"

namespace sieve::gguf {

struct ParsedGguf {
  uint32_t version = 0;
  uint32_t alignment = kDefaultAlignment;
  uint64_t data_offset = 0;
  std::vector<KeyValue> metadata;
  std::vector<TensorInfo> tensors;
};

// `name` prefixes every error message ("<name>: <problem>"). Throws sieve::Error.
ParsedGguf parse_gguf(std::span<const std::byte> bytes, const std::string& name);

}  // namespace sieve::gguf
