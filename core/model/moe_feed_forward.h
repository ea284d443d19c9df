#pragma once
// The feed-forward block of a Mixture-of-Experts layer: the router (plus its
// bias, gpt-oss) picks a token's experts (model/router.h), each runs as a
// small gated FFN (with its biases, gpt-oss), and their outputs are summed by
// the router's weights, most probable expert first (the reference's order,
// so the sums round alike). Where the chosen experts' matrices come from is
// an ExpertSource: the model's stacked tensors in RAM (dense and mmap modes),
// or a cache filled from the SSD (flash mode, flash/expert_cache.h) — the
// arithmetic is the same, so the two agree bit for bit.
//
// A batch of tokens (prefill) runs expert by expert over the union of the
// experts its tokens chose: each expert is fetched once per batch and
// multiplies all of its tokens in one matrix product. Each expert's outputs
// land in their own rows, and a token's are summed in its choice order
// afterwards, so neither the grouping nor the order in which experts become
// available changes a result. Experts already at hand run while missing ones
// are read (ExpertSource::request, then wait). A shared expert (qwen2moe)
// lives with the resident weights and runs for every token.

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
  // The most experts one request may name (at least a layer's k).
  virtual int64_t capacity() const = 0;
  // Starts making `experts` (distinct ids of `layer`, at most capacity())
  // available: for each one at hand now, out[i] is set and ready[i] = 1; the
  // others are being read (ready[i] = 0).
  virtual void request(int layer, std::span<const int32_t> experts, std::span<ExpertMatrices> out,
                       std::span<uint8_t> ready) = 0;
  // Waits for the last request's reads and sets every out[i]; all stay valid
  // until the next request. Throws sieve::Error when one cannot be read.
  virtual void wait(int layer, std::span<const int32_t> experts, std::span<ExpertMatrices> out) = 0;
  // A hint that `experts` of `layer` are likely next. Whatever a source does
  // with it must not change a result.
  virtual void prefetch(int /*layer*/, std::span<const int32_t> /*experts*/) {}
  // Whether prefetch() does anything (when not, no hint is computed).
  virtual bool takes_hints() const { return false; }
};

// Every expert in RAM: views into the layer's stacked `*_exps` tensors.
class StackedExperts final : public ExpertSource {
 public:
  StackedExperts(const HyperParams& hp, const ModelWeights& weights) : hp_(hp), weights_(weights) {}
  int64_t capacity() const override { return hp_.n_experts; }
  void request(int layer, std::span<const int32_t> experts, std::span<ExpertMatrices> out,
               std::span<uint8_t> ready) override;
  void wait(int layer, std::span<const int32_t> experts, std::span<ExpertMatrices> out) override;

 private:
  const HyperParams& hp_;
  const ModelWeights& weights_;
};

class MoeFeedForward final : public FeedForward {
 public:
  // `experts` must outlive this. Batches of up to `max_batch` tokens.
  MoeFeedForward(const HyperParams& hp, const ModelWeights& weights, ThreadPool& pool, ExpertSource& experts,
                 int max_batch);

  // The scratch an instance holds for batches of `max_batch` tokens.
  static uint64_t scratch_bytes(const HyperParams& hp, int64_t max_batch);

  void forward(int layer, int64_t pos, const float* x, float* y) override;
  void forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) override;

  // Decoding, apply the next layer's router to this layer's input and hint
  // its likely experts to the source (on by default).
  void set_prefetch(bool on) { prefetch_ = on; }

 private:
  void route(int layer, const float* x, int n_tokens);
  void group_by_expert(int n_tokens);
  void run_union(int layer, const float* x, int n_tokens);
  void run_expert(int layer, int32_t expert, const ExpertMatrices& m, const float* x);
  void sum_outputs(int n_tokens, float* y) const;
  void add_shared_expert(int layer, const float* x, int n_tokens, float* y);
  void hint_next_layer(int layer, const float* x);

  const HyperParams& hp_;
  const ModelWeights& weights_;
  ThreadPool& pool_;
  ExpertSource& experts_;
  int max_batch_;
  bool prefetch_ = true;
  std::vector<float> logits_;          // max_batch * n_experts
  std::vector<ExpertChoice> choice_;   // max_batch * k: token t's at t * k
  std::vector<int32_t> first_entry_;   // n_experts + 1: expert e's entries are [first_entry_[e], first_entry_[e + 1])
  std::vector<int32_t> next_free_;     // n_experts: while grouping, expert e's next entry
  std::vector<int32_t> entry_token_;   // max_batch * k: the token of each entry, grouped by expert
  std::vector<int32_t> entry_of_;      // max_batch * k: the entry of token t's i-th choice
  std::vector<int32_t> union_;         // the experts this batch chose, ascending
  std::vector<ExpertMatrices> matrices_;  // one request's
  std::vector<uint8_t> ready_;
  std::vector<float> gathered_;        // max_batch * dim: an expert's tokens' inputs
  std::vector<float> gate_, up_;       // max_batch * n_ff_expert
  std::vector<float> outputs_;         // max_batch * k * dim: one row per entry
  std::vector<float> shared_gate_, shared_up_;  // max_batch * n_ff_shared (recipe.shared_expert)
  std::vector<float> next_logits_;     // n_experts: the next layer's router, for prefetching
  std::vector<ExpertChoice> next_choice_;  // k
  std::vector<int32_t> next_experts_;      // k
  tensor::MatmulScratch scratch_;
};

}  // namespace sieve::model
