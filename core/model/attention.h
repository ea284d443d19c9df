#pragma once
// Causal multi-head attention over the KV cache, with grouped-query heads.
//
// Query token t of a batch sits at position pos + t and attends to cached
// positions 0..pos + t (the causal mask), or to the last `window` of them. Scores and weighted sums are dot
// products with the half-precision cache (the F16 kernel of kernels.h); the
// queries and the softmax weights are rounded to half precision first, as
// the reference engine does, so both sides multiply the same numbers. Heads
// are split across the pool's threads; each head has its own row of score
// scratch, so nothing is allocated per call.

#include <cstdint>

#include "model/kv_cache.h"
#include "util/thread_pool.h"

namespace sieve::model {

struct AttentionParams {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  // A score is q . k, then capped to softcap * tanh(score / softcap) when
  // softcap > 0, then multiplied by score_scale (in that order, as the
  // reference does).
  float score_scale = 1.0f;
  float softcap = 0.0f;
  // > 0: the query at position p sees only positions p - window + 1 .. p.
  int64_t window = 0;
  // Attention sinks (gpt-oss): one learned logit per head that joins every
  // softmax as a key with no value, so a head may attend to nothing; the
  // layer's n_heads floats, or null.
  const float* sinks = nullptr;
};

// q: n_tokens x (n_heads * head_dim) queries (rounded in place to half
// precision); out: same shape, written. scores: n_heads x cache.context()
// floats of scratch.
void attend(const AttentionParams& params, const KvCache& cache, int64_t layer, float* q, int64_t pos,
            int64_t n_tokens, float* scores, float* out, ThreadPool& pool);

}  // namespace sieve::model
