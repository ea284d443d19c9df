#pragma once
// Writes a GGUF version 3 file, streaming tensor data so multi-GB files are
// written at disk speed without holding them in memory.
//
//   GgufWriter w(path);
//   w.set("general.architecture", Value::string("llama"));
//   w.add_tensor("token_embd.weight", TensorType::F16, {dim, vocab});
//   w.begin_data();                        // header, metadata, tensor table
//   w.write_tensor_data(0, bytes);         // in add_tensor order, may be chunked
//   w.finish();                            // pads, flushes, closes; throws on I/O error
//
// Tensor data offsets are assigned in add_tensor order, each aligned to
// `general.alignment` (32 unless set). write_tensor_data may be called several
// times per tensor with consecutive chunks; finish() checks every tensor got
// exactly its size. The file is written to "<path>.partial" and renamed on
// finish(), so an interrupted write never leaves a truncated model behind.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "gguf/gguf_value.h"
#include "tensor/tensor_type.h"

namespace sieve::gguf {

class GgufWriter {
 public:
  explicit GgufWriter(std::filesystem::path path);
  ~GgufWriter();  // removes the partial file if finish() was not reached
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Adds or replaces a metadata key (order of first insertion is kept).
  void set(const std::string& key, Value value);
  // Declares a tensor; returns its index. dims[0] is the contiguous dimension.
  size_t add_tensor(const std::string& name, tensor::TensorType type, std::vector<uint64_t> dims);
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  void begin_data();
  void write_tensor_data(size_t tensor_index, std::span<const std::byte> bytes);
  void finish();

 private:
  std::filesystem::path path_;
  std::filesystem::path partial_path_;
  std::vector<KeyValue> metadata_;
  std::vector<TensorInfo> tensors_;
  std::vector<uint64_t> written_;  // bytes written per tensor so far
  uint32_t alignment_ = kDefaultAlignment;
  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> stream_buffer_;  // stdio buffer of file_, freed after fclose
  uint64_t position_ = 0;       // bytes written to the file
  uint64_t data_start_ = 0;     // file offset of the data section
  size_t current_tensor_ = 0;   // index being written
  bool finished_ = false;
};

}  // namespace sieve::gguf
