#pragma once
// What each supported architecture's blocks do, as data: one recipe per
// `general.architecture`. The forward pass (transformer.cpp) implements every
// step once and follows the recipe; adding an architecture is a table entry
// in arch_recipe.cpp plus its tests, never a new code path.
//
// Every block is
//   x += [post_norm]( Wo . attention( rope([qk_norm](Wq xn)), rope([qk_norm](Wk xn)), Wv xn ) ),  xn = norm(x)
//   x += [post_norm]( down( act(gate(xn)) * up(xn) ) ),                                          xn = norm(x)
// with the bracketed steps present where the recipe says so. What varies
// with the file rather than the architecture (widths, RoPE bases, the window
// size) is read from its metadata into HyperParams (hparams.h).

#include <cstdint>
#include <span>
#include <string_view>

#include "tensor/ops.h"

namespace sieve::model {

// The activation applied to the gate projection of the feed-forward block;
// the result is multiplied element-wise with the up projection.
enum class FfnActivation {
  Silu,         // silu(g)                      (SwiGLU, the llama default)
  Gelu,         // gelu(g), tanh approximation  (GeGLU: Gemma)
  Relu,         // max(g, 0)
  FatRelu,      // g > threshold ? g : 0
  ShiftedRelu,  // max(g - shift, 0)
  // gpt-oss's experts: with g' = min(g, 7) and u' = clamp(u, -7, 7), the
  // product is g' sigmoid(1.702 g') (u' + 1) (apply_gated_activation).
  SwigluOai,
};
const char* activation_name(FfnActivation activation);
// True for the activations whose zeros are exact (the ReLU family): sparse
// mode may then skip a neuron whose gate is not positive without changing
// the result. SiLU and GELU only come close to zero.
bool exact_zeros(FfnActivation activation);

// How the attention scale 1/sqrt(d) is applied. The reference multiplies the
// scores for most models but scales the queries before they meet the
// half-precision keys for others; the two round differently.
enum class QueryScaling { Scores, Queries };

// How a Mixture-of-Experts router weighs the experts it picks (model/router.h).
enum class ExpertGating {
  SoftmaxAll,     // a softmax over every expert's logit; the chosen keep theirs
  SoftmaxChosen,  // a softmax over the chosen experts' logits only (gpt-oss)
};

struct ArchRecipe {
  std::string_view name;
  tensor::RopeStyle rope_style = tensor::RopeStyle::Normal;
  FfnActivation activation = FfnActivation::Silu;

  // Tensors and where the norms sit.
  bool qkv_bias = false;       // attn_{q,k,v}.bias (qwen2)
  bool qk_norm = false;        // attn_{q,k}_norm: an RMS norm of every query and key head before RoPE
  bool post_norms = false;     // post_attention_norm and post_ffw_norm on each block's output
  bool fused_qkv = false;      // one attn_qkv matrix holding Q, then K, then V rows (phi3)
  bool fused_gate_up = false;  // ffn_up holds the gate rows, then the up rows (phi3)
  bool attn_sinks = false;     // attn_sinks: a logit per head joining every softmax (gpt-oss; model/attention.h)
  bool attn_output_bias = false;  // attn_output.bias (gpt-oss)
  // The FFN's pre-norm: `ffn_norm`, or `post_attention_norm` in gpt-oss's
  // files (the same place in the block, another name).
  std::string_view ffn_norm = "ffn_norm";

  // Scalings and caps.
  bool embed_scale = false;  // embeddings are multiplied by sqrt(dim) (gemma)
  QueryScaling query_scaling = QueryScaling::Scores;
  // The attention scale is 1/sqrt(head_dim), except for a model with this
  // many layers, where it is 1/sqrt(dim / heads): Gemma's 27B shapes were
  // trained that way and their files carry no key saying so. 0: never.
  int64_t width_scaled_query_layers = 0;
  // Soft caps c * tanh(v / c) on attention scores and on the final logits,
  // for the architectures trained with them (0: none). The file's
  // `ARCH.attn_logit_softcapping` / `ARCH.final_logit_softcapping` replace
  // the value given here.
  float attn_softcap = 0.0f;
  float final_softcap = 0.0f;

  // Sliding-window attention: whether `ARCH.attention.sliding_window` is
  // honoured, and which layers use it when the file has no
  // `ARCH.attention.sliding_window_pattern`: with pattern p, layer l is
  // windowed when l % p < p - 1; 0 windows every layer.
  bool sliding_window = false;
  int64_t sliding_pattern = 0;
  // Windowed layers turn with their own RoPE base (`ARCH.rope.freq_base_swa`,
  // this default when absent) and without the file's RoPE scaling (gemma3).
  double local_rope_base = 0.0;  // 0: windowed layers share the global RoPE

  // Mixture of experts, for files with `ARCH.expert_count` (model/router.h):
  // how the router weighs the chosen experts, whether their weights are
  // renormalised to sum to one, and whether the router and the experts carry
  // biases (ffn_gate_inp.bias, ffn_{gate,up,down}_exps.bias).
  ExpertGating expert_gating = ExpertGating::SoftmaxAll;
  bool normalize_expert_weights = false;
  bool expert_biases = false;
  // A shared expert every token runs beside the routed ones
  // (ffn_{gate,up,down}_shexp, `ARCH.expert_shared_feed_forward_length` wide),
  // its output weighted by sigmoid(ffn_gate_inp_shexp . x) (qwen2moe).
  bool shared_expert = false;
};

// The recipe for `architecture`, or null when Sieve does not support it.
const ArchRecipe* find_recipe(std::string_view architecture);
// Every supported recipe, in the order error messages list them.
std::span<const ArchRecipe> recipes();

}  // namespace sieve::model
