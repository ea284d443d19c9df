#pragma once
// The transformer forward pass over a batch of consecutive tokens.
//
// Per layer: x += Wo . attention(rope(Wq xn), rope(Wk xn), Wv xn) with
// xn = rmsnorm(x); then x += ffn(rmsnorm(x)). Finally the logits of the last
// token are Wout . rmsnorm(x). The architecture's recipe (arch_recipe.h)
// adds its steps to these: biases, QK norms, post-norms, soft caps, sliding
// windows, embedding scale; each is implemented once here. A batch of one
// token uses matrix x vector products (decode), longer batches matrix x
// matrix (prefill). Every buffer (RunState) is sized once for the largest
// batch; forward() allocates nothing.

#include <cstdint>
#include <vector>

#include "model/activation_stats.h"
#include "model/attention.h"
#include "model/feed_forward.h"
#include "model/hparams.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "tensor/matmul.h"
#include "util/thread_pool.h"

namespace sieve::model {

// Activations of one forward call, token-major (token t's vector at t * width).
struct RunState {
  RunState(const HyperParams& hp, int64_t context, int64_t max_batch);
  std::vector<float> x;       // residual stream, max_batch * dim
  std::vector<float> xn;      // normalised input of a block, max_batch * dim
  std::vector<float> block;   // a block's output, max_batch * dim
  std::vector<float> q;       // queries, max_batch * q_dim
  std::vector<float> k, v;    // new keys and values, max_batch * kv_dim (then stored in the cache)
  std::vector<float> att;     // attention output, max_batch * q_dim
  AttentionScratch attention;  // scores and the prefill blocks' queries and outputs
  std::vector<float> rope_cos, rope_sin;  // n_rot / 2 each
  std::vector<float> logits;  // n_vocab
  tensor::MatmulScratch scratch;
};

class Transformer {
 public:
  // `ffn` computes every layer's feed-forward block; all references must
  // outlive the transformer.
  Transformer(const HyperParams& hp, const ModelWeights& weights, FeedForward& ffn, ThreadPool& pool,
              int64_t context, int64_t max_batch);

  int64_t context() const { return cache_.context(); }
  int64_t max_batch() const { return max_batch_; }
  uint64_t kv_cache_bytes() const { return cache_.bytes(); }
  // Optional: sees every layer's normalised attention and feed-forward inputs
  // (activation_stats.h); null (the default) turns it off. Must outlive this.
  void set_observer(ActivationObserver* observer) { observer_ = observer; }

  // Runs tokens[0..n) at positions [pos, pos + n), storing their keys and
  // values in the cache, and returns the logits predicting the token after
  // the last one (n_vocab floats, valid until the next call). The caller
  // guarantees 1 <= n <= max_batch, pos + n <= context and ids < n_vocab.
  const float* forward(const int32_t* tokens, int64_t n, int64_t pos);

 private:
  void embed(const int32_t* tokens, int64_t n);
  // xn = rmsnorm(x) * weight for n tokens, then the norm ReLU if the model has one.
  void normalise(const std::vector<float>& weight, int64_t n);
  // x += block for n tokens, the block's output normalised first when the
  // recipe has a post-norm (`post_norm` not empty).
  void add_block(const std::vector<float>& post_norm, int64_t n);
  void linear(const tensor::MatrixView& w, const float* x, int64_t n, float* y);
  void attention_block(int64_t layer, int64_t n, int64_t pos);
  void add_bias(float* y, const std::vector<float>& bias, int64_t n);
  // Queries and keys of n tokens: per-head norms (if any), RoPE at their
  // positions, and the query scaling of recipes that scale queries.
  void prepare_queries_and_keys(int64_t layer, int64_t n, int64_t pos);
  // Rotates each of the n_heads heads in `row` by the angles in rope_cos / rope_sin.
  void rope_heads(float* row, int64_t n_heads);

  const HyperParams& hp_;
  const ModelWeights& weights_;
  FeedForward& ffn_;
  ThreadPool& pool_;
  int64_t max_batch_;
  std::vector<double> rope_inv_freq_;   // n_rot / 2, the global layers'
  std::vector<double> local_inv_freq_;  // n_rot / 2, the windowed layers'
  AttentionParams global_attention_, local_attention_;
  KvCache cache_;
  RunState s_;
  ActivationObserver* observer_ = nullptr;
};

}  // namespace sieve::model
