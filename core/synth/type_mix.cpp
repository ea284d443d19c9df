#include "synth/type_mix.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "util/error.h"

namespace sieve::synth {

using tensor::TensorType;

struct TypeMix::Entry {
  std::string_view name;
  TensorType base;
  uint32_t file_type;  // llama_ftype: ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_Q4_0 = 2, ...
  Rule rule;
};

namespace {

// llama_ftype numbers (llama.h). Pure K types carry the number of the "_S"
// (or plain) file type whose tensors are mostly of that type.
constexpr uint32_t kFtypeF32 = 0, kFtypeF16 = 1, kFtypeQ4_0 = 2, kFtypeQ4_1 = 3, kFtypeQ8_0 = 7,
                   kFtypeQ5_0 = 8, kFtypeQ5_1 = 9, kFtypeQ2_K = 10, kFtypeQ3_K_S = 11,
                   kFtypeQ3_K_M = 12, kFtypeQ3_K_L = 13, kFtypeQ4_K_S = 14, kFtypeQ4_K_M = 15,
                   kFtypeQ5_K_S = 16, kFtypeQ5_K_M = 17, kFtypeQ6_K = 18, kFtypeIQ4_NL = 25, kFtypeIQ4_XS = 30,
                   kFtypeBF16 = 32, kFtypeTQ1_0 = 36, kFtypeTQ2_0 = 37, kFtypeMXFP4_MOE = 38;

// The reference's layer pattern for "spend more bits here": the first and last
// eighth of the layers and every third layer in between.
bool use_more_bits(int layer, int n_layers) {
  return layer < n_layers / 8 || layer >= 7 * n_layers / 8 || (layer - n_layers / 8) % 3 == 2;
}

// The 256-value super-block types, which the reference quantizer replaces
// by a 32-value type when a row does not fit (see fallback_type).
bool is_k_quant(TensorType type) {
  return type == TensorType::Q2_K || type == TensorType::Q3_K || type == TensorType::Q4_K ||
         type == TensorType::Q5_K || type == TensorType::Q6_K || type == TensorType::IQ4_XS ||
         type == TensorType::TQ1_0 || type == TensorType::TQ2_0;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::span<const TypeMix::Entry> TypeMix::entries() {
  static constexpr std::array<Entry, 27> kEntries = {{
      {"f32", TensorType::F32, kFtypeF32, Rule::Pure},
      {"f16", TensorType::F16, kFtypeF16, Rule::Pure},
      {"bf16", TensorType::BF16, kFtypeBF16, Rule::Pure},
      {"q8_0", TensorType::Q8_0, kFtypeQ8_0, Rule::Pure},
      {"q4_0", TensorType::Q4_0, kFtypeQ4_0, Rule::Pure},
      {"q4_1", TensorType::Q4_1, kFtypeQ4_1, Rule::Pure},
      {"q5_0", TensorType::Q5_0, kFtypeQ5_0, Rule::Pure},
      {"q5_1", TensorType::Q5_1, kFtypeQ5_1, Rule::Pure},
      {"q2_k", TensorType::Q2_K, kFtypeQ2_K, Rule::Pure},
      {"q3_k", TensorType::Q3_K, kFtypeQ3_K_S, Rule::Pure},
      {"q4_k", TensorType::Q4_K, kFtypeQ4_K_S, Rule::Pure},
      {"q5_k", TensorType::Q5_K, kFtypeQ5_K_S, Rule::Pure},
      {"q6_k", TensorType::Q6_K, kFtypeQ6_K, Rule::Pure},
      {"iq4_nl", TensorType::IQ4_NL, kFtypeIQ4_NL, Rule::Pure},
      {"iq4_xs", TensorType::IQ4_XS, kFtypeIQ4_XS, Rule::Pure},
      {"mxfp4", TensorType::MXFP4, kFtypeMXFP4_MOE, Rule::Pure},
      {"tq1_0", TensorType::TQ1_0, kFtypeTQ1_0, Rule::Pure},
      {"tq2_0", TensorType::TQ2_0, kFtypeTQ2_0, Rule::Pure},
      {"q2_k_mix", TensorType::Q2_K, kFtypeQ2_K, Rule::Q2_K},
      {"q3_k_s", TensorType::Q3_K, kFtypeQ3_K_S, Rule::Q3_K_S},
      {"q3_k_m", TensorType::Q3_K, kFtypeQ3_K_M, Rule::Q3_K_M},
      {"q3_k_l", TensorType::Q3_K, kFtypeQ3_K_L, Rule::Q3_K_L},
      {"q4_k_s", TensorType::Q4_K, kFtypeQ4_K_S, Rule::Q4_K_S},
      {"q4_k_m", TensorType::Q4_K, kFtypeQ4_K_M, Rule::Q4_K_M},
      {"q5_k_s", TensorType::Q5_K, kFtypeQ5_K_S, Rule::Q5_K_S},
      {"q5_k_m", TensorType::Q5_K, kFtypeQ5_K_M, Rule::Q5_K_M},
      {"mxfp4_moe", TensorType::MXFP4, kFtypeMXFP4_MOE, Rule::Mxfp4Moe},
  }};
  return kEntries;
}

std::optional<TypeMix> TypeMix::from_name(std::string_view name) {
  const std::string wanted = lower(name);
  for (const Entry& e : entries()) {
    if (e.name != wanted) continue;
    TypeMix mix;
    mix.name_ = std::string(e.name);
    mix.base_type_ = e.base;
    mix.file_type_ = e.file_type;
    mix.rule_ = e.rule;
    return mix;
  }
  return std::nullopt;
}

std::vector<std::string> TypeMix::names() {
  std::vector<std::string> out;
  for (const Entry& e : entries()) out.emplace_back(e.name);
  return out;
}
bool is_expert_matrix(TensorRole role) {
  return role == TensorRole::FfnGateExps || role == TensorRole::FfnUpExps || role == TensorRole::FfnDownExps;
}

bool is_always_f32(TensorRole role) {
  return role == TensorRole::Norm || role == TensorRole::Bias || role == TensorRole::Router ||
         role == TensorRole::SharedExpertGate;
}

// llama-quantize's MXFP4_MOE: the stacked experts (3-D tensors) in MXFP4,
// every other matrix in Q8_0.
TensorType TypeMix::mixed_type(const TensorSlot& slot) const {
  if (rule_ == Rule::Mxfp4Moe) return is_expert_matrix(slot.role) ? TensorType::MXFP4 : TensorType::Q8_0;
  return k_mix_type(slot);
}

// Mirrors llama_tensor_get_type for the K-quant mixes. The reference matches
// tensors by name, so ffn_down_exps and qwen2moe's ffn_down_shexp follow
// ffn_down's rule (the layer read from the name) and the experts' gate / up
// matrices ffn_gate's / ffn_up's, which keep the base type in these mixes. Models with exactly 8 experts (Mixtral)
// get attn_k and attn_v in Q8_0 and attn_output in Q5_K in the low-bit mixes.
// (The reference also bumps attn_v to Q5_K in 70B models; no preset is 70B.)
TensorType TypeMix::k_mix_type(const TensorSlot& slot) const {
  const int i = slot.layer, n = slot.n_layers;
  const bool eight_experts = slot.n_experts == 8;
  switch (slot.role) {
    case TensorRole::Output:
      // Q6_K, or Q8_0 when a K block does not fit the row (F16 when even a
      // Q8_0 block does not fit; the reference gives up there).
      if (tensor::is_whole_blocks(base_type_, slot.row_length)) return TensorType::Q6_K;
      return tensor::is_whole_blocks(TensorType::Q8_0, slot.row_length) ? TensorType::Q8_0
                                                                        : TensorType::F16;
    case TensorRole::AttnK:
      return eight_experts ? TensorType::Q8_0 : base_type_;
    case TensorRole::AttnV:
      if (eight_experts) return TensorType::Q8_0;
      switch (rule_) {
        case Rule::Q2_K: return slot.n_gqa >= 4 ? TensorType::Q4_K : TensorType::Q3_K;
        case Rule::Q3_K_M: return i < 2 ? TensorType::Q5_K : TensorType::Q4_K;
        case Rule::Q3_K_L: return TensorType::Q5_K;
        case Rule::Q4_K_M:
        case Rule::Q5_K_M: return use_more_bits(i, n) ? TensorType::Q6_K : base_type_;
        case Rule::Q4_K_S: return i < 4 ? TensorType::Q5_K : base_type_;
        default: return base_type_;
      }
    case TensorRole::FfnDown:
    case TensorRole::FfnDownExps:
      switch (rule_) {
        case Rule::Q2_K: return TensorType::Q3_K;
        case Rule::Q3_K_M: return i < n / 16 ? TensorType::Q5_K : TensorType::Q4_K;
        case Rule::Q3_K_L: return TensorType::Q5_K;
        case Rule::Q4_K_M:
        case Rule::Q5_K_M: return use_more_bits(i, n) ? TensorType::Q6_K : base_type_;
        case Rule::Q4_K_S: return i < n / 8 ? TensorType::Q5_K : base_type_;
        default: return base_type_;
      }
    case TensorRole::AttnOutput:
      if (eight_experts) {
        const bool low_bits = rule_ == Rule::Q2_K || rule_ == Rule::Q3_K_S || rule_ == Rule::Q3_K_M ||
                              rule_ == Rule::Q4_K_S || rule_ == Rule::Q4_K_M;
        return low_bits ? TensorType::Q5_K : base_type_;
      }
      switch (rule_) {
        case Rule::Q2_K: return TensorType::Q3_K;
        case Rule::Q3_K_M: return TensorType::Q4_K;
        case Rule::Q3_K_L: return TensorType::Q5_K;
        default: return base_type_;
      }
    default:
      return base_type_;
  }
}

TensorType TypeMix::type_for(const TensorSlot& slot) const {
  if (is_always_f32(slot.role)) return TensorType::F32;
  const TensorType wanted = is_mix() ? mixed_type(slot) : base_type_;
  const auto chosen = fallback_type(wanted, slot.row_length);
  if (!chosen) {
    const tensor::TypeInfo& info = tensor::type_info(wanted);
    throw Error("tensor '" + std::string(slot.name) + "': its row length " +
                std::to_string(slot.row_length) + " is not a multiple of the " +
                std::string(info.name) + " block size (" + std::to_string(info.block_elems) +
                " values); choose another type, or a dim and n_ff that are multiples of " +
                std::to_string(info.block_elems));
  }
  return *chosen;
}

std::optional<TensorType> fallback_type(TensorType type, uint64_t row_length) {
  if (tensor::is_whole_blocks(type, row_length)) return type;
  if (!is_k_quant(type)) return std::nullopt;
  TensorType substitute = TensorType::F16;
  switch (type) {
    case TensorType::Q2_K:
    case TensorType::Q3_K:
    case TensorType::IQ4_XS: substitute = TensorType::IQ4_NL; break;
    case TensorType::Q4_K: substitute = TensorType::Q5_0; break;
    case TensorType::TQ1_0:
    case TensorType::TQ2_0: substitute = TensorType::Q4_0; break;  // the reference's choice
    case TensorType::Q5_K: substitute = TensorType::Q5_1; break;
    default: substitute = TensorType::Q8_0; break;  // Q6_K
  }
  if (!tensor::is_whole_blocks(substitute, row_length)) substitute = TensorType::F16;
  return substitute;
}

}  // namespace sieve::synth
