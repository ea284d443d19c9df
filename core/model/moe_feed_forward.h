#pragma once
// The feed-forward block of a Mixture-of-Experts layer with every expert in
// RAM (dense and mmap modes): the router (plus its bias, gpt-oss) picks a
// token's experts (model/router.h), each runs as a small gated FFN (with its
// biases, gpt-oss), and their outputs are summed by the router's weights,
// most probable expert first (the reference's order, so the sums round alike).

#include <cstdint>
#include <vector>

#include "model/feed_forward.h"
#include "model/router.h"

namespace sieve::model {

class MoeFeedForward final : public FeedForward {
 public:
  MoeFeedForward(const HyperParams& hp, const ModelWeights& weights, ThreadPool& pool);

  void forward(int layer, int64_t pos, const float* x, float* y) override;
  // Token by token: each token has experts of its own.
  void forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) override;

  // The experts the last token of `layer` ran (for statistics and tests).
  const std::vector<ExpertChoice>& last_choice() const { return choice_; }

 private:
  const HyperParams& hp_;
  const ModelWeights& weights_;
  ThreadPool& pool_;
  std::vector<float> logits_;  // n_experts
  std::vector<ExpertChoice> choice_;  // n_experts_used
  std::vector<float> gate_, up_;      // n_ff_expert
  std::vector<float> expert_out_;     // dim
  tensor::MatmulScratch scratch_;
};

}  // namespace sieve::model
