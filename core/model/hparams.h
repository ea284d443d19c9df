#pragma once
// Hyper-parameters of a llama-family model, read from GGUF metadata.
//
// Architecture differences are data: the table in hparams.cpp says, per
// `general.architecture`, which RoPE pairing it uses and whether Q/K/V carry
// biases. Sieve's own keys (docs/inference.md) select the feed-forward
// activation and an optional ReLU on the normalised block inputs.

#include <cstdint>
#include <string>

#include "tensor/ops.h"

namespace sieve::gguf {
class GgufFile;
}

namespace sieve::model {

// The activation applied to the gate projection of the feed-forward block;
// the result is multiplied element-wise with the up projection.
enum class FfnActivation {
  Silu,         // silu(g)                      (SwiGLU, the llama default)
  Relu,         // max(g, 0)
  FatRelu,      // g > threshold ? g : 0
  ShiftedRelu,  // max(g - shift, 0)
};
const char* activation_name(FfnActivation activation);

struct HyperParams {
  std::string architecture;  // "llama" or "qwen2"
  int64_t dim = 0;           // embedding width
  int64_t n_layers = 0;
  int64_t n_ff = 0;          // feed-forward hidden width
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;    // < n_heads for grouped-query attention
  int64_t head_dim = 0;
  int64_t n_vocab = 0;
  int64_t train_context = 0;  // context length the model was trained with

  int64_t n_rot = 0;              // leading values of each head that RoPE rotates
  double rope_freq_base = 10000.0;
  double rope_linear_factor = 1.0;  // positions are divided by this (linear scaling)
  tensor::RopeStyle rope_style = tensor::RopeStyle::Normal;
  float rms_eps = 1e-5f;

  bool qkv_bias = false;  // qwen2: Q, K and V projections add a bias

  FfnActivation ffn_activation = FfnActivation::Silu;
  float ffn_relu_threshold = 0.0f;  // FatRelu
  float ffn_relu_shift = 0.0f;      // ShiftedRelu

  // When set, the normalised inputs of attention and of the feed-forward block
  // (not the final norm) become max(x - norm_relu_shift, 0).
  bool norm_relu = false;
  float norm_relu_shift = 0.0f;

  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
};

// Reads and validates the hyper-parameters. n_vocab comes from the token
// embedding's shape. Throws sieve::Error naming the file and the key when a
// value is missing, of the wrong type, or inconsistent.
HyperParams read_hyper_params(const gguf::GgufFile& file);

}  // namespace sieve::model
