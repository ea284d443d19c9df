#pragma once
// Reads a GGUF file (versions 2 and 3): header, metadata, tensor table, and
// zero-copy access to tensor data through a read-only memory mapping.
//
// Every count, length, offset, size and type id is validated while parsing. A
// malformed file raises sieve::Error with one sentence naming the file and the
// problem; nothing is allocated from an unchecked count.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_value.h"
#include "tensor/tensor_type.h"

namespace sieve::gguf {

inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr uint32_t kMaxDims = 4;

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // dims[0] is the contiguous (row) dimension
  tensor::TensorType type = tensor::TensorType::F32;
  uint64_t offset = 0;      // relative to the start of the data section
  uint64_t n_elements = 0;  // product of dims
  uint64_t size_bytes = 0;  // bytes the data occupies

  uint64_t row_elements() const { return dims.empty() ? 1 : dims[0]; }
  uint64_t n_rows() const { return dims.empty() ? 1 : n_elements / dims[0]; }
};

class MappedFile;  // read-only mapping of a whole file (gguf/mapped_file.h)

class GgufFile {
 public:
  // Parses and validates `path`. Throws sieve::Error on any problem.
  static GgufFile open(const std::filesystem::path& path);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  const std::filesystem::path& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t file_size() const { return file_size_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of the data section

  const std::vector<KeyValue>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;
  // Typed lookups: nullopt when the key is absent; sieve::Error when present
  // with the wrong type (the message names the key and both types).
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::vector<std::string>> get_string_array(std::string_view key) const;
  std::optional<std::vector<double>> get_float_array(std::string_view key) const;
  std::optional<std::vector<int64_t>> get_int_array(std::string_view key) const;
  // "general.architecture", or "" when absent.
  std::string architecture() const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;
  // The tensor's bytes inside the mapping (valid while this object lives).
  std::span<const std::byte> tensor_data(const TensorInfo& tensor) const;
  // Absolute file offset of the tensor's first byte (for pread / direct I/O).
  uint64_t tensor_file_offset(const TensorInfo& tensor) const { return data_offset_ + tensor.offset; }

 private:
  GgufFile() = default;
  std::filesystem::path path_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kDefaultAlignment;
  uint64_t file_size_ = 0;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> metadata_;
  std::vector<TensorInfo> tensors_;
  std::unique_ptr<MappedFile> mapping_;
};

}  // namespace sieve::gguf
