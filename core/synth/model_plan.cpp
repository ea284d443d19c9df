#include "synth/model_plan.h"

#include <cmath>

#include "synth/direct_quant.h"

namespace sieve::synth {
namespace {

constexpr float kNormNoise = 0.02f;
constexpr float kBiasNoise = 0.02f;

// Expert matrices always; in a Mixture-of-Experts model every other weight
// matrix too unless the skewed router shapes its rows (dense models keep the
// quantizer's bytes, as before direct generation existed).
bool draws_blocks_directly(const PlannedTensor& t, const ModelShape& shape) {
  if (!can_generate_directly(t.type) || is_always_f32(t.role)) return false;
  if (is_expert_matrix(t.role)) return true;
  return shape.is_moe() && t.shaping == RowShaping::None;
}

// Mixture-of-Experts models scale the matrices that write into the residual
// stream by 1 / sqrt(2 * layers) (GPT-2's initialisation), so the stream stays
// dominated by the token's own embedding at every depth. Without it, deep
// random attention makes every token's stream alike (rank collapse), and a
// random router would send most tokens to the same few experts.
float residual_scale(const ModelShape& shape) {
  return static_cast<float>(1.0 / std::sqrt(2.0 * static_cast<double>(shape.n_layers)));
}

struct PlanBuilder {
  const ModelShape& shape;
  const TypeMix& types;
  RouterKind router;
  std::vector<PlannedTensor> tensors;

  void add(std::string name, TensorRole role, int layer, std::vector<uint64_t> dims) {
    TensorSlot slot;
    slot.name = name;
    slot.role = role;
    slot.layer = layer;
    slot.n_layers = static_cast<int>(shape.n_layers);
    slot.n_gqa = static_cast<int>(shape.n_heads / shape.n_kv_heads);
    slot.n_experts = static_cast<int>(shape.n_experts);
    slot.row_length = dims[0];
    PlannedTensor t;
    t.type = types.type_for(slot);
    t.name = std::move(name);
    t.role = role;
    t.layer = layer;
    t.dims = std::move(dims);
    t.distribution = weight_distribution(role, t.row_length());
    // (FfnDown in an MoE model is qwen2moe's shared expert.)
    const bool writes_residual =
        role == TensorRole::AttnOutput || role == TensorRole::FfnDownExps || role == TensorRole::FfnDown;
    if (shape.is_moe() && writes_residual) {
      t.distribution.stddev *= residual_scale(shape);
    }
    if (router == RouterKind::Skewed && shape.is_moe()) {
      if (role == TensorRole::TokenEmbd) t.shaping = RowShaping::TokenEmbedding;
      if (role == TensorRole::AttnQ) t.shaping = RowShaping::Query;
      if (role == TensorRole::AttnK) t.shaping = RowShaping::Key;
      if (t.name.ends_with("attn_q_norm.weight") || t.name.ends_with("attn_k_norm.weight")) {
        t.shaping = RowShaping::QkNorm;
      }
      if (role == TensorRole::AttnV) t.shaping = RowShaping::Value;
      if (role == TensorRole::AttnOutput) t.shaping = RowShaping::AttnOutput;
      if (role == TensorRole::Router) t.shaping = RowShaping::Router;
    }
    t.direct = draws_blocks_directly(t, shape);
    tensors.push_back(std::move(t));
  }

  void add_attention(int layer, const std::string& prefix) {
    const auto dim = static_cast<uint64_t>(shape.dim);
    const auto head = static_cast<uint64_t>(shape.head_size());
    const uint64_t q_dim = head * static_cast<uint64_t>(shape.n_heads);
    const uint64_t kv_dim = head * static_cast<uint64_t>(shape.n_kv_heads);
    const bool gpt_oss = shape.arch == Architecture::GptOss;
    const bool qkv_biases = gpt_oss || shape.arch == Architecture::Qwen2Moe;
    add(prefix + "attn_norm.weight", TensorRole::Norm, layer, {dim});
    add(prefix + "attn_q.weight", TensorRole::AttnQ, layer, {dim, q_dim});
    if (qkv_biases) add(prefix + "attn_q.bias", TensorRole::Bias, layer, {q_dim});
    add(prefix + "attn_k.weight", TensorRole::AttnK, layer, {dim, kv_dim});
    if (qkv_biases) add(prefix + "attn_k.bias", TensorRole::Bias, layer, {kv_dim});
    add(prefix + "attn_v.weight", TensorRole::AttnV, layer, {dim, kv_dim});
    if (qkv_biases) add(prefix + "attn_v.bias", TensorRole::Bias, layer, {kv_dim});
    add(prefix + "attn_output.weight", TensorRole::AttnOutput, layer, {q_dim, dim});
    if (gpt_oss) {
      add(prefix + "attn_output.bias", TensorRole::Bias, layer, {dim});
      add(prefix + "attn_sinks.weight", TensorRole::Bias, layer, {static_cast<uint64_t>(shape.n_heads)});
    }
    if (shape.arch == Architecture::Qwen3Moe) {
      add(prefix + "attn_q_norm.weight", TensorRole::Norm, layer, {head});
      add(prefix + "attn_k_norm.weight", TensorRole::Norm, layer, {head});
    }
  }

  void add_dense_ffn(int layer, const std::string& prefix) {
    const auto dim = static_cast<uint64_t>(shape.dim);
    const auto n_ff = static_cast<uint64_t>(shape.n_ff);
    add(prefix + "ffn_gate.weight", TensorRole::FfnGate, layer, {dim, n_ff});
    add(prefix + "ffn_up.weight", TensorRole::FfnUp, layer, {dim, n_ff});
    add(prefix + "ffn_down.weight", TensorRole::FfnDown, layer, {n_ff, dim});
  }

  void add_experts(int layer, const std::string& prefix) {
    const auto dim = static_cast<uint64_t>(shape.dim);
    const auto ff = static_cast<uint64_t>(shape.expert_ff());
    const auto n = static_cast<uint64_t>(shape.n_experts);
    const bool biases = shape.arch == Architecture::GptOss;
    add(prefix + "ffn_gate_inp.weight", TensorRole::Router, layer, {dim, n});
    if (biases) add(prefix + "ffn_gate_inp.bias", TensorRole::Bias, layer, {n});
    add(prefix + "ffn_gate_exps.weight", TensorRole::FfnGateExps, layer, {dim, ff, n});
    if (biases) add(prefix + "ffn_gate_exps.bias", TensorRole::Bias, layer, {ff, n});
    add(prefix + "ffn_up_exps.weight", TensorRole::FfnUpExps, layer, {dim, ff, n});
    if (biases) add(prefix + "ffn_up_exps.bias", TensorRole::Bias, layer, {ff, n});
    add(prefix + "ffn_down_exps.weight", TensorRole::FfnDownExps, layer, {ff, dim, n});
    if (biases) add(prefix + "ffn_down_exps.bias", TensorRole::Bias, layer, {dim, n});
    if (shape.has_shared_expert()) add_shared_expert(layer, prefix);
  }

  // qwen2moe: the expert every token runs, and the [dim] vector whose dot
  // product with the input, through a sigmoid, weighs its output.
  void add_shared_expert(int layer, const std::string& prefix) {
    const auto dim = static_cast<uint64_t>(shape.dim);
    const auto ff = static_cast<uint64_t>(shape.shared_expert_ff());
    add(prefix + "ffn_gate_inp_shexp.weight", TensorRole::SharedExpertGate, layer, {dim});
    add(prefix + "ffn_gate_shexp.weight", TensorRole::FfnGate, layer, {dim, ff});
    add(prefix + "ffn_up_shexp.weight", TensorRole::FfnUp, layer, {dim, ff});
    add(prefix + "ffn_down_shexp.weight", TensorRole::FfnDown, layer, {ff, dim});
  }

  void add_block(int layer) {
    const std::string prefix = "blk." + std::to_string(layer) + ".";
    add_attention(layer, prefix);
    // gpt-oss names its pre-FFN norm post_attention_norm.
    const char* ffn_norm = shape.arch == Architecture::GptOss ? "post_attention_norm.weight" : "ffn_norm.weight";
    add(prefix + ffn_norm, TensorRole::Norm, layer, {static_cast<uint64_t>(shape.dim)});
    if (shape.is_moe()) {
      add_experts(layer, prefix);
    } else {
      add_dense_ffn(layer, prefix);
    }
  }
};

}  // namespace

WeightDistribution weight_distribution(TensorRole role, uint64_t row_length) {
  switch (role) {
    case TensorRole::Norm: return {1.0f, kNormNoise};
    case TensorRole::Bias: return {0.0f, kBiasNoise};
    case TensorRole::TokenEmbd: return {0.0f, 1.0f};
    // Matrices, routers and the shared expert's gate N(0, 1/row length): the
    // gate's logit is then about N(0, 1), so its sigmoid weighs the shared
    // expert anywhere from near 0 to near 1.
    default: return {0.0f, static_cast<float>(1.0 / std::sqrt(static_cast<double>(row_length)))};
  }
}

std::vector<PlannedTensor> plan_tensors(const ModelShape& shape, uint64_t vocab_size, const TypeMix& types,
                                        RouterKind router) {
  PlanBuilder plan{shape, types, router, {}};
  const auto dim = static_cast<uint64_t>(shape.dim);
  plan.tensors.reserve(static_cast<size_t>(shape.n_layers) * 24 + 3);
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
