#pragma once
// The tensor list of a synthetic model: names, shapes, types and the
// distribution each tensor's values are drawn from, per architecture (llama,
// llama with experts = Mixtral, qwen3moe, gpt-oss, qwen2moe), named as llama.cpp names them.

#include <cstdint>
#include <string>
#include <vector>

#include "synth/synth_model.h"
#include "synth/type_mix.h"
#include "synth/weight_gen.h"
#include "tensor/tensor_type.h"

namespace sieve::synth {

// Rows whose generated values get a deterministic extra term for the skewed
// router (router_skew.h).
enum class RowShaping : uint8_t {
  None,
  TokenEmbedding,  // token_embd rows: plus the shared direction and a topic sign
  Query,           // attn_q rows: the shared vector c for recency
  Key,             // attn_k rows: the same
  QkNorm,          // attn_q_norm / attn_k_norm: scaled for the recency gain
  Value,           // attn_v rows: copy the topic into a pattern
  AttnOutput,      // attn_output rows: read the averaged pattern back
  Router,          // ffn_gate_inp rows: plus the expert's popularity and topic affinity
};

struct PlannedTensor {
  std::string name;
  TensorRole role = TensorRole::Norm;
  int layer = -1;
  std::vector<uint64_t> dims;  // dims[0] is the row length
  tensor::TensorType type = tensor::TensorType::F32;
  WeightDistribution distribution;
  RowShaping shaping = RowShaping::None;
  // Quantized blocks drawn directly from the seeded counter (direct_quant.h)
  // instead of generating floats and quantizing them: expert matrices, and
  // the other matrices of a Mixture-of-Experts model whose rows are not shaped.
  bool direct = false;

  uint64_t row_length() const { return dims[0]; }
  uint64_t n_rows() const {
    uint64_t rows = 1;
    for (size_t i = 1; i < dims.size(); ++i) rows *= dims[i];
    return rows;
  }
  uint64_t n_elements() const { return row_length() * n_rows(); }
};

// Scales that keep activations near unit size through the network: matrices
// N(0, 1/fan_in) (fan_in = row length), embeddings N(0, 1) so the residual
// stream starts at unit RMS, norm weights 1 + N(0, 0.02^2), biases N(0, 0.02^2),
// attention sinks N(0, 1).
WeightDistribution weight_distribution(TensorRole role, uint64_t row_length);

// token_embd, then per block the attention tensors, the FFN norm and the
// dense FFN or the router and stacked experts (with gpt-oss's biases and
// sinks, qwen2moe's Q/K/V biases and shared expert), then output_norm and output. Throws sieve::Error when a row length
// fits no type (see TypeMix::type_for). `router` decides the row shaping.
std::vector<PlannedTensor> plan_tensors(const ModelShape& shape, uint64_t vocab_size, const TypeMix& types,
                                        RouterKind router = RouterKind::Even);

}  // namespace sieve::synth
