#pragma once
// The feed-forward block of a layer, behind a small interface so that the
// way its weights are reached can change: the dense implementation here reads
// them from the GGUF mapping (all in RAM); a flash implementation streams the
// rows a token needs from the SSD and must produce the same result.

#include <cstdint>
#include <vector>

#include "model/activation_stats.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "tensor/matmul.h"
#include "util/thread_pool.h"

namespace sieve::model {

class FeedForward {
 public:
  virtual ~FeedForward() = default;

  // y = down(act(gate(x)) * up(x)) for one token of layer `layer`, at
  // position `pos` of the sequence (a new position is a new token: what
  // sparse mode's window counts). x is the normalised input and y the
  // block's output, `dim` floats each; y is written, not accumulated.
  virtual void forward(int layer, int64_t pos, const float* x, float* y) = 0;

  // The same for n_tokens tokens stored one after another (prefill), the
  // first at `pos`; 1 <= n_tokens <= the batch size the implementation was
  // built for.
  virtual void forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) = 0;
};

// gate[i] = act(gate[i]) * up[i] for the model's activation (n values).
void apply_gated_activation(const HyperParams& hp, float* gate, const float* up, int64_t n);

// All weights in RAM: three matrix products per layer.
class DenseFeedForward final : public FeedForward {
 public:
  DenseFeedForward(const HyperParams& hp, const ModelWeights& weights, ThreadPool& pool, int max_batch);

  void forward(int layer, int64_t pos, const float* x, float* y) override;
  void forward_batch(int layer, int64_t pos, const float* x, int n_tokens, float* y) override;

  // Optional: sees act(gate) of every token (activation_stats.h); null (the
  // default) turns it off. Must outlive this.
  void set_observer(ActivationObserver* observer);

 private:
  void observe_gate(int layer, int n_tokens);

  const HyperParams& hp_;
  const ModelWeights& weights_;
  ThreadPool& pool_;
  int max_batch_;
  std::vector<float> gate_;  // max_batch * n_ff
  std::vector<float> up_;    // max_batch * n_ff
  tensor::MatmulScratch scratch_;
  ActivationObserver* observer_ = nullptr;
  std::vector<float> observed_gate_;  // act(gate) for the observer, max_batch * n_ff once one is set
};

}  // namespace sieve::model
