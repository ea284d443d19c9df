#pragma once
// The feed-forward block of a Mixture-of-Experts layer: the router (plus its
// bias, gpt-oss) picks a token's experts (model/router.h), each runs as a
// small gated FFN (with its biases, gpt-oss), and their outputs are summed by
// the router's weights, most probable expert first (the reference's order,
// so the sums round alike). Where the chosen experts' matrices come from is
// an ExpertSource: the model's stacked tensors in RAM (dense and mmap modes),
// or a cache filled from the SSD (flash mode, flash/expert_cache.h) — the
// arithmetic is the same, so the two agree bit for bit.

#include <cstdint>
#include <span>
#include <vector>

#include "model/feed_forward.h"
#include "model/router.h"

namespace sieve::model {

// One expert's three matrices, wherever they are.
struct ExpertMatrices {
  tensor::MatrixView gate;  // [n_ff_expert x dim]
  tensor::MatrixView up;    // [n_ff_expert x dim]
  tensor::MatrixView down;  // [dim x n_ff_expert]
};

class ExpertSource {
 public:
  virtual ~ExpertSource() = default;
  // out[i] = the matrices of expert choice[i].expert of `layer`, valid until
  // the next call. Throws sieve::Error when they cannot be read.
  virtual void fetch(int layer, std::span<const ExpertChoice> choice, std::span<ExpertMatrices> out) = 0;
};

// Every expert in RAM: views into the layer's stacked `*_exps` tensors.
class StackedExperts final : public ExpertSource {
 public:
  StackedExperts(const HyperParams& hp, const ModelWeights& weights) : hp_(hp), weights_(weights) {}
  void fetch(int layer, std::span<const ExpertChoice> choice, std::span<ExpertMatrices> out) override;

 private:
  const HyperParams& hp_;
  const ModelWeights& weights_;
};

class MoeFeedForward final : public FeedForward {
 public:
  // `experts` must outlive this.
  MoeFeedForward(const HyperParams& hp, const ModelWeights& weights, ThreadPool& pool, ExpertSource& experts);

  void forward(int layer, int64_t pos, const float* x, float* y) override;
  // Token by token: each token has experts of its own.
  void forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) override;

  // The experts the last token of the last layer run chose.
  const std::vector<ExpertChoice>& last_choice() const { return choice_; }

 private:
  const HyperParams& hp_;
  const ModelWeights& weights_;
  ThreadPool& pool_;
  ExpertSource& experts_;
  std::vector<float> logits_;             // n_experts
  std::vector<ExpertChoice> choice_;      // n_experts_used
  std::vector<ExpertMatrices> matrices_;  // n_experts_used
  std::vector<float> gate_, up_;          // n_ff_expert
  std::vector<float> expert_out_;         // dim
  tensor::MatmulScratch scratch_;
};

}  // namespace sieve::model
