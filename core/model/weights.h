#pragma once
// The tensors of a llama-family model, as views into the GGUF mapping.
//
// Matrices stay in the mapping, in their file type (matmul.h multiplies them
// directly); the small norm and bias vectors are converted to float once at
// load. Every tensor is checked for presence, a type Sieve can compute with,
// and its expected shape; errors name the tensor.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/hparams.h"
#include "tensor/matmul.h"

namespace sieve::gguf {
class GgufFile;
struct TensorInfo;
}

namespace sieve::model {

// One layer's tensors. Vectors the recipe does not use stay empty. Where the
// file fuses projections (attn_qkv, a gate+up ffn_up) the views below are
// row ranges of the fused matrix, so the forward pass never sees the fusion.
struct LayerWeights {
  std::vector<float> attn_norm;   // [dim]
  tensor::MatrixView wq, wk, wv;  // [q_dim x dim], [kv_dim x dim] x 2
  std::vector<float> bq, bk, bv;  // biases (recipe.qkv_bias)
  std::vector<float> q_norm, k_norm;  // [head_dim] each (recipe.qk_norm)
  std::vector<float> attn_sinks;  // [n_heads] (recipe.attn_sinks)
  tensor::MatrixView wo;          // [dim x q_dim]
  std::vector<float> bo;          // [dim] (recipe.attn_output_bias)
  std::vector<float> attn_post_norm;  // [dim] (recipe.post_norms)
  std::vector<float> ffn_norm;    // [dim]
  tensor::MatrixView ffn_gate;    // [n_ff x dim]
  tensor::MatrixView ffn_up;      // [n_ff x dim]
  tensor::MatrixView ffn_down;    // [dim x n_ff]
  std::vector<float> ffn_post_norm;  // [dim] (recipe.post_norms)
  // Mixture of experts (hp.is_moe(); the three dense FFN views stay empty):
  // the router and every expert's matrices stacked, expert e's rows being
  // expert_rows(view, e) (GGUF's 3-D `*_exps` tensors, experts outermost).
  tensor::MatrixView ffn_router;     // [n_experts x dim] (ffn_gate_inp)
  tensor::MatrixView ffn_gate_exps;  // [n_experts * n_ff_expert x dim]
  tensor::MatrixView ffn_up_exps;    // [n_experts * n_ff_expert x dim]
  tensor::MatrixView ffn_down_exps;  // [n_experts * dim x n_ff_expert]
  // recipe.expert_biases: the router's, and every expert's stacked like its matrix.
  std::vector<float> router_bias;     // [n_experts]
  std::vector<float> gate_exps_bias;  // [n_experts * n_ff_expert]
  std::vector<float> up_exps_bias;    // [n_experts * n_ff_expert]
  std::vector<float> down_exps_bias;  // [n_experts * dim]
  // recipe.shared_expert: the expert every token runs, and its gate's weights.
  tensor::MatrixView ffn_gate_shexp;  // [n_ff_shared x dim]
  tensor::MatrixView ffn_up_shexp;    // [n_ff_shared x dim]
  tensor::MatrixView ffn_down_shexp;  // [dim x n_ff_shared]
  std::vector<float> shexp_gate;      // [dim] (ffn_gate_inp_shexp)
};

// Expert `expert`'s rows of a stacked `*_exps` view of `n_experts` experts.
tensor::MatrixView expert_rows(const tensor::MatrixView& stacked, int64_t expert, int64_t n_experts);

struct ModelWeights {
  tensor::MatrixView token_embd;  // [n_vocab x dim]; rows are looked up, not multiplied
  std::vector<LayerWeights> layers;
  std::vector<float> output_norm;  // [dim]
  tensor::MatrixView output;       // [n_vocab x dim]; token_embd when the file has no output.weight
  bool output_tied = false;
  // Per-pair RoPE frequency divisors (n_rot / 2 each), empty when absent:
  // rope_freqs.weight (Llama 3.1 style long-context scaling) for every
  // context; LongRoPE's rope_factors_long / _short by context length
  // (hparams.h). rope_divisors() picks.
  std::vector<float> rope_freqs;
  std::vector<float> rope_factors_long, rope_factors_short;

  // The divisors an engine with `context` positions uses (empty: none).
  const std::vector<float>& rope_divisors(const HyperParams& hp, int64_t context) const {
    if (!rope_freqs.empty()) return rope_freqs;
    return context > hp.rope_original_context ? rope_factors_long : rope_factors_short;
  }
};

// Where the tensors' bytes are. By default in the file's memory mapping;
// dense and flash modes read them into buffers of their own instead (so the
// page cache is never relied on) and point `bytes` there.
struct WeightSource {
  // A tensor's bytes (tensor.size_bytes of them); empty: the mapping.
  std::function<std::span<const std::byte>(const gguf::TensorInfo& tensor)> bytes;
  // False: leave the FFN matrices empty (a Sieve pack stores them as bundles,
  // which the flash engine reads itself).
  bool ffn = true;
  // False: leave the experts' stacked matrices empty (flash mode streams them
  // from the file into its expert cache); routers and biases still load.
  bool experts = true;
};

// Where a layer's feed-forward projections are in a model file: the gate's
// n_ff rows, the up projection's n_ff rows (after the gate's in the same
// tensor when the recipe fuses them) and the down projection, each checked
// for its shape. Throws sieve::Error naming a missing or misshapen tensor.
struct FfnTensors {
  const gguf::TensorInfo* gate = nullptr;
  const gguf::TensorInfo* up = nullptr;
  int64_t up_first_row = 0;  // n_ff when up and gate are one fused tensor
  const gguf::TensorInfo* down = nullptr;
};
FfnTensors find_ffn_tensors(const gguf::GgufFile& file, const HyperParams& hp, int64_t layer);

// Bytes of the float copies load_weights makes of norms, biases and RoPE
// divisors (everything that is not a matrix view), for memory planning.
uint64_t float_vector_bytes(const HyperParams& hp);

// Views the model's tensors (valid while `file` and the source's buffers
// live). Throws sieve::Error.
ModelWeights load_weights(const gguf::GgufFile& file, const HyperParams& hp, const WeightSource& source = {});

}  // namespace sieve::model
