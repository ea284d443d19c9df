#include "synth/model_plan.h"

#include <cmath>

namespace sieve::synth {
namespace {

constexpr float kNormNoise = 0.02f;

struct PlanBuilder {
  const ModelShape& shape;
  const TypeMix& types;
  std::vector<PlannedTensor> tensors;

  void add(std::string name, TensorRole role, int layer, std::vector<uint64_t> dims) {
    TensorSlot slot;
    slot.name = name;
    slot.role = role;
    slot.layer = layer;
    slot.n_layers = static_cast<int>(shape.n_layers);
    slot.n_gqa = static_cast<int>(shape.n_heads / shape.n_kv_heads);
    slot.row_length = dims[0];
    PlannedTensor t;
    t.type = types.type_for(slot);
    t.name = std::move(name);
    t.role = role;
    t.layer = layer;
    t.dims = std::move(dims);
    t.distribution = weight_distribution(role, t.row_length());
    tensors.push_back(std::move(t));
  }

  void add_block(int layer) {
    const auto dim = static_cast<uint64_t>(shape.dim);
    const auto n_ff = static_cast<uint64_t>(shape.n_ff);
    const auto kv_dim = dim / static_cast<uint64_t>(shape.n_heads) *
                        static_cast<uint64_t>(shape.n_kv_heads);
    const std::string prefix = "blk." + std::to_string(layer) + ".";
    add(prefix + "attn_norm.weight", TensorRole::Norm, layer, {dim});
    add(prefix + "attn_q.weight", TensorRole::AttnQ, layer, {dim, dim});
    add(prefix + "attn_k.weight", TensorRole::AttnK, layer, {dim, kv_dim});
    add(prefix + "attn_v.weight", TensorRole::AttnV, layer, {dim, kv_dim});
    add(prefix + "attn_output.weight", TensorRole::AttnOutput, layer, {dim, dim});
    add(prefix + "ffn_norm.weight", TensorRole::Norm, layer, {dim});
    add(prefix + "ffn_gate.weight", TensorRole::FfnGate, layer, {dim, n_ff});
    add(prefix + "ffn_up.weight", TensorRole::FfnUp, layer, {dim, n_ff});
    add(prefix + "ffn_down.weight", TensorRole::FfnDown, layer, {n_ff, dim});
  }
};

}  // namespace

WeightDistribution weight_distribution(TensorRole role, uint64_t row_length) {
  switch (role) {
    case TensorRole::Norm: return {1.0f, kNormNoise};
    case TensorRole::TokenEmbd: return {0.0f, 1.0f};
    default: return {0.0f, static_cast<float>(1.0 / std::sqrt(static_cast<double>(row_length)))};
  }
}

std::vector<PlannedTensor> plan_tensors(const ModelShape& shape, uint64_t vocab_size,
                                        const TypeMix& types) {
  PlanBuilder plan{shape, types, {}};
  const auto dim = static_cast<uint64_t>(shape.dim);
  plan.tensors.reserve(static_cast<size_t>(shape.n_layers) * 9 + 3);
  plan.add("token_embd.weight", TensorRole::TokenEmbd, -1, {dim, vocab_size});
  for (int layer = 0; layer < shape.n_layers; ++layer) plan.add_block(layer);
  plan.add("output_norm.weight", TensorRole::Norm, -1, {dim});
  plan.add("output.weight", TensorRole::Output, -1, {dim, vocab_size});
  return std::move(plan.tensors);
}

double gate_preactivation_stddev(const ModelShape& shape) {
  // g = sum_i w_i * gamma_i * x_i with independent zero-mean w_i: its variance
  // is sigma_w^2 * sum_i E[gamma_i^2] x_i^2 = sigma_w^2 * E[gamma^2] * dim for
  // unit-RMS x (sum_i x_i^2 = dim).
  const auto dim = static_cast<uint64_t>(shape.dim);
  const WeightDistribution gate = weight_distribution(TensorRole::FfnGate, dim);
  const WeightDistribution norm = weight_distribution(TensorRole::Norm, dim);
  const double gamma_sq = static_cast<double>(norm.mean) * norm.mean +
                          static_cast<double>(norm.stddev) * norm.stddev;
  return gate.stddev * std::sqrt(gamma_sq * static_cast<double>(dim));
}

double sparsity_for_threshold(double threshold, const ModelShape& shape) {
  // Normal CDF of the (zero-mean, Gaussian by the central limit theorem) pre-activation.
  return 0.5 * std::erfc(-threshold / (gate_preactivation_stddev(shape) * std::sqrt(2.0)));
}

double threshold_for_sparsity(double sparsity, const ModelShape& shape) {
  // Invert the CDF by bisection: monotone, exact to double precision, no tables.
  const double sd = gate_preactivation_stddev(shape);
  double lo = -40.0 * sd, hi = 40.0 * sd;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * sd; ++i) {
    const double mid = 0.5 * (lo + hi);
    (sparsity_for_threshold(mid, shape) < sparsity ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace sieve::synth
