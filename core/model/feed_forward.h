#pragma once
// The feed-forward block of a layer, behind a small interface so that the
// way its weights are reached can change: the dense implementation here reads
// them from the GGUF mapping (all in RAM); a flash implementation streams the
// rows a token needs from the SSD and must produce the same result.

#include <cstdint>
#include <vector>

#include "model/hparams.h"
#include "model/weights.h"
#include "tensor/matmul.h"
#include "util/thread_pool.h"

namespace sieve::model {

class FeedForward {
 public:
  virtual ~FeedForward() = default;

  // y = down(act(gate(x)) * up(x)) for one token of layer `layer`. x is the
  // normalised input and y the block's output, `dim` floats each; y is
  // written, not accumulated.
  virtual void forward(int layer, const float* x, float* y) = 0;

  // The same for n_tokens tokens stored one after another (prefill);
  // 1 <= n_tokens <= the batch size the implementation was built for.
  virtual void forward_batch(int layer, const float* x, int n_tokens, float* y) = 0;
};

// gate[i] = act(gate[i]) * up[i] for the model's activation (n values).
void apply_gated_activation(const HyperParams& hp, float* gate, const float* up, int64_t n);

// All weights in RAM: three matrix products per layer.
class DenseFeedForward final : public FeedForward {
 public:
  DenseFeedForward(const HyperParams& hp, const ModelWeights& weights, ThreadPool& pool, int max_batch);

  void forward(int layer, const float* x, float* y) override;
  void forward_batch(int layer, const float* x, int n_tokens, float* y) override;

 private:
  const HyperParams& hp_;
  const ModelWeights& weights_;
  ThreadPool& pool_;
  int max_batch_;
  std::vector<float> gate_;  // max_batch * n_ff
  std::vector<float> up_;    // max_batch * n_ff
  tensor::MatmulScratch scratch_;
};

}  // namespace sieve::model
