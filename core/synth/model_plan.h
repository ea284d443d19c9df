#pragma once
// The tensor list of a synthetic llama model: names, shapes, types and the
// distribution each tensor's values are drawn from.

#include <cstdint>
#include <string>
#include <vector>

#include "synth/synth_model.h"
#include "synth/type_mix.h"
#include "synth/weight_gen.h"
#include "tensor/tensor_type.h"

namespace sieve::synth {

struct PlannedTensor {
  std::string name;
  TensorRole role = TensorRole::Norm;
  int layer = -1;
  std::vector<uint64_t> dims;  // dims[0] is the row length
  tensor::TensorType type = tensor::TensorType::F32;
  WeightDistribution distribution;

  uint64_t row_length() const { return dims[0]; }
  uint64_t n_rows() const { return dims.size() > 1 ? dims[1] : 1; }
  uint64_t n_elements() const { return row_length() * n_rows(); }
};

// Scales that keep activations near unit size through the network: matrices
// N(0, 1/fan_in) (fan_in = row length), embeddings N(0, 1) so the residual
// stream starts at unit RMS, norm weights 1 + N(0, 0.02^2).
WeightDistribution weight_distribution(TensorRole role, uint64_t row_length);

// In llama.cpp's conversion order: token_embd, then per block attn_norm,
// attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down,
// then output_norm and output. Throws sieve::Error when a row length fits no
// type (see TypeMix::type_for).
std::vector<PlannedTensor> plan_tensors(const ModelShape& shape, uint64_t vocab_size,
                                        const TypeMix& types);

}  // namespace sieve::synth
