#pragma once
// Where each weight of a llama2.c checkpoint lies in the file, under the GGUF
// tensor name and shape it is converted to. Internal to core/import.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "import/llama2c.h"

namespace sieve::importer {

enum class SourceEncoding {
  F32,         // count float32 values
  Int8Groups,  // count int8 values, then count / group_size float32 scales
};

struct SourceTensor {
  std::string name;            // GGUF tensor name, e.g. "blk.0.attn_q.weight"
  std::vector<uint64_t> dims;  // GGUF dims: dims[0] is the contiguous (input) dimension
  uint64_t offset = 0;         // file offset of the first value
  SourceEncoding encoding = SourceEncoding::F32;

  uint64_t count() const;
};

struct CheckpointLayout {
  Llama2cConfig config;
  std::vector<SourceTensor> tensors;  // in the order they are written to the GGUF
};

// Parses and validates the header in `file` (the whole checkpoint) and places
// every tensor; the file must end exactly after the last one. `where` names
// the file in errors. Throws sieve::Error.
CheckpointLayout read_checkpoint_layout(std::span<const std::byte> file, const std::string& where);

}  // namespace sieve::importer
