#include "model/moe_feed_forward.h"

#include <algorithm>

namespace sieve::model {
namespace {

// Adds expert `expert`'s slice of `n` values of a stacked bias (none: nothing).
void add_expert_bias(const std::vector<float>& stacked, int64_t expert, int64_t n, float* y) {
  if (stacked.empty()) return;
  const float* b = stacked.data() + expert * n;
  for (int64_t i = 0; i < n; ++i) y[i] += b[i];
}

}  // namespace

void StackedExperts::fetch(int layer, std::span<const ExpertChoice> choice, std::span<ExpertMatrices> out) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  for (size_t i = 0; i < choice.size(); ++i) {
    const int64_t e = choice[i].expert;
    out[i] = {expert_rows(w.ffn_gate_exps, e, hp_.n_experts), expert_rows(w.ffn_up_exps, e, hp_.n_experts),
              expert_rows(w.ffn_down_exps, e, hp_.n_experts)};
  }
}

MoeFeedForward::MoeFeedForward(const HyperParams& hp, const ModelWeights& weights, ThreadPool& pool,
                               ExpertSource& experts)
    : hp_(hp),
      weights_(weights),
      pool_(pool),
      experts_(experts),
      logits_(static_cast<size_t>(hp.n_experts)),
      choice_(static_cast<size_t>(hp.n_experts_used)),
      matrices_(static_cast<size_t>(hp.n_experts_used)),
      gate_(static_cast<size_t>(hp.n_ff_expert)),
      up_(static_cast<size_t>(hp.n_ff_expert)),
      expert_out_(static_cast<size_t>(hp.dim)) {}

void MoeFeedForward::forward(int layer, int64_t, const float* x, float* y) {
  const LayerWeights& w = weights_.layers[static_cast<size_t>(layer)];
  tensor::matvec(w.ffn_router, x, logits_.data(), pool_, scratch_);
  add_expert_bias(w.router_bias, 0, hp_.n_experts, logits_.data());
  route_token(logits_, hp_.recipe.expert_gating, hp_.recipe.normalize_expert_weights, choice_);
  experts_.fetch(layer, choice_, matrices_);
  std::fill(y, y + hp_.dim, 0.0f);
  const int64_t n_ff = hp_.n_ff_expert;
  for (size_t i = 0; i < choice_.size(); ++i) {
    const ExpertChoice& c = choice_[i];
    const ExpertMatrices& m = matrices_[i];
    tensor::matvec(m.gate, x, gate_.data(), pool_, scratch_);
    tensor::matvec(m.up, x, up_.data(), pool_, scratch_);
    add_expert_bias(w.gate_exps_bias, c.expert, n_ff, gate_.data());
    add_expert_bias(w.up_exps_bias, c.expert, n_ff, up_.data());
    apply_gated_activation(hp_, gate_.data(), up_.data(), n_ff);
    tensor::matvec(m.down, gate_.data(), expert_out_.data(), pool_, scratch_);
    add_expert_bias(w.down_exps_bias, c.expert, hp_.dim, expert_out_.data());
    for (int64_t d = 0; d < hp_.dim; ++d) y[d] += c.weight * expert_out_[static_cast<size_t>(d)];
  }
}

void MoeFeedForward::forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) {
  for (int t = 0; t < n_tokens; ++t) forward(layer, pos + t, x + t * hp_.dim, y + t * hp_.dim);
}

}  // namespace sieve::model
