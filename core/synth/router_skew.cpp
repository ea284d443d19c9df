#include "synth/router_skew.h"

#include <cmath>

#include "synth/weight_gen.h"

namespace sieve::synth {
namespace {

// Keys that keep these draws apart from every tensor's values.
constexpr uint64_t kDirectionKey = 0x5eedd1fec7105ull;  // + 0, 1, 2: u, w1, w2
constexpr uint64_t kRankKey = 0x5eed0bad9e57ull;
constexpr uint64_t kSignKey = 0x5eed5167ull;
constexpr uint64_t kPatternKey = 0x5eedfa77e54ull;
constexpr uint64_t kAffinityKey = 0x5eedaff1ull;
constexpr uint64_t kSharedVectorKey = 0x5eedc0c0ull;
// QK-norm models: the shared vector's size in a query or key before the norm.
constexpr double kNormedAmplitude = 3.0;
// Attention weights fall about as d^-kRecencyExponent with the distance d.
constexpr double kRecencyExponent = 0.3;

// The value path's gain: a token's w1 component (about sqrt(dim / 3) for a
// normalised token) becomes about kValueGain / sqrt(3) per KV dimension,
// against unit-size values from the random weights.
constexpr double kValueGain = 2.0;
// The output path's gain: the averaged pattern is written along w2 with about
// kOutputGain times the size it had in the values.
constexpr double kOutputGain = 4.0;
// The router's topic affinity per unit of strength, on w2 . x / sqrt(dim).
constexpr double kTopicGain = 4.0;

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

}  // namespace

RouterSkew::RouterSkew(const ModelShape& shape, uint64_t seed, double strength)
    : shape_(shape), strength_(strength), seed_(seed) {
  const auto dim = static_cast<size_t>(shape.dim);
  std::vector<float>* dirs[] = {&u_, &w1_, &w2_};
  for (size_t d = 0; d < 3; ++d) {
    std::vector<float>& v = *dirs[d];
    v.resize(dim);
    RowGenerator(seed, kDirectionKey + d, {0.0f, 1.0f}).fill_row(0, v);
    for (size_t prev = 0; prev < d; ++prev) {  // Gram-Schmidt
      const double along = dot(v, *dirs[prev]);
      for (size_t i = 0; i < dim; ++i) v[i] -= static_cast<float>(along) * (*dirs[prev])[i];
    }
    const auto inverse = static_cast<float>(1.0 / std::sqrt(dot(v, v)));
    for (float& x : v) x *= inverse;
  }
  // The recency gain A = kRecencyExponent * ln(rope base): scores q . k / sqrt(head) gain
  // A * K(d) when q and k both hold a * c (|c|^2 = head): a^2 sqrt(head) = A.
  const double gain = kRecencyExponent * std::log(static_cast<double>(shape.rope_base));
  const double root_head = std::sqrt(static_cast<double>(shape.head_size()));
  if (shape.arch == Architecture::Qwen3Moe) {
    // After the norm q = gamma (a c + noise) / sqrt(1 + a^2): A = gamma^2 sqrt(head) a^2 / (1 + a^2).
    qk_amplitude_ = kNormedAmplitude;
    const double a2 = kNormedAmplitude * kNormedAmplitude;
    qk_norm_scale_ = std::sqrt(gain / (root_head * a2 / (1.0 + a2)));
  } else {
    qk_amplitude_ = std::sqrt(gain / root_head);
  }
}

void RouterSkew::add_shared_vector(uint64_t j, std::span<float> row) const {
  const auto head = static_cast<uint64_t>(shape_.head_size());
  const double c = uniform(kSharedVectorKey, j % head, 0) < 0.5 ? -1.0 : 1.0;
  // u . x ~ sqrt(dim / 3) for a normalised first-layer token.
  const double scale = qk_amplitude_ * c / std::sqrt(static_cast<double>(shape_.dim) / 3.0);
  for (size_t i = 0; i < row.size(); ++i) row[i] += static_cast<float>(scale * u_[i]);
}

void RouterSkew::shape_query_row(uint64_t j, std::span<float> row) const { add_shared_vector(j, row); }

void RouterSkew::shape_key_row(uint64_t j, std::span<float> row) const { add_shared_vector(j, row); }

void RouterSkew::shape_qk_norm(std::span<float> row) const {
  for (float& v : row) v *= static_cast<float>(qk_norm_scale_);
}

double RouterSkew::uniform(uint64_t key, uint64_t a, uint64_t b) const {
  const uint64_t h = mix64(mix64(mix64(seed_ ^ key) ^ a) ^ b);
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

float RouterSkew::pattern(int layer, uint64_t kv_index) const {
  return uniform(kPatternKey, static_cast<uint64_t>(layer), kv_index) < 0.5 ? -1.0f : 1.0f;
}

void RouterSkew::shape_embedding_row(uint64_t token, std::span<float> row) const {
  const double root = std::sqrt(static_cast<double>(shape_.dim));
  const double sign = uniform(kSignKey, token, 0) < 0.5 ? -1.0 : 1.0;
  for (size_t i = 0; i < row.size(); ++i) row[i] += static_cast<float>(root * (u_[i] + sign * w1_[i]));
}

void RouterSkew::shape_value_row(int layer, uint64_t j, std::span<float> row) const {
  // v_j += gain * s_j * (w1 . x) / sqrt(dim)
  const double scale = kValueGain * pattern(layer, j) / std::sqrt(static_cast<double>(shape_.dim));
  for (size_t i = 0; i < row.size(); ++i) row[i] += static_cast<float>(scale * w1_[i]);
}

void RouterSkew::shape_output_row(int layer, uint64_t i, std::span<float> row) const {
  // o += gain * sqrt(dim) * (s~ . att) / q_dim * w2, where s~ repeats each KV
  // head's pattern for the query heads that read it (head h reads KV head h / group).
  const int64_t head = shape_.head_size();
  const int64_t group = shape_.n_heads / shape_.n_kv_heads;
  const double scale = kOutputGain * std::sqrt(static_cast<double>(shape_.dim)) * w2_[i] /
                       static_cast<double>(row.size());
  for (size_t c = 0; c < row.size(); ++c) {
    const auto h = static_cast<int64_t>(c) / head;
    const auto kv_index = static_cast<uint64_t>((h / group) * head + static_cast<int64_t>(c) % head);
    row[c] += static_cast<float>(scale * pattern(layer, kv_index));
  }
}

int RouterSkew::rank(int layer, uint64_t expert) const {
  // The experts sorted by a seeded key per layer: a permutation, so each
  // layer has popular experts of its own.
  auto key = [&](uint64_t e) { return mix64(mix64(seed_ ^ kRankKey) ^ (static_cast<uint64_t>(layer) << 32) ^ e); };
  const uint64_t mine = key(expert);
  int rank = 0;
  for (int64_t e = 0; e < shape_.n_experts; ++e) {
    const uint64_t other = key(static_cast<uint64_t>(e));
    if (other < mine || (other == mine && static_cast<uint64_t>(e) < expert)) ++rank;
  }
  return rank;
}

void RouterSkew::shape_router_row(int layer, uint64_t expert, std::span<float> row) const {
  const double dim = static_cast<double>(shape_.dim);
  // Popularity: -ln(1 + rank), centred over the experts, on u . x ~ sqrt(dim / 3)
  // for a normalised first-layer token (its embedding: equal parts random, u and w1).
  double mean = 0;
  for (int64_t r = 0; r < shape_.n_experts; ++r) mean -= std::log1p(static_cast<double>(r));
  mean /= static_cast<double>(shape_.n_experts);
  const double offset = strength_ * (-std::log1p(static_cast<double>(rank(layer, expert))) - mean);
  const double beta = offset / std::sqrt(dim / 3.0);
  // Topic affinity: a sum of four uniforms, centred and scaled to unit variance.
  double tau = 0;
  for (uint64_t k = 0; k < 4; ++k) tau += uniform(kAffinityKey, (static_cast<uint64_t>(layer) << 32) ^ expert, k);
  tau = (tau - 2.0) * std::sqrt(3.0);
  const double gamma = strength_ * kTopicGain * tau / std::sqrt(dim);
  for (size_t i = 0; i < row.size(); ++i) row[i] += static_cast<float>(beta * u_[i] + gamma * w2_[i]);
}

}  // namespace sieve::synth
