#include "synth/router_skew.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "synth/weight_gen.h"

namespace sieve::synth {
namespace {

// The shared direction's norm in an embedding, relative to the random part's
// (sqrt(dim) for unit-variance values): equal parts, so a normalised token
// vector x has u . x ~ sqrt(dim / 2) at the first layer.
constexpr double kSharedShare = 1.0;
// Keys that keep these draws apart from every tensor's values.
constexpr uint64_t kDirectionKey = 0x5eedd1fec7105ull;
constexpr uint64_t kRankKey = 0x5eed0bad9e57ull;

}  // namespace

RouterSkew::RouterSkew(const ModelShape& shape, uint64_t seed, double strength)
    : dim_(shape.dim), n_experts_(shape.n_experts), strength_(strength), seed_(seed) {
  direction_.resize(static_cast<size_t>(dim_));
  const RowGenerator gen(seed, kDirectionKey, {0.0f, 1.0f});
  gen.fill_row(0, direction_);
  double norm_sq = 0;
  for (float v : direction_) norm_sq += static_cast<double>(v) * v;
  const auto inverse = static_cast<float>(1.0 / std::sqrt(norm_sq));
  for (float& v : direction_) v *= inverse;
}

void RouterSkew::shape_embedding_row(std::span<float> row) const {
  const auto scale = static_cast<float>(kSharedShare * std::sqrt(static_cast<double>(dim_)));
  for (size_t i = 0; i < row.size(); ++i) row[i] += scale * direction_[i];
}

int RouterSkew::rank(int layer, uint64_t expert) const {
  // The experts sorted by a seeded key per layer: a permutation, so each
  // layer has popular experts of its own.
  auto key = [&](uint64_t e) { return mix64(mix64(seed_ ^ kRankKey) ^ (static_cast<uint64_t>(layer) << 32) ^ e); };
  const uint64_t mine = key(expert);
  int rank = 0;
  for (int64_t e = 0; e < n_experts_; ++e) {
    const uint64_t other = key(static_cast<uint64_t>(e));
    if (other < mine || (other == mine && static_cast<uint64_t>(e) < expert)) ++rank;
  }
  return rank;
}

void RouterSkew::shape_router_row(int layer, uint64_t expert, std::span<float> row) const {
  // The mean of -ln(1 + r) over the ranks, so the offsets are centred.
  double mean = 0;
  for (int64_t r = 0; r < n_experts_; ++r) mean -= std::log1p(static_cast<double>(r));
  mean /= static_cast<double>(n_experts_);
  const double offset = strength_ * (-std::log1p(static_cast<double>(rank(layer, expert))) - mean);
  // u . x for a normalised x (RMS 1, norm sqrt(dim)) carrying the embedding's share of u.
  const double along_u = std::sqrt(static_cast<double>(dim_)) * kSharedShare / std::sqrt(1.0 + kSharedShare * kSharedShare);
  const auto beta = static_cast<float>(offset / along_u);
  for (size_t i = 0; i < row.size(); ++i) row[i] += beta * direction_[i];
}

}  // namespace sieve::synth
