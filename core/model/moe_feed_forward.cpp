#include "model/moe_feed_forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sieve::model {
namespace {

// Adds expert `expert`'s slice of `n` values of a stacked bias (none: nothing)
// to each of `rows` rows of `n` values.
void add_expert_bias(const std::vector<float>& stacked, int64_t expert, int64_t n, int64_t rows, float* y) {
  if (stacked.empty()) return;
  const float* b = stacked.data() + expert * n;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) y[r * n + i] += b[i];
  }
}

// y = W x for `n` vectors; one vector takes matvec, as a decoded token always has.
void multiply(const tensor::MatrixView& w, const float* x, int64_t n, float* y, ThreadPool& pool,
              tensor::MatmulScratch& scratch) {
  if (n == 1) {
    tensor::matvec(w, x, y, pool, scratch);
  } else {
    tensor::matmat(w, x, n, y, pool, scratch);
  }
}

}  // namespace

void StackedExperts::request(int layer, std::span<const int32_t> experts, std::span<ExpertMatrices> out,
                             std::span<uint8_t> ready) {
  wait(layer, experts, out);
  std::fill(ready.begin(), ready.begin() + static_cast<std::ptrdiff_t>(experts.size()), uint8_t{1});
}

void StackedExperts::wait(int layer, std::span<const int32_t> experts, std::span<ExpertMatrices> out) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  for (size_t i = 0; i < experts.size(); ++i) {
    const int64_t e = experts[i];
    out[i] = {expert_rows(w.ffn_gate_exps, e, hp_.n_experts), expert_rows(w.ffn_up_exps, e, hp_.n_experts),
              expert_rows(w.ffn_down_exps, e, hp_.n_experts)};
  }
}

MoeFeedForward::MoeFeedForward(const HyperParams& hp, const ModelWeights& weights, ThreadPool& pool,
                               ExpertSource& experts, int max_batch)
    : hp_(hp), weights_(weights), pool_(pool), experts_(experts), max_batch_(std::max(max_batch, 1)) {
  const auto b = static_cast<size_t>(max_batch_);
  const auto n_experts = static_cast<size_t>(hp.n_experts);
  const auto k = static_cast<size_t>(hp.n_experts_used);
  logits_.resize(b * n_experts);
  choice_.resize(b * k);
  first_entry_.resize(n_experts + 1);
  next_free_.resize(n_experts);
  entry_token_.resize(b * k);
  entry_of_.resize(b * k);
  union_.reserve(n_experts);
  matrices_.resize(n_experts);
  ready_.resize(n_experts);
  gathered_.resize(b * static_cast<size_t>(hp.dim));
  gate_.resize(b * static_cast<size_t>(hp.n_ff_expert));
  up_.resize(b * static_cast<size_t>(hp.n_ff_expert));
  outputs_.resize(b * k * static_cast<size_t>(hp.dim));
  shared_gate_.resize(b * static_cast<size_t>(hp.n_ff_shared));
  shared_up_.resize(b * static_cast<size_t>(hp.n_ff_shared));
  next_logits_.resize(n_experts);
  next_choice_.resize(k);
  next_experts_.resize(k);
}

uint64_t MoeFeedForward::scratch_bytes(const HyperParams& hp, int64_t max_batch) {
  const auto b = static_cast<uint64_t>(std::max<int64_t>(max_batch, 1));
  const auto n_experts = static_cast<uint64_t>(hp.n_experts);
  const auto k = static_cast<uint64_t>(hp.n_experts_used);
  const auto dim = static_cast<uint64_t>(hp.dim);
  const uint64_t floats =
      b * (n_experts + dim + 2 * static_cast<uint64_t>(hp.n_ff_expert + hp.n_ff_shared) + k * dim) + n_experts;
  const uint64_t ints = 4 * n_experts + 2 * b * k + 2 * k;
  return floats * sizeof(float) + ints * sizeof(int32_t) + (b + 1) * k * sizeof(ExpertChoice) +
         n_experts * (sizeof(ExpertMatrices) + 1);
}

void MoeFeedForward::forward(int layer, int64_t pos, const float* x, float* y) { forward_batch(layer, pos, x, 1, y); }

void MoeFeedForward::forward_batch(int layer, int64_t, const float* x, int n_tokens, float* y) {
  route(layer, x, n_tokens);
  group_by_expert(n_tokens);
  run_union(layer, x, n_tokens);
  sum_outputs(n_tokens, y);
  if (hp_.recipe.shared_expert) add_shared_expert(layer, x, n_tokens, y);
}

void MoeFeedForward::route(int layer, const float* x, int n_tokens) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  multiply(w.ffn_router, x, n_tokens, logits_.data(), pool_, scratch_);
  const auto n_experts = static_cast<size_t>(hp_.n_experts);
  const auto k = static_cast<size_t>(hp_.n_experts_used);
  for (size_t t = 0; t < static_cast<size_t>(n_tokens); ++t) {
    float* logits = logits_.data() + t * n_experts;
    add_expert_bias(w.router_bias, 0, hp_.n_experts, 1, logits);
    route_token(std::span<float>(logits, n_experts), hp_.recipe.expert_gating, hp_.recipe.normalize_expert_weights,
                std::span<ExpertChoice>(choice_).subspan(t * k, k));
  }
}

// Entries (a token's choice of an expert) sorted by expert, then by token: a
// counting sort, so each expert's tokens are contiguous.
void MoeFeedForward::group_by_expert(int n_tokens) {
  const auto k = static_cast<size_t>(hp_.n_experts_used);
  const size_t entries = static_cast<size_t>(n_tokens) * k;
  std::fill(first_entry_.begin(), first_entry_.end(), 0);
  for (size_t j = 0; j < entries; ++j) ++first_entry_[static_cast<size_t>(choice_[j].expert) + 1];
  union_.clear();
  for (size_t e = 0; e < next_free_.size(); ++e) {
    if (first_entry_[e + 1] > 0) union_.push_back(static_cast<int32_t>(e));
    first_entry_[e + 1] += first_entry_[e];
    next_free_[e] = first_entry_[e];
  }
  for (size_t j = 0; j < entries; ++j) {
    const int32_t entry = next_free_[static_cast<size_t>(choice_[j].expert)]++;
    entry_token_[static_cast<size_t>(entry)] = static_cast<int32_t>(j / k);
    entry_of_[j] = entry;
  }
}

// The union in groups the source can hold at once; within a group the
// experts at hand run while the others are read.
void MoeFeedForward::run_union(int layer, const float* x, int n_tokens) {
  const bool hint = n_tokens == 1 && prefetch_ && experts_.takes_hints() && layer + 1 < hp_.n_layers;
  const auto capacity = static_cast<size_t>(std::max<int64_t>(experts_.capacity(), 1));
  for (size_t first = 0; first < union_.size(); first += capacity) {
    const size_t count = std::min(capacity, union_.size() - first);
    const std::span<const int32_t> group(union_.data() + first, count);
    const std::span<ExpertMatrices> matrices(matrices_.data(), count);
    experts_.request(layer, group, matrices, std::span<uint8_t>(ready_.data(), count));
    for (size_t i = 0; i < count; ++i) {
      if (ready_[i]) run_expert(layer, group[i], matrices[i], x);
    }
    experts_.wait(layer, group, matrices);
    if (hint && first + count == union_.size()) hint_next_layer(layer, x);
    for (size_t i = 0; i < count; ++i) {
      if (!ready_[i]) run_expert(layer, group[i], matrices[i], x);
    }
  }
}

void MoeFeedForward::run_expert(int layer, int32_t expert, const ExpertMatrices& m, const float* x) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const auto e = static_cast<size_t>(expert);
  const int32_t first = first_entry_[e];
  const int64_t rows = first_entry_[e + 1] - first;
  const int64_t dim = hp_.dim;
  const int64_t n_ff = hp_.n_ff_expert;
  for (int64_t r = 0; r < rows; ++r) {
    const float* token_x = x + static_cast<int64_t>(entry_token_[static_cast<size_t>(first + r)]) * dim;
    std::memcpy(gathered_.data() + r * dim, token_x, static_cast<size_t>(dim) * sizeof(float));
  }
  multiply(m.gate, gathered_.data(), rows, gate_.data(), pool_, scratch_);
  multiply(m.up, gathered_.data(), rows, up_.data(), pool_, scratch_);
  add_expert_bias(w.gate_exps_bias, expert, n_ff, rows, gate_.data());
  add_expert_bias(w.up_exps_bias, expert, n_ff, rows, up_.data());
  apply_gated_activation(hp_, gate_.data(), up_.data(), rows * n_ff);
  float* out = outputs_.data() + static_cast<int64_t>(first) * dim;
  multiply(m.down, gate_.data(), rows, out, pool_, scratch_);
  add_expert_bias(w.down_exps_bias, expert, dim, rows, out);
}

// y[t] = sum over token t's choices, most probable first, of weight * output.
void MoeFeedForward::sum_outputs(int n_tokens, float* y) const {
  const int64_t dim = hp_.dim;
  const auto k = static_cast<size_t>(hp_.n_experts_used);
  for (size_t t = 0; t < static_cast<size_t>(n_tokens); ++t) {
    float* yt = y + static_cast<int64_t>(t) * dim;
    std::fill(yt, yt + dim, 0.0f);
    for (size_t i = 0; i < k; ++i) {
      const ExpertChoice& c = choice_[t * k + i];
      const float* out = outputs_.data() + static_cast<int64_t>(entry_of_[t * k + i]) * dim;
      for (int64_t d = 0; d < dim; ++d) yt[d] += c.weight * out[d];
    }
  }
}

// y += sigmoid(shexp_gate . x) * down(act(gate(x)) * up(x)) with the shared
// expert's matrices, for each token (added after the routed experts' sum, as
// the reference adds it).
void MoeFeedForward::add_shared_expert(int layer, const float* x, int n_tokens, float* y) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  const int64_t dim = hp_.dim;
  const int64_t n_ff = hp_.n_ff_shared;
  multiply(w.ffn_gate_shexp, x, n_tokens, shared_gate_.data(), pool_, scratch_);
  multiply(w.ffn_up_shexp, x, n_tokens, shared_up_.data(), pool_, scratch_);
  apply_gated_activation(hp_, shared_gate_.data(), shared_up_.data(), n_tokens * n_ff);
  float* out = gathered_.data();  // free again: the routed experts are done
  multiply(w.ffn_down_shexp, shared_gate_.data(), n_tokens, out, pool_, scratch_);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const float* xt = x + t * dim;
    float logit = 0.0f;
    for (int64_t d = 0; d < dim; ++d) logit += w.shexp_gate[static_cast<size_t>(d)] * xt[d];
    const float weight = 1.0f / (1.0f + std::exp(-logit));
    for (int64_t d = 0; d < dim; ++d) y[t * dim + d] += weight * out[t * dim + d];
  }
}

// The next layer's router applied to this layer's input: the residual stream
// changes little from one layer to the next, so its choice is a good guess
// of the next layer's, and reading those experts can start now.
void MoeFeedForward::hint_next_layer(int layer, const float* x) {
  const LayerWeights& next = weights_.layers[static_cast<size_t>(layer + 1)];
  tensor::matvec(next.ffn_router, x, next_logits_.data(), pool_, scratch_);
  add_expert_bias(next.router_bias, 0, hp_.n_experts, 1, next_logits_.data());
  route_token(next_logits_, hp_.recipe.expert_gating, false, next_choice_);
  for (size_t i = 0; i < next_choice_.size(); ++i) next_experts_[i] = next_choice_[i].expert;
  experts_.prefetch(layer + 1, next_experts_);
}

}  // namespace sieve::model
