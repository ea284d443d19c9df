#pragma once
// Tensors of a GGUF file (or pack) read into one aligned buffer of our own
// with direct I/O: the resident weights of flash mode and all weights of
// dense mode. Unlike the memory mapping, these bytes do not depend on the OS
// page cache and count once, exactly, against the DRAM budget.
//
// Tensors that lie close together in the file are read as one run (the few
// bytes of padding between them come along); each run starts on an aligned
// boundary of the buffer, so every read lands straight in place.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "flash/io/aligned_buffer.h"
#include "flash/io/io_engine.h"
#include "gguf/gguf_file.h"

namespace sieve::flash {

class TensorBuffer {
 public:
  // The expected checksum of a tensor, or nullopt to skip the check.
  using ExpectedChecksum = std::function<std::optional<uint64_t>(const gguf::TensorInfo&)>;

  TensorBuffer() = default;

  // Bytes the buffer for `tensors` of `file` takes (alignment included).
  static uint64_t bytes_needed(const gguf::GgufFile& file, std::span<const gguf::TensorInfo* const> tensors);

  // Reads the tensors through `io` (an engine over the same file). Throws
  // sieve::Error on a failed read or, when `expected` is given, on a
  // checksum mismatch (naming the tensor).
  static TensorBuffer read(const gguf::GgufFile& file, IoEngine& io, std::span<const gguf::TensorInfo* const> tensors,
                           uint32_t max_read, const ExpectedChecksum& expected = {});

  // A loaded tensor's bytes; empty span when it was not loaded.
  std::span<const std::byte> bytes(const gguf::TensorInfo& tensor) const;
  uint64_t allocated_bytes() const { return buffer_.size(); }

 private:
  struct Run {
    uint64_t file_begin = 0, file_end = 0;  // aligned
    uint64_t buffer_offset = 0;
  };
  static std::vector<Run> plan_runs(const gguf::GgufFile& file, std::span<const gguf::TensorInfo* const> tensors);

  AlignedBuffer buffer_;
  std::unordered_map<std::string, std::span<const std::byte>> by_name_;
};

}  // namespace sieve::flash
