#pragma once
// What a model file holds, read from its header without loading the weights:
// the app's Models page lists it, and refuses a file Sieve cannot run before
// the user waits for a load.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sieve {

struct WeightTypeBytes {
  std::string type;  // "Q4_K", "F16", ... (tensor/tensor_type.h names)
  uint64_t bytes = 0;
  bool computable = true;  // Sieve has kernels for it
};

struct ModelFileInfo {
  std::string architecture;  // general.architecture
  std::string name;          // general.name; empty when the file has none
  uint64_t file_bytes = 0;
  bool is_pack = false;      // a Sieve pack (`sieve pack`) rather than a plain GGUF
  int64_t n_layers = 0;
  int64_t n_experts = 0;     // experts per layer (Mixture of Experts); 0: a dense model
  int64_t train_context = 0;
  int64_t default_context = 0;  // what EngineOptions::context = 0 runs with
  uint64_t parameters = 0;
  std::vector<WeightTypeBytes> weight_types;  // by bytes, largest first
};

// Throws sieve::Error for a file that is not a GGUF, or whose architecture
// or shapes Sieve cannot run (the engine's own checks). Tensor types without
// kernels are reported (computable = false), not refused.
ModelFileInfo inspect_model_file(const std::filesystem::path& path);

}  // namespace sieve
