#include "core/synth/synth_test_util.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <random>

#include "tensor/kernels.h"

namespace sieve::synth::testing {

ScratchDir::ScratchDir() {
  static std::atomic<int> counter{0};
  // Unique per process run and per test; '/' in parameterised names would nest folders.
  std::string name = "sieve-synth-test-" + std::to_string(std::random_device{}()) + "-" +
                     std::to_string(counter++);
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name += '-';
    name += info->name();
  }
  std::replace(name.begin(), name.end(), '/', '_');
  path_ = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

SynthSpec small_spec(const std::string& type) {
  SynthSpec spec;
  spec.shape.dim = 256;
  spec.shape.n_layers = 2;
  spec.shape.n_ff = 512;
  spec.shape.n_heads = 4;
  spec.shape.n_kv_heads = 2;
  spec.shape.context_length = 512;
  spec.type = type;
  spec.seed = 42;
  spec.threads = 2;
  return spec;
}

std::vector<uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<float> dequantize_row(const gguf::GgufFile& file, const gguf::TensorInfo& t,
                                  uint64_t row) {
  const uint64_t n = t.row_elements();
  const uint64_t row_bytes = tensor::bytes_for(t.type, n);
  const auto data = file.tensor_data(t);
  std::vector<float> out(n);
  const auto dequantize = tensor::kernels()[t.type].dequantize;
  EXPECT_NE(dequantize, nullptr) << "no dequantizer for " << tensor::type_name(t.type);
  if (dequantize != nullptr) {
    dequantize(data.data() + row * row_bytes, out.data(), static_cast<int64_t>(n));
  }
  return out;
}

std::filesystem::path shared_path(const std::string& relative) {
  return std::filesystem::path(SIEVE_SHARED_DIR) / relative;
}

}  // namespace sieve::synth::testing
