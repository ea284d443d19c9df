#pragma once
// Helpers for the synthetic-model tests: a scratch folder, small specs, and
// dequantized reads of a written file's tensors.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "synth/synth_model.h"

namespace sieve::synth::testing {

// A fresh folder under the system temp folder, removed with its contents.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::filesystem::path file(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A small model that every type fits: dim 256, 2 layers, n_ff 512, 4/2 heads.
SynthSpec small_spec(const std::string& type = "f16");

std::vector<uint8_t> read_bytes(const std::filesystem::path& path);

// Row `row` of a tensor, converted to floats with the kernel table.
std::vector<float> dequantize_row(const gguf::GgufFile& file, const gguf::TensorInfo& t,
                                  uint64_t row);

std::filesystem::path shared_path(const std::string& relative);

}  // namespace sieve::synth::testing
