#include "model/arch_recipe.h"

#include <array>

namespace sieve::model {
namespace {

using tensor::RopeStyle;

constexpr ArchRecipe llama() {
  ArchRecipe r;
  r.name = "llama";
  // Mistral's files are `llama` with a window on every layer.
  r.sliding_window = true;
  // Mixtral's files are `llama` with experts.
  r.normalize_expert_weights = true;
  return r;
}

constexpr ArchRecipe qwen2() {
  ArchRecipe r;
  r.name = "qwen2";
  r.rope_style = RopeStyle::Neox;
  r.qkv_bias = true;
  return r;
}

constexpr ArchRecipe qwen3() {
  ArchRecipe r;
  r.name = "qwen3";
  r.rope_style = RopeStyle::Neox;
  r.qk_norm = true;
  return r;
}

// Qwen3's block with experts in every layer.
constexpr ArchRecipe qwen3moe() {
  ArchRecipe r = qwen3();
  r.name = "qwen3moe";
  r.normalize_expert_weights = true;
  return r;
}

// Qwen2's block (biased Q, K, V) with experts, unnormalised top-k weights
// and a gated shared expert (Qwen1.5-MoE, Qwen2-MoE).
constexpr ArchRecipe qwen2moe() {
  ArchRecipe r = qwen2();
  r.name = "qwen2moe";
  r.shared_expert = true;
  return r;
}

// OpenAI's gpt-oss: experts with biases and a clamped SwiGLU, attention
// sinks, every other layer windowed, YaRN (from the file's keys).
constexpr ArchRecipe gpt_oss() {
  ArchRecipe r;
  r.name = "gpt-oss";
  r.rope_style = RopeStyle::Neox;
  r.activation = FfnActivation::SwigluOai;
  r.qkv_bias = true;
  r.attn_output_bias = true;
  r.attn_sinks = true;
  r.ffn_norm = "post_attention_norm";
  r.sliding_window = true;
  r.sliding_pattern = 2;
  r.expert_gating = ExpertGating::SoftmaxChosen;
  r.expert_biases = true;
  return r;
}

constexpr ArchRecipe gemma2() {
  ArchRecipe r;
  r.name = "gemma2";
  r.rope_style = RopeStyle::Neox;
  r.activation = FfnActivation::Gelu;
  r.post_norms = true;
  r.embed_scale = true;
  r.query_scaling = QueryScaling::Queries;
  r.width_scaled_query_layers = 46;  // Gemma-2-27B
  r.attn_softcap = 50.0f;
  r.final_softcap = 30.0f;
  r.sliding_window = true;
  r.sliding_pattern = 2;  // local, global, local, ...
  return r;
}

constexpr ArchRecipe gemma3() {
  ArchRecipe r;
  r.name = "gemma3";
  r.rope_style = RopeStyle::Neox;
  r.activation = FfnActivation::Gelu;
  r.qk_norm = true;
  r.post_norms = true;
  r.embed_scale = true;
  r.query_scaling = QueryScaling::Queries;
  r.width_scaled_query_layers = 62;  // Gemma-3-27B
  r.sliding_window = true;
  r.sliding_pattern = 6;  // five local layers, then a global one
  r.local_rope_base = 10000.0;
  return r;
}

constexpr ArchRecipe phi3() {
  ArchRecipe r;
  r.name = "phi3";
  r.rope_style = RopeStyle::Neox;
  r.fused_qkv = true;
  r.fused_gate_up = true;
  r.query_scaling = QueryScaling::Queries;
  // Phi-3 files name a sliding window, but the reference attends over the
  // whole context (its window support is disabled), and so does Sieve.
  return r;
}

constexpr std::array<ArchRecipe, 9> kRecipes{llama(),   qwen2(),  qwen2moe(), qwen3(), qwen3moe(),
                                             gpt_oss(), gemma2(), gemma3(),   phi3()};

}  // namespace

const char* activation_name(FfnActivation activation) {
  switch (activation) {
    case FfnActivation::Silu: return "silu";
    case FfnActivation::Gelu: return "gelu";
    case FfnActivation::Relu: return "relu";
    case FfnActivation::FatRelu: return "fatrelu";
    case FfnActivation::ShiftedRelu: return "shifted_relu";
    case FfnActivation::SwigluOai: return "swiglu_oai";
  }
  return "?";
}

bool exact_zeros(FfnActivation activation) {
  return activation != FfnActivation::Silu && activation != FfnActivation::Gelu &&
         activation != FfnActivation::SwigluOai;
}

const ArchRecipe* find_recipe(std::string_view architecture) {
  for (const ArchRecipe& r : kRecipes) {
    if (r.name == architecture) return &r;
  }
  return nullptr;
}

std::span<const ArchRecipe> recipes() { return kRecipes; }

}  // namespace sieve::model
