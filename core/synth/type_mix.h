#pragma once
// Which tensor type each weight of a synthetic llama model gets.
//
// A "pure" choice (f16, q8_0, q4_k, ...) puts every weight matrix in one type.
// A "mix" (q4_k_m, q3_k_m, ...) reproduces the per-tensor rule the reference
// quantizer (llama.cpp, llama_tensor_get_type) applies for that file type, so
// a synthetic Q4_K_M file holds the same types in the same places as a public
// one: e.g. output.weight in Q6_K, attn_v / ffn_down in Q6_K for some layers.
// Norm vectors, biases, attention sinks and MoE routers (ffn_gate_inp) are
// always F32, as in published files. See docs/synthetic-models.md for the table.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensor/tensor_type.h"

namespace sieve::synth {

// The part of the model a tensor plays; decides its type in a mix.
enum class TensorRole {
  TokenEmbd,
  Output,
  Norm,  // attn_norm, ffn_norm, output_norm, q/k norms: always F32
  Bias,  // every *.bias, attn_sinks: always F32
  Router,  // ffn_gate_inp: always F32 (the reference quantizer never touches it)
  SharedExpertGate,  // ffn_gate_inp_shexp, a [dim] vector: always F32
  AttnQ,
  AttnK,
  AttnV,
  AttnOutput,
  FfnGate,
  FfnUp,
  FfnDown,
  FfnGateExps,  // the stacked experts' matrices [row, n_ff_expert (or dim), n_experts]
  FfnUpExps,
  FfnDownExps,
};
bool is_expert_matrix(TensorRole role);
// Norms, biases, routers and the shared expert's gate: F32 whatever the mix.
bool is_always_f32(TensorRole role);

// What the type rule needs to know about one tensor and its model.
struct TensorSlot {
  std::string_view name;    // for error messages
  TensorRole role = TensorRole::Norm;
  int layer = -1;           // block index, -1 outside the blocks
  int n_layers = 1;
  int n_gqa = 1;            // n_heads / n_kv_heads
  int n_experts = 0;        // 0 for a dense model
  uint64_t row_length = 0;  // dims[0], the contiguous dimension
};

class TypeMix {
 public:
  // "f16", "q4_0", "q4_k_m", "q2_k_mix", ... (case-insensitive); nullopt when unknown.
  static std::optional<TypeMix> from_name(std::string_view name);
  // Every accepted name, for --help and error messages.
  static std::vector<std::string> names();

  const std::string& name() const { return name_; }
  // The llama_ftype number written as general.file_type.
  uint32_t file_type() const { return file_type_; }
  bool is_mix() const { return rule_ != Rule::Pure; }
  // The type every weight gets before the mix rule and the row-length fallback.
  tensor::TensorType base_type() const { return base_type_; }

  // The type of one tensor. Throws sieve::Error when the row length fits
  // neither the chosen type nor any fallback (only legacy block-32 types).
  tensor::TensorType type_for(const TensorSlot& slot) const;

 private:
  // The reference file types whose rule differs from "every weight in one type".
  enum class Rule : uint8_t { Pure, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Mxfp4Moe };
  struct Entry;
  static std::span<const Entry> entries();
  tensor::TensorType mixed_type(const TensorSlot& slot) const;
  tensor::TensorType k_mix_type(const TensorSlot& slot) const;

  std::string name_;
  tensor::TensorType base_type_ = tensor::TensorType::F16;
  uint32_t file_type_ = 1;
  Rule rule_ = Rule::Pure;
};

// The type the reference quantizer substitutes when a row of `row_length`
// values is not a whole number of `type` blocks (K-quants need 256): Q2_K and
// Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, and F16 when even
// that does not fit. Returns `type` itself when it fits; nullopt for a legacy
// type whose block does not fit (the reference refuses those too).
std::optional<tensor::TensorType> fallback_type(tensor::TensorType type, uint64_t row_length);

}  // namespace sieve::synth
