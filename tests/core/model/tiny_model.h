#pragma once
// Tiny random F32 models written with GgufWriter, and a plain double-precision
// forward pass over the same weights, written independently of core/model, to
// check every architecture variant the engine supports (qwen2 biases and NeoX
// RoPE, ReLU-family activations, norm ReLU, partial and scaled RoPE, tied
// output).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sieve::test {

struct TinySpec {
  std::string arch = "llama";
  int64_t dim = 16, n_layers = 2, n_ff = 24, n_heads = 4, n_kv_heads = 2, n_vocab = 40, context = 64;
  int64_t n_rot = 0;  // 0: the head size
  double rope_base = 10000.0;
  double rope_linear_factor = 1.0;  // written as rope.scaling.* when not 1
  bool rope_freqs = false;  // a rope_freqs.weight tensor of per-pair divisors
  bool tied_output = false;
  std::string activation;  // sieve.ffn.activation; empty: key absent (silu)
  float relu_threshold = 0.0f;
  float relu_shift = 0.0f;
  bool norm_relu = false;
  float norm_relu_shift = 0.0f;
  float rms_eps = 1e-5f;
  uint64_t seed = 1;

  int64_t head_dim() const { return dim / n_heads; }
  int64_t rot() const { return n_rot ? n_rot : head_dim(); }
  bool neox() const { return arch == "qwen2"; }
  bool biases() const { return arch == "qwen2"; }
};

// Tensor name -> (GGUF dims, row-major values).
struct TinyTensor {
  std::vector<uint64_t> dims;
  std::vector<float> values;
};
using TinyWeights = std::map<std::string, TinyTensor>;

TinyWeights make_tiny_weights(const TinySpec& spec);
// Writes the model as F32 (erase entries from `weights` first to test errors).
void write_tiny_model(const std::filesystem::path& path, const TinySpec& spec, const TinyWeights& weights);

// Logits after each token of `tokens` (teacher forcing from position 0). Like
// the engine, keys, values, queries and attention weights are rounded to
// half precision; everything else is double.
std::vector<std::vector<double>> naive_forward(const TinySpec& spec, const TinyWeights& weights,
                                               const std::vector<int32_t>& tokens);

}  // namespace sieve::test
