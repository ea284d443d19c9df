#pragma once
// Hyper-parameters of a transformer model, read from GGUF metadata.
//
// What an architecture's blocks do is its recipe (arch_recipe.h), copied
// here; what varies from file to file (widths, RoPE bases, the window) is
// read from the file's keys. Sieve's own keys (docs/inference.md) select the
// feed-forward activation and an optional ReLU on the normalised block inputs.

#include <cstdint>
#include <string>

#include "model/arch_recipe.h"
#include "tensor/ops.h"

namespace sieve::gguf {
class GgufFile;
}

namespace sieve::model {

// How a group of layers turns queries and keys: pair i at position p by
// p * base^(-2i / n_rot) / linear_factor radians (before any per-pair
// divisors of the file's rope_freqs tensor). YaRN (yarn_factor > 0) instead
// slows only the slow pairs: those turning fewer than beta_slow times over
// the original context by the factor, those turning more than beta_fast
// times not at all, a linear ramp between (and every cos and sin grows by
// 1 + 0.1 ln factor, HyperParams::rope_attn_factor).
struct RopeParams {
  double freq_base = 10000.0;
  double linear_factor = 1.0;
  double yarn_factor = 0.0;
  double yarn_beta_fast = 32.0;
  double yarn_beta_slow = 1.0;  // over HyperParams::rope_original_context
};

struct HyperParams {
  std::string architecture;  // general.architecture, one of recipes()
  ArchRecipe recipe;         // what its blocks do
  int64_t dim = 0;           // embedding width
  int64_t n_layers = 0;
  int64_t n_ff = 0;          // feed-forward hidden width
  // Mixture of experts (model/router.h); 0 experts: a dense FFN in every layer.
  int64_t n_experts = 0;       // `expert_count`
  int64_t n_experts_used = 0;  // `expert_used_count`: the experts each token runs
  int64_t n_ff_expert = 0;     // an expert's hidden width: `expert_feed_forward_length`, else n_ff
  int64_t n_ff_shared = 0;     // recipe.shared_expert: `expert_shared_feed_forward_length`, else n_ff
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;    // < n_heads for grouped-query attention
  int64_t head_dim = 0;
  int64_t n_vocab = 0;
  int64_t train_context = 0;  // context length the model was trained with

  int64_t n_rot = 0;        // leading values of each head that RoPE rotates
  RopeParams rope;          // every layer's, or the global layers' when local ones differ
  RopeParams local_rope;    // windowed layers' (the recipe's local_rope_base), else = rope
  // LongRoPE (Phi-3 "su"/"longrope"): the file's rope_factors_long / _short
  // divide each pair's frequency, the long ones when the engine's context
  // exceeds rope_original_context; every cos and sin is multiplied by
  // rope_attn_factor (`rope.scaling.attn_factor`, 1 when absent).
  int64_t rope_original_context = 0;  // `rope.scaling.original_context_length`, else train_context
  float rope_attn_factor = 1.0f;
  float rms_eps = 1e-5f;

  // Attention: scores (or queries, per the recipe) are multiplied by
  // attn_scale; windowed layers see only the last sliding_window positions
  // (the token's own included); soft caps of 0 are off.
  float attn_scale = 1.0f;
  float attn_softcap = 0.0f;
  float final_softcap = 0.0f;
  int64_t sliding_window = 0;   // 0: no layer is windowed
  int64_t sliding_pattern = 0;  // layer l is windowed when l % pattern < pattern - 1; 0: all
  float embed_scale = 1.0f;     // embeddings are multiplied by this

  FfnActivation ffn_activation = FfnActivation::Silu;
  float ffn_relu_threshold = 0.0f;  // FatRelu
  float ffn_relu_shift = 0.0f;      // ShiftedRelu

  // When set, the normalised inputs of attention and of the feed-forward block
  // (not the final norm) become max(x - norm_relu_shift, 0).
  bool norm_relu = false;
  float norm_relu_shift = 0.0f;

  int64_t q_dim() const { return n_heads * head_dim; }
  bool is_moe() const { return n_experts > 0; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  bool windowed(int64_t layer) const {
    if (sliding_window == 0) return false;
    return sliding_pattern == 0 || layer % sliding_pattern < sliding_pattern - 1;
  }
  const RopeParams& layer_rope(int64_t layer) const { return windowed(layer) ? local_rope : rope; }
};

// Reads and validates the hyper-parameters. n_vocab comes from the token
// embedding's shape. Throws sieve::Error naming the file and the key when a
// value is missing, of the wrong type, or inconsistent.
HyperParams read_hyper_params(const gguf::GgufFile& file);

}  // namespace sieve::model
